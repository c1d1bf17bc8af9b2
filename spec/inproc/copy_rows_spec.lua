-- db:copy_in's rows, on both drivers against real databases: a row keyed by
-- column name, or positional ({1, "a"}) in the order of the column list; a
-- row that mixes both, has more values than columns or names a column not in
-- the list is refused, naming the row and the caller's line, and nothing is
-- inserted.
local connect = require "luamig.db.connect"
local null = require "luamig.null"
local sh = require "spec.support.sh"
local support = require "spec.support.raised"
local fixtures = require "spec.support.fixtures"

for _, b in ipairs(sh.backends()) do describe("db:copy_in rows on " .. b.name, function()
  local db, url, remove
  before_each(function()
    url, remove = fixtures.fresh_url(b)
    db = connect.open(url, { foreign_keys = true })
    db:exec "CREATE TABLE t (id INTEGER, name TEXT, n INTEGER)"
  end)
  after_each(function()
    db:close()
    remove()
  end)

  local function all()
    local out = {}
    for r in db:rows "SELECT id, name, n FROM t ORDER BY id" do
      out[#out + 1] = ("%s|%s|%s"):format(tostring(r.id), tostring(r.name), tostring(r.n))
    end
    return table.concat(out, " ")
  end

  it("maps positional rows to the column list, from an array or an iterator", function()
    assert.are.equal(4, db:copy_in("t", { "id", "name", "n" },
      { { 1, "a", 10 }, { 2, "b" }, { 3, null, 30 }, { 4, nil, 40 } }))
    assert.are.equal("1|a|10 2|b|nil 3|nil|30 4|nil|40", all())
    local i = 4
    assert.are.equal(2000, db:copy_in("t", { "name", "id" }, function() -- the list's order, not the table's
      i = i + 1
      if i <= 2004 then return { "r" .. i, i } end
    end))
    assert.are.equal("r2004", db:scalar("SELECT name FROM t WHERE id = 2004"))
    assert.are.equal(0, db:scalar "SELECT count(*) FROM t WHERE id > 4 AND name IS NULL")
  end)

  it("refuses a row mixing positions and names, naming the row and the caller's line; nothing is inserted",
    function()
      local e, at = support.raised(function() db:copy_in("t", { "id", "name" }, { { 1, "a" }, { 2, name = "b" } }) end)
      assert.are.equal(at .. "row 2 mixes positional values and named columns; give one or the other",
        tostring(e))
      assert.are.equal(0, db:scalar "SELECT count(*) FROM t")
    end)

  it("refuses a row with more values than columns, or a column not in the list", function()
    local e, at = support.raised(function() db:copy_in("t", { "id", "name" }, { { 1, "a" }, { 2, "b", 3 } }) end)
    assert.are.equal(at .. "row 2 has a 3rd value, but only 2 columns are listed (id, name)", tostring(e))
    e, at = support.raised(function() db:copy_in("t", { "id", "name" }, { { id = 1, nmae = "a" } }) end)
    assert.are.equal(at .. 'row 1 sets column "nmae", which is not in the column list (id, name); ' ..
      'did you mean "name"?', tostring(e))
    e, at = support.raised(function() db:copy_in("t", { "id" }, { 7 }) end)
    assert.are.equal(at .. "row 1 is a number, not a table of values", tostring(e))
    assert.are.equal(0, db:scalar "SELECT count(*) FROM t")
  end)

  it("keeps none of a load that fails part-way, outside a transaction too", function()
    local rows = {}
    for i = 1, 1200 do rows[i] = { id = i, name = "r" } end
    rows[1100] = { id = 1100, name = {} }
    local e, at = support.raised(function() db:copy_in("t", { "id", "name" }, rows) end)
    assert.are.equal(0, db:scalar "SELECT count(*) FROM t")
    assert.is_false(db:in_transaction())
    assert.are.equal(at .. 'row 1100, column "name": cannot store a table', tostring(e))
  end)

  it("refuses a bad table name or column list in plain words", function()
    local e, at = support.raised(function() db:copy_in("t", {}, { { 1 } }) end)
    assert.are.equal(at .. "db:copy_in: columns must be a non-empty list of column names", tostring(e))
    e, at = support.raised(function() db:copy_in("t", { { 1, "a" } }) end)
    assert.are.equal(at .. "db:copy_in: columns must be a non-empty list of column names (item 1 is a table)",
      tostring(e))
    e, at = support.raised(function() db:copy_in(nil, { "id" }, { { 1 } }) end)
    assert.are.equal(at .. "db:copy_in: the table name must be a non-empty string", tostring(e))
  end)
end) end
