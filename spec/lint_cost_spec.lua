-- `luamig lint`'s cost of each statement on a real PostgreSQL server: the
-- WAL a table rewrite generates agrees with the server's own pg_stat_wal
-- for the same statement run by hand on the same rows, and with the
-- config's `replicas` the test standby's replay after each commit is
-- measured (a replica that is not a standby of the scratch server is
-- named and left out). LINT_WAL_ROWS sets the table size (the by-hand
-- check of issue 29 uses 1000000).
local sh = require "spec.support.sh"

local ROWS = tonumber(os.getenv("LINT_WAL_ROWS")) or 100000
local STANDBY = os.getenv("LUAMIG_TEST_PG_STANDBY")

local function rewrite_project()
  return sh.project_on(sh.backends()[2], {
    ["1.lua"] = sh.migration("w00000000001", nil,
      "db:exec 'CREATE TABLE t (n integer, s text) WITH (autovacuum_enabled = off)'"),
    ["2.lua"] = sh.migration("w00000000002", "w00000000001",
      "db:exec \"SET LOCAL lock_timeout = '2s'\"\ndb:exec 'ALTER TABLE t ALTER COLUMN n TYPE bigint'"),
  })
end

-- pg_stat_wal.wal_bytes after this backend's pending statistics are flushed
-- (pg_stat_force_next_flush: at the next idle, i.e. before the next statement).
local FLUSHED = "SELECT pg_stat_force_next_flush();\nSELECT wal_bytes FROM pg_stat_wal;\n"

describe("luamig lint's cost of a statement", function()
  it(("reports a rewrite's WAL bytes within 10%% of pg_stat_wal's difference for it (%d rows)"):format(ROWS), function()
    local p = rewrite_project()
    p:ok("upgrade w00000000001")
    local doc, code, err = p:json(("lint --rows %d"):format(ROWS))
    assert.are.equal(1, code, err) -- (type-rewrite)
    local c = doc.migrations[1].observed.cost
    local ours
    for _, st in ipairs(c.statements) do
      if st.where == "migrations/2.lua:7" then ours = st.wal_bytes end
    end
    assert.is_number(ours)
    assert.is_true(c.wal_bytes >= ours)
    -- the same rows and statement on the target, measured by the server
    p:sql(("INSERT INTO t (n, s) SELECT g, 'r' || g FROM generate_series(1, %d) g"):format(ROWS))
    p:write("wal.sql", FLUSHED .. "ALTER TABLE t ALTER COLUMN n TYPE bigint;\n" .. FLUSHED)
    local rc, out, perr = sh.run(("psql %s -XtAq -v ON_ERROR_STOP=1 -f %s"):format(sh.quote(p.url),
      sh.quote(p.dir .. "/wal.sql")))
    assert.are.equal(0, rc, perr)
    local readings = {}
    for n in out:gmatch("%d+") do readings[#readings + 1] = tonumber(n) end
    assert.are.equal(2, #readings, out)
    local theirs = readings[2] - readings[1]
    print(("\n  rewrite of %d rows: lint %d WAL bytes, pg_stat_wal %d (%.1f%%)"):format(ROWS, ours, theirs,
      100 * (ours - theirs) / theirs))
    assert.is_true(math.abs(ours - theirs) <= 0.1 * theirs, ("lint %d, pg_stat_wal %d"):format(ours, theirs))
  end)

  it("measures the standby's replay after each commit, and names a replica that is not a standby", function()
    local why = sh.missing(STANDBY, "the standby server (LUAMIG_TEST_PG_STANDBY, started by test.sh)")
    if why then pending(why) return end
    local p = rewrite_project()
    p:ok("upgrade w00000000001")
    p:write("luamig.lua", ("return { replicas = { %q } }"):format(STANDBY))
    local doc = p:json("lint --rows 1000")
    local c = doc.migrations[1].observed.cost
    assert.is_number(c.replay_ms)
    assert.is_true(c.wal_bytes > 0)
    assert.are.same({}, doc.notes)
    p:write("luamig.lua", ("return { replicas = { %q } }"):format(p.url))
    doc = p:json("lint --rows 1000")
    assert.is_nil(doc.migrations[1].observed.cost.replay_ms)
    assert.are.equal(1, #doc.notes)
    assert.matches("not measured: it is not a standby of the scratch database's server", doc.notes[1], 1, true)
    assert.is_true(doc.migrations[1].observed.cost.wal_bytes > 0)
  end)
end)
