#!/usr/bin/env bash
# Readers beside many short writers (issue 10, item 1, as reported): WRITES `evarc archive`
# processes one after another (each opens, writes, flushes and closes the archive, so table
# files are compacted away often) while one reader loop runs `verify SHA` and `list`.
#
#   tools/readers-beside-archive-writers.sh EVARC_BIN WORKDIR [WRITES]
set -uo pipefail
evarc=$(realpath "$1"); work=$2; writes=${3:-80}
rm -rf "$work"; mkdir -p "$work"; cd "$work"
"$evarc" --archive a init >/dev/null
echo "doc 1" >f1.txt
"$evarc" --archive a archive f1.txt --entity E --document T0 --url https://e.example/0 >/dev/null
sha=$(sha256sum f1.txt | cut -c1-64)
(
  for i in $(seq 1 "$writes"); do
    echo "content $i" >"w$i.txt"
    "$evarc" --archive a archive "w$i.txt" --entity E --document "T$((i % 5))" \
      --url "https://e.example/$((i % 5))" >/dev/null 2>>writer.err || echo "writer $i failed" >>writer.err
  done
) &
writer=$!
n=0; f=0
while kill -0 "$writer" 2>/dev/null; do
  for args in "verify $sha" "list"; do
    # shellcheck disable=SC2086
    "$evarc" --archive a $args >/dev/null 2>err.txt
    rc=$?; n=$((n + 1))
    if [ "$rc" != 0 ]; then f=$((f + 1)); echo "exit $rc of '$args': $(head -c 300 err.txt)" >>failures; fi
  done
done
wait
echo "writes: $writes, writer failures: $(wc -l <writer.err 2>/dev/null || echo 0)"
echo "reads beside the writers: $n, failed: $f"
