#!/usr/bin/env bash
# Issue 14, "tested on a real distributed engine": an archive whose snapshot bytes live in a
# 3-node Garage cluster (replication factor 3) on loopback, one node killed with SIGKILL in the
# middle of a corpus import.
#
#   1. starts 3 Garage nodes (own ports, RPC secret, metadata and data directories in a
#      temporary directory), connects them, assigns a layout with replication factor 3, creates
#      a key and a bucket (garage CLI);
#   2. `evarc init --blobs s3://evarc-garage/ota` (path-style requests, region "garage"),
#      `evarc import manifest MANIFEST --json`; once KILL_AT captures were acknowledged (a line
#      printed), node 3 gets SIGKILL (evarc talks to node 1's S3 endpoint; Garage's write quorum
#      is 2 of 3, so writes go on). The import is let finish; if rows failed it is run once more
#      (an import rerun skips what is recorded), and the script says so;
#   3. every acknowledged capture is in the archive, under the SHA-256 the import printed, and
#      `verify --all` (blob cache emptied: every value fetched from the cluster) is clean;
#   4. with node 3 still down, `evarc restore` from the cluster into a fresh directory, and
#      `verify --all` plus `cite` of a few captures in 3 formats print exactly what the
#      original prints;
#   5. prints the figures as a markdown block (also written to WORK/figures.md).
#
# Usage: tools/garage-cluster.sh [MANIFEST]   (default /tmp/ota/manifest.tsv)
# Environment: EVARC (default $CARGO_TARGET_DIR/release/evarc, else target/release/evarc),
#   GARAGE (default ~/.cache/evarc/garage/bin/garage), KILL_AT (default a third of the rows),
#   GARAGE_BASE_PORT (default 39100: nodes use BASE+10*i .. BASE+10*i+3), KEEP=1 keeps the
#   temporary directory.
# Exit: 0 every check passed; 1 a check failed; 2 garage or evarc missing, bad arguments;
#   3 the cluster did not come up.
# Not in CI: building Garage takes 15-25 minutes on 2 cores (command below).
set -uo pipefail
cd "$(dirname "$0")/.."

manifest="${1:-/tmp/ota/manifest.tsv}"
evarc="${EVARC:-${CARGO_TARGET_DIR:-target}/release/evarc}"
garage="${GARAGE:-$HOME/.cache/evarc/garage/bin/garage}"
base_port="${GARAGE_BASE_PORT:-39100}"

if [ ! -x "$garage" ]; then
  cat >&2 <<EOF
error: no garage binary at $garage (set GARAGE=PATH). Build it once (15-25 minutes on 2 cores):
  cargo install garage --version 2.5.0 --locked --no-default-features \\
    --features bundled-libs,lmdb,sqlite --root ~/.cache/evarc/garage
EOF
  exit 2
fi
[ -x "$evarc" ] || { echo "error: no evarc at $evarc (cargo build --release -p evarc-cli, or set EVARC)" >&2; exit 2; }
[ -f "$manifest" ] || { echo "error: no manifest at $manifest" >&2; exit 2; }
rows=$(($(wc -l <"$manifest") - 1))
kill_at="${KILL_AT:-$((rows / 3))}"

work="$(mktemp -d /tmp/evarc-garage.XXXXXX)"
declare -a pids=()
cleanup() {
  for pid in "${pids[@]}"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
failures=0
fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc | xargs printf '%.1f'; }

# 1. The cluster.
secret="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
for i in 1 2 3; do
  port=$((base_port + 10 * i))
  mkdir -p "$work/n$i/meta" "$work/n$i/data"
  cat >"$work/n$i.toml" <<EOF
metadata_dir = "$work/n$i/meta"
data_dir = "$work/n$i/data"
db_engine = "lmdb"
replication_factor = 3
rpc_bind_addr = "127.0.0.1:$((port + 1))"
rpc_public_addr = "127.0.0.1:$((port + 1))"
rpc_secret = "$secret"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$port"
root_domain = ".s3.garage.localhost"
EOF
  RUST_LOG=warn "$garage" -c "$work/n$i.toml" server >"$work/n$i.log" 2>&1 &
  pids[i]=$!
done
g() { "$garage" -c "$work/n1.toml" "$@"; }
declare -a ids=()
for i in 1 2 3; do
  for _ in $(seq 100); do
    ids[i]="$("$garage" -c "$work/n$i.toml" node id -q 2>/dev/null)" && [ -n "${ids[i]}" ] && break
    sleep 0.2
  done
  [ -n "${ids[i]:-}" ] || { echo "error: garage node $i did not start (log: $work/n$i.log)" >&2; KEEP=1; exit 3; }
