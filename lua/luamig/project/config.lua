--- Project configuration (luamig.lua), database URL resolution, redaction.
local lfs = require "lfs"
local errors = require "luamig.util.errors"

local M = {}

M.DEFAULT_FILE = "luamig.lua"
M.DEFAULT_URL = "sqlite:///luamig.db"

---@class luamig.Config
---@field file string?           the config file read, if any
---@field dir string             directory paths in the config are relative to
---@field url string?            `url` from the file
---@field migrations string      migrations directory
---@field version_table string
---@field transaction "per-migration"|"all"
---@field lock_timeout number?   seconds to wait for the migration lock
---@field foreign_keys boolean   SQLite: enforce foreign keys
---@field plugins string|string[]|nil
---@field seeds string
---@field drills string
---@field schema string?         PostgreSQL schema for the version tables
---@field schemas string[]?       PostgreSQL schemas the snapshot covers (default: every non-system one)
---@field compare_privileges boolean? snapshots include owners and grants

-- Key -> checker returning an error text for a bad value.
local function is(kind)
  return function(v) if type(v) ~= kind then return "must be a " .. kind end end
end
local keys = {
  url = is "string",
  migrations = is "string",
  version_table = function(v)
    if type(v) ~= "string" or not v:match("^[%a_][%w_]*$") then
      return "must be a plain SQL name (letters, digits, _)"
    end
  end,
  transaction = function(v)
    if v ~= "per-migration" and v ~= "all" then return 'must be "per-migration" or "all"' end
  end,
  lock_timeout = function(v)
    if type(v) ~= "number" or v < 0 then return "must be a number of seconds >= 0" end
  end,
  foreign_keys = is "boolean",
  plugins = function(v)
    if type(v) ~= "string" and type(v) ~= "table" then return "must be a directory or a list of files" end
  end,
  seeds = is "string",
  drills = is "string",
  schema = is "string",
  schemas = function(v)
    if type(v) ~= "table" then return "must be a list of schema names" end
    for _, x in ipairs(v) do if type(x) ~= "string" then return "must be a list of schema names" end end
  end,
  compare_privileges = is "boolean",
}

local function exists(path)
  return lfs.attributes(path, "mode") ~= nil
end

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

---Join a relative path onto dir ("." stays implicit); absolute paths win.
---@param dir string
---@param path string
---@return string
function M.join(dir, path)
  if path:sub(1, 1) == "/" or dir == "." then return path end
  return dir .. "/" .. path
end

local function close_key(key)
  local best
  for k in pairs(keys) do
    if k:sub(1, 4) == key:sub(1, 4) then best = k end
  end
  return best and ("; did you mean '" .. best .. "'?") or ""
end

---Read the config file. `path` nil means ./luamig.lua when it exists.
---Raises a "config" error for a missing -c file, a broken chunk or a bad key.
---@param path string?
---@return luamig.Config
function M.load(path)
  local file = path
  if not file and exists(M.DEFAULT_FILE) then file = M.DEFAULT_FILE end
  local t = {}
  if file then
    if not exists(file) then
      errors.raise("config", ("config file %s not found"):format(file))
    end
    local env = setmetatable({}, { __index = _G })
    local chunk, err = loadfile(file, "t", env)
    if not chunk then errors.raise("config", err) end
    local ok, res = xpcall(chunk, function(e) return errors.text(e) end)
    if not ok then errors.raise("config", res) end
    if type(res) ~= "table" then
      errors.raise("config", ("%s must return a table of settings (got %s)"):format(file, type(res)))
    end
    t = res
  end
  for k, v in pairs(t) do
    local check = keys[k]
    if not check then
      errors.raise("config", ("%s: unknown setting '%s'%s"):format(file, tostring(k), close_key(tostring(k))))
    end
    local bad = check(v)
    if bad then errors.raise("config", ("%s: setting '%s' %s"):format(file, k, bad)) end
  end
  local dir = file and dirname(file) or "."
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
    schemas = t.schemas,
    compare_privileges = t.compare_privileges,
  }
end

local function env(name)
  local v = os.getenv(name)
  if v and v ~= "" then return v end
end

---The database URL: --url, LUAMIG_URL, DATABASE_URL, config, default.
---@param flag string? the --url value
---@param cfg luamig.Config
---@return string url, string source  where the URL came from
function M.resolve_url(flag, cfg)
  if flag and flag ~= "" then return flag, "--url" end
  local v = env "LUAMIG_URL"
  if v then return v, "LUAMIG_URL" end
  v = env "DATABASE_URL"
  if v then return v, "DATABASE_URL" end
  if cfg.url then return cfg.url, cfg.file end
  return M.DEFAULT_URL, "default"
end

---The URL or connection string with any password replaced by ***.
---@param url string
---@return string
function M.redact(url)
  local s = url:gsub("^(%a[%w+.-]*://[^/:@]*:)[^/]*@", "%1***@")
  -- user:password@host with the scheme forgotten (or just "//")
  s = s:gsub("^(/*[^/:@%s]*:)[^/@%s]*@", "%1***@")
  -- password=... in a query string or a libpq key/value string
  s = s:gsub("([?&]password=)[^&#]*", "%1***")
  s = s:gsub("(%f[%w]password%s*=%s*)'[^']*'", "%1***")
  s = s:gsub("(%f[%w]password%s*=%s*)[^%s'&][^%s&]*", "%1***")
  return s
end

return M
