#!/usr/bin/env bash
# `luamig lint` beside squawk (issue 17): the lint corpus
# (spec/support/lint_corpus.lua) is linted on PostgreSQL with 10,000 rows
# per table, and the same migrations' `upgrade --sql` text is fed to squawk
# (npm's squawk-cli: $SQUAWK, build/npm, or PATH; installed into build/npm
# when npm can reach its registry). Prints one table, migration by
# migration, and the lint's wall time. Exits 1 when squawk flags a lock or
# rewrite hazard that luamig does not report and the corpus does not
# explain. Without squawk the comparison is skipped, saying so.
# Usage: bench/lint.sh   (ROWS; LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-10000}
runs=1
source bench/lib.sh

squawk=${SQUAWK:-}
[[ -z "$squawk" && -x build/npm/node_modules/.bin/squawk ]] && squawk=build/npm/node_modules/.bin/squawk
[[ -z "$squawk" ]] && squawk=$(command -v squawk || true)
if [[ -z "$squawk" ]] && command -v npm >/dev/null &&
  npm install --prefix build/npm --no-audit --no-fund squawk-cli >/dev/null 2>&1; then
  squawk=build/npm/node_modules/.bin/squawk
fi

proj=$work/corpus
CORPUS_DIR=$proj lua5.4 -e 'package.path = "./?.lua;" .. package.path
require("spec.support.lint_corpus").write(os.getenv("CORPUS_DIR"))'
db=luamig_bench_lint_$$
psql "$pg_base/postgres" -qXc "CREATE DATABASE $db"
trap 'psql "$pg_base/postgres" -qXc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; rm -rf "$work"; pg_stop' EXIT
export LUAMIG_URL=$pg_base/$db
first=$(lua5.4 -e 'package.path = "./?.lua;" .. package.path; print(require("spec.support.lint_corpus").id(0))')
(cd "$proj" && "$bin" -q upgrade "$first")

start=$(date +%s.%N)
(cd "$proj" && "$bin" lint --rows "$rows" --json --fail-on never >"$work/lint.json") || true # (the corpus has a failing migration: exit 1)
took=$(echo "$(date +%s.%N) - $start" | bc)

squawk_dir=-
if [[ -n "$squawk" ]]; then
  squawk_dir=$work/squawk
  mkdir -p "$squawk_dir"
  (cd "$proj" && "$bin" upgrade --sql "$first:head") >"$work/all.sql"
  # one file per migration: the text after its "-- up ID:" line
  awk -v dir="$squawk_dir" '/^-- up [^:]+:/ { id = $3; sub(":", "", id); next } id { print > (dir "/" id ".sql") }' \
    "$work/all.sql"
  for f in "$squawk_dir"/*.sql; do
    "$squawk" --reporter json "$f" >"${f%.sql}.json" 2>/dev/null || true
  done
  echo "squawk: $("$squawk" --version)" >&2
else
  echo "squawk-cli is not installed and npm could not install it: the squawk column is skipped" >&2
fi
count=$(lua5.4 -e 'print(#require("cjson").decode(io.read("a")).migrations)' <"$work/lint.json")
status=0
lua5.4 bench/lint_compare.lua "$work/lint.json" "$squawk_dir" || status=$?
printf '\nlint of %s migrations on %s rows per table: %.2f s\n' "$count" "$rows" "$took"
exit $status
