-- Autogenerate's property, on both drivers: over seeded random pairs of
-- declared schemas (A, B) (spec/support/schema_gen.lua: every portable type,
-- nullability, defaults, keys (primary keys changed), foreign keys, indexes
-- (methods, operator classes, order, INCLUDE, expressions), uniques, checks,
-- enums, renames; triggers; on PostgreSQL functions (SQL-standard bodies
-- reading a table too), sequences, comments, materialized views (over one
-- another too), row-level security, policies, domains (a check calling a
-- function) and columns of theirs), with the migration autogenerate writes
-- for A applied:
--   1. autogenerate B; 2. its upgrade gives a snapshot equal to B's;
--   3. autogenerate again finds nothing; 4. its downgrade returns exactly to
--   A (but for the order of re-added columns) and its upgrade again to B.
-- LUAMIG_AUTOGEN_CASES sets the count (200; fewer under the sanitizers).
local compare = require "luamig.schema.compare"
local declare = require "luamig.schema.declare"
local introspect = require "luamig.schema.introspect"
local dialects = require "luamig.dialect"
local render = require "luamig.schema.render"
local autogen_db = require "spec.support.autogen_db"
local fixtures = require "spec.support.fixtures"
local gen = require "spec.support.schema_gen"
local sh = require "spec.support.sh"

local CASES = tonumber(os.getenv("LUAMIG_AUTOGEN_CASES") or "200")
local SEED = tonumber(os.getenv("LUAMIG_AUTOGEN_SEED") or "1")

local snap, scratch, apply = autogen_db.snap, autogen_db.scratch, autogen_db.apply

-- (online-safe where the backend has it, as `revision --autogenerate` writes by default)
local function body(changes, backend, named)
  return render.body(changes, dialects.load(backend), function() end, compare.column_spec, named, true)
end

local function declared(m, renames, h)
  h.reset()
  local path = os.tmpname()
  fixtures.write(path, gen.source(m, renames, h.dialect.declared_objects.kinds))
  local decl = declare.load({ path })
  os.remove(path)
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
    local calls, made = {}, {}
    for seed = SEED, SEED + CASES - 1 do
      local a, bm = gen.pair(seed, b.name)
      for _, what in ipairs(bm.log) do made[what] = (made[what] or 0) + 1 end
      for what, n in pairs(gen.census(bm)) do made[what] = (made[what] or 0) + n end
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
      for _, ch in ipairs(up) do
        -- (an op.execute by its statement: "execute:ALTER POLICY")
        local k = ch.call == "execute" and ("execute:" .. (ch.args[1]:match("^%u+ %u+") or "?")) or ch.call
        calls[k] = (calls[k] or 0) + 1
      end
    end
    local declared_kinds = decl_db.dialect.declared_objects.kinds
    head.close()
    decl_db.close()
    local kinds = {}
    for k, n in pairs(calls) do kinds[#kinds + 1] = k .. "=" .. n end
    table.sort(kinds)
    local made_list = {}
    for k, n in pairs(made) do made_list[#made_list + 1] = k .. "=" .. n end
    table.sort(made_list)
    io.stderr:write(("\n[autogen %s] %d pairs; upgrade changes: %s\n[autogen %s] declared in B, and changed: %s\n")
      :format(b.name, CASES, table.concat(kinds, " "), b.name, table.concat(made_list, ", ")))
    -- every kind of change occurs in the full run (the 200 default pairs); a
    -- shortened run (LUAMIG_AUTOGEN_CASES, e.g. 60 under the sanitizers) may miss rare ones
    local required = CASES >= 200 and { "create_table", "drop_table", "add_column", "drop_column", "alter_column",
      "create_index", "drop_index", "constraint", "drop_constraint", "add_enum_value", "rename_enum_value",
      "drop_enum_value", "create_enum", "drop_enum", "rename_table", "drop_primary_key", "create_primary_key" } or {}
    if CASES >= 200 and declared_kinds.policy then
      for _, k in ipairs({ "CREATE POLICY", "ALTER POLICY", "DROP POLICY", "ALTER TABLE", "CREATE DOMAIN",
        "ALTER DOMAIN", "DROP DOMAIN" }) do required[#required + 1] = "execute:" .. k end
    end
    for _, k in ipairs(required) do
      assert.is_truthy(calls[k], "no pair exercised " .. k)
    end
    -- and every change the generator makes to the objects beyond tables
    local changed = CASES >= 200 and { "expression index added", "index options changed", "trigger added",
      "trigger changed", "trigger dropped" } or {}
    if CASES >= 200 and b.name == "postgresql" then
      for _, k in ipairs({ "sql function added", "plpgsql function added", "function changed", "function dropped",
        "sequence added", "sequence dropped", "sequence default added", "sequence increment changed",
        "sequence min changed", "sequence max changed", "sequence cache changed", "sequence cycle changed",
        "materialized view added", "materialized view changed", "materialized view dropped", "comment added",
        "comment changed", "comment dropped", "atomic function added", "materialized view over a view",
        "domain check calling a function" }) do
        changed[#changed + 1] = k
      end
    end
    for _, k in ipairs(changed) do
      assert.is_truthy(made[k], "no pair's B had a " .. k)
    end
  end)
end) end
