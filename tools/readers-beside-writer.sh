#!/usr/bin/env bash
# Readers beside a writer (issue 10, item 1): reads in a loop while one `evarc import manifest`
# writes the whole manifest into a fresh archive; counts reads and failures (any non-zero exit).
#
#   tools/readers-beside-writer.sh EVARC_BIN MANIFEST WORKDIR [READERS]
#
# Each reader loop runs, in turn: `verify SHA` (the manifest's first capture), `list`,
# `show CA-D-00001 --json`, `cite CA-D-00001 --format bluebook`. Readers start once the first
# capture is in the archive and stop when the import ends. Failures are kept in WORKDIR/failures.
set -uo pipefail
evarc=$(realpath "$1"); manifest=$(realpath "$2"); work=$3; readers=${4:-2}
rm -rf "$work"; mkdir -p "$work"; cd "$work"
"$evarc" --archive archive init >/dev/null
sha=$(awk -F'\t' 'NR == 2 { print $6 }' "$manifest")
start=$(date +%s.%N)
"$evarc" --archive archive import manifest "$manifest" >import.out 2>import.err &
writer=$!
until "$evarc" --archive archive verify "$sha" >/dev/null 2>&1; do
  kill -0 "$writer" 2>/dev/null || break
  sleep 0.05
done
reader() {
  local n=0 f=0 args rc
  while kill -0 "$writer" 2>/dev/null; do
    for args in "verify $sha" "list" "show CA-D-00001 --json" "cite CA-D-00001 --format bluebook"; do
      # shellcheck disable=SC2086
      "$evarc" --archive archive $args >/dev/null 2>"err.$1"
      rc=$?
      if [ "$rc" != 0 ]; then
        f=$((f + 1)); echo "exit $rc of '$args': $(cat "err.$1")" >>failures
      fi
      n=$((n + 1))
    done
  done
  echo "$n $f" >"count.$1"
}
for i in $(seq 1 "$readers"); do reader "$i" & done
status=0; wait "$writer" || status=$?
wait
end=$(date +%s.%N)
reads=0; failed=0
for i in $(seq 1 "$readers"); do read -r n f <"count.$i"; reads=$((reads + n)); failed=$((failed + f)); done
echo "import exit $status: $(tail -1 import.err)"
echo "import wall time: $(echo "$end - $start" | bc) s"
echo "reads beside the writer: $reads ($readers reader loops), failed: $failed"
"$evarc" --archive archive verify --all >/dev/null && echo "verify --all afterwards: clean"
