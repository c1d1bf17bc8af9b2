-- Portable autogenerate across backends: over seeded random pairs of
-- declared schemas (A, B) in portable types (spec/support/schema_gen.lua),
-- the migrations autogenerate writes on one backend (empty -> A, A -> B)
-- are applied to the other, which then holds B exactly as schema.lua built
-- there says (`check` finds nothing). Both directions.
-- 100 pairs each way; with LUAMIG_AUTOGEN_CASES (60 under the sanitizers),
-- three quarters of it.
local compare = require "luamig.schema.compare"
local declare = require "luamig.schema.declare"
local introspect = require "luamig.schema.introspect"
local dialects = require "luamig.dialect"
local render = require "luamig.schema.render"
local autogen_db = require "spec.support.autogen_db"
local fixtures = require "spec.support.fixtures"
local gen = require "spec.support.schema_gen"
local sh = require "spec.support.sh"

local CASES = os.getenv("LUAMIG_AUTOGEN_CASES") and math.max(1, tonumber(os.getenv("LUAMIG_AUTOGEN_CASES")) * 3 // 4)
  or 100
local SEED = tonumber(os.getenv("LUAMIG_AUTOGEN_SEED") or "1")

local snap, scratch, apply = autogen_db.snap, autogen_db.scratch, autogen_db.apply

-- Declaration `m` built on h: the declaration and its snapshot, spelled as declared.
local function declared(m, renames, h)
  local path = os.tmpname()
  fixtures.write(path, gen.source(m, renames))
  local decl = declare.load({ path })
  os.remove(path)
  h.reset()
  declare.realize(decl, h.db, h.dialect)
  local s = snap(h.db)
  compare.spell(s, decl, h.dialect)
  return decl, s
end

-- The differences but column order and the declared spelling.
local function differences(expected, actual)
  local d = {}
  for _, line in ipairs(introspect.diff(expected, actual)) do
    if not line:match(": column order ") and not line:match(": declared ") then d[#d + 1] = line end
  end
  return d
end

local function body(changes, backend)
  return render.body(changes, dialects.load(backend), function() end, compare.column_spec)
end

local from_to = { { "sqlite", "postgresql" }, { "postgresql", "sqlite" } }

for _, dir in ipairs(from_to) do
  describe(("autogenerate on %s, applied to %s"):format(dir[1], dir[2]), function()
    it(("reaches B over %d random portable pairs"):format(CASES), function()
      local by = {}
      for _, b in ipairs(sh.backends()) do by[b.name] = b end
      local gen_head, gen_decl = scratch(by[dir[1]]), scratch(by[dir[1]])
      local run_head, run_decl = scratch(by[dir[2]]), scratch(by[dir[2]])
      local ok, err = pcall(function()
        for seed = SEED, SEED + CASES - 1 do
          local a, bm = gen.pair(seed)
          -- on the generating backend: the files empty -> A and A -> B
          local _, gen_a = declared(a, false, gen_decl)
          gen_head.reset()
          local first = body(compare.changes(snap(gen_head.db), gen_a), dir[1])
          apply(gen_head, first, false, "A")
          local at_a = snap(gen_head.db)
          local decl, gen_b = declared(bm, true, gen_decl)
          local up_lines, outside = body(compare.changes(at_a, gen_b, (compare.hints(decl))), dir[1])
          local src = gen.source(bm, true) .. "\n-- to A:\n" .. table.concat(first, "\n") .. "\n-- upgrade:\n" ..
            table.concat(up_lines, "\n")
          -- on the other backend: both files, then B as declared there
          local good, e = pcall(function()
            run_head.reset()
            apply(run_head, first, false, "A on " .. dir[2])
            apply(run_head, up_lines, outside, "upgrade on " .. dir[2])
            local _, run_b = declared(bm, true, run_decl)
            local at_b = snap(run_head.db)
            local d = differences(run_b, at_b)
            if #d > 0 then error(table.concat(d, "; "), 0) end
            local again = compare.changes(at_b, run_b)
            if #again > 0 then error("check finds: " .. table.concat(body(again, dir[2]), "\n"), 0) end
          end)
          if not good then error(("seed %d: %s\n%s"):format(seed, tostring(e), src), 0) end
        end
      end)
      for _, h in ipairs({ gen_head, gen_decl, run_head, run_decl }) do h.close() end
      if not ok then error(err, 0) end
    end)
  end)
end
