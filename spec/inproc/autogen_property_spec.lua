-- Autogenerate's property, on both drivers: over seeded random pairs of
-- declared schemas (A, B) (spec/support/schema_gen.lua: every portable type,
-- nullability, defaults, keys, foreign keys, indexes, uniques, checks,
-- enums, renames), with the migration autogenerate writes for A applied:
--   1. autogenerate B; 2. its upgrade gives a snapshot equal to B's;
--   3. autogenerate again finds nothing; 4. its downgrade returns exactly to
--   A (but for the order of re-added columns) and its upgrade again to B.
-- LUAMIG_AUTOGEN_CASES sets the count (200; fewer under the sanitizers).
local compare = require "luamig.schema.compare"
local connect = require "luamig.db.connect"
local declare = require "luamig.schema.declare"
local introspect = require "luamig.schema.introspect"
local ops = require "luamig.schema.ops"
local render = require "luamig.schema.render"
local fixtures = require "spec.support.fixtures"
local gen = require "spec.support.schema_gen"
local sh = require "spec.support.sh"

local CASES = tonumber(os.getenv("LUAMIG_AUTOGEN_CASES") or "200")
local SEED = tonumber(os.getenv("LUAMIG_AUTOGEN_SEED") or "1")

-- SQLite keeps a default as written ("0" by CREATE TABLE, "(0)" after a rebuild).
local function normalized(s)
  for _, t in pairs(s.tables) do
    for _, c in ipairs(t.columns) do
      while c.default and c.default:match("^%b()$") do c.default = c.default:sub(2, -2) end
    end
  end
  return s
end

local function snap(db) return normalized(compare.snapshot(db, (require "luamig.dialect").of(db))) end

-- A database that can be emptied between cases.
local function scratch(b)
  local url, remove = fixtures.fresh_url(b)
  local h = { url = url, remove = remove }
  function h.reset()
    if h.db then h.db:close() end
    if b.name == "sqlite" then os.remove((url:gsub("^sqlite:///", ""))) end
    h.db, h.dialect = connect.open(url, { foreign_keys = false })
    if b.name == "postgresql" then h.db:exec "DROP SCHEMA public CASCADE; CREATE SCHEMA public" end
  end
  return h
end

-- Run the op calls of `lines` on h.db (in a transaction unless `outside`).
local function apply(h, lines, outside, label)
  local env = setmetatable({ op = ops.new({ db = h.db, dialect = h.dialect }) }, { __index = _G })
  local chunk = assert(load("return function()\n" .. table.concat(lines, "\n") .. "\nend", label, "t", env))()
  if outside then return chunk() end
  h.db:exec "BEGIN"
  local ok, err = pcall(chunk)
  h.db:exec(ok and "COMMIT" or "ROLLBACK")
  if not ok then error(err, 0) end
end

local function body(changes, backend, named)
  return render.body(changes, backend, function() end, compare.column_spec, named)
end

local function declared(m, renames, h)
  local path = os.tmpname()
  fixtures.write(path, gen.source(m, renames))
  local decl = declare.load({ path })
  os.remove(path)
  h.reset()
  declare.realize(decl, h.db, h.dialect)
  return decl, snap(h.db)
end

-- The one difference allowed: a column that a downgrade adds back comes
-- last (PostgreSQL cannot place a column; SQLite's batch adds at the end).
local function no_diff(expected, actual, what, src)
  local d = {}
  for _, line in ipairs(introspect.diff(expected, actual)) do
    if not line:match(": column order ") then d[#d + 1] = line end
  end
  if #d > 0 then error(("%s: %s\n%s"):format(what, table.concat(d, "; "), src), 0) end
end

for _, b in ipairs(sh.backends()) do describe("autogenerate on " .. b.name, function()
  it(("reaches B, is a fixed point and drills clean over %d random pairs"):format(CASES), function()
    local head, decl_db = scratch(b), scratch(b)
    local calls = {}
    for seed = SEED, SEED + CASES - 1 do
      local a, bm = gen.pair(seed)
      local _, snap_a = declared(a, false, decl_db)
      head.reset()
      local first = compare.changes(snap(head.db), snap_a)
      apply(head, body(first, b.name), false, "A")
      local at_a = snap(head.db)
      no_diff(snap_a, at_a, "seed " .. seed .. ": A", gen.source(a))
      local decl, snap_b = declared(bm, true, decl_db)
      local up_hints, down_hints = compare.hints(decl)
      local up = compare.changes(at_a, snap_b, up_hints)
      local down = compare.changes(snap_b, at_a, down_hints)
      local up_lines, outside_up = body(up, b.name)
      local down_lines, outside_down = body(down, b.name, true)
      local src = gen.source(bm, true) .. "\n-- upgrade:\n" .. table.concat(up_lines, "\n") .. "\n-- downgrade:\n" ..
          table.concat(down_lines, "\n")
      local ok, err = pcall(function()
        apply(head, up_lines, outside_up, "upgrade")
        local at_b = snap(head.db)
        no_diff(snap_b, at_b, "seed " .. seed .. ": upgrade", src)
        local again = compare.changes(at_b, snap_b, up_hints)
        if #again > 0 then error("seed " .. seed .. ": not a fixed point: " .. table.concat(body(again, b.name), "\n"), 0) end
        apply(head, down_lines, outside_down, "downgrade")
        no_diff(at_a, snap(head.db), "seed " .. seed .. ": downgrade", src)
        apply(head, up_lines, outside_up, "upgrade again")
        no_diff(at_b, snap(head.db), "seed " .. seed .. ": upgrade again", src)
      end)
      if not ok then error(tostring(err) .. "\n" .. src, 0) end
      for _, ch in ipairs(up) do calls[ch.call] = (calls[ch.call] or 0) + 1 end
    end
    head.db:close()
    decl_db.db:close()
    head.remove()
    decl_db.remove()
    if b.name == "postgresql" then -- (fixtures leave PostgreSQL databases behind)
      local admin = connect.open(os.getenv("LUAMIG_TEST_PG"), {})
      for _, h in ipairs({ head, decl_db }) do
        admin:exec("DROP DATABASE IF EXISTS " .. admin:quote_ident(h.url:match("/([^/?]+)%??[^/]*$")))
      end
      admin:close()
    end
    local kinds = {}
    for k, n in pairs(calls) do kinds[#kinds + 1] = k .. "=" .. n end
    table.sort(kinds)
    io.stderr:write(("\n[autogen %s] %d pairs; upgrade changes: %s\n"):format(b.name, CASES, table.concat(kinds, " ")))
    for _, k in ipairs({ "create_table", "drop_table", "add_column", "drop_column", "alter_column", "create_index",
      "drop_index", "constraint", "drop_constraint", "add_enum_value", "rename_enum_value", "drop_enum_value",
      "create_enum", "drop_enum", "rename_table" }) do
      assert.is_truthy(calls[k], "no pair exercised " .. k)
    end
  end)
end) end
