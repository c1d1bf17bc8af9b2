#!/usr/bin/env bash
# Install dependencies, build luamig, and apply the sample migrations to the
# embedded SQLite default (./luamig.db): the whole main job in one command.
set -euo pipefail
cd "$(dirname "$0")"
.ci/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/luamig upgrade head "$@"
./build/luamig seed      # seeds/*.lua: realistic sample data; running it again changes nothing
./build/luamig status
