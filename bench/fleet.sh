#!/usr/bin/env bash
# Benchmark (issues 19, 30): fleet runs at scale. SQLITE_N SQLite tenant
# databases (default 10,000) and PG_N PostgreSQL schema-per-tenant targets
# on one server (default 2,000), 3 migrations each: the first run at
# --jobs 2, then the no-op rerun (every target at head: the bulk check, no
# child), against one target's time x targets / jobs (the ideal); the peak
# RSS of the largest process (the parent, or one job: a forked copy of it).
# The first runs also sample the high-water marks (VmHWM) of the parent
# and of its largest job process. Then where a target's time goes, on
# BREAKDOWN_N (500) SQLite targets at --jobs 2: a bare fork (a child that
# does nothing), fork + open + read the heads (`current --all`), and the
# whole upgrade (lock + 3 steps); and on as many PostgreSQL schemas:
# connect once per job + set each schema up + read its heads (`current
# --all`). Prints "name|seconds|peak RSS kB|ratio to one x targets / jobs"
# lines, the sampled parent and job RSS, and the load average when it ran.
# Usage: bench/fleet.sh   (LUAMIG_BIN defaults to build/luamig; RUNS=1)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
runs=${RUNS:-1}
sqlite_n=${SQLITE_N:-10000}
pg_n=${PG_N:-2000}
breakdown_n=${BREAKDOWN_N:-500}
jobs=2
source bench/lib.sh

p="$work/fleet"
mkdir -p "$p/migrations" "$p/db"
for i in 1 2 3; do
  id=$(printf 'f%011d' "$i")
  down=$([[ $i == 1 ]] && echo nil || printf '"f%011d"' $((i - 1)))
  printf 'revision = "%s"\ndown_revision = %s\nfunction upgrade(db)\n  db:exec "CREATE TABLE t%d (id INTEGER PRIMARY KEY, v TEXT)"\n  db:exec "CREATE INDEX t%d_v ON t%d (v)"\nend\n' \
    "$id" "$down" "$i" "$i" "$i" >"$p/migrations/0${i}_$id.lua"
done
psql -Xq "$pg_base/postgres" -c 'DROP DATABASE IF EXISTS luamig_fleet_bench' -c 'CREATE DATABASE luamig_fleet_bench'
pg_url="$pg_base/luamig_fleet_bench"
cat >"$p/luamig.lua" <<LUA
local t, n = {}, tonumber(os.getenv("BENCH_N"))
if os.getenv("BENCH_FLEET") == "sqlite" then
  for i = 1, n do t[#t + 1] = { name = "t" .. i, url = "sqlite:///db/t" .. i .. ".db" } end
else
  for i = 1, n do t[#t + 1] = { name = "pg" .. i, url = "$pg_url", schema = "tenant_" .. i } end
end
return { targets = t }
LUA
# (a new database: dropping 2,000 schemas in one transaction runs out of lock slots)
drop_schemas="psql -Xq $pg_base/postgres -c 'DROP DATABASE luamig_fleet_bench' -c 'CREATE DATABASE luamig_fleet_bench'"
# a bare fork: N children that do nothing, at most $jobs at once
cat >"$work/forks.lua" <<'LUA'
local host = require "luamig.host"
local n, jobs, running = tonumber(arg and arg[1] or ...), 2, 0
for _ = 1, n do
  if running == jobs then host.wait(true); running = running - 1 end
  host.fork(function() end)
  running = running + 1
end
while host.wait(true) do end
LUA

# rss.sh OUT CMD...: runs CMD, writes "PARENT_KB JOB_KB" to OUT: the VmHWM of
# CMD's process and the largest of its children's, sampled every 0.2 s
cat >"$work/rss.sh" <<'SH'
out=$1
shift
"$@" &
pid=$! parent=0 job=0
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
while kill -0 "$pid" 2>/dev/null; do
  h=$(hwm "$pid")
  ((${h:-0} > parent)) && parent=$h
  for c in $(pgrep -P "$pid"); do
    h=$(hwm "$c")
    ((${h:-0} > job)) && job=$h
  done
  sleep 0.2
done
wait "$pid"
rc=$?
echo "$parent $job" >"$out"
exit $rc
SH
rss="bash $work/rss.sh"

cd "$p"
sq="BENCH_FLEET=sqlite"
pg="BENCH_FLEET=pg"
measure "one SQLite target" "rm -f db/*.db" "$sq BENCH_N=1 $bin -q upgrade --all"
measure "$sqlite_n SQLite, --jobs $jobs" "rm -f db/*.db" \
  "$sq BENCH_N=$sqlite_n $rss $work/rss.sqlite $bin -q upgrade --all --jobs $jobs"
measure "rerun, $sqlite_n SQLite at head" "true" "$sq BENCH_N=$sqlite_n $bin -q upgrade --all --jobs $jobs"
measure "one PostgreSQL schema" "$drop_schemas" "$pg BENCH_N=1 $bin -q upgrade --all"
measure "$pg_n PostgreSQL schemas, --jobs $jobs" "$drop_schemas" \
  "$pg BENCH_N=$pg_n $rss $work/rss.pg $bin -q upgrade --all --jobs $jobs"
measure "rerun, $pg_n PostgreSQL schemas at head" "true" "$pg BENCH_N=$pg_n $bin -q upgrade --all --jobs $jobs"
# where a target's time goes
measure "breakdown: $breakdown_n bare forks" "true" \
  "LUAMIG_LUA_DIR=$src/spec/support/harness LUAMIG_SOURCE_DIR=$src $bin $work/forks.lua $breakdown_n"
measure "breakdown: $breakdown_n SQLite, fork + open + heads" "true" \
  "$sq BENCH_N=$breakdown_n $bin -q current --all --jobs $jobs"
measure "breakdown: $breakdown_n SQLite, whole upgrade" "rm -f db/*.db" \
  "$sq BENCH_N=$breakdown_n $bin -q upgrade --all --jobs $jobs"
measure "breakdown: $breakdown_n PostgreSQL schemas, connect + schema + heads" \
  "$drop_schemas && $pg BENCH_N=$breakdown_n $bin -q upgrade --all --jobs $jobs" \
  "$pg BENCH_N=$breakdown_n $bin -q current --all --jobs $jobs"
load=$(cut -d' ' -f1-3 /proc/loadavg)

one_sqlite=$(echo "${results[0]}" | cut -d'|' -f2)
one_pg=$(echo "${results[3]}" | cut -d'|' -f2)
for r in "${results[@]}"; do
  IFS='|' read -r name secs rss <<<"$r"
  ratio=""
  if [[ $name =~ ^([0-9]+)\ (SQLite|PostgreSQL).*--jobs\ ([0-9]+)$ ]]; then
    n=${BASH_REMATCH[1]} j=${BASH_REMATCH[3]}
    one=$([[ ${BASH_REMATCH[2]} == SQLite ]] && echo "$one_sqlite" || echo "$one_pg")
    ratio=$(awk -v o="$one" -v n="$n" -v j="$j" -v s="$secs" 'BEGIN { printf "%.2f", s / (o * n / j) }')
  fi
  echo "$name|$secs|$rss|$ratio"
done
read -r parent job <"$work/rss.sqlite"
echo "$sqlite_n SQLite first run: parent VmHWM $parent kB, largest job $job kB"
read -r parent job <"$work/rss.pg"
echo "$pg_n PostgreSQL first run: parent VmHWM $parent kB, largest job $job kB"
echo "load average $load on $(nproc) cores"
