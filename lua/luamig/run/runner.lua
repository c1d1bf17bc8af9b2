--- Runs migrations: one transaction per step with its version update, or one
--- around the whole run; takes the write lock before reading the version.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local version = require "luamig.run.version"
local plan_mod = require "luamig.revision.plan"
local scripts = require "luamig.revision.scripts"
local failure = require "luamig.run.failure"
local replicas_mod = require "luamig.run.replicas"
local text = require "luamig.util.text"
local sandbox = require "luamig.util.sandbox"
local timeouts = require "luamig.run.timeouts"
local backfill = require "luamig.run.backfill"

local M = {}

---@class luamig.Step
---@field revision string
---@field direction "up"|"down"|"contract"
---@field phase "upgrade"|"expand"|"contract"|"downgrade"  the phase it ended in (uncontract runs before a downgrade)
---@field ms number
---@field message string
---@field transactional boolean

---@class luamig.RunOptions
---@field direction "up"|"down"|"contract"  contract: the pending contract phases (heads stay)
---@field plan fun(heads: string[], expanded: table<string, string>): string[]   revisions to run, in order
---@field contract boolean?  upgrade: run each expand's contract in the same step (upgrade --contract)
---@field on_step fun(step: luamig.Step)?
---@field on_plan fun(heads: string[], plan: string[])? called once, under the lock
---@field hook fun(name: string, info: table)?  plugin hooks (luamig.plugins.run_hook)

---@class luamig.Session
---@field db luamig.Db
---@field dialect luamig.Dialect
---@field config luamig.Config
---@field graph luamig.Graph
---@field log luamig.Log

-- The same heads, in any order.
local function same(a, b)
  if #a ~= #b then return false end
  local set = {}
  for _, v in ipairs(a) do set[v] = true end
  for _, v in ipairs(b) do
    if not set[v] then return false end
  end
  return true
end

local function rollback(db) db:rollback() end

-- Runs f(...) and returns ok, or false and the error object (errors.caught:
-- with a traceback for --debug).
local function attempt(f, ...)
  return xpcall(f, errors.caught, ...)
end

-- The bodies step `id` runs, in order, each { phase, fn, replay }: replay
-- runs expand(db) again with only its op.online calls acting, for the phase
-- the file did not write (luamig.run.online). `expanded`: the revisions whose
-- contract is pending.
local function bodies_of(script, direction, expanded, with_contract)
  local contract = { "contract", script.contract or script.upgrade, not script.contract }
  if direction == "contract" then return { contract } end
  if direction == "up" then
    if not script.phased then return { { "upgrade", script.upgrade } } end
    return with_contract and { { "expand", script.upgrade }, contract } or { { "expand", script.upgrade } }
  end
  local down = { "downgrade", script.downgrade or (script.phased and script.upgrade), not script.downgrade }
  if script.phased and not expanded[script.id] then return { { "uncontract", script.uncontract }, down } end
  return { down }
end

-- Check the plan before running any of it: every step can run in this mode.
local function check_plan(s, plan, direction, whole_run, expanded)
  for _, id in ipairs(plan) do
    local script = s.graph.revs[id]
    if direction == "down" and not script.downgrade and not (script.phased and script.online) then
      errors.raise("script", ("%s: revision %s has no downgrade(db); write one or stamp past it")
        :format(script.path, id))
    end
    if direction == "down" and script.phased and not expanded[id] and not script.uncontract then
      errors.raise("script", ("%s: revision %s was contracted; downgrading past it needs uncontract(db) to undo its " ..
        "contract phase; write one (nothing ran)"):format(script.path, id))
    end
    if direction == "contract" and not expanded[id] then
      errors.raise("script", ("%s: revision %s has no pending contract: its expand is not applied, or it was " ..
        "contracted already (nothing ran)"):format(script.path, id))
    end
    if direction == "down" and script.change then
      -- (here: commands that run nothing never load the ops, as step_mod below)
      local ok, err = require("luamig.schema.ops").reversible(script.change, script.path)
      if not ok then error(err, 0) end
    end
    if whole_run and not script.transactional then
      errors.raise("config", ('%s: transaction = "all" cannot include a migration with transactional = false (%s)')
        :format(script.path, id))
    end
  end
