#!/usr/bin/env bash
# The test command (README.md): installs what is missing, builds with
# warnings as errors (-DEMBER_WERROR=ON), runs the tests with CTest.
#   scripts/test.sh                       optimized GCC build, every test
#   scripts/test.sh --sanitize=thread     shm tests under ThreadSanitizer
#   scripts/test.sh --sanitize=address    shm tests under ASan + UBSan
#   scripts/test.sh --compiler=clang      clang build (-Wthread-safety), the
#                                         unit tests of shm, protocol, server
#   scripts/test.sh --build-type=Release  another CMake build type (Debug,
#                                         Release, RelWithDebInfo, MinSizeRel)
#   scripts/test.sh --build-only          build, run no test
# Each combination builds in its own directory: build, build-clang,
# build-release, build-clang-debug, build-thread, ...
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/test.sh [--sanitize=thread|address] [--compiler=gcc|clang]" \
    "[--build-type=Debug|Release|RelWithDebInfo|MinSizeRel] [--build-only]" >&2
  exit 64
}
sanitize=""
compiler="gcc"
build_type="RelWithDebInfo"
build_only=0
for arg in "$@"; do
  case "$arg" in
    --sanitize=thread|--sanitize=address) sanitize="${arg#*=}" ;;
    --compiler=gcc|--compiler=clang) compiler="${arg#*=}" ;;
    --build-type=Debug|--build-type=Release|--build-type=RelWithDebInfo|\
    --build-type=MinSizeRel) build_type="${arg#*=}" ;;
    --build-only) build_only=1 ;;
    *) usage ;;
  esac
done

scripts/install-deps.sh

build="build"
[ "$compiler" = "clang" ] && build+="-clang"
[ "$build_type" != "RelWithDebInfo" ] && build+="-${build_type,,}"
[ -n "$sanitize" ] && build+="-$sanitize"
filter=()
if [ -n "$sanitize" ]; then
  filter=(-L shm)
elif [ "$compiler" = "clang" ]; then
  # The second compiler is there for its warnings; the fast unit tests are
  # enough to show it also built working code (the GCC run has the rest).
  filter=(-L '^(shm|protocol|server)$')
fi
# The compiler is read when a build directory is first configured; each
# compiler has its own directory.
[ "$compiler" = "clang" ] && export CC=clang CXX=clang++
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="$build_type" -DEMBER_WERROR=ON \
  -DEMBER_SANITIZE="$sanitize" >/dev/null
cmake --build "$build" -j2
[ "$build_only" = 1 ] && exit 0

run=()
if [ "$sanitize" = "thread" ]; then
  # GCC 12's TSan cannot map its shadow under the high mmap randomness of
  # recent kernels ("unexpected memory mapping"); run without ASLR.
  run=(setarch "$(uname -m)" -R)
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
fi
[ "$sanitize" = "address" ] && export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"
"${run[@]}" ctest --test-dir "$build" --output-on-failure "${filter[@]}"
