--- The one entry the command line, the Lua module and the C library share:
--- run a registry command on a project and return its result (the --json
--- document) and exit code. cli/init.lua prints what this returns; the
--- embedded forms (src/embed_core.c) return it as data.
local lfs = require "lfs"
local errors = require "luamig.util.errors"
local connect = require "luamig.db.connect"
local db_wait = require "luamig.db.wait"
local config = require "luamig.project.config"
local log_mod = require "luamig.util.log"
local json = require "luamig.util.json"
local session = require "luamig.run.session"
local registry = require "luamig.cli.registry"

local M = {}

---@class luamig.ApiEnv
---@field config luamig.Config?   the loaded config (else config_path is read)
---@field config_path string?
---@field url string?
---@field log luamig.Log
---@field dispatch fun(cmd: luamig.Command, args: table): luamig.Command?  the CLI's --all/--target
---@field on_step fun(step: table)?
---@field ctx luamig.Context?      the context the command ran with (set by execute)

---Run command `cmd` (already loaded) with parsed `args`: its result and exit
---code. Raises the command's error (with a traceback); what it opened is closed.
---@param cmd luamig.Command
---@param args table
---@param env luamig.ApiEnv
---@return table result
---@return integer exit code
---@return luamig.Command ran  the command that ran (a fleet run with --all)
function M.execute(cmd, args, env)
  local ok, result = xpcall(function()
    env.ctx = session.new({ config = env.config or config.load(env.config_path), url = env.url, log = env.log,
      reserved = registry.RESERVED, readonly = cmd.readonly, wait_for_db = args.wait_for_db,
      on_step = env.on_step })
    if env.dispatch then cmd = env.dispatch(cmd, args) end
    return cmd.run(env.ctx, args)
  end, errors.caught)
  if env.ctx then session.close(env.ctx) end
  if not ok then error(result, 0) end
  return result, cmd.exit and cmd.exit(result) or errors.EXIT.ok, cmd
end

---@class luamig.Project
---@field config luamig.Config
---@field url string?
---@field log luamig.Log
---@field wait_for_db number?
---@field closed boolean?
local Project = {}
Project.__index = Project

local function load_command(name)
  return registry.load(registry.find(registry.list(), name))
end

-- A config copy with the caller's lock_timeout (seconds) in place.
local function with_lock_timeout(cfg, seconds)
  if seconds == nil then return cfg end
  if type(seconds) ~= "number" or seconds < 0 then
    errors.raise("usage", "lock_timeout must be a number of seconds >= 0")
  end
  local c = {}
  for k, v in pairs(cfg) do c[k] = v end
  c.lock_timeout = seconds
  return c
end

---Run registry command `name` with `args` on the project: result, exit code.
---@param name string
---@param args table?
---@param opts {lock_timeout: number?, on_step: fun(step: table)?}?
---@return table, integer
function Project:run(name, args, opts)
  if self.closed then errors.raise("usage", "this luamig project is closed") end
  args = args or {}
  if args.wait_for_db == nil then args.wait_for_db = self.wait_for_db end
  local result, code = M.execute(load_command(name), args,
    { config = with_lock_timeout(self.config, opts and opts.lock_timeout), url = self.url, log = self.log,
      on_step = opts and opts.on_step })
  return result, code
end

local function check_target(target)
  if target ~= nil and type(target) ~= "string" then
    errors.raise("usage", "the target must be a string such as \"head\", \"-1\" or a revision")
  end
end

---Apply migrations up to `target` (default "head"); opts.contract: contract phases too.
---@param target string?
---@param opts {lock_timeout: number?, dry_run: boolean?, contract: boolean?, on_step: fun(step: table)?}?
function Project:upgrade(target, opts)
  check_target(target)
  return self:run("upgrade", { target = target or "head", dry_run = opts and opts.dry_run,
    contract = opts and opts.contract }, opts)
end

