#!/usr/bin/env bash
# Issue 14: `evarc repack` of an archive whose snapshot bytes live in a bucket (s3s-fs, loopback).
#
# Imports MANIFEST into an archive on the bucket made with `--blob-cache-mb 0` (every value a read
# needs is fetched from the bucket: the cold path), keeps a copy of its directory from before the
# repack (a reader whose view names the old objects), repacks, and measures in the same run:
# - bytes of the value objects in the bucket (chunks/, deltas/) before, after the repack (old and
#   new objects) and after `gc --delete` (only the referenced ones);
# - the repack's wall time, beside the repack of a local archive of the same manifest (the
#   reference, same run, one after the other);
# - read + verify of random captures in-process (`evarc-bench reads`, RAM cache emptied before
#   each read, no blob cache), the repacked view and the view from before interleaved, medians
#   and p99 of the samples;
# - `verify --all` of both views, interleaved (hyperfine, RUNS runs each);
# then gc --delete and checks that both views still verify.
#
# Usage: tools/s3-repack-bench.sh [MANIFEST] [RUNS] [SAMPLES]  (default /tmp/ota/m300.tsv, 3, 500)
# Needs a release evarc and evarc-bench (cargo build --release -p evarc-cli -p evarc-bench),
# s3s-fs (.ci/run) and hyperfine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tools/s3s-lib.sh
. "$here/s3s-lib.sh"
manifest="${1:-/tmp/ota/m300.tsv}"
runs="${2:-3}"
samples="${3:-500}"
target="${CARGO_TARGET_DIR:-$here/../target}/release"
evarc="$target/evarc"
bench="$target/evarc-bench"
work="$(mktemp -d /tmp/evarc-s3-repack.XXXXXX)"
start_s3s "$work"
prefix="$work/s3/bench/repack"
objects() { # bytes and count of the value objects in the bucket
  find "$prefix/chunks" "$prefix/deltas" -type f -printf '%s\n' 2>/dev/null |
    awk '{b+=$1; n++} END {printf "%d bytes in %d objects", b, n}'
}
archive="$work/archive"
before="$work/before-repack"
"$evarc" init "$archive" --blobs s3://bench/repack --blob-cache-mb 0 >/dev/null
"$evarc" --archive "$archive" import manifest "$manifest" >/dev/null 2>&1
rows=$(($(wc -l <"$manifest") - 1))
echo "manifest: $manifest ($rows rows); bucket: s3s-fs on loopback; blob cache: none"
echo "bucket values before repack: $(objects)"
echo "local directory: $(du -sb "$archive" | cut -f1) bytes"
cp -a "$archive" "$before"
local_archive="$work/local"
"$evarc" init "$local_archive" >/dev/null
"$evarc" --archive "$local_archive" import manifest "$manifest" >/dev/null 2>&1
t0=$(date +%s.%N)
"$evarc" --archive "$local_archive" repack | head -2
t1=$(date +%s.%N)
echo "local repack wall time (reference): $(echo "$t1 - $t0" | bc) s"
rm -rf "$local_archive"
t0=$(date +%s.%N)
"$evarc" --archive "$archive" repack
t1=$(date +%s.%N)
echo "repack wall time: $(echo "$t1 - $t0" | bc) s"
echo "bucket values after repack (old and new objects): $(objects)"
echo "read + verify, in-process, $samples random captures (repacked view, then the view from before):"
"$bench" reads "$archive" --also "$before" --samples "$samples"
echo "verify --all, $runs runs each, interleaved:"
hyperfine -N -r "$runs" --export-json "$work/verify.json" \
  "$evarc --archive $archive verify --all" "$evarc --archive $before verify --all" >/dev/null
python3 - "$work/verify.json" <<'PY'
import json, statistics, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"  median {statistics.median(r['times']):.3f} s  {r['command']}")
PY
"$evarc" --archive "$archive" gc --delete | tail -1
echo "bucket values after gc --delete: $(objects)"
"$evarc" --archive "$archive" verify --all | tail -1
"$evarc" --archive "$before" verify --all | tail -1
