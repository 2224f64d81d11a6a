#!/bin/bash
# Side-by-side corpus import of two evarc binaries (issue 11), interleaved with `zstd -3 -T1` of
# the same files: per round the reference import, the new import, then zstd. Prints, per import,
# the whole command's seconds, the version pass's seconds (from `--json`), peak RSS, the archive's
# bytes (`du -sb`) and the load average. Not a test: figures depend on the machine and its load.
#
# Usage: tools/ingest-ab.sh REF_EVARC NEW_EVARC [MANIFEST] [ROUNDS] [WORK]
set -euo pipefail
ref=$1
new=$2
manifest=$(realpath "${3:-/tmp/ota/manifest.tsv}")
rounds=${4:-3}
work=${5:-$(mktemp -d)}
cd "$(dirname "$manifest")"
col=$(head -1 "$manifest" | tr '\t' '\n' | grep -nx path | cut -d: -f1)
tail -n +2 "$manifest" | cut -f"$col" | tr '\n' '\0' > "$work/files.lst"
for round in $(seq 1 "$rounds"); do
  for which in ref new; do
    if [ "$which" = ref ]; then evarc=$ref; else evarc=$new; fi
    archive=$work/archive-$which
    rm -rf "$archive"
    "$evarc" init "$archive" > /dev/null
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/rss" "$evarc" --archive "$archive" --json import manifest "$manifest" > "$work/import.jsonl" 2> /dev/null || true
    end=$(date +%s.%N)
    pass=$(grep '"status":"versions"' "$work/import.jsonl" | sed 's/.*"seconds":\([0-9.]*\).*/\1/')
    echo "round $round $which whole $(echo "$end - $start" | bc) pass $pass rss_kb $(cat "$work/rss") bytes $(du -sb "$archive" | cut -f1) load $(cut -d' ' -f1 /proc/loadavg)"
  done
  start=$(date +%s.%N)
  xargs -0 cat < "$work/files.lst" | zstd -3 -T1 -c > /dev/null
  end=$(date +%s.%N)
  echo "round $round zstd $(echo "$end - $start" | bc) load $(cut -d' ' -f1 /proc/loadavg)"
done
