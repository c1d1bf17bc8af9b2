#!/usr/bin/env bash
# Benchmark (issue 25): a column's type changed under live traffic, PostgreSQL.
# A table of ROWS (1,000,000) orders with an index on price_cents; one
# application (pgbench, bench/online/old_app.sql: an INSERT, an UPDATE and a
# SELECT per transaction, through the usual column names) writes and reads
# while `luamig upgrade head` runs op.online.retype_column("orders",
# "price_cents", "bigint"); then the naive way on a fresh copy: one ALTER
# TABLE ... ALTER COLUMN price_cents TYPE bigint while the application runs.
# Reports transactions/s before, during and after, the longest transaction,
# failed statements, wrong values, and how long each way held the table.
# Targets: zero failed statements; longest transaction < 1 s with
# lock_timeout = 500ms (the naive way's is its whole rewrite).
# Usage: bench/retype.sh   (ROWS, WINDOW seconds per phase; LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
window=${WINDOW:-10}
src=$PWD/bench/online
source bench/lib.sh
source bench/online/apps.sh

now() { date +%s.%N; }
secs() { printf '%.1f' "$(echo "$2 - $1" | bc)"; }

# project DIR URL: orders filled and indexed; head retypes price_cents
project() {
  mkdir -p "$1/migrations"
  sed "s/ROWS/$rows/" "$src/001_orders.lua.in" >"$1/migrations/001_orders.lua"
  cat >"$1/migrations/002_index.lua" <<'EOF'
revision = "orders0002"
down_revision = "orders0001"
function upgrade(db) db:exec "CREATE INDEX orders_price ON orders (price_cents)" end
EOF
  cat >"$1/migrations/003_retype.lua" <<'EOF'
revision = "orders0003"
down_revision = "orders0002"
transactional = false
lock_timeout = "500ms"
function upgrade(db) op.online.retype_column("orders", "price_cents", "bigint", { batch_size = 10000 }) end
EOF
  echo "return { url = '$2' }" >"$1/luamig.lua"
  (cd "$1" && "$bin" -q upgrade orders0002)
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== op.online.retype_column on $rows rows (phases of ${window}s; load average $load_before)" >&2
url=$(fresh_db luamig_bench_retype)
project "$work/online" "$url"
start_app old "$url" "$work/app"
t0=$(now); sleep "$window"
t1=$(now)
(cd "$work/online" && "$bin" upgrade head) >"$work/retype.log" 2>&1 || { cat "$work/retype.log" >&2; exit 1; }
cat "$work/retype.log" >&2
t2=$(now); sleep "$window"
t3=$(now)
stop_app old "$url" "$work/app"
bad=$(psql "$url" -XtAc "SELECT count(*) FROM orders WHERE price_cents <> CAST(split_part(customer_name, '-', 2) AS bigint)")
type=$(psql "$url" -XtAc "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'orders'::regclass
  AND attname = 'price_cents'")
done_app=$(sed -n 's/number of transactions actually processed: //p' "$work/app/out")
total=$(psql "$url" -XtAc "SELECT count(*) FROM orders")
fill=$(fill_rates "$work/retype.log")
retries=$(grep -c "lock_timeout; retrying" "$work/retype.log" || true)

echo "== the naive way: ALTER COLUMN ... TYPE bigint while the application runs" >&2
nurl=$(fresh_db luamig_bench_retype_naive)
project "$work/naive" "$nurl"
start_app old "$nurl" "$work/napp"
sleep "$window"
n1=$(now)
psql "$nurl" -qX -v ON_ERROR_STOP=1 -c "ALTER TABLE orders ALTER COLUMN price_cents TYPE bigint"
n2=$(now); sleep 2
stop_app old "$nurl" "$work/napp"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cat <<EOF

op.online.retype_column, $rows rows, one pgbench client (transactions/s; each = INSERT + UPDATE + SELECT);
load average $load_before before, $load_after after (2 cores, shared):
  before:                      $(rate "$work/app" old "$t0" "$t1")
  during the retype ($(secs "$t1" "$t2") s):  $(rate "$work/app" old "$t1" "$t2")  (fill: $fill; lock_timeout retries: $retries)
  after:                       $(rate "$work/app" old "$t2" "$t3")
  longest transaction during the retype: $(longest "$work/app" old "$t1" "$t2") ms
  failed statements: $(failures "$work/app"); rows $total = $rows + $done_app written; wrong values: $bad; price_cents is now $type
naive: ALTER COLUMN price_cents TYPE bigint took $(secs "$n1" "$n2") s under ACCESS EXCLUSIVE;
  longest transaction $(longest "$work/napp" old "$n1" "$n2") ms, failed statements: $(failures "$work/napp")
EOF
