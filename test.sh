#!/usr/bin/env bash
# Run every test: install dependencies, build with -Werror (plain and under
# ASan/UBSan), start a throwaway PostgreSQL server, run all busted specs
# through ctest against both builds, then install the package and use it
# (.ci/deb_test.sh; root or sudo). Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")"
.ci/deps.sh test

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUAMIG_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLUAMIG_WERROR=ON -DLUAMIG_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"

# squawk (npm's squawk-cli), only for the lint comparison (spec/lint_spec.lua,
# bench/lint.sh): never a dependency of luamig. Without the npm registry the
# comparison skips, saying so (under CI, where the registry is reached, it fails).
if [[ ! -x build/npm/node_modules/.bin/squawk ]]; then
  npm install --prefix build/npm --no-audit --no-fund squawk-cli >/dev/null 2>&1 ||
    echo "npm could not install squawk-cli: the squawk comparison is skipped (it fails under CI)" >&2
fi

# A PostgreSQL server of our own: temp dir, loopback only, stopped on exit.
source .ci/pg.sh
pg_start
trap 'pg_stop_standby; pg_stop' EXIT
pg_start_standby # for spec/replica_spec.lua

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
echo "== specs (release build)"
ctest --test-dir build --output-on-failure -j"$jobs" || status=1
echo "== specs (ASan/UBSan build)"
ctest --test-dir build-asan --output-on-failure -j"$jobs" || status=1
echo "== installed luamig (cmake --install, the .deb through apt-get)"
.ci/deb_test.sh build || status=1
exit $status
