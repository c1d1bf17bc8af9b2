#!/usr/bin/env bash
# Benchmark (issues 4, 28): `heads` and `history` on 10,000-revision projects,
# a linear one and a branchy one (bench/gen_graph.lua), with luamig, with awk
# over the files (the raw limit for heads: read every file's revision and
# down_revision lines) and with Alembic (Debian's python3-alembic) on the same
# graph, alternating round by round (RUNS rounds, default 5). luamig is timed
# with its script cache warm (the usual case: files unchanged since the last
# command) and cold (LUAMIG_CACHE=off). With LUAMIG_BEFORE=path, an older
# luamig runs in the same rounds. Target (issue 28): `luamig heads` <= 40 ms.
# Usage: bench/graph.sh [N]   (LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
BENCH_NO_PG=1 source bench/lib.sh
export XDG_CACHE_HOME="$work/cache"
heads_awk='awk '\''/^revision = /{ gsub(/"/, "", $3); r[$3] = 1 } /^down_revision = /{ for (i = 3; i <= NF; i++) { x = $i; gsub(/[",{}]/, "", x); if (x != "" && x != "nil") d[x] = 1 } } END { for (k in r) if (!(k in d)) print k }'\'' migrations/*.lua'

for shape in linear branchy; do
  c=$work/$shape
  lua5.4 bench/gen_graph.lua "$n" "$shape" "$c"
  touch -d '-10 seconds' "$c"/migrations/*.lua   # settled files, as in a real project
  for b in "$bin" ${before:+"$before"}; do (cd "$c" && "$b" heads >/dev/null && "$b" history >/dev/null); done  # fill the cache
  row="heads, $n revisions, $shape"
  case_add "$row" luamig "" "cd $c && @LM@ heads"
  case_add "$row" "luamig, no script cache" "" "cd $c && LUAMIG_CACHE=off @LM@ heads"
  case_add "$row" "raw: awk over the files" "" "cd $c && $heads_awk"
  case_add "$row" Alembic "" "cd $c && /usr/bin/python3 -m alembic heads"
  case_add "history, $n revisions, $shape" luamig "" "cd $c && @LM@ history"
  case_add "history, $n revisions, $shape" "luamig, no script cache" "" "cd $c && LUAMIG_CACHE=off @LM@ history"
  case_add "history, $n revisions, $shape" Alembic "" "cd $c && /usr/bin/python3 -m alembic history"
  rounds_run "${RUNS:-5}"
done

table_print
