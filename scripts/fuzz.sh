#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) into
# build-fuzz and runs each for SECONDS (default 20) from its seed corpus in
# tests/fuzz/corpus/<target>/, growing a scratch corpus in build-fuzz. Exits
# non-zero, with the crashing input saved in build-fuzz, on any crash, leak,
# sanitizer report or time-out. Prints each run's closing statistics.
#   scripts/fuzz.sh            CI: 20 s per target
#   scripts/fuzz.sh 600        a longer run
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
scripts/install-deps.sh
build=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEMBER_FUZZ=ON -DEMBER_WERROR=ON >/dev/null
targets=(resp_parser resp_reply arena_reader log_replay dispatch)
cmake --build "$build" -j2 --target "${targets[@]/#/fuzz_}"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  mkdir -p "$corpus"
  dict=()  # tests/fuzz/<target>.dict: words the target's input is made of
  [[ -f "tests/fuzz/$t.dict" ]] && dict=(-dict="../tests/fuzz/$t.dict")
  echo "fuzz_$t: $seconds s"
  (cd "$build" && "./tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
     "corpus/$t" "../tests/fuzz/corpus/$t" \
     2>"fuzz_$t.log") || { tail -40 "$build/fuzz_$t.log"; echo "fuzz_$t FAILED"; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov:" "$build/fuzz_$t.log" | tail -3
done
echo "fuzz: ${#targets[@]} passed, 0 failed"
