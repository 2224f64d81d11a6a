#!/usr/bin/env bash
# Issue 14: an archive on a bucket beside a local one, on the same manifest, in the same run.
# Starts s3s-fs (a real S3 server, tests/s3_server.rs) on a free loopback port, then for each of
# RUNS rounds, interleaved: `import manifest` into a local archive and into one on the bucket,
# `verify --all` of each (the bucket one with its blob cache emptied first, so every value is
# fetched), and `restore` of the bucket one into a fresh directory. Prints the medians, the local
# directory sizes and the bucket's bytes and object count.
#
# Usage: tools/s3-bench.sh [MANIFEST] [RUNS]   (default /tmp/ota/m300.tsv, 3)
# Needs: a release evarc (cargo build --release -p evarc-cli) and s3s-fs (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

manifest="${1:-/tmp/ota/m300.tsv}"
runs="${2:-3}"
evarc="${EVARC:-${CARGO_TARGET_DIR:-target}/release/evarc}"
s3s="${EVARC_S3S_FS:-$HOME/.cache/evarc/s3s-fs/bin/s3s-fs}"
[ -x "$evarc" ] || { echo "no release evarc at $evarc" >&2; exit 2; }
[ -x "$s3s" ] || { echo "no s3s-fs at $s3s (see .ci/run)" >&2; exit 2; }

work="$(mktemp -d /tmp/evarc-s3-bench.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/s3/bench"
"$s3s" --host 127.0.0.1 --port "$port" --access-key bench --secret-key bench-secret-0123456789 \
  "$work/s3" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=bench \
  AWS_SECRET_ACCESS_KEY=bench-secret-0123456789 AWS_REGION=us-east-1 AWS_ALLOW_HTTP=true

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for i in $(seq "$runs"); do
  local_dir="$work/local-$i"; s3_dir="$work/s3arch-$i"; restored="$work/restored-$i"
  "$evarc" init "$local_dir" >/dev/null
  "$evarc" init "$s3_dir" --blobs "s3://bench/run-$i" >/dev/null
  secs "$evarc" --archive "$local_dir" import manifest "$manifest" 2>/dev/null >>"$work/import-local"
  secs "$evarc" --archive "$s3_dir" import manifest "$manifest" 2>/dev/null >>"$work/import-s3"
  secs "$evarc" --archive "$local_dir" verify --all >>"$work/verify-local"
  rm -rf "$s3_dir/blob-cache"
  secs "$evarc" --archive "$s3_dir" verify --all >>"$work/verify-s3-cold"
  secs "$evarc" --archive "$s3_dir" verify --all >>"$work/verify-s3-warm"
  secs "$evarc" restore "s3://bench/run-$i" "$restored" --signing-key "$s3_dir/tlog-signing-key" >>"$work/restore"
  cmp <("$evarc" --archive "$s3_dir" verify --all) <("$evarc" --archive "$restored" verify --all) \
    || { echo "restored verify --all differs" >&2; exit 1; }
done

rows=$(($(wc -l <"$manifest") - 1))
echo "manifest: $manifest ($rows rows), $runs runs interleaved, medians in seconds"
for name in import-local import-s3 verify-local verify-s3-cold verify-s3-warm restore; do
  printf '%-16s %s\n' "$name" "$(median <"$work/$name")"
done
last_local="$work/local-$runs"; last_s3="$work/s3arch-$runs"
du_b() { du -sb --exclude=blob-cache "$1" | cut -f1; }
echo "local archive directory:           $(du_b "$last_local") bytes"
echo "bucket archive directory (no cache): $(du_b "$last_s3") bytes; blob-cache $(du -sb "$last_s3/blob-cache" | cut -f1) bytes"
objects=$(find "$work/s3/bench/run-$runs" -type f | wc -l)
echo "bucket prefix: $objects objects, $(du -sb "$work/s3/bench/run-$runs" | cut -f1) bytes"
