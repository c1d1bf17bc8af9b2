# Shared by the bench scripts (sourced from the repository root): sets bin
# (the luamig under test), work (a temporary directory, removed on exit) and
# pg_base (a PostgreSQL server: $LUAMIG_TEST_PG's, or a private one started
# here and stopped on exit), and defines measure.
bin=$(realpath "${LUAMIG_BIN:-build/luamig}")
work=$(mktemp -d)
source .ci/pg.sh
trap 'rm -rf "$work"; pg_stop' EXIT
if [[ -z "${LUAMIG_TEST_PG:-}" ]]; then pg_start >&2; else unset PG_TEST_DIR; fi  # stop only our own server
pg_base=${LUAMIG_TEST_PG%/*}

# `measure NAME PREPARE COMMAND` runs PREPARE then COMMAND $runs times
# (bash -c), and appends "NAME|median seconds|peak RSS kB" to results.
results=()
measure() {
  local name=$1 prepare=$2 cmd=$3 times=() rss=0 i t m med
  for ((i = 0; i < runs; i++)); do
    bash -c "$prepare" >/dev/null 2>&1
    if ! /usr/bin/time -o "$work/time" -f "%e %M" bash -c "$cmd" >/dev/null 2>"$work/err"; then
      echo "bench: $name failed:" >&2
      tail -n 5 "$work/err" >&2
      exit 1
    fi
    read -r t m <"$work/time"
    times+=("$t")
    ((m > rss)) && rss=$m
  done
  med=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  results+=("$name|$med|$rss")
  echo "  $name: ${med}s, peak RSS ${rss} kB" >&2
}
