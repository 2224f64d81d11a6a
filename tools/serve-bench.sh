#!/usr/bin/env bash
# Load benchmark of `evarc serve` (issue 12), beside nginx serving saved copies of the same
# responses (the static-file limit on this machine). Not a test: run by hand, results in
# docs/benchmarks.md ("evarc serve under load").
#
#   tools/serve-bench.sh [MANIFEST] [SECONDS]      (default /tmp/ota/manifest.tsv, 10)
#
# Saturated: wrk on each target, WRK_ROUNDS rounds (default ROUNDS) interleaving evarc and nginx,
# medians and the evarc/nginx ratio of the medians. SERVE_ARGS: more `evarc serve` options;
# REF_SERVE_ARGS: a second server with other options in the same rounds (below).
# Then, when target/release/evarc-bench exists (cargo build --release -p evarc-bench), the same
# targets at a fixed rate (RATE, default 1000 requests/s, open loop: latency from the intended
# send time), ROUNDS rounds (default 3) interleaving evarc and nginx; medians of the rounds.
# nginx answers the TimeGate's 302 from its configuration (the static limit of a redirect).
#
# Needs target/release/evarc (cargo build --release -p evarc-cli; CARGO_TARGET_DIR honoured),
# wrk and nginx (Debian packages). Everything runs on loopback in a temporary directory.
set -euo pipefail
manifest=${1:-/tmp/ota/manifest.tsv}
seconds=${2:-10}
target=${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target}
evarc=$target/release/evarc
threads=${WRK_THREADS:-2}
connections=${WRK_CONNECTIONS:-16}
for tool in "$evarc" wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
work=$(mktemp -d)
serve_pid=""
ref_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  [ -n "$ref_pid" ] && kill "$ref_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

archive=$work/archive
"$evarc" init "$archive" >/dev/null
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "importing $manifest …" >&2
"$evarc" --archive "$archive" import manifest "$manifest" >/dev/null
"$evarc" --archive "$archive" provision add CA-D-00001 --title "Benchmark provision" --quote "Terms" --occurrence 1 >/dev/null
"$evarc" --archive "$archive" checkpoint >/dev/null
sha=$("$evarc" --archive "$archive" --json cite CA-P-000001 --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["capture"]["sha256"])')
url=$("$evarc" --archive "$archive" --json list | python3 -c 'import json,sys; print(next(d["document"]["source_url"] for d in json.load(sys.stdin) if d["document"]["id"] == "CA-D-00001"))')

# SERVE_ARGS: more options of `evarc serve` (e.g. `--recheck-after 0`: check on every request).
# shellcheck disable=SC2086
"$evarc" --archive "$archive" serve --listen 127.0.0.1:0 ${SERVE_ARGS:-} >"$work/serve.out" &
serve_pid=$!
for _ in $(seq 50); do grep -q "at http" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/.* at \(http:[^ ]*\)\/$/\1/p' "$work/serve.out")
# REF_SERVE_ARGS: a second `evarc serve` on the same archive with these options (e.g.
# `--recheck-after 0`, every request checks: the behaviour before kept checks), measured in the
# same rounds beside the first.
ref_base=""
if [ -n "${REF_SERVE_ARGS:-}" ]; then
  # shellcheck disable=SC2086
  "$evarc" --archive "$archive" serve --listen 127.0.0.1:0 $REF_SERVE_ARGS >"$work/ref.out" &
  ref_pid=$!
  for _ in $(seq 50); do grep -q "at http" "$work/ref.out" 2>/dev/null && break; sleep 0.1; done
  ref_base=$(sed -n 's/.* at \(http:[^ ]*\)\/$/\1/p' "$work/ref.out")
fi

mkdir -p "$work/www"
curl -sf "$base/CA-P-000001" -o "$work/www/provision.html"
curl -sf "$base/raw/$sha" -o "$work/www/raw.html"
# nginx's workers do not run as root: let them read the saved copies (mktemp -d is 0700, and a
# 403 page is not the file).
chmod a+rx "$work" "$work/www"
chmod a+r "$work/www/"*
accept="Accept-Datetime: Tue, 12 May 2026 09:51:22 GMT"
gate_location=$(curl -s -o /dev/null -w '%{redirect_url}' -H "$accept" "$base/timegate/$url")
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  server {
    listen 127.0.0.1:$nport; root $work/www; default_type text/html;
    location = /timegate { add_header Vary accept-datetime; return 302 "$gate_location"; }
  }
}
CONF
mkdir -p "$work/tmp"
nginx -c "$work/nginx.conf"
sleep 0.5

