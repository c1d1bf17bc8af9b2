-- luamig.schema.render: every change autogenerate can emit, with hostile
-- names and multi-line SQL texts, on both backends. The body compiles, no
-- line holds a control character (so no comment continues into code), the
-- op calls give back every name exactly as it was, and the SQL it writes
-- itself quotes every identifier.
local compare = require "luamig.schema.compare"
local dialects = require "luamig.dialect"
local render = require "luamig.schema.render"

local NL = "c\nerror('INJECTED')--"
local CR = "d\rerror('INJECTED')--"
local BR = "x]]error('INJECTED')--[["
local SQLI = "x); DROP TABLE victim; --"
local T = 'T "new"\nerror(\'INJECTED\')--'
local UNI = "naïve ñame\226\128\174" -- (and a right-to-left override)
local CHECK = "length(\"c\nerror('INJECTED')--\") <\n  50 -- ]]"
local HOSTILE = { NL, CR, BR, SQLI, T, UNI, CHECK, "UserId", "has space", "it's", 'say "hi"' }

local function form(name)
  return compare.table_form(name, {
    columns = { { name = "UserId", type = "integer", nullable = false }, { name = NL, type = "text", nullable = true,
      default = "'a''b'" }, { name = SQLI, type = "integer", nullable = false } },
    primary_key = { "UserId", SQLI },
    uniques = { { columns = { NL } } },
    checks = { { condition = CHECK } },
    foreign_keys = { { name = BR, columns = { SQLI }, references = T, ref_columns = { "UserId" } } },
  }, {})
end

-- Every kind of change luamig.schema.compare makes.
local function changes()
  local con = { type = "check", condition = CHECK }
  con.key = compare.constraint_key(con)
  local ucon = { type = "unique", columns = { NL, UNI } }
  ucon.key = compare.constraint_key(ucon)
  return {
    { call = "drop_view", args = { UNI } },
    { call = "drop_trigger", args = { CR, T } },
    { call = "create_extension", args = { BR } },
    { call = "create_enum", args = { CR, { "it's", 'say "hi"', NL } } },
    { call = "add_enum_value", args = { CR, BR, { after = "it's" } }, enum_value = true },
    { call = "rename_enum_value", args = { CR, "it's", SQLI } },
    { call = "drop_enum_value", args = { CR, NL }, destructive = ("drops value %s of enum %s"):format(NL, CR) },
    { call = "rename_table", args = { NL, T } },
    { call = "create_table", args = { UNI, form(UNI) } },
    { call = "create_index", table = UNI, index = true, args = { BR, UNI, { NL, "has space" }, { unique = true,
      where = '"UserId" > 0' } } },
    { call = "alter_column", table = T, args = { T, NL, { new_name = BR } }, in_place = true },
    { call = "drop_index", table = T, args = { CR }, index = true },
    { call = "drop_constraint", table = T, args = { SQLI, T }, con = { type = "unique", name = SQLI, columns = { NL } } },
    { call = "drop_constraint", table = T, args = { nil, T }, con = con },
    { call = "drop_constraint", table = T, args = { nil, T }, con = ucon },
    { call = "add_column", table = T, args = { T, { UNI, "text", server_default = "'x'" } } },
    { call = "alter_column", table = T, args = { T, "UserId", { type = "bigint", using = true } },
      destructive = "changes " .. T .. ".UserId" },
    { call = "alter_column", table = T, args = { T, CR, { nullable = false, server_default = "'\n'" } } },
    { call = "drop_column", table = T, args = { T, CR }, destructive = ("drops column %s.%s"):format(T, CR) },
    { call = "primary_key", table = T, args = { T, { "UserId" }, { SQLI, "UserId" }, BR } },
    { call = "primary_key", table = NL, args = { NL, {}, { SQLI } } },
    { call = "primary_key", table = CR, args = { CR, { SQLI }, {}, UNI } },
    { call = "rename_constraint", table = T, args = { T, SQLI, BR }, in_place = true },
    { call = "constraint", table = T, args = { T, { type = "unique", name = UNI, columns = { NL, SQLI } } } },
    { call = "constraint", table = T, args = { T, { type = "check", condition = CHECK } } },
    { call = "constraint", table = T, args = { T, { type = "foreign_key", columns = { SQLI }, references = UNI,
      ref_columns = { "UserId" }, on_delete = "CASCADE" } } },
    { call = "drop_table", args = { CR }, destructive = "drops table " .. CR },
    { call = "drop_enum", args = { CR }, destructive = "drops enum " .. CR },
    { call = "drop_extension", args = { BR } },
    { call = "create_view", args = { UNI, 'SELECT 1 AS "' .. NL .. '"' } },
    { call = "create_trigger", args = { CR, "CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT '\n--'; END" } },
  }
