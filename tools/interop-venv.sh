#!/usr/bin/env bash
# Creates or updates the Python venv holding the ecosystem's players and citation tools that the
# interoperability tests run on evarc's output: pywb (`wb-manager`, `wayback`: replay of WARC
# exports), citeproc-py (renders CSL-JSON with a bundled CSL style) and rispy (parses RIS).
# A sibling of tools/validators-venv.sh: pywb pins its own dependencies, so it gets its own venv.
# Idempotent: an existing venv with all three is left as it is.
#
#   EVARC_INTEROP_VENV  where the venv lives (default $HOME/.cache/evarc/interop-venv)
set -euo pipefail

venv="${EVARC_INTEROP_VENV:-$HOME/.cache/evarc/interop-venv}"
packages=("pywb==2.10.*" citeproc-py rispy)

have_all() {
  [[ -x "$venv/bin/wb-manager" && -x "$venv/bin/wayback" ]] &&
    "$venv/bin/python" -c 'import pywb, citeproc, rispy' 2>/dev/null
}

if have_all; then
  echo "interop venv ready: $venv"
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "${packages[@]}"

if ! have_all; then
  echo "interop venv at $venv is incomplete after install" >&2
  exit 1
fi
echo "interop venv ready: $venv"
