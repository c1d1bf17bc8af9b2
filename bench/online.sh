#!/usr/bin/env bash
# Benchmark (issue 26): a zero-downtime change under live traffic, PostgreSQL.
# A table of ROWS (1,000,000) orders; two applications (pgbench, one client
# each: bench/online/old_app.sql uses the old column names, new_app.sql the
# new ones; each transaction is one INSERT, one UPDATE and one SELECT) write
# and read while luamig renames customer_name -> buyer, changes price_cents
# (integer cents) -> price (numeric) and adds note NOT NULL with a backfill:
#   old app alone -> `luamig upgrade head` (expand) starts; as soon as its
#   sync triggers exist (polled in the catalog) the new app starts, so the
#   backfill (one pass over the table for the three columns) runs while both
#   apps write -> both apps after expand -> old app stops -> new app alone,
#   triggers on -> `luamig contract` -> new app alone, no trigger.
# Then the naive way on a fresh copy: one transaction with ALTER TABLE ...
# RENAME, ALTER ... TYPE and ADD COLUMN + UPDATE + SET NOT NULL while the old
# app runs. Reports transactions/s per phase, backfill rows/s, the longest
# transaction each app saw, the lock_timeout retries (and who held the
# table), the naive lock's duration, the failures and the load average.
# Targets: writes with the trigger on >= 50% of the trigger-free rate;
# expand (backfill of 1M rows) under 60 s while both apps write; zero failed
# statements; longest transaction < 1 s with lock_timeout = 500ms.
# Usage: bench/online.sh   (ROWS, WINDOW seconds per phase; LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
window=${WINDOW:-10}
src=$PWD/bench/online
source bench/lib.sh
source bench/online/apps.sh

now() { date +%s.%N; }

