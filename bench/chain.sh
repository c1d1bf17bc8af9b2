#!/usr/bin/env bash
# Benchmark (issue 2): apply a 1,000-migration chain with luamig vs the same
# statements, transactions and version rows through the sqlite3 CLI (the
# limit), and time `luamig current` on a 100-migration project.
# Prints ratios; targets: chain <= 1.5x the limit, current < 10 ms.
# Usage: bench/chain.sh [N]   (LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${LUAMIG_BIN:-build/luamig}")
n=${1:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

lua5.4 bench/gen_chain.lua "$n" "$work/chain"
lua5.4 bench/gen_chain.lua 100 "$work/small"
(cd "$work/small" && "$bin" -q upgrade head)

cd "$work/chain"
hyperfine -N --warmup 1 --runs "${RUNS:-5}" --export-json "$work/chain.json" \
  --prepare 'rm -f luamig.db raw.db' \
  -n "luamig upgrade head ($n migrations)" "$bin -q upgrade head" \
  -n "sqlite3 CLI, same statements (limit)" "sqlite3 raw.db -init raw.sql .quit" >&2
cd "$work/small"
hyperfine -N --warmup 3 --runs 50 --export-json "$work/current.json" \
  -n "luamig current (100 migrations)" "$bin current" \
  -n "sqlite3 'SELECT 1' (process start)" "sqlite3 luamig.db 'SELECT 1'" >&2

python3 - "$work/chain.json" "$work/current.json" <<'PY'
import json, sys
chain = json.load(open(sys.argv[1]))["results"]
cur = json.load(open(sys.argv[2]))["results"]
lm, raw = chain[0]["mean"], chain[1]["mean"]
c = cur[0]["mean"] * 1000
print("| benchmark | luamig | baseline | ratio | target |")
print("|---|---|---|---|---|")
print(f"| {chain[0]['command']} vs sqlite3 CLI | {lm*1000:.0f} ms | {raw*1000:.0f} ms | {lm/raw:.2f}x | <= 1.5x |")
print(f"| luamig current, 100 migrations vs sqlite3 start | {c:.1f} ms | {cur[1]['mean']*1000:.1f} ms | {cur[0]['mean']/cur[1]['mean']:.2f}x | < 10 ms |")
PY
