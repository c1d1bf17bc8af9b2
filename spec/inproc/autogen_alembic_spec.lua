-- Autogenerate against Alembic's (Debian's python3-alembic, through
-- spec/support/alembic_autogen.py) on the property spec's random pairs, on
-- SQLite: schema A is built by luamig, B is declared to luamig and rendered
-- as SQLAlchemy tables for Alembic. Every change Alembic detects, luamig
-- detects too (an Alembic report that the models do not back is counted as
-- its false positive); luamig also detects the enum and check-constraint
-- changes and the renames Alembic misses. The counts go to stderr.
local compare = require "luamig.schema.compare"
local connect = require "luamig.db.connect"
local declare = require "luamig.schema.declare"
local json = require "luamig.util.json"
local fixtures = require "spec.support.fixtures"
local gen = require "spec.support.schema_gen"

local CASES = tonumber(os.getenv("LUAMIG_AUTOGEN_CASES") or "200")
local PYTHON = "/usr/bin/python3"
local SCRIPT = (os.getenv("LUAMIG_SOURCE_DIR") or ".") .. "/spec/support/alembic_autogen.py"

local function built(m, renames, path)
  local src = path .. ".schema.lua"
  fixtures.write(src, gen.source(m, renames))
  local decl = declare.load({ src })
  os.remove(src)
  local db, d = connect.open("sqlite:///" .. path, { foreign_keys = false })
  declare.realize(decl, db, d)
  local s = compare.snapshot(db, d)
  db:close()
  return decl, s
end

-- What luamig's changes cover, in Alembic's words: "kind table name" -> true.
local function covered(changes)
  local out = {}
  local function add(kind, t, n)
    out[kind .. " " .. t .. " " .. (n or t)] = true
    out[kind .. " " .. t .. " None"] = true -- (Alembic names some reflected constraints None)
  end
  for _, ch in ipairs(changes) do
    local a = ch.args
    if ch.call == "create_table" then add("add_table", a[1])
    elseif ch.call == "drop_table" then
      add("remove_table", a[1])
      out["table " .. a[1]] = true -- (Alembic lists the dropped table's indexes too)
    elseif ch.call == "rename_table" then
      add("remove_table", a[1])
      add("add_table", a[2])
      out["table " .. a[1]], out["table " .. a[2]] = true, true
    elseif ch.call == "add_column" then add("add_column", a[1], a[2][1])
    elseif ch.call == "drop_column" then add("remove_column", a[1], a[2])
    elseif ch.call == "alter_column" then
      if a[3].new_name then
        add("remove_column", a[1], a[2])
        add("add_column", a[1], a[3].new_name)
        out["keys " .. a[1]] = true -- (Alembic drops and recreates what names the column)
      end
      if a[3].type then add("modify_type", a[1], a[2]) end
      if a[3].nullable ~= nil then add("modify_nullable", a[1], a[2]) end
      if a[3].server_default ~= nil then add("modify_default", a[1], a[2]) end
    elseif ch.call == "create_index" then add("add_index", a[2], a[1])
    elseif ch.call == "drop_index" then add("remove_index", ch.table, a[1])
    elseif ch.call == "constraint" then
      add(a[2].type == "foreign_key" and "add_fk" or "add_constraint", a[1], a[2].name)
    elseif ch.call == "drop_constraint" then
      add(ch.con.type == "foreign_key" and "remove_fk" or "remove_constraint", a[2], a[1])
    end
  end
  return out
end

-- Whether models a and b differ in what Alembic's `kind` says of table.column.
local function backed(a, b, kind, tname, col)
  local function find(m, t, c)
    for _, x in ipairs(m.tables) do
      if x.name == t or x.renamed_from == t then
        for _, y in ipairs(x.columns) do
          if y.name == c or y.renamed_from == c then
            -- (a primary key's column is NOT NULL)
            return { type = y.type, default = y.default, nullable = y.nullable and x.pk_extra ~= y.name }
          end
        end
      end
    end
  end
  if col == "id" then return false end -- the primary key never changes (SQLite reports it nullable)
  local cb, ca = find(b, tname, col), find(a, tname, col)
  if not (ca and cb) then return true end
  if kind == "modify_type" then return ca.type ~= cb.type end
  if kind == "modify_nullable" then return ca.nullable ~= cb.nullable end
  if kind == "modify_default" then return ca.default ~= cb.default end
  return true
end

describe("autogenerate next to Alembic's", function()
  it(("detects every change Alembic detects over %d random pairs, and more"):format(CASES), function()
    local code = os.execute(PYTHON .. " -c 'import alembic' 2>/dev/null")
    assert.is_true(code == true or code == 0, "python3-alembic is missing")
    local dir = fixtures.tmpdir()
    local cases, ours, models = {}, {}, {}
    local luamig_only = { enum = 0, check = 0, rename = 0 }
    for seed = 1, CASES do
      local a, b = gen.pair(seed)
      local _, snap_a = built(a, false, ("%s/a%d.db"):format(dir, seed))
      local decl, snap_b = built(b, true, ("%s/b%d.db"):format(dir, seed))
      local changes = compare.changes(snap_a, snap_b, (compare.hints(decl)))
      for _, ch in ipairs(changes) do
        if ch.call:match("enum") then luamig_only.enum = luamig_only.enum + 1 end
        if (ch.call == "constraint" and ch.args[2].type == "check") or (ch.con and ch.con.type == "check") then
          luamig_only.check = luamig_only.check + 1
        end
        if ch.call == "rename_table" or (ch.call == "alter_column" and ch.args[3].new_name) then
          luamig_only.rename = luamig_only.rename + 1
        end
      end
      ours[seed], models[seed] = covered(changes), { a, b }
      cases[seed] = { db = ("%s/a%d.db"):format(dir, seed), model = b }
    end
    fixtures.write(dir .. "/cases.json", json.encode(cases))
    assert.is_true(os.execute(("%s %q %q %q"):format(PYTHON, SCRIPT, dir .. "/cases.json", dir .. "/out.tsv")))
    local counts, missed, false_positive = {}, {}, 0
    local total = 0
    for line in io.lines(dir .. "/out.tsv") do
      local i, kind, t, n = line:match("^(%d+)\t([^\t]*)\t([^\t]*)\t(.*)$")
      i = tonumber(i)
      total = total + 1
      counts[kind] = (counts[kind] or 0) + 1
      local ok = ours[i][kind .. " " .. t .. " " .. n] or ours[i]["table " .. t] or
          (ours[i]["keys " .. t] and (kind:match("index") or kind:match("constraint") or kind:match("fk")))
      if not ok and not backed(models[i][1], models[i][2], kind, t, n) then
        false_positive = false_positive + 1
      elseif not ok then
        missed[#missed + 1] = ("pair %d: %s %s.%s"):format(i, kind, t, n)
      end
    end
    local kinds = {}
    for k, n in pairs(counts) do kinds[#kinds + 1] = k .. "=" .. n end
    table.sort(kinds)
    io.stderr:write(("\n[alembic] %d pairs; Alembic detected %d changes (%s), %d of them not backed by the models; " ..
      "luamig missed %d; luamig alone: %d enum changes, %d check-constraint changes, %d renames\n"):format(CASES,
      total, table.concat(kinds, " "), false_positive, #missed, luamig_only.enum, luamig_only.check, luamig_only.rename))
    os.execute("rm -rf " .. dir)
    assert.are.same({}, missed)
    assert.is_true(luamig_only.enum > 0 and luamig_only.check > 0)
  end)
end)
