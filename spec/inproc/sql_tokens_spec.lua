-- The one SQL tokenizer (src/sql_tokens.c, luamig.host.sql_tokens) and its
-- four consumers fed the same corpus: each entry hides `?`, `;`, `,`, `(`
-- and COMMIT in a string, a comment, a dollar quote or a quoted name. The
-- transaction guard does not refuse it (and refuses a COMMIT after it), the
-- `?`-to-`$n` rewrite takes one parameter, the SQLite table-SQL reader reads
-- the right items, the offline rendering runs to what runs live, and
-- op.execute_file's splitter keeps the statement whole.
local connect = require "luamig.db.connect"
local dialects = require "luamig.dialect"
local host = require "luamig.host"
local offline = require "luamig.run.offline"
local sql_split = require "luamig.util.sql_split"
local table_sql = require "luamig.dialect.sqlite.table_sql"
local fixtures = require "spec.support.fixtures"

local HIDDEN = "?;COMMIT,("

-- Expressions (or comments before one) that hide HIDDEN, per flavour.
local CORPUS = {
  common = {
    "'" .. HIDDEN .. "'", "'it''s " .. HIDDEN .. "'", "/* " .. HIDDEN .. " */ 1", "1 -- " .. HIDDEN .. "\n",
    '1 AS "' .. HIDDEN .. '"', "'a' /* ; */ || '" .. HIDDEN .. "'",
  },
  postgresql = {
    "E'\\'" .. HIDDEN .. "'", "e'\\\\' || '" .. HIDDEN .. "'", "$$" .. HIDDEN .. "$$", "$q$ ' " .. HIDDEN .. " $q$",
    "/* /* " .. HIDDEN .. " */ " .. HIDDEN .. " */ 1", "1 AS a$b, '" .. HIDDEN .. "'",
  },
  sqlite = { "1 AS [" .. HIDDEN .. "]", "1 AS `" .. HIDDEN .. "`", "/* /* " .. HIDDEN .. " */ 1" },
}

local function corpus(flavour)
  local list = {}
  for _, e in ipairs(CORPUS.common) do list[#list + 1] = e end
  for _, e in ipairs(CORPUS[flavour]) do list[#list + 1] = e end
  return list
end

-- "SELECT <entry>, ? AS v"
local function statement(entry) return "SELECT " .. entry .. ", ? AS v" end

describe("luamig.host.sql_tokens", function()
  it("yields every byte once, with offsets, and one parameter per corpus statement", function()
    for _, flavour in ipairs({ "postgresql", "sqlite" }) do
      for _, entry in ipairs(corpus(flavour)) do
        local sql, pieces, params = statement(entry), {}, 0
        for kind, first, last in host.sql_tokens(sql, flavour) do
          pieces[#pieces + 1] = sql:sub(first, last)
          if kind == "param" then params = params + 1 end
        end
        assert.are.equal(sql, table.concat(pieces), flavour .. ": " .. entry)
        assert.are.equal(1, params, flavour .. ": " .. entry)
      end
    end
  end)

  it("reads quotes, comments and dollar quotes each as one token", function()
    local function kinds(sql, flavour)
      local out = {}
      for kind, first, last in host.sql_tokens(sql, flavour) do
        if kind ~= "space" then out[#out + 1] = kind .. ":" .. sql:sub(first, last) end
      end
      return out
    end
    assert.are.same({ "string:E'\\''", "other:;", "param:?" }, kinds("E'\\'' ; ?", "postgresql"))
    assert.are.same({ "word:E", "string:'\\'' ; ?'" }, kinds("E'\\'' ; ?'", "sqlite"))
    assert.are.same({ "comment:/* /* ? */ ? */", "param:$12" }, kinds("/* /* ? */ ? */ $12", "postgresql"))
    assert.are.same({ "comment:/* /* ? */", "param:?", "other:*", "other:/" }, kinds("/* /* ? */ ? */", "sqlite"))
    assert.are.same({ "string:$a$ $$ ? $a$", "word:x$y" }, kinds("$a$ $$ ? $a$ x$y", "postgresql"))
    assert.are.same({ "named::a", "named:@b", "named:$c", "param:?7" }, kinds(":a @b $c ?7", "sqlite"))
    assert.are.same({ "comment:-- ;", "other:;" }, kinds("-- ;\n;", "postgresql"))
  end)
end)

describe("the tokenizer's consumers agree on the corpus", function()
  it("PostgreSQL: the guard, the ?-rewrite and the offline rendering", function()
    local url = assert(os.getenv("LUAMIG_TEST_PG"), "LUAMIG_TEST_PG is not set: run the specs through ./test.sh")
    local db = connect.open(url, {})
    local dialect = dialects.load("postgresql")
    finally(function() db:close() end)
    db:exec "BEGIN"
    db:guard(true)
    for _, entry in ipairs(corpus("postgresql")) do
      local sql = statement(entry)
      -- the rewrite: one parameter, and the hidden text comes back as written
      local live = db:first(sql, "live")
      assert.are.equal("live", live.v, entry)
      -- the guard: not refused (the row above ran); a COMMIT after it is
      local ok, err = pcall(db.first, db, sql .. "; COMMIT", "x")
      assert.is_false(ok, entry)
      assert.matches("COMMIT would end the migration's transaction", tostring(err), 1, false)
      -- the offline rendering runs to the same row
      local rendered = offline.render(sql, table.pack("live"), dialect)
      assert.are.same(live, db:first((rendered:gsub(";$", ""))), entry)
      -- op.execute_file's splitter: the statement whole, then the next one
      local pieces = assert(sql_split.split(rendered .. "\nSELECT 2;"))
      assert.are.same({ rendered:gsub(";$", ""), "SELECT 2" }, { pieces[1].text, pieces[2] and pieces[2].text }, entry)
    end
    assert.is_true(db:in_transaction())
    db:guard(false)
    db:exec "ROLLBACK"
  end)

  it("SQLite: the table-SQL reader and the offline rendering", function()
    local db = connect.open("sqlite:///" .. fixtures.tmpdir() .. "/t.db", {})
    local dialect = dialects.load("sqlite")
    finally(function() db:close() end)
    for _, entry in ipairs(corpus("sqlite")) do
      local sql = statement(entry)
      local live = db:first(sql, "live")
      assert.are.equal("live", live.v, entry)
      assert.are.same(live, db:first((offline.render(sql, table.pack("live"), dialect):gsub(";$", ""))), entry)
    end
    -- the reader: each entry as a column's default, one item per column
    local cols = {}
    for i, entry in ipairs(corpus("sqlite")) do
      local expr = entry:gsub(" AS .*$", ""):gsub("%-%- .*$", "%0\n")
      cols[i] = ("c%d TEXT DEFAULT (%s)\n"):format(i, expr)
    end
    local create = "CREATE TABLE t (" .. table.concat(cols, ", ") .. ", [" .. HIDDEN .. "] INT, CHECK (c1 <> '"
      .. HIDDEN .. "'))"
    db:exec(create)
    local t = table_sql.parse(db:scalar("SELECT sql FROM sqlite_master WHERE name = 't'"))
    assert.are.equal(#cols + 2, #t.items)
    for i = 1, #cols do assert.are.equal("c" .. i, t.items[i].name) end
    assert.are.equal(HIDDEN, t.items[#cols + 1].name)
    assert.are.equal("constraint", t.items[#cols + 2].kind)
  end)
end)
