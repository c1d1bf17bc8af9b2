--- Fleet runs: a command on many targets (--all, --target NAME...), at most
--- --jobs at once, in waves (--waves, --canary) with --continue-on-error,
--- one shard of the fleet (--shard K/N), resumable with --ledger FILE; a
--- live line while it runs, a summary table (or --json records) at the end.
---
--- Before anything is forked, targets finished in the ledger and targets
--- already at head (read in bulk: fleet/probe.lua) get their records
--- without a process.
---
--- The targets run in job processes forked from this one after the config
--- and the migration files are loaded (at most --jobs at once), each job
--- a batch of consecutive targets on one database: the child shares the
--- parsed graph copy-on-write, connects once for its batch (a schema per
--- tenant on one server: the connection is made as new between targets,
--- fleet/pool.lua), takes each target's lock in turn, and its memory is
--- returned when it exits. The parent holds no connection: at most --jobs
--- connections are open at once.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local session = require "luamig.run.session"
local scripts = require "luamig.revision.scripts"
local text = require "luamig.util.text"
local targets_mod = require "luamig.fleet.targets"
local job = require "luamig.fleet.job"
local probe = require "luamig.fleet.probe"
local waves_mod = require "luamig.fleet.waves"
local ledger_mod = require "luamig.fleet.ledger"

local M = {}

-- A whole number >= `min` from option `name`, or a usage error.
local function count_option(v, name, min, default)
  if v == nil then return default end
  local n = math.tointeger(tonumber(v))
  if not n or n < min then
    errors.raise("usage", ("%s must be a whole number of at least %d (got %s)"):format(name, min, text.visible(v)))
  end
  return n
end

local function live_line(state, total)
  if not state.tty then return end
  io.stderr:write(("\r\27[K%d/%d %s, %d failed, %d running"):format(state.done - state.failed, total, state.label,
    state.failed, state.running))
end

-- Targets a job runs at most: more would save little (one connection
-- each) and leave fewer batches to spread over the jobs near the end.
local MAX_BATCH = 50

