#!/usr/bin/env bash
# Benchmark (issue 25): a no-change `revision --autogenerate` and `check` on a
# 200-table SQLite project (6 columns, an index and a foreign key to t1 each), the
# database at head, against Alembic's `revision --autogenerate` (Debian's
# python3-alembic) on the same tables as SQLAlchemy models and the same
# database. luamig warm (the snapshot cache holds the head and declared
# schemas) and cold (LUAMIG_CACHE=off: both built on scratch databases).
# Target: luamig warm <= 0.5 s. Prints median wall time and user+sys CPU
# (wall time includes waiting for a CPU on a shared machine).
# Usage: bench/autogen.sh   (TABLES, RUNS; LUAMIG_BIN defaults to build/luamig)
set -euo pipefail
cd "$(dirname "$0")/.."
tables=${TABLES:-200}
runs=${RUNS:-5}
bin=$(realpath "${LUAMIG_BIN:-build/luamig}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache

# --- the luamig project
mkdir -p "$work/lm/migrations"
echo 'return { url = "sqlite:///app.db" }' >"$work/lm/luamig.lua"
TABLES=$tables lua5.4 - >"$work/lm/schema.lua" <<'LUA'
for i = 1, tonumber(os.getenv("TABLES")) do
  io.write(([[schema.table("t%d", {
  { "id", "integer", primary_key = true },
  { "name", "string(80)", nullable = false },
  { "qty", "integer", default = 0 },
  { "created_at", "timestamptz" },
  { "note", "text" },
  { "parent_id", "integer"%s },
})
schema.index("ix_t%d_name", "t%d", { "name" })
]]):format(i, i > 1 and ', references = "t1.id"' or "", i, i))
end
LUA
(cd "$work/lm" && "$bin" revision --autogenerate -m init >/dev/null && "$bin" upgrade head >/dev/null)

# --- the Alembic project on a copy of the same database
mkdir -p "$work/al/versions"
cp "$work/lm/app.db" "$work/al/app.db"
cat >"$work/al/alembic.ini" <<'INI'
[alembic]
script_location = .
sqlalchemy.url = sqlite:///app.db
INI
cat >"$work/al/script.py.mako" <<'MAKO'
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
def upgrade():
    ${upgrades if upgrades else "pass"}
def downgrade():
    ${downgrades if downgrades else "pass"}
MAKO
cat >"$work/al/env.py" <<PY
import sqlalchemy as sa
from alembic import context
md = sa.MetaData()
for i in range(1, $tables + 1):
    t = sa.Table("t%d" % i, md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("qty", sa.Integer, server_default=sa.text("0")),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.Text),
        sa.Column("parent_id", sa.Integer, *([sa.ForeignKey("t1.id")] if i > 1 else [])))
    sa.Index("ix_t%d_name" % i, t.c.name)
engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as conn:
    context.configure(connection=conn, target_metadata=md,
                      include_name=lambda n, t, p: not (t == "table" and n.startswith("luamig_")))
    with context.begin_transaction():
        context.run_migrations()
PY
(cd "$work/al" && /usr/bin/python3 -m alembic.config stamp head >/dev/null 2>&1 || true)

# `measure NAME DIR COMMAND`: median wall seconds and median user+sys seconds over $runs
measure() {
  local name=$1 dir=$2 cmd=$3 walls=() cpus=() w c
  for ((i = 0; i < runs; i++)); do
    (cd "$dir" && /usr/bin/time -o "$work/time" -f "%e %U %S" bash -c "$cmd" >/dev/null 2>"$work/err") || {
      echo "bench: $name failed:" >&2; tail -n 5 "$work/err" >&2; exit 1; }
    read -r w u s <"$work/time"
    walls+=("$w"); cpus+=("$(echo "$u + $s" | bc)")
  done
  med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  printf '%-44s wall %5ss  cpu %5ss\n' "$name" "$(med "${walls[@]}")" "$(med "${cpus[@]}")"
}

echo "$tables tables, SQLite, median of $runs (load average: $(cut -d' ' -f1 /proc/loadavg))"
(cd "$work/lm" && "$bin" check >/dev/null) # warm the cache
measure "luamig check (cache warm)" "$work/lm" "'$bin' check"
measure "luamig revision --autogenerate (cache warm)" "$work/lm" "'$bin' revision --autogenerate -m none"
measure "luamig check (LUAMIG_CACHE=off)" "$work/lm" "LUAMIG_CACHE=off '$bin' check"
measure "luamig revision --autogenerate (LUAMIG_CACHE=off)" "$work/lm" \
  "LUAMIG_CACHE=off '$bin' revision --autogenerate -m none"
measure "alembic revision --autogenerate" "$work/al" \
  "/usr/bin/python3 -m alembic.config revision --autogenerate -m none && rm -f versions/*.py"
