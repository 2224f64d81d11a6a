#!/usr/bin/env bash
# Shared by tools/validators-venv.sh and tools/interop-venv.sh: creates or updates a Python venv
# holding PyPI packages that tests run, idempotently.
#
#   ensure_venv LABEL VENV_DIR "BINARIES" "IMPORTS" PACKAGE…
#
# BINARIES: space-separated executables that must exist in VENV_DIR/bin; IMPORTS: a
# comma-separated list of Python modules that must import. An existing venv that has them all is
# left as it is; otherwise the packages are (re)installed and checked again.
set -euo pipefail

ensure_venv() {
  local label="$1" venv="$2" binaries="$3" imports="$4"
  shift 4
  have_all() {
    local bin
    for bin in $binaries; do
      [[ -x "$venv/bin/$bin" ]] || return 1
    done
    "$venv/bin/python" -c "import $imports" 2>/dev/null
  }
  if have_all; then
    echo "$label venv ready: $venv"
    return 0
  fi
  if [[ ! -x "$venv/bin/python" ]]; then
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "$@"
  if ! have_all; then
    echo "$label venv at $venv is incomplete after install" >&2
    return 1
  fi
  echo "$label venv ready: $venv"
}
