#!/usr/bin/env bash
# Issue 14: `evarc repair` from a replica on s3s-fs with two or more evarc binaries (e.g. the
# commit before a change and after), interleaved, RUNS rounds each, on the same damage.
#
# A local archive of MANIFEST (default /tmp/ota/m300.tsv) is imported once (with NEW) and
# replicated to s3s-fs. Each run copies it, damages the copy — in every table file of the
# `chunks` and `deltas` column families, one byte of the first and one of the last value RocksDB
# stores there, so a rebuild reads neither those values nor any between them and fetches them
# all from the replica — and times `repair`. Then `verify --all` of the repaired copy must print
# what the undamaged archive prints. Prints each run and the medians.
#
# Usage: [RUNS=3] [MANIFEST=/tmp/ota/m300.tsv] tools/s3-repair-compare.sh EVARC_1 EVARC_2 [EVARC_3 …]
#   (the archive is imported and replicated with the last one). Needs s3s-fs (see .ci/run) and
#   python3.
set -uo pipefail
bins=("$@"); runs=${RUNS:-3}; manifest=${MANIFEST:-/tmp/ota/m300.tsv}
new=${bins[-1]}
work=$(mktemp -d /tmp/evarc-s3-repair.XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/s3s-lib.sh"
start_s3s "$work"

a=$work/archive
$new init $a >/dev/null || exit 2
$new --archive $a import manifest $manifest >/dev/null 2>$work/err || { tail -3 $work/err; exit 2; }
$new --archive $a replicate s3://bench/replica || exit 2
$new --archive $a verify --all >$work/clean 2>&1

# Flips one byte inside the first and the last value of each chunks/deltas table file.
damage() {
  python3 - "$1" <<'EOF'
import os, sys
archive = sys.argv[1]
MAGIC = b"\x28\xb5\x2f\xfd"  # a zstd frame: chunk and delta values are zstd-coded
flipped = 0
for name in sorted(os.listdir(archive)):
    if not name.endswith(".sst"):
        continue
    path = os.path.join(archive, name)
    data = bytearray(open(path, "rb").read())
    # The properties block (after the data blocks) names the column family; its keys are
    # prefix-compressed: "rocksdb.column.family.id", then "name" and the family's name.
    at = data.find(b"rocksdb.")
    named = data.find(b"name", data.find(b"family.id", at))
    if at < 0 or named < 0:
        continue
    family = bytes(data[named + 4:named + 10])
    if family not in (b"chunks", b"deltas"):
        continue
    first = data.find(MAGIC)
    last = data.rfind(MAGIC, 0, at)
    if first < 0 or last <= first:
        continue
    for pos in (first + 12, last + 12):
        data[pos] ^= 0x5A
        flipped += 1
    open(path, "wb").write(data)
print(f"{flipped} bytes flipped", file=sys.stderr)
EOF
}

for i in $(seq $runs); do
  for n in "${!bins[@]}"; do
    bin=${bins[$n]}; which=$((n + 1))
    c=$work/$which-$i
    cp -a $a $c
    damage $c 2>$work/flips
    $bin --archive $c verify --all >$work/damaged 2>&1
    t0=$(date +%s.%N); $bin --archive $c repair s3://bench/replica >$work/out 2>&1; rc=$?; t1=$(date +%s.%N)
    echo "evarc $which run $i: $(echo "$t1 - $t0" | bc) s exit $rc ($(cat $work/flips); $(grep -c '^✗' $work/damaged) failing lines before): $(tail -1 $work/out)"
    echo "$t1 - $t0" | bc >> $work/$which
    cmp -s <($bin --archive $c verify --all 2>&1) $work/clean && echo "  verify --all after the repair: identical to the undamaged archive's" || echo "  verify --all after the repair DIFFERS"
    rm -rf $c
  done
done
med() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for n in "${!bins[@]}"; do
  echo "median repair evarc $((n + 1)) (${bins[$n]}): $(med < $work/$((n + 1))) s"
done
