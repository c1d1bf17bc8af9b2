--- Fleet runs: a command on many targets (--all, --target NAME...), at most
--- --jobs at once, with --canary K first and --continue-on-error; a live
--- line while it runs, a summary table (or --json records) at the end.
---
--- Each target runs in a process of its own, forked from this one after the
--- config and the migration files are loaded: the child shares the parsed
--- graph copy-on-write, opens its own connection and takes its own lock, and
--- its memory is returned when it exits. The parent holds no connection:
--- at most --jobs connections are open at once, one per running target.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local context = require "luamig.cli.context"
local text = require "luamig.util.text"
local targets_mod = require "luamig.fleet.targets"
local job = require "luamig.fleet.job"

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

-- Run records[first..last] (at most `jobs` at once); stop launching after a
-- failure unless `keep_going`, or at an interrupt, which is passed on to the
-- running children (a terminal's Ctrl-C reached them already; a SIGTERM to
-- this process alone did not). Returns true when none failed.
local function run_range(run, first, last, keep_going)
  local state, running, next_i, clean = run.state, {}, first, true
  local stop, passed_on = false, false
  while true do
    while not stop and not host.interrupted() and next_i <= last and state.running < run.jobs do
      running[job.start(run.cmd, run.args, run.ctx, run.targets[next_i], run.dir)] = next_i
      state.running, next_i = state.running + 1, next_i + 1
    end
    if state.running == 0 then break end
    live_line(state, #run.targets)
    local pid, code = host.wait(true)
    local sig = host.interrupted()
    if sig and not passed_on then
      stop, passed_on = true, true
      for child in pairs(running) do host.kill(child, sig) end
    end
    local i = pid and running[pid]
    if i then
      running[pid] = nil
      local rec = job.collect(run.targets[i], run.dir, pid, code)
      run.records[i] = rec
      state.running, state.done = state.running - 1, state.done + 1
      if rec.status == "failed" then
        state.failed, clean = state.failed + 1, false
        if not keep_going then stop = true end
      end
    elseif not pid and not sig then
      break
    end
  end
  live_line(state, #run.targets)
  return clean and not stop
end

---Run `cmd` on the targets `args` names. The result holds one record per
---target (in target order) and the counts.
---@param cmd luamig.Command
---@param ctx luamig.Context
---@param args table
---@return table
function M.run(cmd, ctx, args)
  local jobs = count_option(args.jobs, "--jobs", 1, 1)
  local canary = count_option(args.canary, "--canary", 1, 0)
  local list = targets_mod.select(targets_mod.all(ctx.config, args.targets_file), args.fleet_target)
  context.graph(ctx) -- once, before forking: a bad migration file stops the run before any target
  local run = { cmd = cmd, args = args, ctx = ctx, targets = list, jobs = jobs, records = {},
    -- the children's records: a directory only this user can read, removed at the end
    dir = host.private_dir(os.getenv("TMPDIR") or "/tmp", "luamig-fleet-"),
    state = { done = 0, failed = 0, running = 0, label = cmd.name == "upgrade" and "at head" or "done",
      tty = host.isatty(2) and not ctx.log.quiet and not ctx.log.json } }
  local keep = args.continue_on_error
  -- an interrupt is polled between children here (it must not unwind this
  -- loop while children run), and ends the run with the summary
  host.defer_interrupts(true)
  local ran, err = pcall(function()
    local ok = true
    if canary > 0 then ok = run_range(run, 1, math.min(canary, #list), false) end
    if ok then run_range(run, canary + 1, #list, keep) end
  end)
  host.defer_interrupts(false)
  os.remove(run.dir)
  if not ran then error(err, 0) end
  if run.state.tty then io.stderr:write("\n") end
  local out = { targets = {}, total = #list, ok = 0, skipped = 0, failed = 0, not_run = 0 }
  for i, t in ipairs(list) do
    local rec = run.records[i] or { name = t.name, status = "not run" }
    out.targets[i] = rec
    local key = rec.status == "not run" and "not_run" or rec.status
    out[key] = out[key] + 1
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
  log:result(("%s: %d ok, %d already at head, %d failed, %d not run"):format(text.count(r.total, "target"), r.ok,
    r.skipped, r.failed, r.not_run))
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
