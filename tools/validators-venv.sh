#!/usr/bin/env bash
# Creates or updates the Python venv holding the ecosystem validators that the evarc-package
# tests run on exports: warcio (`warcio check`), bagit (`bagit.py --validate`) and wacz
# (`wacz validate`), and memento_client (the `evarc serve` TimeGate test). Idempotent.
#
#   EVARC_VALIDATORS_VENV  where the venv lives (default $HOME/.cache/evarc/validators-venv)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv-lib.sh"

ensure_venv validators "${EVARC_VALIDATORS_VENV:-$HOME/.cache/evarc/validators-venv}" \
  "warcio bagit.py wacz" "warcio, bagit, wacz, memento_client" \
  warcio bagit wacz memento_client
