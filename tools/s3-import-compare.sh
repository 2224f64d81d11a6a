#!/usr/bin/env bash
# Issue 14: `import manifest` into an archive on s3s-fs with two evarc binaries (e.g. the commit
# before a change and after), interleaved, RUNS rounds each; after each import, `restore` from
# the bucket and a comparison of `verify --all` of the imported and the restored archive. Prints
# each run and the medians.
#
# Usage: tools/s3-import-compare.sh BASE_EVARC NEW_EVARC [RUNS] [MANIFEST]
#   (default 3 runs of /tmp/ota/m300.tsv). Needs s3s-fs (see .ci/run).
set -uo pipefail
base=$1; new=$2; runs=${3:-3}; manifest=${4:-/tmp/ota/m300.tsv}
work=$(mktemp -d /tmp/evarc-s3-compare.XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/s3s-lib.sh"
start_s3s "$work"
for i in $(seq $runs); do
  for which in base new; do
    bin=$base; [ $which = new ] && bin=$new
    a=$work/$which-$i
    $bin init $a --blobs s3://bench/$which-$i >/dev/null
    t0=$(date +%s.%N); $bin --archive $a import manifest $manifest >/dev/null 2>$work/err; rc=$?; t1=$(date +%s.%N)
    echo "$which run $i: $(echo "$t1 - $t0" | bc) s exit $rc $(tail -1 $work/err)"
    echo "$t1 - $t0" | bc >> $work/$which
    # restore time
    t0=$(date +%s.%N); $bin restore s3://bench/$which-$i $work/r-$which-$i --signing-key $a/tlog-signing-key >/dev/null 2>&1; rc=$?; t1=$(date +%s.%N)
    echo "  restore $(echo "$t1 - $t0" | bc) s exit $rc, segments $(ls $work/s3/bench/$which-$i/records | wc -l)"
    cmp <($bin --archive $a verify --all 2>&1) <($bin --archive $work/r-$which-$i verify --all 2>&1) && echo "  restored verify --all identical"
    rm -rf $a $work/r-$which-$i
  done
done
med() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "median import base $(med < $work/base) s, new $(med < $work/new) s"
