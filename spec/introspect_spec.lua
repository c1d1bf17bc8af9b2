-- Schema snapshots (luamig.schema.introspect, each dialect's catalog) and
-- their comparison (luamig.schema.diff), on real databases of both backends.
local sh = require "spec.support.sh"
local cjson = require "cjson"

-- Run `body` with db connected to the project's database; returns its
-- printed JSON, decoded.
local function with_db(p, body)
  local code, out, err = sh.lua(([[
local db = require("luamig.db.connect").open(%q, {})
local introspect = require "luamig.schema.introspect"
local diff = require "luamig.schema.diff"
local cjson = require "cjson"
%s
]]):format(p.url or ("sqlite:///" .. p.dir .. "/luamig.db"), body))
  assert(code == 0, err)
  return cjson.decode(out)
end

for _, b in ipairs(sh.backends()) do
  describe("introspection on " .. b.name, function()
    it("snapshots tables, keys, indexes and constraints in one shape, without luamig's tables", function()
      local p = sh.project_on(b)
      local s = with_db(p, [[
db:exec "CREATE TABLE luamig_version (version_num TEXT)"
db:exec "CREATE TABLE luamig_backfill (x INTEGER)"
db:exec "CREATE TABLE a (id INTEGER PRIMARY KEY, code TEXT NOT NULL, UNIQUE (code))"
db:exec "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id) ON DELETE CASCADE, n INTEGER CHECK (n > 0))"
db:exec "CREATE INDEX ix_b_n ON b (n) WHERE n > 1"
print(cjson.encode(db:schema()))
]])
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
    end)

    it("diffs two snapshots into readable lines, and none for the same schema", function()
      local p = sh.project_on(b)
      local lines = with_db(p, [[
db:exec "CREATE TABLE a (id INTEGER PRIMARY KEY, age INTEGER)"
local before = introspect.snapshot(db)
local same = diff.diff(before, introspect.snapshot(db))
db:exec "CREATE TABLE c (id INTEGER)"
db:exec "CREATE INDEX ix_a_age ON a (age)"
print(cjson.encode({ same = #same, changed = diff.diff(before, db:schema(), "after X") }))
]])
      assert.are.equal(0, lines.same)
      table.sort(lines.changed)
      assert.are.same({ "index ix_a_age still exists after X", "table c still exists after X" }, lines.changed)
    end)
  end)
end

describe("introspection of enums", function()
  it("lists enum types with their values on both backends", function()
    for _, b in ipairs(sh.backends()) do
      local p = sh.project_on(b, { ["1.lua"] = sh.migration("aaaa00000001", nil, [[
  op.create_enum("mood", { "sad", "ok", "happy" })
  op.create_table("person", { { "id", "integer", primary_key = true }, { "m", "mood" } })]]) })
      p:ok("upgrade")
      local s = with_db(p, "print(cjson.encode(db:schema()))")
      assert.are.same({ "sad", "ok", "happy" }, s.enums.mood.values, b.name)
      assert.is_nil(s.tables.luamig_enums, b.name)
    end
  end)
end)
