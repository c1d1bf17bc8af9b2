#!/usr/bin/env bash
# Benchmark (issues 8, 16): backfill full_name = first || ' ' || last over N rows
# (SQLite: 1,000,000; PostgreSQL: 200,000), each way in the same run,
# alternating round by round (RUNS rounds, default 3; medians, peak RSS):
#   luamig per-row Lua loop (db:rows + a prepared UPDATE), the same loop
#   through db:pipeline, the luamig.backfill helper, an Alembic migration doing the same loop with SQLAlchemy Core
#   (Debian's python3-alembic / python3-sqlalchemy / python3-psycopg2), and the
#   set-based single UPDATE (sqlite3 / psql) as the limit. Peak RSS of each.
# With LUAMIG_BEFORE=path, an older luamig runs in the same rounds.
# Targets (issue 28): SQLite loop >= 6x faster than Alembic's and <= 3x the
# set-based UPDATE; pipelined loop on PostgreSQL >= 10x faster than Alembic's
# and <= 2x set-based; peak RSS <= 12 MiB.
# Usage: bench/backfill.sh   (N_SQLITE, N_PG, RUNS; LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
n_sqlite=${N_SQLITE:-1000000}
n_pg=${N_PG:-200000}
runs=${RUNS:-3}
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
alembic_up='/usr/bin/python3 -c "import os; from alembic.config import Config; from alembic import command; c = Config(\"'"$work"'/alembic.ini\"); c.set_main_option(\"sqlalchemy.url\", os.environ[\"ALEMBIC_URL\"]); command.upgrade(c, \"head\")"'
row="per-row loop, $n_sqlite rows, SQLite"
case_add "$row" luamig "$prep_sqlite" "cd $work/loop && @LM@ -q upgrade --url sqlite:///$db"
case_add "$row" "luamig, db:pipeline" "$prep_sqlite" "cd $work/pipe && @LM@ -q upgrade --url sqlite:///$db"
case_add "$row" "luamig, luamig.backfill" "$prep_sqlite" "cd $work/helper && @LM@ -q upgrade --url sqlite:///$db"
case_add "$row" Alembic "$prep_sqlite" "cd $work && ALEMBIC_URL=sqlite:///$db $alembic_up"
case_add "$row" "raw: set-based UPDATE" "$prep_sqlite" "sqlite3 $db \"UPDATE people SET full_name = first || ' ' || last\""
rounds_run "$runs"

pgdb="$pg_base/luamig_bf"
prep_pg="psql -Xq $pg_base/postgres -c 'DROP DATABASE IF EXISTS luamig_bf' -c 'CREATE DATABASE luamig_bf TEMPLATE luamig_bf_tmpl' && psql -Xq $pgdb -c \"$stamp\""
row="per-row loop, $n_pg rows, PostgreSQL"
case_add "$row" luamig "$prep_pg" "cd $work/loop && @LM@ -q upgrade --url $pgdb"
case_add "$row" "luamig, db:pipeline" "$prep_pg" "cd $work/pipe && @LM@ -q upgrade --url $pgdb"
case_add "$row" "luamig, luamig.backfill" "$prep_pg" "cd $work/helper && @LM@ -q upgrade --url $pgdb"
case_add "$row" Alembic "$prep_pg" "cd $work && ALEMBIC_URL=${pgdb/postgresql:/postgresql+psycopg2:} $alembic_up"
case_add "$row" "raw: set-based UPDATE" "$prep_pg" "psql -Xq $pgdb -c \"UPDATE people SET full_name = first || ' ' || last\""
rounds_run "$runs"

table_print
