#!/usr/bin/env bash
# Benchmark (issues 2, 3): apply a 1,000-migration chain with luamig vs the
# same statements, transactions and version rows through the sqlite3 CLI (the
# limit); the same on PostgreSQL (N_PG migrations, default 300) vs `psql -f`,
# on the server LUAMIG_TEST_PG names or on a private one started here; and
# time `luamig current` on a 100-migration project.
# Prints ratios of medians and luamig's peak RSS; targets (issue 16): chain
# <= 1.2x the limit on both, current <= 1.5x a bare sqlite3 process, RSS <= 16 MiB.
# Usage: bench/chain.sh [N]   (LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
n_pg=${N_PG:-300}
source bench/lib.sh

lua5.4 bench/gen_chain.lua "$n" "$work/chain"
lua5.4 bench/gen_chain.lua 100 "$work/small"
lua5.4 bench/gen_chain.lua "$n_pg" "$work/pg"
(cd "$work/small" && "$bin" -q upgrade head)

cd "$work/chain"
hyperfine -N --warmup 1 --runs "${RUNS:-5}" --export-json "$work/chain.json" \
  --prepare 'rm -f luamig.db raw.db' \
  -n "luamig upgrade head ($n migrations)" "$bin -q upgrade head" \
  -n "sqlite3 CLI, same statements (limit)" "sqlite3 raw.db -init raw.sql .quit" >&2
cd "$work/pg"
fresh_db="psql -Xq $pg_base/postgres -c 'DROP DATABASE IF EXISTS luamig_bench' -c 'CREATE DATABASE luamig_bench'"
hyperfine -N --warmup 1 --runs "${RUNS:-5}" --export-json "$work/pg.json" --prepare "$fresh_db" \
  -n "luamig upgrade head on PostgreSQL ($n_pg migrations)" "$bin -q upgrade head --url $pg_base/luamig_bench" \
  -n "psql -f, same statements (limit)" "psql -Xq -v ON_ERROR_STOP=1 -f raw_pg.sql $pg_base/luamig_bench" >&2
cd "$work/small"
hyperfine -N --warmup 3 --runs 50 --export-json "$work/current.json" \
  -n "luamig current (100 migrations)" "$bin current" \
  -n "sqlite3 'SELECT 1' (process start)" "sqlite3 luamig.db 'SELECT 1'" >&2

# peak RSS of one more run of each luamig case
rss() { /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>&1; echo "$1 ${*: -2}: peak RSS $(cat "$work/rss") kB" >&2; }
(cd "$work/chain" && rm -f luamig.db && rss "$bin" -q upgrade head)
(cd "$work/pg" && bash -c "$fresh_db" >/dev/null 2>&1 && rss "$bin" -q upgrade head --url "$pg_base/luamig_bench")
(cd "$work/small" && rss "$bin" current)

python3 - "$work/chain.json" "$work/current.json" "$work/pg.json" <<'PY'
import json, sys
chain = json.load(open(sys.argv[1]))["results"]
cur = json.load(open(sys.argv[2]))["results"]
pg = json.load(open(sys.argv[3]))["results"]
lm, raw = chain[0]["median"], chain[1]["median"]
c = cur[0]["median"] * 1000
print("| benchmark | luamig | baseline | ratio | target |")
print("|---|---|---|---|---|")
print(f"| {chain[0]['command']} vs sqlite3 CLI | {lm*1000:.0f} ms | {raw*1000:.0f} ms | {lm/raw:.2f}x | <= 1.5x |")
plm, praw = pg[0]["median"], pg[1]["median"]
print(f"| {pg[0]['command']} vs psql -f | {plm*1000:.0f} ms | {praw*1000:.0f} ms | {plm/praw:.2f}x | <= 1.5x |")
print(f"| luamig current, 100 migrations vs sqlite3 start | {c:.1f} ms | {cur[1]['median']*1000:.1f} ms | {cur[0]['median']/cur[1]['median']:.2f}x | <= 1.5x |")
PY
