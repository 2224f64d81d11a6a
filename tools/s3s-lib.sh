#!/usr/bin/env bash
# Shared by the tools that compare evarc binaries on an S3 server (tools/s3-import-compare.sh,
# tools/s3-repair-compare.sh): starts s3s-fs (built and cached by .ci/run) on a free loopback
# port, over WORK/s3 with one bucket `bench`, and exports the AWS_* settings evarc reads. The
# server is stopped and WORK removed when the calling script exits.
#
#   start_s3s WORK

start_s3s() {
  local work="$1" port
  local s3s="${EVARC_S3S_FS:-$HOME/.cache/evarc/s3s-fs/bin/s3s-fs}"
  [ -x "$s3s" ] || { echo "no s3s-fs at $s3s (see .ci/run)" >&2; exit 2; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/s3/bench"
  "$s3s" --host 127.0.0.1 --port "$port" --access-key bench --secret-key bench-secret-0123456789 "$work/s3" >/dev/null 2>&1 &
  S3S_PID=$!
  # shellcheck disable=SC2064 # expanded now: the pid and directory of this server.
  trap "kill $S3S_PID; rm -rf '$work'" EXIT
  sleep 1
  export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=bench \
    AWS_SECRET_ACCESS_KEY=bench-secret-0123456789 AWS_REGION=us-east-1 AWS_ALLOW_HTTP=true
}
