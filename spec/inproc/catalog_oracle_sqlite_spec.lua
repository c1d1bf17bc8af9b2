-- The SQLite catalog oracle: for each change of the corpus
-- (spec/support/catalog_corpus_sqlite.lua) to the base schema
-- (spec/fixtures/catalog_base_sqlite.sql), luamig's diff is empty exactly
-- when `sqlite3 .schema` plus the table pragmas are unchanged, and names the
-- change in words when it is not.
local connect = require "luamig.db.connect"
local oracle = require "spec.support.oracle"
local sh = require "spec.support.sh"
local fixtures = require "spec.support.fixtures"
local corpus = require "spec.support.catalog_corpus_sqlite"

-- .schema's statements, sorted, without SQLite's own statistics tables;
-- then every table's pragmas.
local function schema_text(path)
  local code, out, err = sh.run("sqlite3 " .. sh.quote(path) .. " .schema")
  assert(code == 0, err)
  local lines = {}
  for line in out:gmatch("[^\n]+") do
    if not line:match("^CREATE TABLE sqlite_stat") then lines[#lines + 1] = line end
  end
  table.sort(lines) -- VACUUM may reorder sqlite_master
  local db = connect.open("sqlite:///" .. path, {})
  for t in db:rows "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_stat%' ORDER BY name" do
    for _, pragma in ipairs({ "table_xinfo", "foreign_key_list", "index_list" }) do
      for _, r in ipairs(db:query(("SELECT * FROM pragma_%s(?)"):format(pragma), t.name)) do
        local cells = {}
        for k, v in pairs(r) do cells[#cells + 1] = k .. "=" .. tostring(v) end
        table.sort(cells)
        lines[#lines + 1] = pragma .. " " .. t.name .. ": " .. table.concat(cells, " ")
      end
    end
  end
  db:close()
  return table.concat(lines, "\n")
end

local function copy(from, to)
  local src = assert(io.open(from, "rb"))
  local data = src:read("a")
  src:close()
  fixtures.write(to, data)
end

local function change_and_snapshot(path, sql) return oracle.change_and_snapshot("sqlite:///" .. path, sql) end

describe("the SQLite catalog oracle", function()
  local dir, base

  setup(function()
    dir = fixtures.tmpdir()
    base = dir .. "/base.db"
    local code, _, err = sh.run(("sqlite3 %s < %s"):format(sh.quote(base),
      sh.quote(sh.source_dir .. "/spec/fixtures/catalog_base_sqlite.sql")))
    assert(code == 0, err)
  end)
  teardown(function() sh.run("rm -rf " .. sh.quote(dir)) end)

  it("sees a change exactly when .schema and the pragmas do, and names it", function()
    local base_snap, base_oracle = change_and_snapshot(base), schema_text(base)
    local wrong = {}
    for i, c in ipairs(corpus) do
      local path = ("%s/c%d.db"):format(dir, i)
      copy(base, path)
      local ok, after = pcall(change_and_snapshot, path, c[1])
      wrong[#wrong + 1] = not ok and (c[1] .. ": " .. tostring(after))
        or oracle.verdict(c, base_snap, after, base_oracle, ok and schema_text(path))
    end
    assert.is_true(#corpus >= 30)
    assert.are.same({}, wrong)
  end)
end)
