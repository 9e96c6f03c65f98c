#!/usr/bin/env bash
# The run command (README.md): installs what is missing, builds ember-server
# and starts it with conf/ember.conf (extra arguments are passed on, e.g.
# --port 7400). Data goes to conf/data (data_dir = ./data, relative to the
# config file), the arena to /dev/shm/ember.default.*.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target ember-server
exec build/server/ember-server conf/ember.conf "$@"
