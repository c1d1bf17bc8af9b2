--- `luamig lint`: run migrations on a scratch database brought to the
--- revision before them, one at a time, recording every statement with
--- its migration file:line and watching what the server really does
--- (observe_pg: locks, rewrites, scans; observe_sqlite: table rebuilds,
--- the write lock); then the rules read the record. A migration that fails
--- is reported with its error and the lint goes on with the next one.
local errors = require "luamig.util.errors"
local host = require "luamig.host"
local runner = require "luamig.run.runner"
local version = require "luamig.run.version"
local plan = require "luamig.revision.plan"
local record = require "luamig.tools.lint.record"
local rules = require "luamig.tools.lint.rules"

local M = {}

local OBSERVERS = { postgresql = "luamig.tools.lint.observe_pg", sqlite = "luamig.tools.lint.observe_sqlite" }

---The observer module for a dialect.
function M.observer_for(dialect)
  local name = OBSERVERS[dialect.name]
  if not name then errors.raise("usage", ("luamig lint does not know the %s backend"):format(dialect.name)) end
  return require(name)
end

---@class luamig.LintMigration
---@field revision string
---@field path string
---@field message string
---@field ms number?
---@field result "ok"|"failed"
---@field error string?
---@field statements integer
---@field findings luamig.LintFinding[]
---@field observed table   the observer's summary (locks, rewritten, scanned... or rebuilds)
---@field refused {where: string?, sql: string, error: string}[]
---@field phase "expand"|"contract"|nil  a phased migration is linted once per phase

-- After a failed migration: record it as applied so the next one can run.
local function step_past(s, id)
  local t = version.tables(s.config, s.dialect)
  s.db:transaction(function(db)
    version.ensure(db, s.dialect, t)
    local heads = version.heads(db, t)
    version.set_heads(db, t, heads, plan.step_heads(s.graph, heads, id, "up"))
  end)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- Lint one migration: run it under the recorder and its observer.
local function lint_one(s, obs_mod, rec, id, opts, phase)
  local script = s.graph.revs[id]
  local vt = s.config.version_table
  local skip = { [vt] = true, [vt .. "_history"] = true, [vt .. "_expanded"] = true }
  local tables, setting = obs_mod.before(s.db, skip)
  local obs = obs_mod.observer(s.db, tables, setting, opts)
  local m = { revision = id, path = script.path, result = "ok", refused = {}, phase = phase,
    message = phase == "contract" and (script.message .. " (contract phase)") or script.message }
  rec.start(script.path, obs)
  local ok, err
  if phase == "contract" then ok, err = pcall(runner.run_contract, s, id) else ok, err = pcall(runner.run_one, s, id, "up") end
  local statements = rec.stop()
  if host.interrupted() then error(ok and ("interrupted (%s)"):format(host.interrupted()) or err, 0) end
  m.statements = 0
  for _, st in ipairs(statements) do
    if st.where then m.statements = m.statements + 1 end
    if st.error and st.error:find("cannot run inside a transaction block", 1, true) then
      m.refused[#m.refused + 1] = { where = st.where, sql = st.sql, error = st.error }
    end
  end
  if ok then m.ms = err else m.result, m.error = "failed", errors.text(err) end
  m.observed = obs.finish()
  m.findings = obs_mod.findings(statements, m.observed, obs, {
    existing = obs_mod.existing(tables), ignore = opts.ignore or {}, source = read(script.path), rules = rules })
  if not ok and phase ~= "contract" then step_past(s, id) end
  return m
end

---Lint `ids` (in order) on scratch session `s`, which is already at the
---revision before the first. opts.prepare(s) runs first (seeds, rows).
---@param s luamig.Session
---@param ids string[]
---@param opts {ignore: table<string, true>?, slow_ms: number?, prepare: fun()?}
---@return luamig.LintMigration[]
function M.run(s, ids, opts)
  local obs_mod = M.observer_for(s.dialect)
  local rec = record.install(s.db)
  local ok, res = pcall(function()
    local out = {}
    for _, id in ipairs(ids) do
      local phased = s.graph.revs[id].phased
      out[#out + 1] = lint_one(s, obs_mod, rec, id, opts, phased and "expand" or nil)
      -- each phase apart: the contract runs once the old application is gone
      if phased and out[#out].result == "ok" then out[#out + 1] = lint_one(s, obs_mod, rec, id, opts, "contract") end
    end
    return out
  end)
  rec.uninstall()
  if not ok then error(res, 0) end
  return res
end

return M