run() { # name url [header]
  local name=$1 u=$2 out
  shift 2
  out=$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "$@" "$u")
  if grep -q "Non-2xx" <<<"$out"; then echo "$name: $(grep Non-2xx <<<"$out")" >&2; fi
  printf '%s\t%s\t%s\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="99%" {print $2}' <<<"$out")" >>"$work/wrk.tsv"
}
wrk_rounds=${WRK_ROUNDS:-${ROUNDS:-3}}
for _ in $(seq "$wrk_rounds"); do
  run "evarc serve: provision page /CA-P-000001" "$base/CA-P-000001"
  run "nginx: saved copy of the provision page" "http://127.0.0.1:$nport/provision.html"
  run "evarc serve: raw capture /raw/<sha256> ($(wc -c <"$work/www/raw.html") bytes)" "$base/raw/$sha"
  run "nginx: saved copy of the raw capture" "http://127.0.0.1:$nport/raw.html"
  if [ -n "$ref_base" ]; then
    run "evarc serve $REF_SERVE_ARGS: provision page" "$ref_base/CA-P-000001"
    run "nginx: saved copy of the provision page (again)" "http://127.0.0.1:$nport/provision.html"
    run "evarc serve $REF_SERVE_ARGS: raw capture" "$ref_base/raw/$sha"
    run "nginx: saved copy of the raw capture (again)" "http://127.0.0.1:$nport/raw.html"
  fi
  run "evarc serve: TimeGate (Accept-Datetime)" "$base/timegate/$url" -H "$accept"
  run "nginx: TimeGate's 302 from its config" "http://127.0.0.1:$nport/timegate"
done
echo "evarc serve ${SERVE_ARGS:-} (load average before: $load_before); wrk -t$threads -c$connections -d${seconds}s --latency, loopback, $(nproc) cores; archive: $(wc -l <"$manifest") manifest lines; $wrk_rounds rounds interleaved, medians"
echo
python3 - "$work/wrk.tsv" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, rate, p99 = line.rstrip("\n").split("\t")
    unit = 1.0
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if p99.endswith(suffix):
            p99, unit = p99[: -len(suffix)], factor
            break
    rows.setdefault(name, []).append((float(rate), float(p99) * unit))
print("| target | requests/s (median) | p99 (median) | requests/s per round |")
print("| --- | --- | --- | --- |")
medians = {}
for name, rs in rows.items():
    rate = statistics.median(r for r, _ in rs)
    medians[name] = rate
    print(f"| {name} | {rate:,.0f} | {statistics.median(p for _, p in rs):.2f} ms | "
          + ", ".join(f"{r:,.0f}" for r, _ in rs) + " |")
print()
names = list(rows)
for evarc, nginx in zip(names[0::2], names[1::2]):
    print(f"{evarc} / {nginx}: {medians[evarc] / medians[nginx]:.0%}")
PY

bench=$target/release/evarc-bench
[ -x "$bench" ] || exit 0
rate=${RATE:-1000}
rounds=${ROUNDS:-3}
fixed() { # name url [header]
  local name=$1 u=$2
  shift 2
  local args=()
  [ $# -gt 0 ] && args=(-H "$1")
  "$bench" load "$u" --rate "$rate" --seconds "$seconds" --json "${args[@]}" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); r["name"]=sys.argv[1]; print(json.dumps(r))' "$name" \
    >>"$work/fixed.jsonl"
}
for _ in $(seq "$rounds"); do
  fixed "evarc serve: provision page" "$base/CA-P-000001"
  fixed "nginx: saved provision page" "http://127.0.0.1:$nport/provision.html"
  fixed "evarc serve: raw capture" "$base/raw/$sha"
  fixed "nginx: saved raw capture" "http://127.0.0.1:$nport/raw.html"
  fixed "evarc serve: TimeGate" "$base/timegate/$url" "$accept"
  fixed "nginx: TimeGate's 302 from its config" "http://127.0.0.1:$nport/timegate"
done
echo
echo "evarc-bench load --rate $rate --seconds $seconds (64 connections, 1 s warm-up not counted), $rounds rounds interleaved, medians"
echo
python3 - "$work/fixed.jsonl" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["name"], []).append(r)
print("| target | achieved requests/s | p50 | p99 | p99.9 | max | errors, ≥400 |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for name, rs in rows.items():
    med = lambda k: statistics.median(r[k] for r in rs)
    print(f"| {name} | {med('achieved_rate'):,.0f} | {med('p50_ms'):.2f} ms | {med('p99_ms'):.2f} ms "
          f"| {med('p999_ms'):.2f} ms | {med('max_ms'):.1f} ms | {sum(r['errors'] for r in rs)}, {sum(r['bad_status'] for r in rs)} |")
print()
print("p99 per round (ms): " + "; ".join(f"{n}: " + ", ".join(f"{r['p99_ms']:.2f}" for r in rs) for n, rs in rows.items()))
PY
