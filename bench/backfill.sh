#!/usr/bin/env bash
# Benchmark (issues 8, 16): backfill full_name = first || ' ' || last over N rows
# (SQLite: 1,000,000; PostgreSQL: 200,000), each way in the same run:
#   luamig per-row Lua loop (db:rows + a prepared UPDATE), the same loop
#   through db:pipeline, the luamig.backfill helper, an Alembic migration doing the same loop with SQLAlchemy Core
#   (Debian's python3-alembic / python3-sqlalchemy / python3-psycopg2), and the
#   set-based single UPDATE (sqlite3 / psql) as the limit. Peak RSS of each.
# Targets: pipelined loop on PostgreSQL >= 8x faster than the Alembic loop and
# <= 4x the set-based UPDATE; SQLite loop >= 5x faster than Alembic's; the
# backfill helper <= 2.5x the set-based UPDATE; peak RSS <= 16 MiB.
# Usage: bench/backfill.sh   (N_SQLITE, N_PG, RUNS, ALEMBIC_RUNS; LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
n_sqlite=${N_SQLITE:-1000000}
n_pg=${N_PG:-200000}
runs=${RUNS:-5}
alembic_runs=${ALEMBIC_RUNS:-$runs}  # the slowest way: fewer runs when time is short
source bench/lib.sh

# --- the projects: one luamig project per way, one Alembic project
mk_luamig() { # dir, body of upgrade
  mkdir -p "$work/$1/migrations"
  cat >"$work/$1/migrations/0001_people.lua" <<'LUA'
revision = "0000000000a1"
function upgrade(db) db:exec "CREATE TABLE IF NOT EXISTS people (id INTEGER PRIMARY KEY, first TEXT, last TEXT, full_name TEXT)" end
LUA
  printf 'revision = "0000000000a2"\ndown_revision = "0000000000a1"\nfunction upgrade(db)\n%s\nend\n' "$2" \
    >"$work/$1/migrations/0002_full_name.lua"
}
mk_luamig loop '  local set = db:prepare "UPDATE people SET full_name = ? WHERE id = ?"
  for row in db:rows "SELECT id, first, last FROM people" do set:exec(row.first .. " " .. row.last, row.id) end'
mk_luamig pipe '  local set = db:prepare "UPDATE people SET full_name = ? WHERE id = ?"
  db:pipeline(function(p)
    for row in db:rows "SELECT id, first, last FROM people" do p:exec(set, row.first .. " " .. row.last, row.id) end
  end)'
mk_luamig helper '  luamig.backfill { table = "people", columns = { "first", "last" }, batch_size = 5000,
    set = function(row) return { full_name = row.first .. " " .. row.last } end }'

mkdir -p "$work/alembic/versions"
cat >"$work/alembic/env.py" <<'PY'
from alembic import context
from sqlalchemy import create_engine
engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
PY
cat >"$work/alembic/versions/0001_people.py" <<'PY'
revision = "0000000000a1"
down_revision = None
def upgrade():
    pass
PY
cat >"$work/alembic/versions/0002_full_name.py" <<'PY'
"""full_name, row by row with SQLAlchemy Core"""
import sqlalchemy as sa
from alembic import op
revision = "0000000000a2"
down_revision = "0000000000a1"
def upgrade():
    conn = op.get_bind()
    update = sa.text("UPDATE people SET full_name = :full_name WHERE id = :id")
    for row in conn.execute(sa.text("SELECT id, first, last FROM people")).fetchall():
        conn.execute(update, {"full_name": row.first + " " + row.last, "id": row.id})
PY

# --- data: a template database per engine, copied before every timed run
seq 1 "$n_sqlite" | awk '{ print $1 ",first" $1 ",last" $1 }' >"$work/people_sqlite.csv"
head -n "$n_pg" "$work/people_sqlite.csv" >"$work/people_pg.csv"
sqlite3 "$work/template.db" "CREATE TABLE people (id INTEGER PRIMARY KEY, first TEXT, last TEXT);" \
  ".mode csv" ".import $work/people_sqlite.csv people" "ALTER TABLE people ADD COLUMN full_name TEXT;"
