-- Schema snapshots (luamig.schema.introspect, each dialect's catalog) and
-- their comparison (luamig.schema.diff), on real databases of both backends.
local connect = require "luamig.db.connect"
local introspect = require "luamig.schema.introspect"
local diff = require "luamig.schema.diff"
local sh = require "spec.support.sh"
local fixtures = require "spec.support.fixtures"

for _, b in ipairs(sh.backends()) do describe("introspection on " .. b.name, function()
  local db, dialect, remove
  before_each(function()
    local url
    url, remove = fixtures.fresh_url(b)
    db, dialect = connect.open(url, { foreign_keys = true })
  end)
  after_each(function()
    db:close()
    remove()
  end)

  it("snapshots tables, keys, indexes and constraints in one shape, without luamig's tables", function()
    db:exec "CREATE TABLE luamig_version (version_num TEXT)"
    db:exec "CREATE TABLE luamig_backfill (x INTEGER)"
    db:exec "CREATE TABLE a (id INTEGER PRIMARY KEY, code TEXT NOT NULL, UNIQUE (code))"
    db:exec "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id) ON DELETE CASCADE, n INTEGER CHECK (n > 0))"
    db:exec "CREATE INDEX ix_b_n ON b (n) WHERE n > 1"
    local s = db:schema()
    local names = {}
    for name in pairs(s.tables) do names[#names + 1] = name end
    table.sort(names)
    assert.are.same({ "a", "b" }, names)
    assert.are.same({ "id" }, s.tables.a.primary_key)
    assert.are.same({ "code" }, s.tables.a.uniques[1].columns)
    assert.is_false(s.tables.a.columns[2].nullable)
    local fk = s.tables.b.foreign_keys[1]
    assert.are.same({ { "a_id" }, "a", { "id" }, "CASCADE" }, { fk.columns, fk.references, fk.ref_columns, fk.on_delete })
    assert.are.equal(1, #s.tables.b.checks)
    assert.matches("n > 0", s.tables.b.checks[1].condition)
    assert.are.same({ "n" }, s.tables.b.indexes.ix_b_n.columns)
    assert.matches("n > 1", s.tables.b.indexes.ix_b_n.where)
    -- the dialect's snapshot, asked directly, is the same
    assert.are.same(s, introspect.snapshot(db, dialect))
  end)

  it("diffs two snapshots into readable lines, and none for the same schema", function()
    db:exec "CREATE TABLE a (id INTEGER PRIMARY KEY, age INTEGER)"
    local before = introspect.snapshot(db)
    assert.are.same({}, diff.diff(before, introspect.snapshot(db)))
    db:exec "CREATE TABLE c (id INTEGER)"
    db:exec "CREATE INDEX ix_a_age ON a (age)"
    db:exec "ALTER TABLE a ADD COLUMN note TEXT"
    local lines = diff.diff(before, db:schema(), "after X")
    table.sort(lines)
    local q = b.name == "postgresql" and "public." or "" -- PostgreSQL names are schema-qualified
    assert.are.same({ "column " .. q .. "a.note still exists after X", "index " .. q .. "ix_a_age still exists after X",
      "table " .. q .. "c still exists after X" }, lines)
    local again = introspect.diff(before, db:schema(), "after X") -- the same function, for older callers
    table.sort(again)
    assert.are.same(lines, again)
    -- a changed column, primary key and index, each named with both sides
    local now = db:schema()
    now.tables.a.columns[2].type, now.tables.a.columns[2].nullable = "text", false
    now.tables.a.primary_key = { "age" }
    now.tables.a.indexes.ix_a_age.unique = true
    local was = {}
    for k, v in pairs(now.tables.a.indexes.ix_a_age) do was[k] = v end
    was.unique = false
    before.tables.a.indexes.ix_a_age = was
    local changed = diff.diff(before, now)
    table.sort(changed)
    assert.are.same({ "column " .. q .. "a.age: NULL became NOT NULL", "column " .. q .. "a.age: type " ..
      before.tables.a.columns[2].type .. " became text", "column " .. q .. "a.note still exists",
      "index " .. q .. "ix_a_age: unique false became true", "table " .. q .. "a: primary key (id) became (age)",
      "table " .. q .. "c still exists" }, changed)
  end)

  it("lists enum types with their values (created by the enum ops)", function()
    local step = require("luamig.run.step")
    local ctx = step.new(db, dialect, { id = "x", path = "x.lua", transactional = true })
    ctx.op.create_enum("mood", { "sad", "ok", "happy" })
    ctx.op.create_table("person", { { "id", "integer", primary_key = true }, { "m", "mood" } })
    local s = db:schema()
    assert.are.same({ "sad", "ok", "happy" }, s.enums.mood.values)
    assert.is_nil(s.tables.luamig_enums)
    assert.is_not_nil(s.tables.person)
  end)
end) end

describe("introspection on postgresql only", function()
  local pg = sh.backends()[2]
  if not pg then return end
  local db
  before_each(function() db = connect.open(fixtures.fresh_url(pg), {}) end)
  after_each(function() db:close() end)

  it("snapshots 500 tables (the time is reported, not asserted: the machine is shared)", function()
    local sql = {}
    for i = 1, 500 do
      sql[#sql + 1] = ("CREATE TABLE t%d (id bigserial PRIMARY KEY, name text NOT NULL DEFAULT '', n int CHECK (n > 0), " ..
        "ref bigint%s, note text, UNIQUE (name, n)); CREATE INDEX ix_t%d ON t%d (n) WHERE n > 10;")
        :format(i, i > 1 and (" REFERENCES t" .. (i - 1)) or "", i, i)
    end
    db:exec(table.concat(sql, "\n"))
    local host, best, s = require "luamig.host", math.huge, nil
    for _ = 1, 3 do
      local t0 = host.now_ms()
      s = db:schema()
      best = math.min(best, host.now_ms() - t0)
    end
    local n = 0
    for _ in pairs(s.tables) do n = n + 1 end
    assert.are.equal(500, n)
    print(("\n  snapshot of 500 tables: best of 3 %.0f ms"):format(best))
  end)

  it("includes partitioned tables (their key makes them depend on themselves in pg_depend)", function()
    db:exec "CREATE TABLE ev (id int, day date) PARTITION BY RANGE (day)"
    db:exec "CREATE TABLE ev_2024 PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"
    local s = db:schema()
    assert.is_not_nil(s.tables.ev, "the partitioned table is missing")
    assert.are.equal("partitioned table", s.tables.ev.kind)
    assert.are.equal("ev", s.tables.ev_2024.partition_of)
  end)

  it("includes owners and grants only when asked", function()
    db:exec "CREATE TABLE owned (x int)"
    assert.is_nil(db:schema().tables.owned.owner)
    local s = introspect.snapshot(db, nil, { privileges = true })
    assert.are.equal(db:scalar "SELECT current_user", s.tables.owned.owner)
    assert.is_truthy(s.schemas.public.owner)
  end)
end)
