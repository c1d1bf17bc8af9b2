-- Generate a linear chain of N migrations (CREATE TABLE, CREATE INDEX, INSERT)
-- for luamig, and the same statements as one script per database with the
-- same per-migration transaction and version-row updates: the raw limit
-- (raw.sql for the sqlite3 CLI, raw_pg.sql for psql), and the same chain as an
-- Alembic project (alembic.ini, alembic/; the URL from $ALEMBIC_URL).
-- Usage: lua5.4 bench/gen_chain.lua N OUT_DIR
local n, out = tonumber(arg[1]), arg[2]
assert(n and out, "usage: gen_chain.lua N OUT_DIR")
os.execute("rm -rf '" .. out .. "' && mkdir -p '" .. out .. "/migrations' '" .. out .. "/alembic/versions'")

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end
write(out .. "/alembic.ini", "[alembic]\nscript_location = alembic\n")
write(out .. "/alembic/env.py", [[
import os
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(os.environ["ALEMBIC_URL"])
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
]])

local function id(i) return ("%012x"):format(0xb0000000 + i) end

local raws = {
  { f = assert(io.open(out .. "/raw.sql", "w")), begin = "BEGIN IMMEDIATE", id = "INTEGER PRIMARY KEY",
    now = "strftime('%Y-%m-%dT%H:%M:%SZ','now')", float = "REAL" },
  { f = assert(io.open(out .. "/raw_pg.sql", "w")), begin = "BEGIN", id = "BIGSERIAL PRIMARY KEY",
    now = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", float = "DOUBLE PRECISION" },
}
for _, r in ipairs(raws) do
  r.f:write(([[
CREATE TABLE luamig_version (version_num TEXT PRIMARY KEY);
CREATE TABLE luamig_version_history (id %s, revision TEXT, direction TEXT,
  checksum TEXT, applied_at TEXT, ms %s, status TEXT, error TEXT, transactional INTEGER);
]]):format(r.id, r.float))
end
for i = 1, n do
  local sql = {
    ("CREATE TABLE t%d (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT)"):format(i),
    ("CREATE INDEX ix_t%d_name ON t%d (name)"):format(i, i),
    ("INSERT INTO t%d (id, name, created_at) VALUES (1, 'row %d', '2026-11-25')"):format(i, i),
  }
  local f = assert(io.open(("%s/migrations/%s_step_%d.lua"):format(out, id(i), i), "w"))
  f:write(("-- step %d\nrevision = %q\ndown_revision = %s\n\n"):format(i, id(i), i > 1 and ("%q"):format(id(i - 1)) or "nil"))
  f:write("function upgrade(db)\n")
  for _, s in ipairs(sql) do f:write(("  db:exec %q\n"):format(s)) end
  f:write(("end\n\nfunction downgrade(db)\n  db:exec \"DROP TABLE t%d\"\nend\n"):format(i))
  f:close()
  local py = { ('"""step %d"""\nfrom alembic import op\n\nrevision = %q\ndown_revision = %s\n'
    .. 'branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n'):format(i, id(i),
    i > 1 and ("%q"):format(id(i - 1)) or "None") }
  for _, s in ipairs(sql) do py[#py + 1] = ("    op.execute(%q)\n"):format(s) end
  py[#py + 1] = ("\n\ndef downgrade():\n    op.execute(\"DROP TABLE t%d\")\n"):format(i)
  write(("%s/alembic/versions/%s_step_%d.py"):format(out, id(i), i), table.concat(py))
  for _, r in ipairs(raws) do
    local raw = r.f
    raw:write(r.begin, ";\n", table.concat(sql, ";\n"), ";\n")
    if i > 1 then raw:write(("DELETE FROM luamig_version WHERE version_num = '%s';\n"):format(id(i - 1))) end
    raw:write(("INSERT INTO luamig_version VALUES ('%s');\n"):format(id(i)))
    raw:write(("INSERT INTO luamig_version_history (revision, direction, checksum, applied_at, ms, status, "
      .. "transactional) VALUES ('%s', 'up', '0123456789abcdef', %s, 0.1, 'ok', 1);\n"):format(id(i), r.now))
    raw:write("COMMIT;\n")
  end
end
for _, r in ipairs(raws) do r.f:close() end