---Revert migrations down to `target` (default "-1").
---@param target string?
---@param opts {lock_timeout: number?, dry_run: boolean?, on_step: fun(step: table)?}?
function Project:downgrade(target, opts)
  check_target(target)
  return self:run("downgrade", { target = target or "-1", dry_run = opts and opts.dry_run }, opts)
end

---Run the pending contract phases (up to `target`, default all).
---@param target string?
---@param opts {force: boolean?, on_step: fun(step: table)?}?
function Project:contract(target, opts)
  if target ~= nil then check_target(target) end
  return self:run("contract", { target = target, force = opts and opts.force }, opts)
end

---Applied and pending revisions, drift and the last failure; `at_head` too.
function Project:status()
  local st, code = self:run("status")
  st.at_head = #st.pending == 0 and #st.unknown == 0
  return st, code
end

---`check --heads-only` (default) or, with { schema = true }, the full check.
---@param opts {schema: boolean?, fail_on_drift: boolean?}?
function Project:check(opts)
  opts = opts or {}
  return self:run("check", { heads_only = not opts.schema, fail_on_drift = opts.fail_on_drift })
end

---Retry the first connection of each later command for up to `v` (seconds or "30s").
---@param v number|string
function Project:set_wait_for_db(v)
  self.wait_for_db = db_wait.seconds(v, "wait_for_db")
  return {}, errors.EXIT.ok
end

---Close the project (harmless when closed already).
function Project:close()
  self.closed = true
end

---@class luamig.OpenOptions
---@field config string?       path of luamig.lua (nil: ./luamig.lua when it exists)
---@field url string?          the database (nil: the config's, LUAMIG_URL, DATABASE_URL)
---@field wait_for_db number|string? seconds (or "30s") to retry the first connection
---@field verbose boolean?     progress lines (lock waits, steps) on stderr

---Open a project: read its config, check the URL's form and the migrations
---folder (raises a "config" error naming what is wrong). Connects nothing.
---@param opts luamig.OpenOptions?
---@return luamig.Project
function M.open(opts)
  opts = opts or {}
  if type(opts) ~= "table" then errors.raise("usage", "luamig.open takes a table { config = ..., url = ... }") end
  for _, k in ipairs { "config", "url" } do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then errors.raise("usage", k .. " must be a string") end
  end
  local wait = opts.wait_for_db
  if wait ~= nil then
    wait = db_wait.seconds(wait, "wait_for_db")
  end
  local cfg = config.load(opts.config)
  connect.parse((session.resolve_url(opts.url, cfg))) -- a bad URL fails here, not later
  if not lfs.attributes(cfg.migrations, "mode") then
    errors.raise("config", ("the migrations folder %s cannot be read"):format(cfg.migrations))
  end
  return setmetatable({ config = cfg, url = opts.url, wait_for_db = wait,
    log = log_mod.new({ quiet = not opts.verbose, json = true }) }, Project)
end

---For the C library: run `method` of `project` with `...`; returns the exit
---code, the result as JSON (nil on error) and the error text (nil on success).
---@return integer, string?, string?
function M.call_json(project, method, ...)
  local ok, res, code = xpcall(project[method], errors.caught, project, ...)
  if not ok then return errors.exit_code(res), nil, errors.text(res) end
  return code, json.encode(res)
end

---For the Lua module: project[method](project, ...) protected: true, result,
---exit code; or false and the error object.
---@return boolean, table, integer?
function M.call(project, method, ...)
  return xpcall(project[method], errors.caught, project, ...)
end

---For the Lua module: true and { project = ... }, or false and the error.
---@return boolean, table
function M.call_open(opts)
  return xpcall(function() return { project = M.open(opts) } end, errors.caught)
end

---For the C library: open, or nil and the error text.
---@return luamig.Project?, string?
function M.open_c(cfg_path, url, wait)
  local ok, res = xpcall(M.open, errors.caught, { config = cfg_path, url = url, wait_for_db = wait })
  if not ok then return nil, errors.text(res) end
  return res
end

return M
