#!/usr/bin/env bash
# Benchmark (issue 8): insert N rows (default 1,000,000) through a luamig
# migration calling db:copy_in with a streaming row source (SQLite: batched
# multi-row INSERTs; PostgreSQL: COPY FROM STDIN), against the native import
# of the same rows (sqlite3 .import, psql \copy), each run in the same go.
# Peak RSS of each. Target: within 2x of the native import.
# Usage: bench/bulk.sh   (N, RUNS; LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-1000000}
runs=${RUNS:-3}
source bench/lib.sh

mkdir -p "$work/p/migrations"
cat >"$work/p/migrations/0001_items.lua" <<LUA
revision = "0000000000b1"
function upgrade(db)
  db:exec "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price DOUBLE PRECISION, note TEXT)"
  local i = 0
  db:copy_in("items", { "id", "name", "price", "note" }, function()
    i = i + 1
    if i <= $n then return { id = i, name = "item " .. i, price = i * 0.25, note = "note for item " .. i } end
  end)
end
LUA
seq 1 "$n" | awk '{ printf "%d,item %d,%g,note for item %d\n", $1, $1, $1 * 0.25, $1 }' >"$work/items.csv"
table_sql="CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price DOUBLE PRECISION, note TEXT)"
pgdb="$pg_base/luamig_bulk"
fresh_pg="psql -Xq $pg_base/postgres -c 'DROP DATABASE IF EXISTS luamig_bulk' -c 'CREATE DATABASE luamig_bulk'"
export LUAMIG_CACHE=off

echo "SQLite, $n rows:" >&2
measure "sqlite|luamig db:copy_in" "rm -f $work/run.db" "cd $work/p && $bin -q upgrade --url sqlite:///$work/run.db"
measure "sqlite|sqlite3 .import (native)" "rm -f $work/run.db" \
  "sqlite3 $work/run.db '$table_sql' '.mode csv' '.import $work/items.csv items'"
echo "PostgreSQL, $n rows:" >&2
measure "postgresql|luamig db:copy_in" "$fresh_pg" "cd $work/p && $bin -q upgrade --url $pgdb"
measure "postgresql|psql \\copy (native)" "$fresh_pg" \
  "psql -Xq $pgdb -c '$table_sql' -c \"\\\\copy items FROM '$work/items.csv' CSV\""

printf '%s\n' "${results[@]}" | python3 -c '
import sys
rows = [l.strip().split("|") for l in sys.stdin if l.strip()]
by = {(r[0], r[1]): (float(r[2]), int(r[3])) for r in rows}
print("| database | way | time | peak RSS | vs native |")
print("|---|---|---|---|---|")
for db, native in (("sqlite", "sqlite3 .import (native)"), ("postgresql", "psql \\copy (native)")):
    base = by[(db, native)][0]
    for way in ("luamig db:copy_in", native):
        t, m = by[(db, way)]
        print(f"| {db} | {way} | {t:.2f} s | {m/1024:.0f} MB | {t/base:.2f}x |")
'
