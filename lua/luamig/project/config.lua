--- Project configuration (luamig.lua). Which database a command opens
--- (--url, the environment, `url`) is luamig.run.session's.
local errors = require "luamig.util.errors"
local fs = require "luamig.util.fs"
local lazy = require "luamig.util.lazy"
-- (loaded on first use: only for a config file, and one that sets replica lag)
local sandbox = lazy "luamig.util.sandbox"
local replicas = lazy "luamig.run.replicas"
local timeout_keys = require "luamig.revision.timeout_keys"

local M = {}

M.DEFAULT_FILE = "luamig.lua"

---@class luamig.Config
---@field file string?           the config file read, if any
---@field dir string             directory paths in the config are relative to
---@field url string?            `url` from the file
---@field migrations string      migrations directory
---@field version_table string
---@field transaction "per-migration"|"all"
---@field lock_timeout number?   seconds to wait for the migration lock
---@field migration_timeouts table? defaults of the migration files' lock_timeout, statement_timeout, lock_retries
---@field foreign_keys boolean   SQLite: enforce foreign keys
---@field plugins string|string[]|nil
---@field seeds string
---@field drills string
---@field schema string?         PostgreSQL schema for the version tables
---@field lint table?             `luamig lint`: { ignore = { RULE... } }, rules ignored everywhere
---@field targets table|function|nil  fleet targets (luamig.fleet.targets)
---@field replicas string[]?     replica URLs (default: discovered through pg_stat_replication)
---@field max_replica_lag luamig.Lag?  backfills pause while a replica lags more
---@field still_written number? seconds (default 300): contract refuses to drop a column written through it this recently
---@field wait_for_replicas number?    upgrade waits up to this many seconds per migration for replicas
---@field schemas string[]?       PostgreSQL schemas the snapshot covers (default: every non-system one)
---@field compare_privileges boolean? snapshots include owners and grants
---@field offline_ddl boolean?    `revision --autogenerate` writes plain DDL, not the online-safe forms

M.MAX_LOCK_TIMEOUT = 86400 -- a day: past it, a wait is a hang

-- A non-empty string without NUL bytes (a NUL would cut the text short in C:
-- a path, a URL); nil when good, else what is wrong.
local function bad_text(v)
  if type(v) ~= "string" then return "must be a string, not a " .. type(v) end
  if v == "" then return "must not be empty" end
  if v:find("\0", 1, true) then return "contains a NUL byte" end
end

-- A path setting: text as above, and (exists) an existing file.
local function bad_path(v, dir, exists)
  local bad = bad_text(v)
  if not bad and exists and not fs.exists(fs.join(dir, v)) then bad = ("names %s, which does not exist"):format(v) end
  return bad
end

-- `plugins`: a directory or plugin file, or a list of them; each must exist.
local function bad_plugins(v, dir)
  if type(v) ~= "table" then
    return type(v) == "string" and bad_path(v, dir, true) or "must be a directory or a list of paths"
  end
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > #v then return "must be a list of paths (no other keys)" end
  end
  for i, entry in ipairs(v) do
    if type(entry) ~= "string" then return ("entry %d must be a path (a string), not a %s"):format(i, type(entry)) end
    local bad = bad_path(entry, dir, true)
    if bad then return bad:match("^names") and bad or ("entry %d %s"):format(i, bad) end
  end
end

