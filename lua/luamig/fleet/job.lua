--- One target of a fleet run, in its own forked process: the command runs
--- there with the target's URL and schema, and its record (heads before and
--- after, steps, ms, error) goes back to the parent as a JSON file
--- <dir>/<child pid>.json, in the run's private directory.
local cjson = require "cjson"
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local redact = require "luamig.util.redact"
local log_mod = require "luamig.util.log"
local session = require "luamig.run.session"

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

-- The command on target `t` (ctx: the parent's, whose graph it shares).
local function run_on(cmd, args, parent, t, rec)
  local cfg = {}
  for k, v in pairs(parent.config) do cfg[k] = v end
  cfg.schema = t.schema or cfg.schema
  local ctx = session.new({ config = cfg, url = t.url, url_base = t.base, reserved = parent.reserved,
    readonly = cmd.readonly, graph = parent.graph, loaded = parent.loaded, log = log_mod.new({ quiet = true, json = true }) })
  local ok, err = pcall(function()
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
  session.close(ctx)
end

-- The child's side: run the command on `t`, then write its record (unless
-- the parent is gone: nobody would read it).
local function child(cmd, args, parent, t, dir, parent_pid)
  local rec = { name = t.name }
  local t0 = host.now_ms()
  local ok = pcall(run_on, cmd, args, parent, t, rec)
  host.defer_interrupts(true) -- (the record is written whatever comes now)
  if not ok then rec.status, rec.error = "failed", "internal error in the job" end
  rec.ms = math.floor(host.now_ms() - t0 + 0.5)
  -- no password of the target's URL (or the config's) in what is reported
  if rec.error then rec.error = redact.scrub(rec.error, redact.secrets_of(t.url, parent.config.url)) end
  if host.getppid() ~= parent_pid then
    os.remove(dir) -- (only once empty: the last orphan removes it)
    return
  end
  local f = io.open(("%s/%d.json"):format(dir, host.getpid()), "w")
  if f then
    f:write(cjson.encode(rec))
    f:close()
  end
end

---Start target `t` in a child process writing its record into `dir`.
---@return integer pid
function M.start(cmd, args, parent, t, dir)
  return host.fork(child, cmd, args, parent, t, dir, host.getpid())
end

---The record the child `pid` of `t` left in `dir` (removed), or a failure
---naming how the child ended when it left none.
---@return luamig.FleetRecord
function M.collect(t, dir, pid, code)
  local file = ("%s/%d.json"):format(dir, pid)
  local f = io.open(file, "rb")
  local ok, rec = false, nil
  if f then
    ok, rec = pcall(cjson.decode, f:read("a"))
    f:close()
    os.remove(file)
  end
  if ok and type(rec) == "table" and rec.name == t.name then
    rec.ms, rec.steps, rec.exit = math.tointeger(rec.ms) or tonumber(rec.ms), math.tointeger(rec.steps),
      math.tointeger(rec.exit)
    for _, k in ipairs({ "heads_before", "heads_after" }) do
      if type(rec[k]) ~= "table" then rec[k] = nil end
    end
    return rec
  end
  return { name = t.name, status = "failed", exit = errors.EXIT.failure,
    error = ("the job process ended (exit code %d) without a result"):format(code) }
end

return M
