--- Rollback drills: on a scratch session (luamig.run.scratch), each
--- revision in graph order is upgraded, snapshotted, downgraded, compared
--- with the schema before it, and upgraded again and compared with the
--- first snapshot. Scripted drills (`luamig drill FILE.lua`) get the same
--- scratch database and a small API.
local errors = require "luamig.util.errors"
local text = require "luamig.util.text"
local introspect = require "luamig.schema.introspect"
local plan = require "luamig.revision.plan"
local runner = require "luamig.run.runner"
local sandbox = require "luamig.util.sandbox"

local M = {}

---@class luamig.DrillStep
---@field revision string
---@field message string
---@field up_ms number?
---@field down_ms number?
---@field result "ok"|"failed"
---@field problems string[]
---@field notes string[]?   column order no migration could keep (see luamig.schema.diff.added_last)

-- A fingerprint of each table, by its snapshot key (luamig's own tables left
-- out): {name = "schema.name", rows = count, sum = checksum}, one query per table.
local function fingerprints(db)
  local out = {}
  for key, t in pairs(introspect.snapshot(db).tables) do
    if t.kind ~= "virtual table" then
      local rows, sum = db.dialect.fingerprint(db, t)
      out[key] = { name = t.schema and (t.schema .. "." .. t.name) or t.name, rows = rows, sum = sum }
    end
  end
  return out
end

-- The problems of a step's round trip: rows lost, or contents changed.
local function data_problems(st, before, now, id)
  st.rows_lost = {}
  for key, b in pairs(before) do
    local n, name = now[key], b.name
    if n and n.rows < b.rows then
      st.rows_lost[name] = b.rows - n.rows
      st.problems[#st.problems + 1] = ("table %s lost %d of %s across the round trip of %s"):format(name,
        b.rows - n.rows, text.count(b.rows, "row"), id)
    elseif n and n.rows == b.rows and n.sum ~= b.sum then
      st.problems[#st.problems + 1] = ("table %s: %s, but their contents changed across the round trip of %s")
        :format(name, text.count(b.rows, "row"), id)
    end
  end
end

---Drill every revision from `from` (exclusive; nil = base) to `to` (default
---heads). With `seed(db)`, seeds run before each step, and a table that
---loses rows or whose rows change across the step's round trip is a problem.
---@param s luamig.Session the scratch session (luamig.run.scratch)
---@param opts {from: string?, to: string?, seed: fun()?, on_step: fun(step: luamig.DrillStep)?, strict_order: boolean?}
---@return luamig.DrillStep[] steps, boolean ok
function M.walk(s, opts)
  local g = s.graph
  local start = {}
  if opts.from and opts.from ~= "base" then
    runner.run_to(s, "up", opts.from)
    start = g:ids(opts.from)
  end
  local ids = plan.upgrade(g, start, opts.to or "heads")
  local steps, ok = {}, true
  for _, id in ipairs(ids) do
    local st = { revision = id, message = g.revs[id].message, result = "ok", problems = {} }
    local good, err = pcall(function()
      local rows_before
      if opts.seed then
        opts.seed()
        rows_before = fingerprints(s.db)
      end
      local before = introspect.snapshot(s.db)
      local script = g.revs[id]
      st.up_ms = runner.run_one(s, id, "up")
      local after = introspect.snapshot(s.db)
      if not script.downgrade and not (script.phased and script.online) then
        st.problems[#st.problems + 1] = ("%s has no downgrade(db)"):format(script.path)
        return
      end
      -- a phased migration: expand -> contract -> downgrade (through uncontract);
      -- without uncontract(db), the downgrade is rehearsed before the contract
      if script.phased and script.uncontract then st.contract_ms = runner.run_one(s, id, "contract") end
      st.down_ms = runner.run_one(s, id, "down")
      local down = introspect.snapshot(s.db)
      local diffs, notes = introspect.diff(before, down, "after downgrade of " .. id,
        { strict_order = opts.strict_order, between = after })
      for _, d in ipairs(diffs) do st.problems[#st.problems + 1] = d end
      st.notes = #notes > 0 and notes or nil
      if rows_before then data_problems(st, rows_before, fingerprints(s.db), id) end
      if #st.problems > 0 then return end
      runner.run_one(s, id, "up")
      local again = introspect.diff(after, introspect.snapshot(s.db), "after upgrading " .. id .. " again",
        { strict_order = opts.strict_order, between = down })
      for _, d in ipairs(again) do
        st.problems[#st.problems + 1] = d
      end
      if script.phased then
        st.contract_ms = runner.run_one(s, id, "contract")
        if not script.uncontract then
          st.notes = st.notes or {}
          st.notes[#st.notes + 1] = ("%s has no uncontract(db): once contracted it cannot be downgraded " ..
            "(rehearsed: expand, downgrade, expand, contract)"):format(script.path)
        end
      end
    end)
    if not good then st.problems[#st.problems + 1] = errors.text(err) end
    if #st.problems > 0 then
      st.result, ok = "failed", false
    end
    steps[#steps + 1] = st
    if opts.on_step then opts.on_step(st) end
    if not ok then break end -- the scratch schema is no longer what later steps expect
  end
  return steps, ok
end

-- ------------------------------------------------------------ scripted drills

---Run a drill script: a Lua file using the `drill` global. A failed
---assertion names the script's line.
---@param s luamig.Session the scratch session (luamig.run.scratch)
---@param path string
---@return table[] steps {name, result, problem?}, boolean ok
function M.script(s, path, log)
  local steps, ok = {}, true
  local api = { db = s.db }
  function api.upgrade(target) runner.run_to(s, "up", target or "heads") end
  function api.downgrade(target)
    if not target then errors.raise("script", "drill.downgrade needs a target (-1, a revision, base)", nil, 2) end
    runner.run_to(s, "down", target)
  end
  function api.snapshot() return introspect.snapshot(s.db) end
  function api.assert_same(a, b, message)
    local d = introspect.diff(a, b)
    if #d > 0 then errors.raise("migration", (message and (message .. ": ") or "") .. table.concat(d, "; "), nil, 2) end
  end
  function api.step(name, fn)
    local good, err = pcall(fn)
    local st = { name = name, result = good and "ok" or "failed", problem = not good and errors.text(err) or nil }
    steps[#steps + 1] = st
    if log then log:info(("%-6s %s%s"):format(st.result, name, st.problem and ("\n       " .. st.problem) or "")) end
    if not good then ok = false end
  end
  local chunk = sandbox.compile(path, sandbox.env({ drill = api }), "script")
  local good, e = pcall(sandbox.call, path, "script", chunk)
  if not good then
    steps[#steps + 1] = { name = "(script)", result = "failed", problem = errors.text(e) }
    ok = false
  end
  return steps, ok
end

return M
