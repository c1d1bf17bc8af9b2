# A throwaway PostgreSQL server for the test suite. Source this file, then
#   pg_start   # initdb into a temp dir, listen on 127.0.0.1 only, export LUAMIG_TEST_PG
#   pg_stop    # stop it and remove the directory
#   pg_start_standby  # a hot standby of it (pg_basebackup -R), export LUAMIG_TEST_PG_STANDBY
#   pg_stop_standby   # stop the standby and remove its directory
# As root, the server runs as the unprivileged `postgres` user.

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$d" ]] || { echo "pg.sh: no PostgreSQL server binaries under /usr/lib/postgresql" >&2; return 1; }
  echo "$d"
}

pg_as() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_start() {
  local bin port
  bin=$(pg_bin) || return 1
  PG_TEST_DIR=$(mktemp -d /tmp/luamig-pg.XXXXXX)
  ((EUID == 0)) && chown postgres: "$PG_TEST_DIR"
  pg_as "$bin/initdb" -D "$PG_TEST_DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1 \
    || { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
  # Password auth over TCP for the `luamig_pw` role (wrong-password tests); trust otherwise.
  # Replication over loopback for the standby of pg_start_standby.
  printf 'local all all trust\nhost all luamig_pw 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n' \
    | pg_as tee "$PG_TEST_DIR/data/pg_hba.conf" >/dev/null
  port=$(pg_free_port)
  pg_as "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TEST_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 -c wal_level=replica -c max_wal_senders=4" \
    start >/dev/null || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
  pg_as "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE luamig_pw LOGIN PASSWORD 'right-pw'" >/dev/null
  export PG_TEST_PORT=$port
  export LUAMIG_TEST_PG="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($PG_TEST_DIR)"
}

# Stop the cluster whose data directory is DIR/data and remove DIR.
pg_stop_cluster() {
  local bin
  bin=$(pg_bin) || return 1
  pg_as "$bin/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$1"
}

pg_stop() {
  [[ -n "${PG_TEST_DIR:-}" && -d "$PG_TEST_DIR" ]] || return 0
  pg_stop_cluster "$PG_TEST_DIR"
  unset PG_TEST_DIR
}

# A hot standby of the pg_start server: a base backup streamed over loopback
# with -R (standby.signal and primary_conninfo), its own port and directory.
# It reports its replay position every second (wal_receiver_status_interval)
# so that replay lag seen on the primary follows the standby closely. It
# streams through a replication slot, so the primary keeps the WAL a
# standby slowed by a loaded machine has not replayed yet (without one, the
# primary recycled it and the standby stopped for good: "requested WAL
# segment ... has already been removed").
pg_start_standby() {
  [[ -n "${PG_TEST_DIR:-}" && -n "${PG_TEST_PORT:-}" ]] || { echo "pg.sh: pg_start first" >&2; return 1; }
  local bin port dir
  bin=$(pg_bin) || return 1
  dir="$PG_TEST_DIR/standby"
  pg_as mkdir -m 700 "$dir"
  pg_as "$bin/pg_basebackup" -h 127.0.0.1 -p "$PG_TEST_PORT" -U postgres -D "$dir/data" -R -X stream -c fast \
    -C -S luamig_standby \
    >"$PG_TEST_DIR/basebackup.log" 2>&1 || { cat "$PG_TEST_DIR/basebackup.log" >&2; return 1; }
  port=$(pg_free_port)
  pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c hot_standby=on -c wal_receiver_status_interval=1 -c fsync=off" \
    start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  export PG_STANDBY_PORT=$port
  export LUAMIG_TEST_PG_STANDBY="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL standby on 127.0.0.1:$port ($dir)"
}

pg_stop_standby() {
  [[ -n "${PG_TEST_DIR:-}" && -d "$PG_TEST_DIR/standby" ]] || return 0
  pg_stop_cluster "$PG_TEST_DIR/standby"
  unset PG_STANDBY_PORT LUAMIG_TEST_PG_STANDBY
}
