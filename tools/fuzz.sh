#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a bounded time and prints executions and crashes.
#   tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]     (default: 60 s, all targets)
# Needs cargo-fuzz (`cargo install cargo-fuzz`); nightly features come from RUSTC_BOOTSTRAP=1 on
# stable. No sanitizer by default (the code under test forbids unsafe; a panic is what we look
# for, and it is 5–10× faster): set FUZZ_SANITIZER=address to run with ASan.
# A crash leaves its input in fuzz/artifacts/<target>/: copy it to fuzz/regressions/<target>/
# (replayed by `cargo test` in tests/evarc-reliability/fuzz_inputs.rs) and fix the panic.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(id text anchor warc cite)
fi
export RUSTC_BOOTSTRAP=1
sanitizer="${FUZZ_SANITIZER:-none}"
cargo fuzz build -s "$sanitizer" >/dev/null
status=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  log="artifacts/$target/last-run.log"
  if cargo fuzz run -s "$sanitizer" "$target" "corpus/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 -max_len=262144 >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
  fi
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || true)
  if [ -z "$execs" ]; then
    execs=$(grep -Eo '^#[0-9]+' "$log" | tail -n 1 | tr -d '#' || true)
  fi
  echo "$target: $result, ${execs:-?} executions in ${seconds}s"
  if [ "$result" = CRASH ]; then
    grep -E "panicked|ERROR|Test unit written" "$log" | head -n 5
  fi
done
exit $status