psql -Xq "$pg_base/postgres" -c "DROP DATABASE IF EXISTS luamig_bf_tmpl" -c "CREATE DATABASE luamig_bf_tmpl" 2>/dev/null
psql -Xq "$pg_base/luamig_bf_tmpl" -c "CREATE TABLE people (id INTEGER PRIMARY KEY, first TEXT, last TEXT, full_name TEXT)" \
  -c "\\copy people (id, first, last) FROM '$work/people_pg.csv' CSV"

cat >"$work/alembic.ini" <<INI
[alembic]
script_location = $work/alembic
INI

stamp='CREATE TABLE luamig_version (version_num TEXT NOT NULL PRIMARY KEY); INSERT INTO luamig_version VALUES ('"'"'0000000000a1'"'"'); CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY); INSERT INTO alembic_version VALUES ('"'"'0000000000a1'"'"');'
export LUAMIG_CACHE=off

db="$work/run.db"
prep_sqlite="cp $work/template.db $db && sqlite3 $db \"$stamp\""
echo "SQLite, $n_sqlite rows:" >&2
measure "sqlite|luamig Lua loop" "$prep_sqlite" "cd $work/loop && $bin -q upgrade --url sqlite:///$db"
measure "sqlite|luamig pipelined loop" "$prep_sqlite" "cd $work/pipe && $bin -q upgrade --url sqlite:///$db"
measure "sqlite|luamig backfill helper" "$prep_sqlite" "cd $work/helper && $bin -q upgrade --url sqlite:///$db"
runs=$alembic_runs measure "sqlite|Alembic loop (SQLAlchemy Core)" "$prep_sqlite" \
  "cd $work && ALEMBIC_URL=sqlite:///$db /usr/bin/python3 -c 'import os,sys; from alembic.config import Config; from alembic import command; c=Config(\"$work/alembic.ini\"); c.set_main_option(\"sqlalchemy.url\", os.environ[\"ALEMBIC_URL\"]); command.upgrade(c, \"head\")'"
measure "sqlite|set-based UPDATE (limit)" "$prep_sqlite" "sqlite3 $db \"UPDATE people SET full_name = first || ' ' || last\""

pgdb="$pg_base/luamig_bf"
prep_pg="psql -Xq $pg_base/postgres -c 'DROP DATABASE IF EXISTS luamig_bf' -c 'CREATE DATABASE luamig_bf TEMPLATE luamig_bf_tmpl' && psql -Xq $pgdb -c \"$stamp\""
echo "PostgreSQL, $n_pg rows:" >&2
measure "postgresql|luamig Lua loop" "$prep_pg" "cd $work/loop && $bin -q upgrade --url $pgdb"
measure "postgresql|luamig pipelined loop" "$prep_pg" "cd $work/pipe && $bin -q upgrade --url $pgdb"
measure "postgresql|luamig backfill helper" "$prep_pg" "cd $work/helper && $bin -q upgrade --url $pgdb"
runs=$alembic_runs measure "postgresql|Alembic loop (SQLAlchemy Core)" "$prep_pg" \
  "cd $work && ALEMBIC_URL=${pgdb/postgresql:/postgresql+psycopg2:} /usr/bin/python3 -c 'import os; from alembic.config import Config; from alembic import command; c=Config(\"$work/alembic.ini\"); c.set_main_option(\"sqlalchemy.url\", os.environ[\"ALEMBIC_URL\"]); command.upgrade(c, \"head\")'"
measure "postgresql|set-based UPDATE (limit)" "$prep_pg" "psql -Xq $pgdb -c \"UPDATE people SET full_name = first || ' ' || last\""

printf '%s\n' "${results[@]}" | python3 -c '
import sys
rows = [l.strip().split("|") for l in sys.stdin if l.strip()]
by = {(r[0], r[1]): (float(r[2]), int(r[3])) for r in rows}
print("| database | way | time | peak RSS | vs Alembic loop | vs set-based |")
print("|---|---|---|---|---|---|")
for db in ("sqlite", "postgresql"):
    al = by[(db, "Alembic loop (SQLAlchemy Core)")][0]
    lim = by[(db, "set-based UPDATE (limit)")][0]
    for way in ("luamig Lua loop", "luamig pipelined loop", "luamig backfill helper", "Alembic loop (SQLAlchemy Core)", "set-based UPDATE (limit)"):
        t, m = by[(db, way)]
        print(f"| {db} | {way} | {t:.2f} s | {m/1024:.0f} MB | {al/t:.1f}x faster | {t/lim:.1f}x slower |")
'
