--- A job of a fleet run: a forked process that runs the command on a batch
--- of targets, one after the other (the consecutive targets on one
--- database: schema-per-tenant targets share its connection, fleet/pool.lua,
--- and each sees its migration files as just loaded),
--- and hands each target's record (heads before and after, steps, ms,
--- error) back to the parent as a JSON file <dir>/<pid>-<k>.json in the
--- run's private directory. Each target fails alone; a failure stops the
--- job's batch, and every other job's (a `stop` file in the directory),
--- unless the run goes on after errors.
local cjson = require "cjson"
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local redact = require "luamig.util.redact"
local log_mod = require "luamig.util.log"
local session = require "luamig.run.session"
local scripts = require "luamig.revision.scripts"
local pool_mod = require "luamig.fleet.pool"
local ledger_mod = require "luamig.fleet.ledger"

local M = {}

---@class luamig.FleetRecord
---@field name string
---@field status "ok"|"skipped"|"failed"|"not run"
---@field heads_before string[]?
---@field heads_after string[]?
---@field steps integer?
---@field ms number?
---@field exit integer?  the command's exit code on this target
---@field error string?  why it failed (passwords removed)

-- Commands whose rerun skips a target already at head (only when they go to head).
local SKIP_AT_HEAD = { upgrade = true }

local function same_set(a, b)
  if #a ~= #b then return false end
  local seen = {}
  for _, x in ipairs(a) do seen[x] = true end
  for _, x in ipairs(b) do if not seen[x] then return false end end
  return true
end

---Whether `cmd` with `args` does nothing on a target already at head (an
---upgrade to head, not --sql): then the fleet's no-op check applies.
---@return boolean
function M.skips_at_head(cmd, args)
  local to = args.target or "head"
  return SKIP_AT_HEAD[cmd.name] and not args.sql and (to == "head" or to == "heads") or false
end

---Whether a target at `heads` has nothing to do for `cmd`.
---@return boolean
function M.at_head(cmd, args, graph, heads)
  return M.skips_at_head(cmd, args) and same_set(heads, args.target == "heads" and graph:real_heads() or graph:heads())
end

---The record of target `name`, found at head: skipped, nothing run.
---@param name string
---@param heads string[]
---@return luamig.FleetRecord
function M.skipped(name, heads)
  return { name = name, status = "skipped", heads_before = heads, heads_after = heads, steps = 0, ms = 0,
    exit = errors.EXIT.ok }
end

