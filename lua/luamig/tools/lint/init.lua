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
local contention = require "luamig.tools.lint.contention"

local M = {}

---The observer module for a dialect (its lint_observer).
---@param dialect luamig.Dialect
function M.observer_for(dialect)
  return require(dialect.lint_observer)
end

---Every rule's id, on any backend (for lint.ignore).
---@return string[]
function M.rule_ids()
  local out = {}
  local lists = { rules.LIST, rules.OTHER }
  local dialects = require "luamig.dialect"
  for _, name in ipairs(dialects.NAMES) do
    local own = M.observer_for(dialects.load(name)).RULES
    if own then lists[#lists + 1] = own end
  end
  for _, list in ipairs(lists) do
    for _, r in ipairs(list) do out[#out + 1] = r.id end
  end
  return out
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
---@field contention table?  --contention: the workload's waits per statement
---@field scaled table?   durations times the cap ratio of its largest capped table (--rows-from-target)
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

-- The durations of migration `m` scaled by the largest cap ratio among the
-- tables it locked, rebuilt or rewrote (opts.filler's), or nil.
local function scaled(m, filler)
  local o, best = m.observed, nil
  local function consider(name)
    local r = filler.ratio[name]
    if r and (not best or r.ratio > best.ratio) then best = { ratio = r.ratio, relation = name, rows = r.rows,
      filled = r.filled } end
  end
  for _, l in ipairs(o.locks or {}) do consider(l.relation) end
  for _, r in ipairs(o.rebuilds or {}) do consider(r.table) end
  for _, name in ipairs(o.rewritten or {}) do consider(name) end
  if not best then return nil end
  best.ms = m.ms and m.ms * best.ratio
  best.held_ms = o.strongest and o.strongest.held_ms * best.ratio
  best.write_lock_ms = o.write_lock_ms and o.write_lock_ms * best.ratio
  return best
end

-- The existing tables (a set of names) migration text `src` names, sorted:
-- those --contention plays its workload on.
local function named_in(existing, src)
  local out = {}
  for name in pairs(existing) do
    if src and src:find("%f[%w_]" .. name:gsub("%W", "%%%0") .. "%f[^%w_]") then out[#out + 1] = name end
  end
  table.sort(out)
  return out
end

-- The --contention workload for migration `script`, started (or nil).
local function start_workload(s, obs_mod, tables, source, opts)
  if not opts.contention then return nil end
  local touched = named_in(obs_mod.existing(tables), source)
  if #touched == 0 then return nil end
  return contention.start({ url = s.url, config = s.config, long_tx_ms = opts.contention.long_tx_ms,
    workload = obs_mod.workload }, touched), touched
end

-- Per statement with a file:line, what the workload saw (st.contention).
local function contention_report(statements, touched, span)
  local out = { tables = touched, long_tx_ms = span and (span.stop - span.start), statements = {} }
  for _, st in ipairs(statements) do
    if st.contention then
      local c = st.contention
      out.statements[#out.statements + 1] = { where = st.where, reads = c.reads, writes = c.writes,
        queued_ms = c.queued_ms, gave_up = c.gave_up, failed = st.error and true or nil }
    end
  end
  return out
end

-- Lint one migration: fill the tables not filled yet, then run it under
-- the recorder and its observer (and the --contention workload); `phase`:
-- which phase of a phased migration (nil: an ordinary one).
local function lint_one(s, obs_mod, rec, id, opts, run, phase)
  local script = s.graph.revs[id]
  local vt = s.config.version_table
  local skip = { [vt] = true, [vt .. "_history"] = true, [vt .. "_expanded"] = true }
  if opts.filler then opts.filler.fill(s.db, s.dialect.fill_info(s.db, skip)) end
  local tables, setting = obs_mod.before(s.db, skip)
  local obs = obs_mod.observer(s.db, tables, setting, opts, run)
  local m = { revision = id, path = script.path, result = "ok", refused = {}, phase = phase,
    message = phase == "contract" and (script.message .. " (contract phase)") or script.message }
  local source = read(script.path)
  local workload, touched = start_workload(s, obs_mod, tables, source, opts)
  rec.start(script.path, obs)
  local ok, err = pcall(runner.run_one, s, id, phase == "contract" and "contract" or "up")
  local statements = rec.stop()
  if workload then
    local ops, span = workload.stop()
    contention.attribute(statements, ops, span)
    m.contention = contention_report(statements, touched, span)
  end
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
    existing = obs_mod.existing(tables), ignore = opts.ignore or {}, source = source, rules = rules,
    max_wait_ms = opts.contention and opts.contention.max_wait_ms })
  if opts.filler then m.scaled = scaled(m, opts.filler) end
  if not ok and phase ~= "contract" then step_past(s, id) end
  return m
end

---Lint `ids` (in order) on scratch session `s`, which is already at the
---revision before the first. Before each migration opts.filler (rows.filler)
---fills the tables it has not filled yet.
---@param s luamig.Session
---@param ids string[]
---@param opts {ignore: table<string, true>?, slow_ms: number?, filler: table?, contention: table?}
---@return luamig.LintMigration[] migrations, string[] notes  (e.g. a replica not measured)
function M.run(s, ids, opts)
  local obs_mod = M.observer_for(s.dialect)
  if opts.contention and not obs_mod.workload then
    errors.raise("usage", ("lint --contention does not know the %s backend"):format(s.dialect.name))
  end
  local run = obs_mod.start and obs_mod.start(s, opts) or {}
  local rec = record.install(s.db)
  local ok, res = pcall(function()
    local out = {}
    for _, id in ipairs(ids) do
      local phased = s.graph.revs[id].phased
      out[#out + 1] = lint_one(s, obs_mod, rec, id, opts, run, phased and "expand" or nil)
      -- each phase apart: the contract runs once the old application is gone
      if phased and out[#out].result == "ok" then
        out[#out + 1] = lint_one(s, obs_mod, rec, id, opts, run, "contract")
      end
    end
    return out
  end)
  rec.uninstall()
  if obs_mod.stop then obs_mod.stop(run) end
  if not ok then error(res, 0) end
  return res, run.notes or {}
end

return M
