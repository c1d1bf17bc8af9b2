#!/usr/bin/env bash
# Install dependencies, build luamig, and apply the sample project's migrations
# (examples/sample) to the embedded SQLite default (examples/sample/luamig.db):
# the whole main job in one command.
set -euo pipefail
cd "$(dirname "$0")"
.ci/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
cd examples/sample
../../build/luamig upgrade head "$@"
../../build/luamig seed      # seeds/*.lua: realistic sample data; running it again changes nothing
../../build/luamig status
