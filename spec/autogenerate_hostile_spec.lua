-- `revision --autogenerate` with hostile names (quotes, `;`, newlines,
-- carriage returns, `]]`, `--`, non-ASCII, mixed case, spaces) and
-- multi-line CHECK texts, from schema.lua and from --from-url, on both
-- drivers: every generated file compiles, sets only a migration's globals,
-- never has a comment line that continues into code, runs up and down, and
-- leaves the `victim` table and the declared schema as they should be.
local sh = require "spec.support.sh"

-- Each payload is live Lua when written raw after a newline, a carriage
-- return or a `]]`.
local NL = "c\nerror('INJECTED')--"
local CR = "d\rerror('INJECTED')--"
local BR = "x]]error('INJECTED')--[["
local TNL = "t\nerror('INJECTED')--"
local TNL2 = "T2 \"new\"\nerror('INJECTED')--"
local GONE = "gone\nerror('INJECTED')--"
local SQLI = "x); DROP TABLE victim; --"
local QUO = [[it's "quoted"; --]]
local QUO2 = "it's new; --"
local MIX = "UserId"
local UNI = "naïve ñame"
local SP = "has space"
local PARENT = 'Pa"rent; --'
local ENUM = "mood" -- (a type in schema.lua is SQL: a hostile enum name comes from --from-url)

local function L(s) return ("%q"):format(s) end
local function qi(s) return '"' .. s:gsub('"', '""') .. '"' end

local VICTIM = sh.migration("a0victim", nil,
  'db:exec "CREATE TABLE victim (id integer PRIMARY KEY)"\ndb:exec "INSERT INTO victim VALUES (1)"',
  'db:exec "DROP TABLE victim"')

-- The declared schema, first version.
local function v1()
  return table.concat({
    ("schema.enum(%s, { %s, %s })"):format(L(ENUM), L("it's"), L('say "hi"')),
    'schema.table("victim", { { "id", "integer", primary_key = true } })',
    ("schema.table(%s, { { %s, \"integer\", primary_key = true }, { %s, \"text\", nullable = false } }, " ..
      "{ constraints = { { type = \"unique\", name = %s, columns = { %s } }, " ..
      "{ type = \"check\", name = %s, condition = %s } } })")
        :format(L(PARENT), L(MIX), L(UNI), L('uq "p"; --'), L(UNI), L("ck\nerror('INJECTED')--"),
          L(qi(UNI) .. " <> 'x'")),
    ("schema.table(%s, { { \"id\", \"integer\", primary_key = true }, { %s, \"text\" }, { %s, \"integer\" }, " ..
      "{ %s, %s }, { %s, \"text\" }, { %s, \"text\" } }, { constraints = { " ..
      "{ type = \"foreign_key\", name = %s, columns = { %s }, references = %s, ref_columns = { %s } }, " ..
      "{ type = \"check\", condition = %s } } })")
        :format(L(TNL), L(NL), L(SP), L(QUO), L(ENUM), L(CR), L(BR), L("fk ]] ; --"), L(SP), L(PARENT), L(MIX),
          L("length(" .. qi(NL) .. ") <\n  50")),
    ("schema.table(\"K\", { { %s, \"integer\", nullable = false }, { %s, \"integer\", nullable = false } })")
      :format(L(SQLI), L(MIX)),
    ("schema.table(\"K2\", { { %s, \"integer\", primary_key = true }, { %s, \"integer\", nullable = false } })")
      :format(L(SQLI), L(MIX)),
    ("schema.table(%s, { { \"id\", \"integer\", primary_key = true } })"):format(L(GONE)),
    ("schema.index(%s, %s, { %s, %s }, { where = %s })"):format(L('ix "a"; --'), L(TNL), L(SP), L(NL),
      L(qi(SP) .. " > 0")),
    ("schema.index(%s, %s, { %s, %s })"):format(L("ix\rmixed"), L(TNL), L(QUO), L(BR)),
    ("schema.view(%s, %s)"):format(L('v "a"\n--'), L("SELECT " .. qi(MIX) .. " FROM " .. qi(PARENT))),
  }, "\n") .. "\n"
end

-- The second version: renames, drops, additions, type and default changes,
-- a new enum value, indexes and a view changed, primary keys gained and
-- changed (SQLite's through the batch rebuild).
local function v2(pk)
  return table.concat({
    ("schema.enum(%s, { %s, %s, %s })"):format(L(ENUM), L("it's"), L("new ]]; --'"), L('say "hi"')),
    'schema.table("victim", { { "id", "integer", primary_key = true } })',
    ("schema.table(%s, { { %s, \"integer\", primary_key = true }, { %s, \"string(40)\", nullable = false }, " ..
      "{ %s, \"text\", server_default = %s } }, " ..
      "{ constraints = { { type = \"unique\", name = %s, columns = { %s } } } })")
        :format(L(PARENT), L(MIX), L(UNI), L(QUO2), L("'a''b'"), L('uq "p"; --'), L(UNI)),
    ("schema.table(%s, { { \"id\", \"integer\", primary_key = true }, { %s, \"text\", renamed_from = %s }, " ..
      "{ %s, \"integer\" }, { %s, %s, nullable = false, server_default = %s }, { %s, \"text\" } }, " ..
      "{ renamed_from = %s, constraints = { " ..
      "{ type = \"foreign_key\", name = %s, columns = { %s }, references = %s, ref_columns = { %s } }, " ..
      "{ type = \"foreign_key\", name = %s, columns = { %s }, references = %s, ref_columns = { %s } }, " ..
      "{ type = \"check\", condition = %s } } })")
        :format(L(TNL2), L(BR .. "2"), L(NL), L(SP), L(QUO), L(ENUM), L("'it''s'"), L(BR), L(TNL),
          L("fk ]] ; --"), L(SP), L(PARENT), L(MIX), L("fk\n2"), L("id"), L(PARENT), L(MIX),
          L("length(" .. qi(BR .. "2") .. ") <\n  50")),
    ("schema.table(\"K\", { { %s, \"integer\", nullable = false%s }, { %s, \"integer\", nullable = false } })")
      :format(L(SQLI), pk and ", primary_key = true" or "", L(MIX)),
    ("schema.table(\"K2\", { { %s, \"integer\", primary_key = true }, { %s, \"integer\", nullable = false%s } })")
      :format(L(SQLI), L(MIX), pk and ", primary_key = true" or ""),
    ("schema.index(%s, %s, { %s }, { unique = true })"):format(L('ix "b"\n--'), L(TNL2), L(SP)),
    ("schema.index(%s, %s, { %s, %s })"):format(L("ix\rmixed"), L(TNL2), L(QUO), L(BR)),
    ("schema.view(%s, %s)"):format(L('v "a"\n--'), L("SELECT " .. qi(MIX) .. ", 1 AS one FROM " .. qi(PARENT))),
  }, "\n") .. "\n"
end

local GLOBALS = { revision = true, down_revision = true, branch_labels = true, depends_on = true,
  transactional = true, lock_timeout = true, upgrade = true, downgrade = true }

-- A generated file: no control character but newlines (so no comment line
-- continues into code), it compiles, and its top level only sets a
-- migration's globals and reads none.
local function assert_safe(text, name)
  for line in (text .. "\n"):gmatch("(.-)\n") do
    assert.is_nil(line:find("%c"), ("%s: a control character in line %q"):format(name, line))
  end
  local env = setmetatable({}, {
    __index = function(_, k) error(("%s reads global %s at load time"):format(name, tostring(k)), 2) end,
    __newindex = function(t, k, v)
      assert(GLOBALS[k], ("%s sets global %s"):format(name, tostring(k)))
      rawset(t, k, v)
    end,
  })
  local chunk, err = load(text, "=" .. name, "t", env)
  assert(chunk, err)
  chunk()
  assert.are.equal("function", type(env.upgrade), name)
  assert.are.equal("function", type(env.downgrade), name)
end

local function files(p)
  local out = {}
  for f in io.popen("ls " .. sh.quote(p.dir .. "/migrations")):lines() do out[#out + 1] = f end
  return out
end

-- `revision --autogenerate ARGS`: the new file's text, checked by assert_safe.
local function autogenerate(p, args)
  local seen = {}
  for _, f in ipairs(files(p)) do seen[f] = true end
  local out, err = p:ok("revision --autogenerate " .. args)
  for _, f in ipairs(files(p)) do
    if not seen[f] then
      local text = sh.slurp(p.dir .. "/migrations/" .. f)
      assert_safe(text, f)
      return text, out, err
    end
  end
  error("no file written: " .. out .. err)
end

local function victim_survives(p)
  assert.are.equal("1\n", p:sql("SELECT count(*) FROM victim"))
end

local function no_changes(p, args)
  local out = p:ok("revision --autogenerate -m none " .. args)
  assert.matches("No changes", out)
end

for _, b in ipairs(sh.backends()) do describe("autogenerate with hostile names on " .. b.name, function()
  local pk = true

  it("writes migrations that run up and down and reach the declared schema", function()
    local p = sh.project_on(b, { ["000_a0victim.lua"] = VICTIM })
    p:ok("upgrade head")
    p:write("schema.lua", v1())
    autogenerate(p, "-m one")
    p:ok("heads")
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    no_changes(p, "--against-db")

    p:write("schema.lua", v2(pk))
    local text, _, err = autogenerate(p, "-m two")
    assert.matches("WARNING: destructive: drops column", text)
    assert.matches("drops column", err)
    assert.matches("create_primary_key", text, 1, true)
    assert.is_nil(text:find("TODO", 1, true), text)
    p:ok("upgrade head")
    victim_survives(p)
    assert.matches("matches the migrations at head", p:ok("check"))
    no_changes(p, "--against-db")

    p:ok("downgrade -1")
    p:write("schema.lua", v1())
    no_changes(p, "--against-db")
    p:ok("downgrade a0victim")
    victim_survives(p)
    p:ok("upgrade head")
    p:write("schema.lua", v2(pk))
    no_changes(p, "--against-db")
    victim_survives(p)
  end)

  it("writes warnings as comments that never continue into code, and no by-hand step", function()
    local legacy = ("CREATE TABLE legacy (id integer NOT NULL PRIMARY KEY, %s integer NOT NULL, %s text, " ..
      "CHECK (length(%s) <\n 50))"):format(qi(SQLI), qi(NL), qi(NL))
    local p = sh.project_on(b, { ["000_a0victim.lua"] = sh.migration("a0victim", nil,
      ("db:exec %s\ndb:exec %s\ndb:exec %s"):format(L("CREATE TABLE victim (id integer PRIMARY KEY)"),
        L("INSERT INTO victim VALUES (1)"), L(legacy))) })
    p:ok("upgrade head")
    p:write("schema.lua", 'schema.table("victim", { { "id", "integer", primary_key = true } })\n' ..
      ("schema.table(\"legacy\", { { \"id\", \"integer\", primary_key = true }, " ..
        "{ %s, \"integer\", primary_key = true } })\n"):format(L(SQLI)))
    local text, _, err = autogenerate(p, "-m legacy")
    assert.matches("WARNING: destructive: drops column legacy.c\\nerror", text, 1, true)
    assert.matches("drops column legacy.c", err)
    -- the primary key change and the unnamed CHECK go through the batch rebuild on SQLite
    assert.is_nil(text:find("TODO", 1, true), text)
    assert.matches("create_primary_key", text, 1, true)
    p:ok("heads")
    p:ok("upgrade head")
    victim_survives(p)
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("downgrade a0victim")
    victim_survives(p)
  end)

  it("takes hostile names from a dev database with --from-url", function()
    local dev = sh.project_on(b)
    local t = qi(TNL)
    local sql = {}
    if b.name == "postgresql" then -- (enum types: PostgreSQL's)
      sql[1] = ("CREATE TYPE %s AS ENUM ('it''s', 'say \"hi\"', 'new\nline')"):format(qi('Mo"od; x'))
      sql[2] = ("CREATE TABLE %s (%s %s)"):format(qi("with enum"), qi(QUO2), qi('Mo"od; x'))
    end
    dev:sql(table.concat(sql, ";\n") .. (b.name == "postgresql" and ";\n" or "") .. table.concat({
      "CREATE TABLE victim (id integer PRIMARY KEY)",
      ("CREATE VIEW %s AS SELECT 1 AS %s"):format(qi('v "a"\n--'), qi(NL)),
      ("CREATE TABLE %s (%s integer PRIMARY KEY, %s text, %s integer NOT NULL, %s text, CHECK (length(%s) <\n 50))")
        :format(t, qi(MIX), qi(NL), qi(SQLI), qi(UNI), qi(NL)),
      ("CREATE UNIQUE INDEX %s ON %s (%s, %s)"):format(qi('ix "q"; --'), t, qi(MIX), qi(UNI)),
      ("CREATE INDEX %s ON %s (%s)"):format(qi("ix\nmixed"), t, qi(SQLI)),
      ("CREATE TABLE %s (id integer PRIMARY KEY, %s integer REFERENCES %s (%s))"):format(qi(QUO), qi(CR), t, qi(MIX)),
    }, ";\n"))
    local dev_url = sh.quote(dev.url or ("sqlite:///" .. dev.dir .. "/luamig.db"))
    local p = sh.project_on(b, { ["000_a0victim.lua"] = VICTIM })
    p:ok("upgrade head")
    autogenerate(p, "-m dev --from-url " .. dev_url)
    p:ok("upgrade head")
    victim_survives(p)
    no_changes(p, "--from-url " .. dev_url)
    p:ok("downgrade a0victim")
    victim_survives(p)
    assert.are.equal("victim", (p:tables():gsub("%s*luamig_%S+", ""):gsub("^%s+", ""):gsub("%s+$", "")))
  end)
end) end
