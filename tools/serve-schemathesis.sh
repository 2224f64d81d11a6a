#!/usr/bin/env bash
# Runs schemathesis (PyPI) against `evarc serve`'s OpenAPI document on an archive of the AWS test
# fixture (two captures, one provision, a checkpoint). `.ci/run` runs it with WITH_TOKEN=1 (about
# 3 minutes plus the install); run it by hand after changing the API. Exit status: schemathesis's.
#
#   tools/serve-schemathesis.sh [EVARC_BINARY]     (default $CARGO_TARGET_DIR/debug/evarc)
#   EVARC_SCHEMATHESIS_VENV  where the venv lives (default $HOME/.cache/evarc/schemathesis-venv)
#   WITH_TOKEN=1             send a write + read-private token (fuzzes POST /api/v1/captures, /provisions)
#   SEED=N                   schemathesis seed (.ci/run fixes one so a run is repeatable; unset: random)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
evarc=${1:-${CARGO_TARGET_DIR:-$root/target}/debug/evarc}
venv=${EVARC_SCHEMATHESIS_VENV:-$HOME/.cache/evarc/schemathesis-venv}
if [[ ! -x "$venv/bin/schemathesis" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check schemathesis==4.32.5
fi
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fx=$root/tests/evarc-cli/fixtures
a=(--archive "$work/archive")
"$evarc" init "$work/archive" >/dev/null
"$evarc" "${a[@]}" archive "$fx/aws-service-terms-2026-05-12.html" --entity "AWS Bedrock" --document "AWS Service Terms" \
  --url https://aws.amazon.com/service-terms/ --captured-at 2026-05-12T09:51:22Z --id CA-D-00648 --last-updated 2026-05-05 >/dev/null
"$evarc" "${a[@]}" archive "$fx/aws-service-terms-2026-05-20.html" --entity "AWS Bedrock" --document "AWS Service Terms" \
  --url https://aws.amazon.com/service-terms/ --captured-at 2026-05-20T20:43:05Z >/dev/null
"$evarc" "${a[@]}" provision add CA-D-00648 --id CA-P-011417 --title "Intellectual Property" \
  --quote "As between you and AWS, you own the custom models that you create using the Services." >/dev/null
"$evarc" "${a[@]}" checkpoint >/dev/null
# WITH_TOKEN=1: also fuzz the write API, as a client holding a write + read-private token.
auth=()
if [[ -n "${WITH_TOKEN:-}" ]]; then
  token=$("$evarc" "${a[@]}" token create --name schemathesis --scope write --scope read-private 2>/dev/null)
  auth=(-H "Authorization: Bearer $token")
fi
"$evarc" "${a[@]}" serve --listen 127.0.0.1:0 >"$work/serve.out" &
pid=$!
for _ in $(seq 50); do grep -q "at http" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/.* at \(http:[^ ]*\)\/$/\1/p' "$work/serve.out")
# Run from the temporary folder: schemathesis keeps a .schemathesis/ cache in its working directory
# and reads schemathesis.toml there. One rule of POST /api/v1/captures is beyond what a JSON
# Schema can say: bytes that do not hash to the `sha256` sent are refused 422 (documented in the
# OpenAPI document), so 422 counts as an expected answer to a schema-valid capture there.
cd "$work"
cat >schemathesis.toml <<'TOML'
[[operations]]
include-path = "/api/v1/captures"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
TOML
"$venv/bin/schemathesis" run "$base/api/v1/openapi.json" --url "$base" --max-examples "${MAX_EXAMPLES:-50}" ${SEED:+--seed "$SEED"} "${auth[@]}"
