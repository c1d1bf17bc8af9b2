# What bench/online.sh and bench/retype.sh share (sourced after bench/lib.sh,
# with src = bench/online and rows set): databases, pgbench applications, and
# what their per-transaction logs say.

# fresh_db NAME: a new database; its URL
fresh_db() {
  psql "$LUAMIG_TEST_PG" -qXc "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
  echo "$pg_base/$1"
}

# start_app NAME URL DIR: pgbench in the background until app_control stops it
start_app() {
  mkdir -p "$3"
  (rc=0; pgbench -n -c 1 -j 1 -T 3600 -f "$src/$1_app.sql" -D seed="$rows" -l --log-prefix="$3/$1" "$2" \
    >"$3/out" 2>"$3/err" || rc=$?; echo "$rc" >"$3/rc") &
}

stop_app() { # NAME URL DIR
  psql "$2" -qXc "UPDATE app_control SET stop = 1 WHERE app = '$1'"
  while [[ ! -s "$3/rc" ]]; do sleep 0.1; done
}

# rate DIR NAME FROM TO: transactions/s that ended in [FROM, TO)
rate() {
  cat "$1/$2".* | awk -v a="$3" -v b="$4" '{ t = $5 + $6 / 1e6; if (t >= a && t < b) n++ }
    END { printf "%.0f", n / (b - a) }'
}

# longest DIR NAME FROM TO: the longest transaction (ms) that ended in [FROM, TO + 2 s)
longest() {
  cat "$1/$2".* | awk -v a="$3" -v b="$4" '{ t = $5 + $6 / 1e6; if (t >= a && t < b + 2 && $3 > m) m = $3 }
    END { printf "%.0f", m / 1000 }'
}

# failures DIR: error lines other than the deliberate stop
failures() { grep -c "ERROR" "$1/err" | awk '{print $1 - 1}'; }


# fill_rates LOG: each backfill's last progress rate in luamig's output LOG, in order
fill_rates() {
  tr '\r' '\n' <"$1" | awk -F': ' '/^backfill online / && / [0-9.]+k?\/s$/ {
      n = split($2, w, " "); if (!($1 in last)) order[++k] = $1; last[$1] = w[n] }
    END { for (i = 1; i <= k; i++) printf "%s%s", (i > 1 ? " " : ""), last[order[i]] }'
}
