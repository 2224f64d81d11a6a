#!/usr/bin/env bash
# Load benchmark of `evarc serve` (issue 12), beside nginx serving saved copies of the same
# responses (the static-file limit on this machine). Not a test: run by hand, results in
# docs/benchmarks.md ("evarc serve under load").
#
#   tools/serve-bench.sh [MANIFEST] [SECONDS]      (default /tmp/ota/manifest.tsv, 10)
#
# Needs target/release/evarc (cargo build --release -p evarc-cli; CARGO_TARGET_DIR honoured),
# wrk and nginx (Debian packages). Everything runs on loopback in a temporary directory.
set -euo pipefail
manifest=${1:-/tmp/ota/manifest.tsv}
seconds=${2:-10}
target=${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target}
evarc=$target/release/evarc
threads=${WRK_THREADS:-2}
connections=${WRK_CONNECTIONS:-16}
for tool in "$evarc" wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
work=$(mktemp -d)
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

archive=$work/archive
"$evarc" init "$archive" >/dev/null
echo "importing $manifest …" >&2
"$evarc" --archive "$archive" import manifest "$manifest" >/dev/null
"$evarc" --archive "$archive" provision add CA-D-00001 --title "Benchmark provision" --quote "Terms" >/dev/null
"$evarc" --archive "$archive" checkpoint >/dev/null
sha=$("$evarc" --archive "$archive" --json cite CA-P-000001 --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["capture"]["sha256"])')
url=$("$evarc" --archive "$archive" --json cite CA-P-000001 --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["document"]["source_url"])')

"$evarc" --archive "$archive" serve --listen 127.0.0.1:0 >"$work/serve.out" &
serve_pid=$!
for _ in $(seq 50); do grep -q "at http" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/.* at \(http:[^ ]*\)\/$/\1/p' "$work/serve.out")

mkdir -p "$work/www"
curl -sf "$base/CA-P-000001" -o "$work/www/provision.html"
curl -sf "$base/raw/$sha" -o "$work/www/raw.html"
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  server { listen 127.0.0.1:$nport; root $work/www; default_type text/html; }
}
CONF
mkdir -p "$work/tmp"
nginx -c "$work/nginx.conf"
sleep 0.5

run() { # name url [header]
  local name=$1 u=$2 out
  shift 2
  out=$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "$@" "$u")
  printf '| %s | %s | %s |\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="99%" {print $2}' <<<"$out")"
}
echo "wrk -t$threads -c$connections -d${seconds}s --latency, loopback, $(nproc) cores; archive: $(wc -l <"$manifest") manifest lines"
echo
echo "| target | requests/s | p99 latency |"
echo "| --- | --- | --- |"
run "evarc serve: provision page /CA-P-000001" "$base/CA-P-000001"
run "nginx: saved copy of the provision page" "http://127.0.0.1:$nport/provision.html"
run "evarc serve: raw capture /raw/<sha256> ($(wc -c <"$work/www/raw.html") bytes)" "$base/raw/$sha"
run "nginx: saved copy of the raw capture" "http://127.0.0.1:$nport/raw.html"
run "evarc serve: TimeGate (Accept-Datetime)" "$base/timegate/$url" -H "Accept-Datetime: Tue, 12 May 2026 09:51:22 GMT"
