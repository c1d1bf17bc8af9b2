#!/usr/bin/env bash
# Benchmark (issues 2, 3, 28): apply a 1,000-migration chain with luamig, with
# the same statements, transactions and version rows through the sqlite3 CLI
# (the raw limit), and with Alembic (Debian's python3-alembic) on the same
# chain; the same on PostgreSQL (N_PG migrations, default N) vs `psql -f`, on
# the server LUAMIG_TEST_PG names or on a private one started here; and
# `current` on a 100-migration project vs a bare sqlite3 process and
# `alembic current`. Every way alternates round by round (RUNS rounds for
# `current`, default 7; SLOW_RUNS for the chains, default 3); medians of wall
# and CPU time, peak RSS. With LUAMIG_BEFORE=path, an older luamig runs in the
# same rounds. luamig runs with its script cache warm (files unchanged since
# the last command). Targets (issue 28): current <= 1.3x raw; SQLite chain <= 1.15x
# raw; PostgreSQL chain <= 1.1x raw and never slower than Alembic; peak RSS <= 12 MiB.
# Usage: bench/chain.sh [N]   (LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
n_pg=${N_PG:-$n}
source bench/lib.sh
alembic="/usr/bin/python3 -m alembic"

lua5.4 bench/gen_chain.lua "$n" "$work/chain"
lua5.4 bench/gen_chain.lua 100 "$work/small"
lua5.4 bench/gen_chain.lua "$n_pg" "$work/pg"
(cd "$work/small" && "$bin" -q upgrade head && ALEMBIC_URL=sqlite:///alembic.db $alembic upgrade head) >/dev/null
export XDG_CACHE_HOME="$work/cache"
for d in chain small pg; do  # settled files and a warm script cache, as in a project between deploys
  touch -d '-10 seconds' "$work/$d"/migrations/*.lua
  for b in "$bin" ${before:+"$before"}; do (cd "$work/$d" && "$b" heads >/dev/null); done
done

c=$work/small
case_add "current, 100 migrations, SQLite" luamig "" "cd $c && @LM@ current"
case_add "current, 100 migrations, SQLite" "raw: a bare sqlite3 process" "" "cd $c && sqlite3 luamig.db 'SELECT 1'"
case_add "current, 100 migrations, SQLite" Alembic "" "cd $c && ALEMBIC_URL=sqlite:///alembic.db $alembic current"
rounds_run "${RUNS:-7}"

c=$work/chain
row="upgrade head, $n-migration chain, SQLite"
case_add "$row" luamig "rm -f $c/luamig.db" "cd $c && @LM@ -q upgrade head"
case_add "$row" "raw: sqlite3 CLI, same statements" "rm -f $c/raw.db" "cd $c && sqlite3 raw.db -init raw.sql .quit"
case_add "$row" Alembic "rm -f $c/alembic.db" "cd $c && ALEMBIC_URL=sqlite:///alembic.db $alembic upgrade head"
rounds_run "${SLOW_RUNS:-3}"

c=$work/pg
row="upgrade head, $n_pg migrations, PostgreSQL"
fresh_db="psql -Xq $pg_base/postgres -c 'DROP DATABASE IF EXISTS luamig_bench' -c 'CREATE DATABASE luamig_bench'"
case_add "$row" luamig "$fresh_db" "cd $c && @LM@ -q upgrade head --url $pg_base/luamig_bench"
case_add "$row" "raw: psql -f, same statements" "$fresh_db" "cd $c && psql -Xq -v ON_ERROR_STOP=1 -f raw_pg.sql $pg_base/luamig_bench"
case_add "$row" Alembic "$fresh_db" \
  "cd $c && ALEMBIC_URL=${pg_base/postgresql:/postgresql+psycopg2:}/luamig_bench $alembic upgrade head"
rounds_run "${SLOW_RUNS:-3}"

table_print
