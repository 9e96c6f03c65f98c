#!/usr/bin/env bash
# Installs the Debian 12 packages Ember needs to build, test and run, when
# missing. Idempotent, and quiet when everything is already there.
#   scripts/install-deps.sh          build + test packages
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  clang                   # the second compiler CI builds with (Debian 12: 14)
  libboost-dev            # Boost.Interprocess (header-only)
  libxxhash-dev           # key hashes and item checksums
  libgtest-dev libgmock-dev
  libbenchmark-dev        # Google Benchmark
  liblmdb-dev             # benchmark-only: LMDB is the local-read reference
  librocksdb-dev          # the cold tier
  libasio-dev             # standalone Asio: the server's sockets
  libspdlog-dev           # server logging
  liblzf-dev              # DUMP/RESTORE: Redis's LZF-compressed strings
  libedit-dev             # ember-cli: line editing and history (BSD licence)
  python3-redis redis-tools  # integration tests use the real Redis clients
  redis-server            # ... and hold Ember's replies against Redis's
  prometheus-redis-exporter  # test_exporter.py: Redis's tools read Ember
  # Bench peers, optional: bench/compare runs ember-server against them and
  # names and skips any that is missing; gnuplot-nox draws its plots.
  memcached gnuplot-nox
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
