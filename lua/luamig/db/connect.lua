--- Database URL -> an open connection (luamig.Db).
local lfs = require "lfs"
local errors = require "luamig.util.errors"
local fs = require "luamig.util.fs"
local redact = require "luamig.util.redact"
local host = require "luamig.host"
local connection = require "luamig.db.connection"
local dialects = require "luamig.dialect"

local M = {}

---@class luamig.Target
---@field backend "sqlite"|"postgresql"
---@field path string?        SQLite file path or ":memory:"
---@field conninfo string?    libpq URL or key/value string

---Parse a database URL. Raises a "config" error naming the URL
---(password redacted) and the accepted forms.
---@param url string
---@return luamig.Target
function M.parse(url)
  if url:find("\0", 1, true) then
    errors.raise("config", ("database URL %q contains a NUL byte"):format(redact.url(url)))
  end
  if url == "sqlite::memory:" or url == "sqlite:///:memory:" then
    return { backend = "sqlite", path = ":memory:" }
  end
  local path = url:match("^sqlite:///(.+)$")
  if path then return { backend = "sqlite", path = path } end
  if url:match("^postgres://") or url:match("^postgresql://") then
    local bad = (redact.url_password(url) or ""):match("[/@?#]")
    if bad then
      errors.raise("config", ("the password in database URL %q holds an unencoded %q, which a URL parser takes " ..
        "for the end of the password: percent-encode it (/ %%2F, @ %%40, ? %%3F, # %%23)"):format(redact.url(url), bad))
    end
    return { backend = "postgresql", conninfo = url }
  end
  -- a libpq key/value string: "host=... dbname=..."
  if not url:find("://", 1, true) and url:match("^%s*[%a_]+%s*=") then
    return { backend = "postgresql", conninfo = url }
  end
  local shown = redact.url(url)
  local hint = "use sqlite:///relative.db, sqlite:////abs/path.db, sqlite::memory:, " ..
      "postgresql://user@host:port/db or a libpq connection string"
  if url:match("^sqlite:") then
    errors.raise("config", ("bad SQLite URL %q: %s"):format(shown, hint))
  end
  local scheme = url:match("^(%a[%w+.-]*):")
  if scheme == "postgres" or scheme == "postgresql" then
    errors.raise("config", ("bad PostgreSQL URL %q (write %s://, with two slashes): %s"):format(shown, scheme, hint))
  end
  if scheme then
    errors.raise("config", ("unsupported database URL scheme %q in %q: %s"):format(scheme, shown, hint))
  end
  errors.raise("config", ("cannot read database URL %q: %s"):format(shown, hint))
end

-- PostgreSQL's notices go to the log: WARNING and above as warnings, the
-- rest (NOTICE, INFO, LOG, DEBUG) only with --debug.
local QUIET_SEVERITIES = { NOTICE = true, INFO = true, LOG = true }

local function forward_notices(db, log)
  db:on_notice(function(severity, message)
    if QUIET_SEVERITIES[severity] or severity:match("^DEBUG") then
      log:debug(severity:lower() .. ": " .. message)
    else
      log:warn(message)
    end
  end)
end

---@class luamig.OpenOptions
---@field base string?     directory a relative SQLite path is relative to (default: the working directory)
---@field source string?   where the URL came from ("--url", a config file, "default"...), for messages
---@field create boolean?  false: create nothing (a missing SQLite file is an error, the config's schema is not made)
---@field if_exists boolean?  with create = false: a missing SQLite file opens nothing (M.open returns nil)
---@field readonly boolean?  a read-only SQLite file handle (implies create = false)

-- The absolute path of SQLite file `path` (relative to `base`); special
-- names (":memory:", "file:" URIs) as they are.
local function sqlite_path(path, base)
  if path == ":memory:" or path:match("^file:") or path:sub(1, 1) == "/" then return path end
  path = fs.join(base or ".", path)
  return path:sub(1, 1) == "/" and path or (lfs.currentdir() .. "/" .. path)
end

---The file a sqlite:/// URL names, resolved as M.open resolves it
---(relative to `base`); nil for an in-memory database or another backend.
---@param url string
---@param base string?
---@return string?
function M.sqlite_file(url, base)
  local target = M.parse(url)
  if target.backend ~= "sqlite" or target.path == ":memory:" then return nil end
  return sqlite_path(target.path, base)
end

-- Whether SQLite file `path` (absolute, or a special name) is missing.
local function missing(path)
  return not (path == ":memory:" or path:match("^file:") or fs.exists(path))
end

-- Refuse to open a missing SQLite file, naming the path meant and why.
local function require_file(path, url, opts)
  local given = url:match("^sqlite:///(.*)$") or ""
  local from = opts.source == "default" and "the default" or opts.source
  local relative = given:sub(1, 1) ~= "/" and (", relative to " .. ((opts.base or ".") == "." and
    "the working directory" or "the config file's directory")) or ""
  errors.raise("connect", ("SQLite database %s does not exist (%s%s%s); check the path, or run `luamig upgrade` " ..
    "to create it"):format(path, url, from and (" from " .. from) or "", relative))
end

---Open a connection for `url`. Connection failures raise a "connect" error
---(exit 1) whose text never contains the password. With `log`, the
---server's notices are shown through it.
---@param url string
---@param cfg luamig.Config
---@param log luamig.Log?
---@param opts luamig.OpenOptions?
---@return luamig.Db? db  nil only with opts.if_exists, when the SQLite file is missing
---@return luamig.Dialect? dialect
function M.open(url, cfg, log, opts)
  opts = opts or {}
  if opts.readonly then opts.create = false end
  local target = M.parse(url)
  if target.backend == "sqlite" then
    target.path = sqlite_path(target.path, opts.base)
    if opts.create == false and missing(target.path) then
      if opts.if_exists then return nil end
      require_file(target.path, url, opts)
    end
  end
  if target.backend == "postgresql" and not host.with_pg then
    errors.raise("config", "this luamig was built without PostgreSQL support (LUAMIG_WITH_PG=OFF)")
  end
  -- the C drivers: luamig.sqlite (SQLite3) and luamig.pg (libpq)
  local loaded, driver = pcall(require, target.backend == "sqlite" and "luamig.sqlite" or "luamig.pg")
  if not loaded then errors.raise("config", errors.text(driver)) end
  local dialect = dialects.load(target.backend)
  local ok, handle = pcall(function()
    if target.backend == "sqlite" then
      return driver.open(target.path, { foreign_keys = cfg.foreign_keys, create = opts.create ~= false,
        readonly = opts.readonly, busy_timeout_ms = cfg.lock_timeout and math.floor(cfg.lock_timeout * 1000) or nil })
    end
    return driver.connect(target.conninfo)
  end)
  if not ok then
    local e = handle
    local text = errors.is(e) and e.message or errors.text(e)
    errors.raise("connect", redact.scrub(text, redact.secrets(url)))
  end
  return M.attach(handle, dialect, cfg, log, opts), dialect
end

---A luamig.Db over the open driver `handle`, set up for `cfg` (its schema,
---the server's notices through `log`): what M.open does once connected, and
---what a fleet job does with the connection it kept for its next target.
---@param handle userdata
---@param dialect table
---@param cfg luamig.Config
---@param log luamig.Log?
---@param opts luamig.OpenOptions?
---@return luamig.Db
function M.attach(handle, dialect, cfg, log, opts)
  local db = connection.new(handle, dialect)
  if log and db.on_notice then forward_notices(db, log) end
  if dialect.on_connect then dialect.on_connect(db, cfg, { create = not opts or opts.create ~= false }) end
  return db
end

return M