# project DIR URL: the two migrations, at orders0001 (the table filled)
project() {
  mkdir -p "$1/migrations"
  sed "s/ROWS/$rows/" "$src/001_orders.lua.in" >"$1/migrations/001_orders.lua"
  sed "s/BATCH_SIZE/10000/; s/SLEEP_MS/0/" "$src/002_online.lua.in" >"$1/migrations/002_online.lua"
  echo "return { url = '$2', still_written = 2 }" >"$1/luamig.lua"
  (cd "$1" && "$bin" -q upgrade orders0001)
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== luamig expand/contract on $rows rows (phases of ${window}s; load average $load_before)" >&2
url=$(fresh_db luamig_bench_online)
p=$work/online
project "$p" "$url"
start_app old "$url" "$work/old"
t0=$(now); sleep "$window"
t1=$(now)
(cd "$p" && "$bin" upgrade head) >"$work/expand.log" 2>&1 &
expand_pid=$!
# the new app starts as soon as the three sync triggers exist
until [[ $(psql "$url" -XtAc "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass
  AND tgname LIKE 'luamig_sync_%'") -ge 3 ]]; do
  kill -0 "$expand_pid" 2>/dev/null || { cat "$work/expand.log" >&2; echo "bench: expand ended before its triggers" >&2; exit 1; }
  sleep 0.05
done
tt=$(now)
start_app new "$url" "$work/new"
wait "$expand_pid" || { cat "$work/expand.log" >&2; exit 1; }
t2=$(now)
tr '\r' '\n' <"$work/expand.log" | grep -v '^ *$' | grep -v '%) [0-9.k]*/s$' >&2 || true
sleep "$window"
t3=$(now)
stop_app old "$url" "$work/old"
t4=$(now); sleep "$window"
t5=$(now)
until (cd "$p" && "$bin" contract) >"$work/contract.log" 2>&1; do tail -n 2 "$work/contract.log" >&2; sleep 0.5; done # (still_written = 2 s)
t6=$(now); sleep "$window"
t7=$(now)
stop_app new "$url" "$work/new"
bad=$(psql "$url" -XtAc "SELECT count(*) FROM orders WHERE NOT (price * 100 = CAST(split_part(buyer, '-', 2) AS numeric)
  AND (note = 'order ' || id OR note = 'new'))")
total=$(psql "$url" -XtAc "SELECT count(*) FROM orders")
done_old=$(sed -n 's/number of transactions actually processed: //p' "$work/old/out")
done_new=$(sed -n 's/number of transactions actually processed: //p' "$work/new/out")

echo "== the naive way: one transaction of ALTER TABLE while the old app runs" >&2
nurl=$(fresh_db luamig_bench_naive)
project "$work/naive" "$nurl"
start_app old "$nurl" "$work/nold"
sleep "$window"
n1=$(now)
psql "$nurl" -qX -v ON_ERROR_STOP=1 <<'SQL'
BEGIN;
ALTER TABLE orders RENAME COLUMN customer_name TO buyer;
ALTER TABLE orders ALTER COLUMN price_cents TYPE numeric(12,2) USING price_cents / 100.0;
ALTER TABLE orders RENAME COLUMN price_cents TO price;
ALTER TABLE orders ADD COLUMN note text;
UPDATE orders SET note = 'order ' || id;
ALTER TABLE orders ALTER COLUMN note SET NOT NULL;
COMMIT;
SQL
n2=$(now)
while [[ ! -s "$work/nold/rc" ]]; do sleep 0.1; done # its next statement fails: the old app is down
nfail=$(grep -c "ERROR" "$work/nold/err" || true)

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
backfill=$(fill_rates "$work/expand.log")
retries=$(cat "$work/expand.log" "$work/contract.log" | grep -c "lock_timeout; retrying" || true)
holders=$(cat "$work/expand.log" "$work/contract.log" | grep -o "waiting on pid [0-9]* ([^:]*" | sed 's/waiting on pid [0-9]* (//' | sort | uniq -c | awk '{ $1 = $1 "x"; print }' | paste -sd',' || true)
secs() { printf '%.1f' "$(echo "$2 - $1" | bc)"; }
cat <<EOF

luamig expand/contract, $rows rows, one pgbench client per app (transactions/s; each = INSERT + UPDATE + SELECT);
load average $load_before before, $load_after after (2 cores, shared):
  old app alone, no trigger:              $(rate "$work/old" old "$t0" "$t1")
  expand until its triggers ($(secs "$t1" "$tt") s):     old $(rate "$work/old" old "$t1" "$tt")
  during the backfill, both apps ($(secs "$tt" "$t2") s): old $(rate "$work/old" old "$tt" "$t2"), new $(rate "$work/new" new "$tt" "$t2")
  both apps after expand, triggers on:    old $(rate "$work/old" old "$t2" "$t3"), new $(rate "$work/new" new "$t2" "$t3")
  new app alone, triggers on:             $(rate "$work/new" new "$t4" "$t5")
  new app alone after contract:           $(rate "$work/new" new "$t6" "$t7")
  expand: $(secs "$t1" "$t2") s (one backfill pass for the three columns: $backfill); contract: $(secs "$t5" "$t6") s (polled until the still_written window passed)
  lock_timeout retries: $retries ${holders:+(held by: $holders)}
  longest transaction: during expand old $(longest "$work/old" old "$t1" "$t2") ms, new $(longest "$work/new" new "$tt" "$t2") ms; during contract new $(longest "$work/new" new "$t5" "$t6") ms
  failed statements: old $(failures "$work/old"), new $(failures "$work/new"); rows $total = $rows + $done_old + $done_new written; mistranslated: $bad
naive: one transaction (RENAME + ALTER TYPE + ADD COLUMN/UPDATE/SET NOT NULL) held ACCESS EXCLUSIVE for $(secs "$n1" "$n2") s;
  the old app's statement in flight waited for that lock, then failed on the renamed column ($nfail error; pgbench
  aborts the client: from the COMMIT on, every statement of the old app fails)
EOF
