#!/usr/bin/env bash
# Benchmark (issue 19): fleet runs. 200 SQLite tenant databases and 50
# PostgreSQL schema-per-tenant targets, 10 migrations each, at --jobs 1, 4
# and 8, against one target's time x targets / jobs (the ideal), and the
# peak RSS (of the largest process: the parent or one job).
# Prints "name|seconds|peak RSS kB|ratio to one x targets / jobs|ratio to
# one x targets / min(jobs, cores)" lines.
# Usage: bench/fleet.sh   (LUAMIG_BIN defaults to build/luamig; RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
source bench/lib.sh

p="$work/fleet"
mkdir -p "$p/migrations" "$p/db"
for i in $(seq 1 10); do
  id=$(printf 'f%011d' "$i")
  down=$([[ $i == 1 ]] && echo nil || printf '"f%011d"' $((i - 1)))
  printf 'revision = "%s"\ndown_revision = %s\nfunction upgrade(db)\n  db:exec "CREATE TABLE t%d (id INTEGER PRIMARY KEY, v TEXT)"\n  db:exec "CREATE INDEX t%d_v ON t%d (v)"\nend\n' \
    "$id" "$down" "$i" "$i" "$i" >"$p/migrations/$(printf '%02d' "$i")_$id.lua"
done
psql -Xq "$pg_base/postgres" -c 'DROP DATABASE IF EXISTS luamig_fleet_bench' -c 'CREATE DATABASE luamig_fleet_bench'
pg_url="$pg_base/luamig_fleet_bench"
cat >"$p/luamig.lua" <<LUA
local t = {}
if os.getenv("BENCH_FLEET") == "sqlite" then
  for i = 1, 200 do t[#t + 1] = { name = "t" .. i, url = "sqlite:///db/t" .. i .. ".db" } end
else
  for i = 1, 50 do t[#t + 1] = { name = "pg" .. i, url = "$pg_url", schema = "tenant_" .. i } end
end
return { targets = t }
LUA
for i in $(seq 1 50); do echo "DROP SCHEMA IF EXISTS tenant_$i CASCADE;"; done >"$work/drop.sql"
drop_schemas="psql -Xq $pg_url -f $work/drop.sql"

cd "$p"
measure "one SQLite target" "rm -f db/*.db" "BENCH_FLEET=sqlite $bin -q upgrade --target t1"
for j in 1 4 8; do
  measure "200 SQLite, --jobs $j" "rm -f db/*.db" "BENCH_FLEET=sqlite $bin -q upgrade --all --jobs $j"
done
measure "one PostgreSQL schema" "$drop_schemas" "BENCH_FLEET=pg $bin -q upgrade --target pg1"
for j in 1 4 8; do
  measure "50 PostgreSQL schemas, --jobs $j" "$drop_schemas" "BENCH_FLEET=pg $bin -q upgrade --all --jobs $j"
done
measure "rerun, 200 SQLite at head, --jobs 4" "true" "BENCH_FLEET=sqlite $bin -q upgrade --all --jobs 4"

one_sqlite=$(echo "${results[0]}" | cut -d'|' -f2)
one_pg=$(echo "${results[4]}" | cut -d'|' -f2)
cores=$(nproc)
for r in "${results[@]}"; do
  IFS='|' read -r name secs rss <<<"$r"
  ratio=""
  if [[ ! $name =~ rerun && $name =~ ^([0-9]+)\ (SQLite|PostgreSQL).*--jobs\ ([0-9]+)$ ]]; then
    n=${BASH_REMATCH[1]} jobs=${BASH_REMATCH[3]}
    one=$([[ ${BASH_REMATCH[2]} == SQLite ]] && echo "$one_sqlite" || echo "$one_pg")
    # against one target's time x targets / jobs, and / min(jobs, cores)
    ratio=$(awk -v o="$one" -v n="$n" -v j="$jobs" -v c="$cores" -v s="$secs" \
      'BEGIN { k = j < c ? j : c; printf "%.2f|%.2f", s / (o * n / j), s / (o * n / k) }')
  fi
  echo "$name|$secs|$rss|$ratio"
done
