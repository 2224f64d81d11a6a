#!/usr/bin/env bash
# Creates or updates the Python venv holding the ecosystem validators that the evarc-package
# tests run on exports: warcio (`warcio check`), bagit (`bagit.py --validate`) and wacz
# (`wacz validate`), and memento_client (the `evarc serve` TimeGate test). Idempotent: an existing venv with all three is left as it is.
#
#   EVARC_VALIDATORS_VENV  where the venv lives (default $HOME/.cache/evarc/validators-venv)
set -euo pipefail

venv="${EVARC_VALIDATORS_VENV:-$HOME/.cache/evarc/validators-venv}"
packages=(warcio bagit wacz memento_client)

have_all() {
  [[ -x "$venv/bin/warcio" && -x "$venv/bin/bagit.py" && -x "$venv/bin/wacz" ]] &&
    "$venv/bin/python" -c 'import warcio, bagit, wacz' 2>/dev/null &&
    "$venv/bin/python" -c 'import memento_client' 2>/dev/null
}

if have_all; then
  echo "validators venv ready: $venv"
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "${packages[@]}"

if ! have_all; then
  echo "validators venv at $venv is incomplete after install" >&2
  exit 1
fi
echo "validators venv ready: $venv"
