#!/usr/bin/env bash
# Creates or updates the Python venv holding the ecosystem's players and citation tools that the
# interoperability tests run on evarc's output: pywb (`wb-manager`, `wayback`: replay of WARC
# exports), citeproc-py (renders CSL-JSON with a bundled CSL style) and rispy (parses RIS).
# pywb pins its own dependencies, so it gets a venv of its own beside tools/validators-venv.sh's.
# Idempotent.
#
#   EVARC_INTEROP_VENV  where the venv lives (default $HOME/.cache/evarc/interop-venv)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv-lib.sh"

ensure_venv interop "${EVARC_INTEROP_VENV:-$HOME/.cache/evarc/interop-venv}" \
  "wb-manager wayback" "pywb, citeproc, rispy" \
  "pywb==2.10.*" citeproc-py rispy
