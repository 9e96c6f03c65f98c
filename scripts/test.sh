#!/usr/bin/env bash
# The test command (README.md): installs what is missing, builds with
# warnings as errors (-DEMBER_WERROR=ON), runs every test with CTest.
#   scripts/test.sh                       optimized build, every test
#   scripts/test.sh --sanitize=thread     shm tests under ThreadSanitizer
#   scripts/test.sh --sanitize=address    shm tests under ASan + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
for arg in "$@"; do
  case "$arg" in
    --sanitize=thread|--sanitize=address) sanitize="${arg#*=}" ;;
    *) echo "usage: scripts/test.sh [--sanitize=thread|address]" >&2; exit 64 ;;
  esac
done

scripts/install-deps.sh

build="build"
filter=()
if [ -n "$sanitize" ]; then
  build="build-$sanitize"
  filter=(-L shm)
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_WERROR=ON \
  -DEMBER_SANITIZE="$sanitize" >/dev/null
cmake --build "$build" -j2

run=()
if [ "$sanitize" = "thread" ]; then
  # GCC 12's TSan cannot map its shadow under the high mmap randomness of
  # recent kernels ("unexpected memory mapping"); run without ASLR.
  run=(setarch "$(uname -m)" -R)
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
fi
[ "$sanitize" = "address" ] && export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"
"${run[@]}" ctest --test-dir "$build" --output-on-failure "${filter[@]}"