done
g node connect "${ids[2]}" >/dev/null && g node connect "${ids[3]}" >/dev/null \
  || { echo "error: the garage nodes did not connect" >&2; KEEP=1; exit 3; }
for i in 1 2 3; do g layout assign -z "dc$i" -c 1G "${ids[i]%@*}" >/dev/null; done
g layout apply --version 1 >/dev/null || { echo "error: garage layout apply failed" >&2; KEEP=1; exit 3; }
for _ in $(seq 100); do g health >/dev/null 2>&1 && break; sleep 0.3; done
key_out="$(g key create evarc-key)"
key_id="$(awk -F': *' '/Key ID/ {print $2; exit}' <<<"$key_out" | tr -d ' ')"
key_secret="$(awk -F': *' '/Secret key/ {print $2; exit}' <<<"$key_out" | tr -d ' ')"
[ -n "$key_id" ] && [ -n "$key_secret" ] || { echo "error: cannot read the key garage created: $key_out" >&2; exit 3; }
g bucket create evarc-garage >/dev/null
g bucket allow --read --write --owner evarc-garage --key evarc-key >/dev/null
export AWS_ENDPOINT_URL="http://127.0.0.1:$((base_port + 10))" AWS_ACCESS_KEY_ID="$key_id" \
  AWS_SECRET_ACCESS_KEY="$key_secret" AWS_REGION=garage AWS_ALLOW_HTTP=true
unset AWS_VIRTUAL_HOSTED_STYLE_REQUEST # path-style requests (object_store's default)
url="s3://evarc-garage/ota"
archive="$work/archive"
restored="$work/restored"

# 2. Import, node 3 killed mid-way.
"$evarc" init "$archive" --blobs "$url" >/dev/null || { echo "error: evarc init on the cluster failed" >&2; exit 3; }
t0=$(now)
"$evarc" --archive "$archive" --json import manifest "$manifest" >"$work/import1.jsonl" 2>"$work/import1.err" &
import_pid=$!
killed_after=""
while kill -0 "$import_pid" 2>/dev/null; do
  acked=$(grep -c '"status":"archived"' "$work/import1.jsonl")
  if [ -z "$killed_after" ] && [ "$acked" -ge "$kill_at" ]; then
    kill -9 "${pids[3]}"
    wait "${pids[3]}" 2>/dev/null
    pids[3]=""
    killed_after="$acked"
    killed_at_s=$(since "$t0")
  fi
  sleep 0.05
done
wait "$import_pid"
import1_exit=$?
import1_s=$(since "$t0")
[ -n "$killed_after" ] || fail "the import ended before $kill_at captures were acknowledged: no node was killed"
import1_failed=$(grep -c '"status":"failed"' "$work/import1.jsonl")
rerun="no: every row was archived by the first run"
import2_s="-"
if [ "$import1_exit" -ne 0 ]; then
  t1=$(now)
  "$evarc" --archive "$archive" --json import manifest "$manifest" >"$work/import2.jsonl" 2>"$work/import2.err"
  import2_exit=$?
  import2_s=$(since "$t1")
  rerun="yes: the first run exited $import1_exit with $import1_failed failed rows; the rerun exited $import2_exit"
  [ "$import2_exit" -eq 0 ] || fail "the rerun of the import exited $import2_exit"
fi
cat "$work"/import*.jsonl >"$work/import-all.jsonl"
grep '"status":"archived"' "$work/import-all.jsonl" \
  | sed 's/.*"sha256":"\([0-9a-f]*\)".*/\1/' | sort -u >"$work/acked"
acked_total=$(wc -l <"$work/acked")
acked_first=$(grep -c '"status":"archived"' "$work/import1.jsonl")

# 3. verify --all reads every value from the cluster; every acknowledged capture is there.
rm -rf "$archive/blob-cache"
t2=$(now)
"$evarc" --archive "$archive" verify --all >"$work/verify-original.txt" 2>&1
verify_exit=$?
verify_s=$(since "$t2")
[ "$verify_exit" -eq 0 ] || fail "verify --all on the original exited $verify_exit"
# Each acknowledged (document, SHA-256) pair is among that document's captures (`history --json`).
grep '"status":"archived"' "$work/import-all.jsonl" \
  | sed 's/.*"document":"\([^"]*\)".*"sha256":"\([0-9a-f]*\)".*/\1 \2/' | sort -u >"$work/acked-pairs"
