#!/usr/bin/env bash
# Peak memory (VmHWM, the resident-set high-water mark) of `evarc serve` answering one evidence
# package download (`/export/<ID>.warc.gz|.wacz|.bag.zip`), for two evarc binaries side by side
# (e.g. before and after a change), interleaved, ROUNDS times each, a fresh server per download.
# Prints one line per download and the median per binary and format; also checks that both
# binaries sent the same bytes.
#
#   tools/serve-package-rss.sh ARCHIVE ID BINARY_A BINARY_B [ROUNDS]     (ROUNDS default 3)
set -euo pipefail
archive=$1 id=$2 a=$3 b=$4 rounds=${5:-3}
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# One download from a fresh server: prints "peak_kib bytes sha256".
one() {
  local bin=$1 suffix=$2
  "$bin" --archive "$archive" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
  pid=$!
  for _ in $(seq 100); do grep -q " at http" "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
  local base
  base=$(sed -n 's/.* at \(http:[^ ]*\)\/$/\1/p' "$work/serve.out")
  curl -sS -o "$work/package" "$base/export/$id$suffix"
  local peak
  peak=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  echo "$peak $(stat -c %s "$work/package") $(sha256sum "$work/package" | cut -c1-16)"
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

for suffix in .warc.gz .wacz .bag.zip; do
  : >"$work/a" ; : >"$work/b"
  for r in $(seq "$rounds"); do
    ra=$(one "$a" "$suffix"); rb=$(one "$b" "$suffix")
    echo "$suffix round $r  A: $ra KiB/bytes/sha  B: $rb"
    echo "$ra" >>"$work/a"; echo "$rb" >>"$work/b"
    [ "$(echo "$ra" | cut -d' ' -f2-)" = "$(echo "$rb" | cut -d' ' -f2-)" ] || echo "  (the two binaries sent different bytes)"
  done
  echo "$suffix median peak RSS  A: $(cut -d' ' -f1 "$work/a" | median) KiB  B: $(cut -d' ' -f1 "$work/b" | median) KiB  (package $(head -1 "$work/a" | cut -d' ' -f2) bytes)"
done
