-- Generate a linear chain of N migrations (CREATE TABLE, CREATE INDEX, INSERT)
-- for luamig, and the same statements as one sqlite3 script with the same
-- per-migration transaction and version-row update: the raw limit.
-- Usage: lua5.4 bench/gen_chain.lua N OUT_DIR
local n, out = tonumber(arg[1]), arg[2]
assert(n and out, "usage: gen_chain.lua N OUT_DIR")
os.execute("rm -rf '" .. out .. "' && mkdir -p '" .. out .. "/migrations'")

local function id(i) return ("%012x"):format(0xb0000000 + i) end

local raw = assert(io.open(out .. "/raw.sql", "w"))
raw:write([[
CREATE TABLE luamig_version (version_num TEXT PRIMARY KEY);
CREATE TABLE luamig_version_history (id INTEGER PRIMARY KEY, revision TEXT, direction TEXT,
  checksum TEXT, applied_at TEXT, ms REAL, status TEXT, error TEXT, transactional INTEGER);
]])
for i = 1, n do
  local sql = {
    ("CREATE TABLE t%d (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT)"):format(i),
    ("CREATE INDEX ix_t%d_name ON t%d (name)"):format(i, i),
    ("INSERT INTO t%d (name, created_at) VALUES ('row %d', '2026-11-25')"):format(i, i),
  }
  local f = assert(io.open(("%s/migrations/%s_step_%d.lua"):format(out, id(i), i), "w"))
  f:write(("-- step %d\nrevision = %q\ndown_revision = %s\n\n"):format(i, id(i), i > 1 and ("%q"):format(id(i - 1)) or "nil"))
  f:write("function upgrade(db)\n")
  for _, s in ipairs(sql) do f:write(("  db:exec %q\n"):format(s)) end
  f:write(("end\n\nfunction downgrade(db)\n  db:exec \"DROP TABLE t%d\"\nend\n"):format(i))
  f:close()
  raw:write("BEGIN IMMEDIATE;\n", table.concat(sql, ";\n"), ";\n")
  if i > 1 then raw:write(("DELETE FROM luamig_version WHERE version_num = '%s';\n"):format(id(i - 1))) end
  raw:write(("INSERT INTO luamig_version VALUES ('%s');\n"):format(id(i)))
  raw:write(("INSERT INTO luamig_version_history (revision, direction, checksum, applied_at, ms, status, transactional)"
    .. " VALUES ('%s', 'up', '0123456789abcdef', strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ','now'), 0.1, 'ok', 1);\n"):format(id(i)))
  raw:write("COMMIT;\n")
end
raw:close()