-- The next batch from `queue` (positions of run.pending, from queue.head):
-- consecutive targets on one database, at most a share of what is left.
local function next_batch(run, queue)
  local left = #queue - queue.head + 1
  local size = math.max(1, math.min(MAX_BATCH, math.ceil(left / run.jobs)))
  local batch, positions, db = {}, {}, nil
  while #batch < size and queue.head <= #queue do
    local p = queue[queue.head]
    local t = run.targets[run.pending[p]]
    if db and targets_mod.database(t) ~= db then break end
    db = targets_mod.database(t)
    batch[#batch + 1], positions[#positions + 1], queue.head = t, p, queue.head + 1
  end
  return batch, positions
end

-- Run the targets at positions first..last of run.pending (at most `jobs`
-- jobs at once); stop launching after a failure unless `keep_going`, or at
-- an interrupt, which is passed on to the running jobs (a terminal's
-- Ctrl-C reached them already; a SIGTERM to this process alone did not).
-- The targets a job died before starting go back to the queue.
-- Returns true when none failed.
local function run_range(run, first, last, keep_going)
  local state, running, clean = run.state, {}, true
  local stop, passed_on = false, false
  local queue = { head = 1 }
  for p = first, last do queue[#queue + 1] = p end
  local function halt()
    if not stop then job.stop_all(run.dir) end
    stop = true
  end
  while true do
    while not stop and not host.interrupted() and queue.head <= #queue and state.running < run.jobs do
      local batch, positions = next_batch(run, queue)
      running[job.start(run.cmd, run.args, run.ctx, batch, run.dir, keep_going, run.ledger)] = { batch = batch, at = positions }
      state.running = state.running + 1
    end
    if state.running == 0 then break end
    live_line(state, #run.targets)
    local pid, code = host.wait(true)
    local sig = host.interrupted()
    if sig and not passed_on then
      halt()
      passed_on = true
      for child in pairs(running) do host.kill(child, sig) end
    end
    local j = pid and running[pid]
    if j then
      running[pid] = nil
      state.running = state.running - 1
      local recs, stopped = job.collect(j.batch, run.dir, pid, code)
      if stopped then halt() end
      local again = {}
      for k, p in ipairs(j.at) do
        local rec, i = recs[k], run.pending[p]
        if rec then
          run.records[i] = rec
          if run.ledger and not rec.ledgered then run.ledger:append(rec) end -- (the job's are there)
          rec.ledgered = nil
          state.done = state.done + 1
          if rec.status == "failed" then
            state.failed, clean = state.failed + 1, false
            if not keep_going then halt() end
          end
        else
          again[#again + 1] = p
        end
      end
      -- the targets a job died before starting: first in the queue again
      for k = #again, 1, -1 do
        queue.head = queue.head - 1
        queue[queue.head] = again[k]
      end
    elseif not pid and not sig then
      break
    end
  end
  live_line(state, #run.targets)
  return clean and not stop
end

-- What a ledger line must match to count: the command, where it goes, and
-- the migrations' heads (a ledger of another deploy skips nothing).
local function ledger_key(cmd, args, graph)
  local heads = {}
  for i, h in ipairs(graph:heads()) do heads[i] = h end
  table.sort(heads)
  return ("%s %s %s"):format(cmd.name, args.target or "head", table.concat(heads, ","))
end

-- The records of the targets that need no child: finished in the ledger,
-- or already at head by the bulk check (appended to the ledger). Returns
-- the positions of the others, in order.
local function settle(run)
  local graph, open, pending = run.ctx.graph, {}, {}
  for i, t in ipairs(run.targets) do
    local done = run.ledger and run.ledger.done[t.name]
    if done then
      done.ledger = true
      run.records[i] = done
    else
      open[#open + 1] = i
    end
  end
  local heads = {}
  if job.skips_at_head(run.cmd, run.args) then
    local list = {}
    for k, i in ipairs(open) do list[k] = run.targets[i] end
    heads = probe.heads(run.ctx.config, list)
  end
  for _, i in ipairs(open) do
    local name = run.targets[i].name
    if heads[name] and job.at_head(run.cmd, run.args, graph, heads[name]) then
      run.records[i] = job.skipped(name, heads[name])
      if run.ledger then run.ledger:append(run.records[i], false) end
    else
      pending[#pending + 1] = i
    end
  end
  if run.ledger then run.ledger:sync() end
  return pending
end

-- Counts of `records` by status (as the summary's fields).
local function tally(into, records)
  for _, rec in ipairs(records) do
    local key = rec.status == "not run" and "not_run" or rec.status
    into[key] = into[key] + 1
  end
  return into
end

---Run `cmd` on the targets `args` names. The result holds one record per
---target (in target order), the counts, and with --waves/--canary one
---record per wave.
---@param cmd luamig.Command
---@param ctx luamig.Context
---@param args table
---@return table
function M.run(cmd, ctx, args)
  local jobs = count_option(args.jobs, "--jobs", 1, 1)
  local wave_specs = waves_mod.parse(args.waves, args.canary)
  local shard_k, shard_n
  if args.shard then shard_k, shard_n = targets_mod.parse_shard(args.shard) end
  local list = targets_mod.select(targets_mod.all(ctx.config, args.targets_file), args.fleet_target)
  if shard_k then list = targets_mod.shard(list, shard_k, shard_n) end
  local graph = session.graph(ctx) -- once, before forking: a bad migration file stops the run before any target
  local run = { cmd = cmd, args = args, ctx = ctx, targets = list, jobs = jobs, records = {},
    ledger = args.ledger and ledger_mod.open(args.ledger, ledger_key(cmd, args, graph)),
    state = { done = 0, failed = 0, running = 0, label = cmd.name == "upgrade" and "at head" or "done",
      tty = host.isatty(2) and not ctx.log.quiet and not ctx.log.json } }
  local keep = args.continue_on_error
  local plan, ran_waves = nil, 0
  -- an interrupt is polled between children here (it must not unwind this
  -- loop while children run), and ends the run with the summary
  host.defer_interrupts(true)
  local ran, err = pcall(function()
    run.pending = settle(run)
    run.state.done = #list - #run.pending
    plan = waves_mod.plan(wave_specs, #run.pending)
    if #run.pending == 0 then return end
    -- the children inherit the compiled migrations (not each reading and compiling the files)
    if #run.pending > 1 then scripts.compile_all(ctx.loaded) end
    -- the children's records: a directory only this user can read, removed at the end
    run.dir = host.private_dir(os.getenv("TMPDIR") or "/tmp", "luamig-fleet-")
    for _, w in ipairs(plan) do
      ran_waves = ran_waves + 1
      if not run_range(run, w.first, w.last, keep) then break end
    end
  end)
  host.defer_interrupts(false)
  if run.dir then job.remove_dir(run.dir) end
  if run.ledger then run.ledger:close() end
  if not ran then error(err, 0) end
  if run.state.tty then io.stderr:write("\n") end
  local out = tally({ targets = {}, total = #list, ok = 0, skipped = 0, failed = 0, not_run = 0, from_ledger = 0 }, {})
  for i, t in ipairs(list) do
    out.targets[i] = run.records[i] or { name = t.name, status = "not run" }
    if out.targets[i].ledger then out.from_ledger = out.from_ledger + 1 end
  end
  tally(out, out.targets)
  if wave_specs then
    out.waves = {}
    for w, range in ipairs(plan) do
      local recs = {}
      for p = range.first, range.last do recs[#recs + 1] = out.targets[run.pending[p]] end
      local rec = tally({ wave = w, targets = #recs, ok = 0, skipped = 0, failed = 0, not_run = 0 }, recs)
      rec.status = w > ran_waves and "not run" or (rec.failed > 0 or rec.not_run > 0) and "failed" or "ok"
      out.waves[w] = rec
    end
  end
  return out
end

local function heads_text(h) return h and text.heads(h) or "?" end

---The summary table, the failures' messages, and the counts.
---@param log luamig.Log
---@param r table  M.run's result
function M.render(log, r)
  local width = 6
  for _, rec in ipairs(r.targets) do width = math.max(width, #text.visible(rec.name)) end
  local fmt = "%-" .. width .. "s  %-8s  %-30s  %5s  %7s"
  log:result(fmt:format("TARGET", "STATUS", "HEADS BEFORE -> AFTER", "STEPS", "MS"))
  for _, rec in ipairs(r.targets) do
    local heads = rec.heads_before and (heads_text(rec.heads_before) .. " -> " .. heads_text(rec.heads_after)) or ""
    log:result(fmt:format(text.visible(rec.name), rec.status, text.visible(heads), rec.steps or "", rec.ms or ""))
  end
  for _, rec in ipairs(r.targets) do
    if rec.error then log:result(("%s: %s"):format(text.visible(rec.name), text.visible(rec.error, true))) end
  end
  for _, w in ipairs(r.waves or {}) do
    log:result(("wave %d (%s): %s: %d ok, %d already at head, %d failed, %d not run"):format(w.wave,
      text.count(w.targets, "target"), w.status, w.ok, w.skipped, w.failed, w.not_run))
  end
  log:result(("%s: %d ok, %d already at head, %d failed, %d not run%s"):format(text.count(r.total, "target"), r.ok,
    r.skipped, r.failed, r.not_run, r.from_ledger > 0 and
    (" (%d finished by an earlier run, from the ledger)"):format(r.from_ledger) or ""))
end

---Non-zero when any target failed (the first failed target's code) or was not run.
---@param r table
---@return integer
function M.exit(r)
  for _, rec in ipairs(r.targets) do
    if rec.status == "failed" then return rec.exit ~= 0 and rec.exit or errors.EXIT.failure end
  end
  return r.not_run > 0 and errors.EXIT.failure or errors.EXIT.ok
end

---`cmd` run as a fleet command (what dispatch runs for --all or --target).
---@param cmd luamig.Command
---@return luamig.Command
function M.command(cmd)
  return { name = cmd.name, help = cmd.help, run = function(ctx, args) return M.run(cmd, ctx, args) end,
    render = M.render, exit = M.exit }
end

return M
