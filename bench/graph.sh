#!/usr/bin/env bash
# Benchmark (issue 4): `heads` and `history` on 10,000-revision projects, a
# linear one and a branchy one (bench/gen_graph.lua), with luamig and with
# Alembic (Debian's python3-alembic) on the same graph, in the same run.
# luamig is timed with its script cache warm (the usual case: files
# unchanged since the last command) and cold (LUAMIG_CACHE=off).
# Prints ratios; targets: `luamig heads` >= 20x faster than `alembic heads`
# and under 100 ms.
# Usage: bench/graph.sh [N]   (LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${LUAMIG_BIN:-build/luamig}")
n=${1:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"

for shape in linear branchy; do
  lua5.4 bench/gen_graph.lua "$n" "$shape" "$work/$shape"
  touch -d '-10 seconds' "$work/$shape"/migrations/*.lua   # settled files, as in a real project
  (cd "$work/$shape" && "$bin" heads >/dev/null && "$bin" history >/dev/null)  # fill the cache
  cd "$work/$shape"
  hyperfine -N --warmup 1 --runs "${RUNS:-5}" --export-json "$work/$shape.json" \
    -n "luamig heads" "$bin heads" \
    -n "luamig heads (no cache)" "env LUAMIG_CACHE=off $bin heads" \
    -n "alembic heads" "/usr/bin/python3 -m alembic heads" \
    -n "luamig history" "$bin history" \
    -n "alembic history" "/usr/bin/python3 -m alembic history" >&2
  /usr/bin/time -f "$shape luamig heads: peak RSS %M kB" "$bin" heads 2>&1 >/dev/null | tail -n 1 >&2
  cd - >/dev/null
done

python3 - "$work/linear.json" "$work/branchy.json" "$n" <<'PY'
import json, sys
n = sys.argv[3]
print("| project | command | luamig | Alembic | Alembic / luamig |")
print("|---|---|---|---|---|")
for path, shape in ((sys.argv[1], "linear"), (sys.argv[2], "branchy")):
    r = {x["command"]: x["median"] * 1000 for x in json.load(open(path))["results"]}
    for lm, al in (("luamig heads", "alembic heads"), ("luamig heads (no cache)", "alembic heads"),
                   ("luamig history", "alembic history")):
        print(f"| {n} {shape} | {lm} | {r[lm]:.0f} ms | {r[al]:.0f} ms | {r[al] / r[lm]:.1f}x |")
PY