-- The command on target `t` (ctx: the parent's, whose graph it shares,
-- each of its migration files as just loaded), on the connection `pool`
-- kept for its database if any, kept there after.
local function run_on(cmd, args, parent, t, rec, pool)
  local cfg = {}
  for k, v in pairs(parent.config) do cfg[k] = v end
  cfg.schema = t.schema or cfg.schema
  local ctx = session.new({ config = cfg, url = t.url, url_base = t.base, reserved = parent.reserved,
    readonly = cmd.readonly, graph = parent.graph, loaded = parent.loaded, log = log_mod.new({ quiet = true, json = true }) })
  local ok, err = pcall(function()
    if parent.loaded then scripts.renew_all(parent.loaded) end -- (none of the last target's Lua state)
    ctx.session = pool:session(ctx, t)
    local s = session.open(ctx)
    rec.heads_before = session.heads(s)
    if M.at_head(cmd, args, s.graph, rec.heads_before) then
      rec.status, rec.heads_after, rec.steps, rec.exit = "skipped", rec.heads_before, 0, errors.EXIT.ok
      return
    end
    local result = cmd.run(ctx, args) or {}
    rec.steps = type(result.steps) == "table" and #result.steps or 0
    rec.exit = cmd.exit and cmd.exit(result) or errors.EXIT.ok
    rec.status = rec.exit == errors.EXIT.ok and "ok" or "failed"
  end)
  if not ok then rec.status, rec.exit, rec.error = "failed", errors.exit_code(err), errors.text(err) end
  if ctx.session and not ctx.session.db:is_closed() then
    local heads_ok, heads = pcall(session.heads, ctx.session)
    if heads_ok then rec.heads_after = heads end
  end
  host.defer_interrupts(true) -- (an interrupt now ends the batch, not this target's reset)
  pool:release(t, ctx.session)
end

local function stop_file(dir) return dir .. "/stop" end

---Tell every job of the run in `dir` to start no further target.
---@param dir string
function M.stop_all(dir)
  local f = io.open(stop_file(dir), "w")
  if f then f:close() end
end

local function stopped(dir)
  local f = io.open(stop_file(dir), "r")
  if f then f:close() end
  return f ~= nil
end

---Remove the run's directory `dir` (once its records are collected).
---@param dir string
function M.remove_dir(dir)
  os.remove(stop_file(dir))
  os.remove(dir)
end

-- Target `t` run, its record appended to `ledger` when it finished the
-- target (a parent killed while this job runs would not append it) and
-- written as <dir>/<pid>-<k>.json; the record.
local function one(cmd, args, parent, t, k, dir, pool, ledger)
  local rec = { name = t.name }
  local t0 = host.now_ms()
  host.defer_interrupts(false)
  local ok = pcall(run_on, cmd, args, parent, t, rec, pool)
  host.defer_interrupts(true) -- (the record is written whatever comes now)
  if not ok then rec.status, rec.error = "failed", "internal error in the job" end
  rec.ms = math.floor(host.now_ms() - t0 + 0.5)
  -- no password of the target's URL (or the config's) in what is reported
  if rec.error then rec.error = redact.scrub(rec.error, redact.secrets_of(t.url, parent.config.url)) end
  -- (a finished target now; the parent appends the others, and these should writing fail)
  if ledger and ledger_mod.finishes(rec) and pcall(ledger.append, ledger, rec) then rec.ledgered = true end
  local f = io.open(("%s/%d-%d.json"):format(dir, host.getpid(), k), "w")
  if f then
    f:write(cjson.encode(rec))
    f:close()
  end
  return rec
end

-- The job's side: the targets of `batch` in order, until one fails (unless
-- `keep_going`), a stop file appears, an interrupt comes or the parent is
-- gone (nobody would read the records).
local function child(cmd, args, parent, batch, dir, parent_pid, keep_going, ledger)
  host.defer_interrupts(true) -- (between targets an interrupt only ends the batch)
  local pool = pool_mod.new()
  for k, t in ipairs(batch) do
    if host.interrupted() or host.getppid() ~= parent_pid or stopped(dir) then break end
    local rec = one(cmd, args, parent, t, k, dir, pool, ledger)
    if rec.status == "failed" and not keep_going then
      M.stop_all(dir)
      break
    end
  end
  pool:close()
  if host.getppid() ~= parent_pid then
    for k = 1, #batch do os.remove(("%s/%d-%d.json"):format(dir, host.getpid(), k)) end
    os.remove(stop_file(dir))
    os.remove(dir) -- (only once empty: the last orphan removes it)
  end
end

---Start a job process running the targets of `batch` (in order), writing
---their records into `dir` and, as each finishes, into `ledger` (--ledger);
---with `keep_going` a failed target does not end it.
---@param batch luamig.Target[]
---@param ledger luamig.FleetLedger?
---@return integer pid
function M.start(cmd, args, parent, batch, dir, keep_going, ledger)
  return host.fork(child, cmd, args, parent, batch, dir, host.getpid(), keep_going, ledger)
end

-- The record the job left in `file` (removed) for target `t`, or nil.
local function read_record(t, file)
  local f = io.open(file, "rb")
  if not f then return nil end
  local ok, rec = pcall(cjson.decode, f:read("a"))
  f:close()
  os.remove(file)
  if not ok or type(rec) ~= "table" or rec.name ~= t.name then return nil end
  rec.ms, rec.steps, rec.exit = math.tointeger(rec.ms) or tonumber(rec.ms), math.tointeger(rec.steps),
    math.tointeger(rec.exit)
  for _, k in ipairs({ "heads_before", "heads_after" }) do
    if type(rec[k]) ~= "table" then rec[k] = nil end
  end
  return rec
end

---The records the job `pid` (ended with exit `code`) left in `dir` for the
---targets of `batch` (removed), by position in the batch. A job that ended
---on its own leaves the targets it did not start without one; a job that
---died has the target it was running failed, naming how it ended, and
---those after it without a record.
---@param batch luamig.Target[]
---@return table<integer, luamig.FleetRecord> records
---@return boolean stopped  the job stopped before the end of its batch, on its own
function M.collect(batch, dir, pid, code)
  local recs, missing = {}, nil
  for k, t in ipairs(batch) do
    recs[k] = read_record(t, ("%s/%d-%d.json"):format(dir, pid, k))
    if not recs[k] and not missing then missing = k end
  end
  if missing and code ~= 0 then
    recs[missing] = { name = batch[missing].name, status = "failed", exit = errors.EXIT.failure,
      error = ("the job process ended (exit code %d) without a result"):format(code) }
  end
  return recs, missing ~= nil and code == 0
end

return M