-- Key -> checker(value, config dir) returning an error text for a bad value.
local keys = {
  url = bad_text,
  migrations = bad_text,
  version_table = function(v)
    if type(v) ~= "string" or not v:match("^[%a_][%w_]*$") then
      return "must be a plain SQL name (letters, digits, _)"
    end
  end,
  transaction = function(v)
    if v ~= "per-migration" and v ~= "all" then return 'must be "per-migration" or "all"' end
  end,
  lock_timeout = function(v)
    -- v ~= v: NaN, which no comparison rejects
    if type(v) ~= "number" or v ~= v or v < 0 or v > M.MAX_LOCK_TIMEOUT then
      return ("must be a number of seconds from 0 to %d (got %s)"):format(M.MAX_LOCK_TIMEOUT, tostring(v))
    end
  end,
  foreign_keys = function(v) if type(v) ~= "boolean" then return "must be a boolean (true or false)" end end,
  plugins = bad_plugins,
  seeds = bad_text,
  drills = bad_text,
  schema = bad_text,
  lint = function(v)
    if type(v) ~= "table" then return "must be a table, e.g. { ignore = { \"rename\" } }" end
    for k, x in pairs(v) do
      if k ~= "ignore" then return ("has no setting '%s' (only ignore)"):format(tostring(k)) end
      if type(x) ~= "table" then return "ignore must be a list of rule names" end
      for _, r in pairs(x) do
        if type(r) ~= "string" then return "ignore must be a list of rule names (strings)" end
      end
    end
  end,
  targets = function(v)
    if type(v) ~= "table" and type(v) ~= "function" then
      return "must be a list of targets or a function returning one"
    end
  end,
  replicas = function(v)
    if type(v) ~= "table" then return "must be a list of replica URLs" end
    for i, u in ipairs(v) do
      local bad = bad_text(u)
      if bad then return ("entry %d %s"):format(i, bad) end
    end
  end,
  max_replica_lag = function(v) return select(2, replicas.parse_lag(v)) end,
  wait_for_replicas = function(v)
    if type(v) ~= "boolean" and (type(v) ~= "number" or v ~= v or v <= 0 or v > M.MAX_LOCK_TIMEOUT) then
      return ("must be true, false or a timeout in seconds up to %d"):format(M.MAX_LOCK_TIMEOUT)
    end
  end,
  schemas = function(v)
    if type(v) ~= "table" then return "must be a list of schema names" end
    for _, x in ipairs(v) do if type(x) ~= "string" then return "must be a list of schema names" end end
  end,
  compare_privileges = function(v) if type(v) ~= "boolean" then return "must be a boolean (true or false)" end end,
  offline_ddl = function(v) if type(v) ~= "boolean" then return "must be a boolean (true or false)" end end,
  still_written = function(v)
    if type(v) ~= "number" or v ~= v or v < 0 then return "must be a number of seconds (0: no check)" end
  end,
  migration_timeouts = function(v)
    if type(v) ~= "table" then return 'must be a table, e.g. { lock_timeout = "2s", statement_timeout = "5min" }' end
    for k, x in pairs(v) do
      local known = false
      for _, name in ipairs(timeout_keys.KEYS) do known = known or name == k end
      if not known then
        return ("has no setting '%s' (only lock_timeout, statement_timeout, lock_retries)"):format(tostring(k))
      end
      local bad = timeout_keys.problem(k, x)
      if bad then return bad end
    end
  end,
}

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

---Join a relative path onto dir ("." stays implicit); absolute paths win.
M.join = fs.join

local function close_key(key)
  local best
  for k in pairs(keys) do
    -- (the shortest of them: the same answer whatever order pairs gives)
    if k:sub(1, 4) == key:sub(1, 4) and (not best or #k < #best or #k == #best and k < best) then best = k end
  end
  return best and ("; did you mean '" .. best .. "'?") or ""
end

---Read the config file. `path` nil means ./luamig.lua when it exists.
---Raises a "config" error for a missing -c file, a broken chunk or a bad key.
---@param path string?
---@return luamig.Config
function M.load(path)
  local file = path
  if not file and fs.exists(M.DEFAULT_FILE) then file = M.DEFAULT_FILE end
  local t = {}
  if file then
    if not fs.exists(file) then
      errors.raise("config", ("config file %s not found"):format(file))
    end
    local res = sandbox.run_file(file, sandbox.env(), "config")
    if type(res) ~= "table" then
      errors.raise("config", ("%s must return a table of settings (got %s)"):format(file, type(res)))
    end
    t = res
  end
  local dir = file and dirname(file) or "."
  for k, v in pairs(t) do
    local check = keys[k]
    if not check then
      errors.raise("config", ("unknown setting '%s'%s"):format(tostring(k), close_key(tostring(k))), { where = file })
    end
    local bad = check(v, dir)
    if bad then errors.raise("config", ("setting '%s' %s"):format(k, bad), { where = file }) end
  end
  return {
    file = file,
    dir = dir,
    url = t.url,
    migrations = M.join(dir, t.migrations or "migrations"),
    version_table = t.version_table or "luamig_version",
    transaction = t.transaction or "per-migration",
    lock_timeout = t.lock_timeout,
    foreign_keys = t.foreign_keys ~= false,
    plugins = t.plugins,
    seeds = M.join(dir, t.seeds or "seeds"),
    drills = M.join(dir, t.drills or "drills"),
    schema = t.schema,
    lint = t.lint,
    targets = t.targets,
    replicas = t.replicas,
    max_replica_lag = t.max_replica_lag and replicas.parse_lag(t.max_replica_lag),
    wait_for_replicas = t.wait_for_replicas == true and replicas.DEFAULT_WAIT or t.wait_for_replicas or nil,
    schemas = t.schemas,
    compare_privileges = t.compare_privileges,
    offline_ddl = t.offline_ddl,
    migration_timeouts = t.migration_timeouts,
    still_written = t.still_written,
  }
end

return M