end

local function warn_drift(s, t, heads)
  local applied = s.graph:ancestors(heads)
  local last = version.last_applied(version.history(s.db, t))
  for _, id in ipairs(s.graph:ordered(applied)) do
    local rec, script = last[id], s.graph.revs[id]
    if rec and rec.checksum and script and rec.checksum ~= script.checksum then
      s.log:warn(("%s (%s) changed after it was applied at %s; `luamig status` lists drifted files")
        :format(script.path, id, rec.applied_at))
    end
  end
end

-- Runs step `id`'s bodies (bodies_of) with its step context; returns ok,
-- err, its time in ms and the rows its backfills wrote (for its summary line).
local function run_body(r, id)
  local step_mod = require "luamig.run.step" -- (here: commands that run nothing never load the ops)
  local s = r.s
  local script = s.graph.revs[id]
  local bodies = bodies_of(script, r.direction, r.expanded, r.contract)
  local t0 = host.now_ms()
  local tx = script.transactional or s.dry_run
  local ctx = step_mod.new(s.db, s.dialect, script, { log = s.log, dry_run = s.dry_run, transactional = tx,
    replicas = r.replicas, root = s.config.dir, force = r.force,
    still_written = s.config.still_written or 300 })
  -- in the step's transaction the driver refuses (SQLite) or reports
  -- (PostgreSQL) a migration's own BEGIN, COMMIT or ROLLBACK
  if tx then s.db:guard(true) end
  local caught = sandbox.caught_in(script.path, "migration") -- (errors name the migration's line)
  local started = 0 -- the bodies begun
  local ok, err = step_mod.call(ctx, script, function(f, ...) return xpcall(f, caught, ...) end, function(db)
    if r.hook then r.hook("before_migration", { revision = id, direction = r.direction, message = script.message }) end
    local t = timeouts.of(script, s.config)
    s.dialect.apply_timeouts(s.db, t, tx)
    s.db.step_timeouts = t
    for i, b in ipairs(bodies) do
      started = i
      step_mod.phase(ctx, b[1], b[2], b[3], db)
    end
    s.dialect.check_step(s.db, r.setup)
  end, s.db:public())
  s.db:end_step()
  ok, err = failure.checked_body(s, tx, ok, err)
  if not ok then -- (for its message: the phase that failed; a refusal of the first body's checks ran nothing)
    err.phase = ctx.phase
    err.nothing_ran = (err.refused and started == 1) or nil
  end
  return ok, err, math.floor((host.now_ms() - t0) * 1000 + 0.5) / 1000, ctx.rows > 0 and ctx.rows or nil
end

-- The phase the history records for step `id` (the last body it ran).
local function phase_of(r, id)
  local bodies = bodies_of(r.s.graph.revs[id], r.direction, r.expanded, r.contract)
  return bodies[#bodies][1]
end

-- The step's bookkeeping (the heads, its phase, its history row) and, with
-- `commit`, the COMMIT: queued on the connection's pipeline, so that on
-- PostgreSQL they are one round trip (on SQLite each runs at once). A
-- failure among them raises before anything is committed. Returns the new heads.
-- `sectioned`: a db:autocommit section ran in the step (its backfills checkpointed).
local function finish_step(r, id, heads, ms, commit, sectioned)
  local s, t = r.s, r.t
  local db, script = s.db, s.graph.revs[id]
  local phase = phase_of(r, id)
  -- its completed backfills (outside a transaction: checkpointed) stay done until now, in the same transaction
  if not script.transactional or sectioned then backfill.forget(db, id) end
  local queue = { exec = function(_, sql, ...) db:pipeline_send(sql, ...) end }
  local new = heads
  if r.direction ~= "contract" then
    new = plan_mod.step_heads(s.graph, heads, id, r.direction)
    version.set_heads(queue, t, heads, new)
  end
  if script.phased then
    version.set_expanded(queue, t, id, phase == "expand")
    r.expanded[id] = phase == "expand" and (r.expanded[id] or "now") or nil
  end
  version.record(queue, t, { revision = id, direction = r.direction == "down" and "down" or "up", status = "ok",
    checksum = script.checksum, ms = ms, transactional = script.transactional, phase = phase })
  if commit then queue:exec("COMMIT") end
  db:pipeline_sync()
  if commit then r.tables_ready = true end -- (the version tables exist from now on)
  return new
end

-- A step is done (committed): report it, then the after_migration hooks.
local function emit(r, id, ms, rows)
  local script = r.s.graph.revs[id]
  local phase = phase_of(r, id)
  scripts.release(script) -- (done with its code)
  local step = { revision = id, direction = r.direction, ms = ms, message = script.message,
    transactional = script.transactional, rows = rows, phase = phase }
  if r.replicas then r.replicas:wait(id) end -- wait_for_replicas
  if r.on_step then r.on_step(step) end
  if r.hook then r.hook("after_migration", step) end
end

-- The connection set-up (dialect.step_setup) for running `ids` in one
-- transaction; the dialect applies a change outside any transaction.
local function setup_for(r, ids)
  local list = {}
  for i, id in ipairs(ids) do list[i] = r.s.graph.revs[id] end
  return r.s.dialect.step_setup(r.s.config, list)
end

local function apply_setup(r, setup)
  rollback(r.s.db)
  r.s.dialect.apply_setup(r.s.db, setup)
  r.setup = setup
end

-- The whole plan in the open transaction. Returns { heads = ... } when it
-- ran, or { setup = ... } when the plan needs another connection set-up
-- first (nothing ran).
local function run_plan(r)
  local s, t = r.s, r.t
  version.ensure(s.db, s.dialect, t)
  local heads = version.heads(s.db, t, true)
  r.expanded = version.expanded(s.db, t)
  local plan = r.plan(heads, r.expanded)
  check_plan(s, plan, r.direction, not s.dry_run, r.expanded)
  local setup = setup_for(r, plan)
  if setup ~= r.setup then return { setup = setup } end
  r.on_plan(heads, plan)
  local done = {}
  for _, id in ipairs(plan) do
    local body_ok, body_err, ms, rows = run_body(r, id)
    if not body_ok then
      rollback(s.db)
      failure.step { s = s, t = t, id = id, direction = r.direction, tx = true, err = body_err, ms = ms }
    end
    heads = finish_step(r, id, heads, ms)
    done[#done + 1] = { id, ms, rows }
  end
  s.db:exec(s.dry_run and "ROLLBACK" or "COMMIT") -- a dry run leaves nothing behind
  for _, d in ipairs(done) do emit(r, d[1], d[2], d[3]) end
  return { heads = heads }
end

-- transaction = "all": one transaction around every step.
local function run_all(r)
  local s = r.s
  while true do
    s.dialect.begin_locked(s.db)
    local ok, res = attempt(run_plan, r)
    if not ok then
      rollback(s.db)
      error(res, 0)
    end
    if res.heads then return res.heads end
    apply_setup(r, res.setup) -- then plan again under the lock
  end
end

-- Under the lock, in a new transaction: the heads and the next step to run
-- (nil when done). The plan is recomputed when another runner moved the
-- heads since `walk.expected`.
local function next_step(r, walk)
  local s, t = r.s, r.t
  local ok, step = attempt(function()
    s.dialect.begin_locked(s.db)
    if not r.tables_ready then version.ensure(s.db, s.dialect, t) end -- (until a step committed them)
    local heads = version.heads(s.db, t, true)
    -- (an upgrade needs the pending contracts only when it plans: a saved catalog read per step)
    if r.direction ~= "up" or not walk.expected or not same(heads, walk.expected) then
      r.expanded = version.expanded(s.db, t)
    end
    if not walk.expected or not same(heads, walk.expected) then
      walk.plan = r.plan(heads, r.expanded)
      check_plan(s, walk.plan, r.direction, false, r.expanded)
      if not walk.planned then r.on_plan(heads, walk.plan) end
      walk.planned = true
    end
    return { id = table.remove(walk.plan, 1), heads = heads }
  end)
  if not ok then
    rollback(s.db)
    failure.between_steps(r, walk, step)
  end
  return step.id, step.heads
end

-- A transactional step: its body, the version update and COMMIT in the
-- transaction next_step opened.
local function run_in_transaction(r, walk, id, heads)
  local s = r.s
  local sections = s.db.sections
  local ms, rows
  local label = r.label(id)
  -- (attempt: an interrupt in the backoff's sleep fails the step like one in its body)
  local no_raise, body_ok, err = attempt(timeouts.with_retries, timeouts.of(s.graph.revs[id], s.config).lock_retries,
    label, function(line) s.log:warn(line) end,
    function() -- (not after a db:autocommit section: that part was committed)
      if s.db.sections > sections then return false end
      rollback(s.db)
      s.dialect.begin_locked(s.db)
      version.ensure(s.db, s.dialect, r.t) -- the rollback took them when this run created them
      return true
    end,
    function()
      local ok, e
      ok, e, ms, rows = run_body(r, id)
      return ok, e
    end)
  if not no_raise then body_ok, err = false, body_ok end -- (then body_ok holds attempt's error)
  if body_ok then
    body_ok, err = attempt(function()
      walk.expected = finish_step(r, id, heads, ms, true, s.db.sections > sections)
    end)
  end
  if not body_ok then
    rollback(s.db)
    failure.step { s = s, t = r.t, id = id, direction = r.direction, tx = true, err = err, ms = ms,
      rolled_back_to = text.heads(heads), partial = s.db.sections > sections }
  end
  r.committed[#r.committed + 1] = r.label(id)
  emit(r, id, ms, rows)
end

-- A step outside a transaction: release the write lock while the body
-- runs, then record the step under the lock again.
local function run_outside(r, walk, id)
  local s = r.s
  s.db:exec "COMMIT"
  local body_ok, err, ms, rows = run_body(r, id)
  if not body_ok then
    rollback(s.db)
    failure.step { s = s, t = r.t, id = id, direction = r.direction, tx = false, err = err, ms = ms }
  end
  local rec_ok, rec_err = attempt(function()
    s.dialect.begin_locked(s.db)
    walk.expected = finish_step(r, id, version.heads(s.db, r.t, true), ms, true) -- (next_step's ensure is committed)
  end)
  if not rec_ok then
    rollback(s.db)
    failure.between_steps(r, walk, rec_err, ("after %s ran (outside a transaction), before it was recorded")
      :format(r.label(id)))
  end
  r.committed[#r.committed + 1] = r.label(id)
  emit(r, id, ms, rows)
end

-- Per-migration: each step in its own locked transaction.
local function run_each(r)
  local walk = {} -- plan, expected (the heads the plan assumes), planned
  while true do
    local id, heads = next_step(r, walk)
    if not id then
      r.s.db:exec "COMMIT"
      return heads
    end
    local setup = setup_for(r, { id })
    if setup ~= r.setup then
      -- set the connection up outside a transaction, then take the step
      -- again under the lock (this plan holds unless the heads move meanwhile)
      apply_setup(r, setup)
      table.insert(walk.plan, 1, id)
      walk.expected = heads
    elseif r.s.graph.revs[id].transactional then
      run_in_transaction(r, walk, id, heads)
    else
      run_outside(r, walk, id)
    end
  end
end

-- The state of one run: the session, the version tables, the caller's
-- options (never modified) and the connection's current set-up. Its
-- `committed` lists the steps this run committed, labelled (r.label).
local function new_run(s, opts)
  local r = { s = s, t = version.tables(s.config, s.dialect, s.db), direction = opts.direction, hook = opts.hook,
    on_step = opts.on_step, committed = {}, replicas = not s.dry_run and replicas_mod.of_session(s) or nil,
    contract = opts.contract, force = opts.force, expanded = {} }
  function r.label(id) return phase_of(r, id) .. " " .. id end -- (a step, in messages: "expand exp00001")
  local warned = false
  function r.plan(heads, expanded)
    if opts.direction == "up" and not warned then
      warned = true
      warn_drift(s, r.t, heads)
    end
    return opts.plan(heads, expanded)
  end
  function r.on_plan(heads, plan) -- under the lock, before anything runs
    if opts.on_plan then opts.on_plan(heads, plan) end
    if opts.hook then opts.hook("before_run", { direction = opts.direction, heads = heads, plan = plan }) end
  end
  r.initial_setup = s.dialect.step_setup(s.config, {})
  r.setup = r.initial_setup
  return r
end

---Run migrations in one direction until `opts.plan` has nothing left.
---Raises a "migration" error (after recording it) when a step fails.
---@param s luamig.Session
---@param opts luamig.RunOptions
---@return string[] heads the heads afterwards
function M.run(s, opts)
  -- a new collection cycle once the heap is 1.2x what the last one left
  -- (Lua's default: 2x, kept for start-up, which is mostly live data): a
  -- run of thousands of steps, each leaving a little garbage, stays near its
  -- live size. (1.0 would collect without pause, at 50x the CPU.)
  collectgarbage("incremental", 120)
  local r = new_run(s, opts)
  local seen = version.last_id(s.db, r.t)
  s.dialect.lock_run(s.db, s.config, s.log)
  -- a runner that held the lock while this one waited, and failed: stop
  -- with its failure rather than run the same step again
  local failed = version.failure_after(s.db, r.t, seen)
  if failed then
    s.dialect.unlock_run(s.db, s.config)
    errors.raise("migration", ("%s %s %s in another run while this one waited for the migration lock: %s; " ..
      "nothing ran here (`luamig status` shows it)"):format(failed.revision,
      failed.direction == "down" and "downgrade" or "upgrade", failed.status, tostring(failed.error)),
      { code = "failed_while_waiting", revision = failed.revision })
  end
  local whole = s.config.transaction == "all" or s.dry_run
  if whole then
    s.db:refuse_autocommit('db:autocommit cannot run with transaction = "all": ' ..
      "the run is one transaction; use the default per-migration transactions")
  end
  local ok, res = pcall(whole and run_all or run_each, r)
  s.db:refuse_autocommit(nil)
  rollback(s.db)
  if r.setup ~= r.initial_setup and not s.db:is_closed() then s.dialect.apply_setup(s.db, r.initial_setup) end
  s.dialect.unlock_run(s.db, s.config)
  if r.replicas then r.replicas:close() end
  if not ok then
    if opts.hook then
      local hook_ok, hook_err = pcall(opts.hook, "on_error", { direction = opts.direction, error = errors.text(res) })
      if not hook_ok then s.log:warn(errors.text(hook_err)) end
    end
    error(res, 0)
  end
  if opts.hook then opts.hook("after_run", { direction = opts.direction, heads = res }) end
  return res
end

---Run exactly revision `id` in `direction` (whatever the stored heads say:
---drills and lint step on a scratch database).
---@param s luamig.Session
---@param id string
---@param direction "up"|"down"|"contract"  contract: its pending contract phase (the still-written guard is off)
---@return number ms its time
function M.run_one(s, id, direction)
  local given, ms = false, nil
  M.run(s, { direction = direction, force = direction == "contract", on_step = function(st) ms = st.ms end,
    plan = function()
      if given then return {} end
      given = true
      return { id }
    end })
  return ms
end

---Run in `direction` to `target` ("heads", "base", a revision, "+1", "-2"),
---or up to every one of a list of heads.
---@param s luamig.Session
---@param direction "up"|"down"
---@param target string|string[]
---@return string[] heads the heads afterwards
function M.run_to(s, direction, target)
  if type(target) == "table" then
    local heads = {}
    for _, t in ipairs(target) do heads = M.run_to(s, direction, t) end
    return heads
  end
  return M.run(s, { direction = direction, plan = plan_mod.planner(s.graph, direction, target) })
end

return M