end

-- Run body `lines` with an op that records every call (batches included).
local function run(lines)
  local calls = {}
  local function recorder(prefix)
    return setmetatable({}, { __index = function(_, name)
      return function(...)
        local args = table.pack(...)
        if prefix == "b:" then table.remove(args, 1) end
        calls[#calls + 1] = { name = prefix .. name, args = args }
        if name == "batch_alter_table" then args[2](recorder("b:")) end
      end
    end })
  end
  local text = "return function(db)\n" .. table.concat(lines, "\n") .. "\nend"
  local chunk, err = load(text, "=body", "t", { op = recorder("op.") })
  assert(chunk, (err or "") .. "\n" .. text)
  chunk()()
  return calls
end

local function strings_of(v, out)
  if type(v) == "string" then out[#out + 1] = v end
  if type(v) == "table" then
    for k, x in pairs(v) do
      strings_of(k, out)
      strings_of(x, out)
    end
  end
  return out
end

for _, backend in ipairs({ "sqlite", "postgresql" }) do
  describe("rendering on " .. backend, function()
    for _, named in ipairs({ false, true }) do
      it(("writes every change with hostile names as code that gives them back%s"):format(
        named and " (downgrade)" or ""), function()
        local warned = {}
        local lines = render.body(changes(), dialects.load(backend), function(w) warned[#warned + 1] = w end, compare.column_spec,
          named)
        for l in (table.concat(lines, "\n") .. "\n"):gmatch("(.-)\n") do
          assert.is_nil(l:find("[%c\127]"), ("a control character in %q"):format(l))
        end
        for _, w in ipairs(warned) do assert.is_nil(w:find("%c"), w) end
        assert.is_true(#warned >= 4)
        local seen = {}
        for _, call in ipairs(run(lines)) do
          for _, s in ipairs(strings_of(call.args, {})) do seen[#seen + 1] = s end
        end
        local all = table.concat(seen, "\0")
        for _, h in ipairs(HOSTILE) do assert.truthy(all:find(h, 1, true), ("%q lost"):format(h)) end
      end)
    end

    it("quotes every identifier of the SQL it writes itself", function()
      local calls = run((render.body(changes(), dialects.load(backend), function() end, compare.column_spec)))
      local sql = {}
      for _, c in ipairs(calls) do
        if c.name == "op.execute" then sql[#sql + 1] = c.args[1] end
      end
      local q = function(s) return '"' .. s:gsub('"', '""') .. '"' end
      local expect = {
        "DROP VIEW " .. q(UNI),
        "CREATE VIEW " .. q(UNI) .. ' AS SELECT 1 AS "' .. NL .. '"',
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT '\n--'; END",
      }
      if backend == "postgresql" then
        expect[#expect + 1] = ("DROP TRIGGER %s ON %s"):format(q(CR), q(T))
        -- (primary keys: op.drop_primary_key / op.create_primary_key, no SQL of its own)
        expect[#expect + 1] = ("ALTER TABLE %s RENAME CONSTRAINT %s TO %s"):format(q(T), q(SQLI), q(BR))
      else
        expect[#expect + 1] = "DROP TRIGGER " .. q(CR)
        expect[#expect + 1] = ("ALTER TABLE %s RENAME CONSTRAINT %s TO %s"):format(q(T), q(SQLI), q(BR))
      end
      table.sort(sql)
      table.sort(expect)
      assert.are.same(expect, sql)
    end)
  end)
end

describe("luamig.util.lua_source", function()
  local lua_source = require "luamig.util.lua_source"
  it("writes any string as a literal that reads back the same, and a comment on one line", function()
    for _, s in ipairs({ NL, CR, BR, UNI, CHECK, "\0\1\127\t", "\200\201 not UTF-8", 'q"\\', "\194\133 C1" }) do
      local lit = lua_source.literal(s)
      assert.is_nil(lit:find("[%c\127]"), lit)
      assert.are.equal(s, load("return " .. lit)())
      assert.is_nil(lua_source.comment_text(s):find("[%c\127]"))
    end
    assert.are.equal("-- a\\nb\\r\\u{202E}", "-- " .. lua_source.comment_text("a\nb\r\226\128\174"))
    assert.are.equal(math.huge, load("return " .. lua_source.literal(math.huge))())
  end)
end)