missing=0
for doc in $(cut -d' ' -f1 "$work/acked-pairs" | sort -u); do
  "$evarc" --archive "$archive" --json history "$doc" >"$work/history-$doc.json" 2>&1
done
while read -r doc sha; do
  grep -q "\"$sha\"" "$work/history-$doc.json" || missing=$((missing + 1))
done <"$work/acked-pairs"
[ "$missing" -eq 0 ] || fail "$missing acknowledged captures are not in the archive's list"
sample_bad=0
for sha in $(shuf -n 20 --random-source=<(yes) "$work/acked"); do
  "$evarc" --archive "$archive" verify "sha256:$sha" >/dev/null 2>&1 || sample_bad=$((sample_bad + 1))
done
[ "$sample_bad" -eq 0 ] || fail "$sample_bad of 20 acknowledged captures do not verify one by one"

# Objects and bytes in the bucket, as Garage counts them.
bucket_info="$(g bucket info evarc-garage 2>&1)"
objects=$(awk -F': *' '/^Objects/ {print $2; exit}' <<<"$bucket_info" | tr -d ' ')
bytes=$(awk -F': *' '/^Size/ {print $2; exit}' <<<"$bucket_info" | sed 's/ *$//')

# 4. Restore from the cluster, node 3 still down.
t3=$(now)
"$evarc" restore "$url" "$restored" --signing-key "$archive/tlog-signing-key" >"$work/restore.txt" 2>&1
restore_exit=$?
restore_s=$(since "$t3")
[ "$restore_exit" -eq 0 ] || fail "restore exited $restore_exit: $(cat "$work/restore.txt")"
t4=$(now)
"$evarc" --archive "$restored" verify --all >"$work/verify-restored.txt" 2>&1
verify_restored_exit=$?
verify_restored_s=$(since "$t4")
if cmp -s "$work/verify-original.txt" "$work/verify-restored.txt"; then verify_same=identical; else
  verify_same=DIFFERENT; fail "verify --all prints differently on the restored archive"; fi
cites=0
cite_diff=0
for doc in CA-D-00001 CA-D-00017 CA-D-00042 CA-D-00071; do
  for format in bluebook provenance csl-json; do
    a="$("$evarc" --archive "$archive" cite "$doc" --format "$format" --accessed 2026-06-01 2>&1)"
    b="$("$evarc" --archive "$restored" cite "$doc" --format "$format" --accessed 2026-06-01 2>&1)"
    cites=$((cites + 1))
    [ "$a" = "$b" ] || { cite_diff=$((cite_diff + 1)); fail "cite $doc --format $format differs"; }
  done
done
last_line() { tail -n 1 "$1"; }

# 5. Figures.
{
  echo "Garage 2.5.0, 3 nodes on loopback (lmdb metadata), replication factor 3; evarc $("$evarc" --version | awk '{print $2}'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo "Manifest \`$manifest\` ($rows rows). Command: \`tools/garage-cluster.sh $manifest\`."
  echo
  echo "| figure | value |"
  echo "|---|---|"
  echo "| node 3 killed (SIGKILL) | after $killed_after acknowledged captures, ${killed_at_s:-?} s into the import |"
  echo "| first import run | ${import1_s} s, exit $import1_exit, $acked_first captures acknowledged, $import1_failed rows failed |"
  echo "| import rerun | $rerun (${import2_s} s) |"
  echo "| captures acknowledged (distinct SHA-256) | $acked_total |"
  echo "| acknowledged captures missing from the archive | $missing |"
  echo "| 20 acknowledged captures verified one by one | $((20 - sample_bad)) of 20 |"
  echo "| objects in the bucket (garage bucket info) | $objects |"
  echo "| bytes in the bucket (garage bucket info) | $bytes |"
  echo "| \`verify --all\`, blob cache emptied, node 3 down | exit $verify_exit, ${verify_s} s: $(last_line "$work/verify-original.txt") |"
  echo "| \`restore\` from the cluster, node 3 down | exit $restore_exit, ${restore_s} s: $(last_line "$work/restore.txt" | sed "s|$work|WORK|g") |"
  echo "| \`verify --all\` of the restored archive | exit $verify_restored_exit, ${verify_restored_s} s, output $verify_same to the original's |"
  echo "| \`cite\` outputs compared (4 documents × bluebook, provenance, csl-json) | $((cites - cite_diff)) of $cites identical |"
  echo "| checks failed | $failures |"
} | tee "$work/figures.md"
[ "$failures" -eq 0 ] || exit 1
exit 0
