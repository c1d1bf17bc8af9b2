-- luamig.run.version: the heads and history tables, on both backends.
local connect = require "luamig.db.connect"
local version = require "luamig.run.version"
local sh = require "spec.support.sh"
local fixtures = require "spec.support.fixtures"

for _, b in ipairs(sh.backends()) do describe("version tables on " .. b.name, function()
  local db, dialect, url, remove
  before_each(function()
    url, remove = fixtures.fresh_url(b)
    db, dialect = connect.open(url, { foreign_keys = true })
  end)
  after_each(function()
    db:close()
    remove()
  end)

  it("quotes the table names, with the schema when set", function()
    assert.are.same({ heads = '"luamig_version"', history = '"luamig_version_history"',
      expanded = '"luamig_version_expanded"', plain = "luamig_version" },
      version.tables({ version_table = "luamig_version" }, dialect))
    assert.are.same({ heads = '"app"."v"', history = '"app"."v_history"', expanded = '"app"."v_expanded"', plain = "v" },
      version.tables({ version_table = "v", schema = "app" }, dialect))
  end)

  it("reads no heads and no history before the tables exist; ensure creates both, twice is harmless", function()
    local t = version.tables({ version_table = "luamig_version" }, dialect)
    assert.are.same({}, version.heads(db, t))
    assert.are.same({}, version.history(db, t))
    assert.is_false(db:has_table "luamig_version")
    version.ensure(db, dialect, t)
    version.ensure(db, dialect, t)
    assert.is_true(db:has_table "luamig_version")
    assert.is_true(db:has_table "luamig_version_history")
    assert.are.same({}, version.heads(db, t))
  end)

  it("lives in the configured schema", function()
    local cfg = { version_table = "v", schema = b.name == "postgresql" and "app" or "main", foreign_keys = true }
    db:close()
    db, dialect = connect.open(url, cfg) -- on PostgreSQL, creates the schema and puts it first on search_path
    local schema = cfg.schema
    local t = version.tables(cfg, dialect)
    version.ensure(db, dialect, t)
    version.set_heads(db, t, {}, { "a1" })
    assert.are.same({ { version_num = "a1" } }, db:query(('SELECT * FROM "%s"."v"'):format(schema)))
    assert.are.same({ "a1" }, version.heads(db, t))
  end)

  it("set_heads replaces the old heads by the new, sorted", function()
    local t = version.tables({ version_table = "v" }, dialect)
    version.ensure(db, dialect, t)
    version.set_heads(db, t, {}, { "b2", "a1" })
    assert.are.same({ "a1", "b2" }, version.heads(db, t))
    version.set_heads(db, t, { "a1", "b2" }, { "b2", "c3" })
    assert.are.same({ "b2", "c3" }, version.heads(db, t))
    version.set_heads(db, t, { "b2", "c3" }, {})
    assert.are.same({}, version.heads(db, t))
  end)

  it("records history rows in order, transactional as a boolean, applied_at filled in", function()
    local t = version.tables({ version_table = "v" }, dialect)
    version.ensure(db, dialect, t)
    version.record(db, t, { revision = "a1", direction = "up", status = "ok", checksum = "c1", ms = 1.5,
      transactional = true })
    version.record(db, t, { revision = "a1", direction = "down", status = "ok", transactional = false,
      applied_at = "2026-01-02T03:04:05Z" })
    version.record(db, t, { revision = "b2", direction = "up", status = "failed", error = "boom" })
    version.record(db, t, { revision = "c3", direction = "stamp", status = "ok" })
    local rows = version.history(db, t)
    assert.are.equal(4, #rows)
    assert.are.same({ "a1", "up", "ok", "c1", 1.5, true },
      { rows[1].revision, rows[1].direction, rows[1].status, rows[1].checksum, rows[1].ms, rows[1].transactional })
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", rows[1].applied_at)
    assert.are.same({ false, "2026-01-02T03:04:05Z" }, { rows[2].transactional, rows[2].applied_at })
    assert.are.same({ "failed", "boom" }, { rows[3].status, rows[3].error })
    assert.is_nil(rows[3].transactional)
    assert.is_true(rows[1].id < rows[2].id and rows[2].id < rows[3].id)
  end)

  it("last_applied keeps the latest successful upgrade or stamp per revision", function()
    local rows = {
      { revision = "a1", direction = "up", status = "ok", ms = 1 },
      { revision = "a1", direction = "down", status = "ok" },
      { revision = "a1", direction = "up", status = "ok", ms = 2 },
      { revision = "b2", direction = "up", status = "failed" },
      { revision = "c3", direction = "stamp", status = "ok" },
    }
    local last = version.last_applied(rows)
    assert.are.equal(rows[3], last.a1)
    assert.is_nil(last.b2)
    assert.are.equal(rows[5], last.c3)
  end)
end) end
