# Shared by the bench scripts (sourced from the repository root): sets bin
# (the luamig under test), work (a temporary directory, removed on exit) and
# pg_base (a PostgreSQL server: $LUAMIG_TEST_PG's, or a private one started
# here and stopped on exit; none with BENCH_NO_PG set), and defines the alternating-rounds harness.
bin=$(realpath "${LUAMIG_BIN:-build/luamig}")
before=${LUAMIG_BEFORE:+$(realpath "$LUAMIG_BEFORE")}  # optional: an older luamig timed in the same rounds
work=$(mktemp -d)
source .ci/pg.sh
trap 'rm -rf "$work"; pg_stop' EXIT
if [[ -n "${BENCH_NO_PG:-}" ]]; then unset PG_TEST_DIR  # this bench needs no server (and stops none)
elif [[ -z "${LUAMIG_TEST_PG:-}" ]]; then pg_start >&2; else unset PG_TEST_DIR; fi  # stop only our own server
pg_base=${LUAMIG_TEST_PG:-}; pg_base=${pg_base%/*}

# `case_add ROW WAY PREPARE COMMAND` registers a case (one line each, no "|"); in COMMAND, @LM@ is the
# luamig under test (and, with LUAMIG_BEFORE, a second case "WAY (before)"
# runs the older binary). `rounds_run N` then runs N rounds, each running
# every registered case once in turn (PREPARE untimed), so that load on a
# shared machine falls on all ways alike; it appends
# "ROW|WAY|median wall s|median CPU s|peak RSS kB" to results and clears the cases.
results=()
cases=()
case_add() {
  local row=$1 way=$2 prepare=$3 cmd=$4
  cases+=("$row|$way|$prepare|${cmd//@LM@/$bin}")
  if [[ -n "$before" && "$cmd" == *@LM@* ]]; then cases+=("$row|$way (before)|$prepare|${cmd//@LM@/$before}"); fi
}
rounds_run() {
  local n=$1 r i row way prepare cmd t u s m
  local -a wall cpu rss
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  for ((r = 0; r < n; r++)); do
    for i in "${!cases[@]}"; do
      IFS='|' read -r row way prepare cmd <<<"${cases[$i]}"
      bash -c "$prepare" >/dev/null 2>&1
      if ! python3 -c "$timer" "$cmd" "$work/time" >/dev/null 2>"$work/err"; then
        echo "bench: $row / $way failed:" >&2
        tail -n 5 "$work/err" >&2
        exit 1
      fi
      read -r t u m <"$work/time"
      wall[$i]+="$t "
      cpu[$i]+="$u "
      ((m > ${rss[$i]:-0})) && rss[$i]=$m
    done
  done
  for i in "${!cases[@]}"; do
    IFS='|' read -r row way prepare cmd <<<"${cases[$i]}"
    t=$(median ${wall[$i]})
    u=$(median ${cpu[$i]})
    results+=("$row|$way|$t|$u|${rss[$i]}")
    echo "  $row / $way: ${t}s (CPU ${u}s), peak RSS ${rss[$i]} kB" >&2
  done
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  cases=()
}
# Runs sh -c COMMAND; writes "wall CPU peak-RSS-kB" to the file named second
# (wall and CPU to the microsecond, not /usr/bin/time's 10 ms; the peak RSS
# from /usr/bin/time, whose small process the command starts from, as a
# fork of python would count python's own pages); exits as COMMAND did.
timer='
import os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv("/usr/bin/time", ["time", "-o", sys.argv[2] + ".rss", "-f", "%M", "sh", "-c", sys.argv[1]])
_, status, ru = os.wait4(pid, 0)
t = time.perf_counter() - t
rss = open(sys.argv[2] + ".rss").read().split()[-1]
open(sys.argv[2], "w").write(f"{t:.6f} {ru.ru_utime + ru.ru_stime:.6f} {rss}\n")
sys.exit(os.waitstatus_to_exitcode(status))'
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# `table_print` prints results as the issue-28 table: per row, luamig,
# the raw limit, luamig/raw and Alembic (ways named "luamig", "raw: ..." and
# "Alembic"); any other ways (a second luamig way, "(before)") print as extra rows.
table_print() {
  printf '%s\n' "${results[@]}" | python3 -c '
import sys
rows, order = {}, []
for line in sys.stdin:
    row, way, wall, cpu, rss = line.rstrip("\n").split("|")
    if row not in rows: rows[row] = {}; order.append(row)
    rows[row][way] = (float(wall), float(cpu), int(rss))
def fmt(x):
    w, c, m = x
    t = f"{w*1000:.1f} ms" if w < 1 else f"{w:.2f} s"
    cpu = f"{c*1000:.1f} ms" if c < 1 else f"{c:.2f} s"
    return f"{t} (CPU {cpu}, {m/1024:.1f} MiB)"
print("| measurement | way | time (CPU, peak RSS) | / raw | Alembic / this |")
print("|---|---|---|---|---|")
for row in order:
    ways = rows[row]
    raw = next((v for k, v in ways.items() if k.startswith("raw")), None)
    al = ways.get("Alembic")
    for way, v in ways.items():
        r = f"{v[0]/raw[0]:.2f}x" if raw and v[0] > 0 and raw[0] > 0 else ""
        a = f"{al[0]/v[0]:.1f}x" if al and v[0] > 0 else ""
        print(f"| {row} | {way} | {fmt(v)} | {r} | {a} |")
'
}
