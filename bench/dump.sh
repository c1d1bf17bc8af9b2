#!/usr/bin/env bash
# `luamig dump` of a 500-table PostgreSQL schema (issue 24; target < 2 s),
# beside `pg_dump --schema-only` of the same database in the same run. Each
# table has a serial key, a NOT NULL default, a CHECK, a UNIQUE pair, a
# foreign key to the previous table and a partial index; plus 50 views and
# 50 functions.
# Usage: bench/dump.sh   (TABLES, RUNS; LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
tables=${TABLES:-500}
runs=${RUNS:-5}
source bench/lib.sh

db=luamig_bench_dump_$$
psql "$pg_base/postgres" -qXc "CREATE DATABASE $db"
trap 'psql "$pg_base/postgres" -qXc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; rm -rf "$work"; pg_stop' EXIT
url=$pg_base/$db
cat >"$work/gen.lua" <<'LUA'
local n = tonumber(arg[1])
for i = 1, n do
  print(("CREATE TABLE t%d (id bigserial PRIMARY KEY, name text NOT NULL DEFAULT %s, n int CHECK (n > 0), " ..
    "ref bigint%s, note text, UNIQUE (name, n)); CREATE INDEX ix_t%d ON t%d (n) WHERE n > 10;")
    :format(i, "$$$$", i > 1 and (" REFERENCES t" .. (i - 1)) or "", i, i))
end
for i = 1, 50 do
  print(("CREATE VIEW v%d AS SELECT id, name FROM t%d WHERE n > %d;"):format(i, i, i))
  print(("CREATE FUNCTION f%d(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + %d $$;"):format(i, i))
end
LUA
lua5.4 "$work/gen.lua" "$tables" | psql "$url" -qX -v ON_ERROR_STOP=1 >/dev/null

mkdir -p "$work/p"
echo 'return { migrations = "migrations" }' >"$work/p/luamig.lua"
pg_dump_bin=$(ls /usr/lib/postgresql/*/bin/pg_dump | sort -V | tail -1)
measure "luamig dump ($tables tables)" "" "cd $work/p && $bin --url $url dump"
measure "pg_dump --schema-only" "" "$pg_dump_bin --schema-only $url"
measure "luamig dump --declared" "" "cd $work/p && $bin --url $url dump --declared"
printf '%s\n' "${results[@]}" | column -t -s '|' -N 'way,median s,peak RSS kB'
