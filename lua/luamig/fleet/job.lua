--- One target of a fleet run, in its own forked process: the command runs
--- there with the target's URL and schema, and its record (heads before and
--- after, steps, ms, error) goes back to the parent through a file.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local redact = require "luamig.util.redact"
local log_mod = require "luamig.util.log"
local context = require "luamig.cli.context"

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

local function at_head(cmd, args, graph, heads)
  local to = args.target or "head"
  return SKIP_AT_HEAD[cmd.name] and not args.sql and (to == "head" or to == "heads")
    and same_set(heads, to == "heads" and graph:real_heads() or graph:heads())
end

-- The command on target `t` (ctx: the parent's, whose graph it shares).
local function run_on(cmd, args, parent, t, rec)
  local cfg = {}
  for k, v in pairs(parent.config) do cfg[k] = v end
  cfg.schema = t.schema or cfg.schema
  local ctx = { config = cfg, url = t.url, url_base = t.base, reserved = parent.reserved, readonly = cmd.readonly,
    graph = parent.graph, loaded = parent.loaded, log = log_mod.new({ quiet = true, json = true }) }
  local ok, err = pcall(function()
    local s = context.session(ctx)
    rec.heads_before = context.heads(s)
    if at_head(cmd, args, s.graph, rec.heads_before) then
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
    local heads_ok, heads = pcall(context.heads, ctx.session)
    if heads_ok then rec.heads_after = heads end
  end
  context.close(ctx)
end

-- A record as a Lua chunk (strings quoted with %q; lists of strings).
local function serialize(rec)
  local out = {}
  for k, v in pairs(rec) do
    if type(v) == "table" then
      local items = {}
      for i, x in ipairs(v) do items[i] = ("%q"):format(x) end
      out[#out + 1] = ("%s = { %s }"):format(k, table.concat(items, ", "))
    else
      out[#out + 1] = ("%s = %q"):format(k, v)
    end
  end
  return "return { " .. table.concat(out, ",\n") .. " }\n"
end

---Start target `t` in a child process writing its record to `file`.
---Returns the child's pid (the parent never returns from the child's branch).
---@return integer pid
function M.start(cmd, args, parent, t, file)
  local pid = host.fork()
  if pid ~= 0 then return pid end
  local rec = { name = t.name }
  local t0 = host.now_ms()
  local ok = pcall(run_on, cmd, args, parent, t, rec)
  if not ok then rec.status, rec.error = "failed", "internal error in the job" end
  rec.ms = math.floor(host.now_ms() - t0 + 0.5)
  -- no password of the target's URL (or the config's) in what is reported
  if rec.error then rec.error = redact.scrub(rec.error, redact.secrets_of(t.url, parent.config.url)) end
  local f = io.open(file, "w")
  if f then
    f:write(serialize(rec))
    f:close()
  end
  host.exit_child(0)
  return 0
end

---The record the child of `t` left in `file` (removed), or a failure
---naming how the child ended when it left none.
---@return luamig.FleetRecord
function M.collect(t, file, code)
  local chunk = loadfile(file, "t", {})
  os.remove(file)
  local ok, rec = pcall(chunk or error)
  if ok and type(rec) == "table" then
    rec.ms, rec.steps, rec.exit = tonumber(rec.ms), tonumber(rec.steps), tonumber(rec.exit)
    return rec
  end
  return { name = t.name, status = "failed", exit = errors.EXIT.failure,
    error = ("the job process ended (exit code %d) without a result"):format(code) }
end

return M
