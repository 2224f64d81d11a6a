#!/usr/bin/env bash
# What access control costs `evarc serve` (issue 12): requests/s of the provision page and the
# home page for an anonymous reader (private records filtered out by provenance's privacy
# rules) and for a reader with a read-private token (the token checked on every request, no
# filtering), interleaved round by round; optionally beside a reference evarc binary serving
# the same archive anonymously. Not a test: run by hand, results in docs/benchmarks.md.
#
#   tools/serve-access-bench.sh [MANIFEST] [SECONDS] [ROUNDS] [REFERENCE_EVARC]
#        (default /tmp/ota/m300.tsv, 5, 3, none)
#
# Needs $CARGO_TARGET_DIR/release/evarc (or target/release/evarc), wrk and curl.
set -euo pipefail
manifest=${1:-/tmp/ota/m300.tsv}
seconds=${2:-5}
rounds=${3:-3}
reference=${4:-}
target=${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target}
evarc=$target/release/evarc
for tool in "$evarc" wrk curl; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
work=$(mktemp -d)
cleanup() {
  # The servers are started in command substitutions: their ids are kept in a file.
  [ -f "$work/pids" ] && kill $(cat "$work/pids") 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
archive=$work/archive
"$evarc" init "$archive" >/dev/null
echo "importing $manifest …" >&2
"$evarc" --archive "$archive" import manifest "$manifest" >/dev/null
"$evarc" --archive "$archive" provision add CA-D-00001 --title "Benchmark provision" --quote "Terms" --occurrence 1 >/dev/null
# A private capture and a private provision, so that the anonymous reader has something hidden.
printf '<html><body><p>Private benchmark terms.</p></body></html>' >"$work/private.html"
private=$("$evarc" --archive "$archive" --json archive "$work/private.html" --entity Private \
  --document "Private terms" --url https://example.org/private --private |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["document"]["id"])')
"$evarc" --archive "$archive" provision add "$private" --title "Private provision" \
  --quote "Private benchmark terms" >/dev/null 2>&1
"$evarc" --archive "$archive" checkpoint >/dev/null
token=$("$evarc" --archive "$archive" token create --name bench --scope read-private 2>/dev/null)

start() { # BINARY → base URL
  "$1" --archive "$archive" serve --listen 127.0.0.1:0 >"$work/serve.$2.out" &
  echo $! >>"$work/pids"
  for _ in $(seq 100); do grep -q "at http" "$work/serve.$2.out" 2>/dev/null && break; sleep 0.1; done
  sed -n 's/.* at \(http:[^ ]*\)\/$/\1/p' "$work/serve.$2.out"
}
base=$(start "$evarc" evarc)
[ -n "$reference" ] && ref=$(start "$reference" ref)

rate() { # URL [HEADER] → requests/s
  if [ -n "${2:-}" ]; then
    wrk -t2 -c16 -d"${seconds}s" -H "$2" "$1" | awk '/Requests\/sec/ {print $2}'
  else
    wrk -t2 -c16 -d"${seconds}s" "$1" | awk '/Requests\/sec/ {print $2}'
  fi
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for page in /CA-P-000001 /; do
  # Every request must succeed in each mode before it is timed.
  curl -sf -o /dev/null "$base$page"
  curl -sf -o /dev/null -H "Authorization: Bearer $token" "$base$page"
  : >"$work/anon" ; : >"$work/token"; : >"$work/ref"
  for _ in $(seq "$rounds"); do
    rate "$base$page" >>"$work/anon"
    rate "$base$page" "Authorization: Bearer $token" >>"$work/token"
    [ -n "$reference" ] && rate "$ref$page" >>"$work/ref"
  done
  line="$page: anonymous $(median <"$work/anon") req/s, read-private token $(median <"$work/token") req/s"
  [ -n "$reference" ] && line="$line, reference binary (anonymous) $(median <"$work/ref") req/s"
  echo "$line (medians of $rounds × ${seconds} s, wrk -t2 -c16)"
done
