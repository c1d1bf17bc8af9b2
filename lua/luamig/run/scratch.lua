--- The scratch session of drill, lint, check and autogenerate: a database
--- of its own next to the target (or the empty one --scratch-url names),
--- checked not to be the target before anything runs there, opened as a
--- session, then closed and dropped on every path, error or Ctrl-C.
--- The backend's part is its dialect's `scratch` member.
local connect = require "luamig.db.connect"
local dialects = require "luamig.dialect"
local errors = require "luamig.util.errors"
local host = require "luamig.host"
local redact = require "luamig.util.redact"

local M = {}

---@class luamig.ScratchOptions
---@field target string           the target's URL: never written to
---@field base string?            what a relative sqlite:/// path of `target` is relative to
---@field config luamig.Config
---@field graph luamig.Graph
---@field log luamig.Log
---@field what string             who needs it, for messages ("the drill", "lint", "autogenerate")
---@field hint string?            the option naming a database instead ("--scratch-url URL of an empty database")
---@field scratch_url string?     --scratch-url: the user's empty database (never dropped)
---@field keep boolean?           --keep: leave the created database
---@field fast boolean?           a throwaway: tune it for speed (dialect.scratch.fast)

---@class luamig.ScratchSession : luamig.Session
---@field shown string    where it is, without a password
---@field drop fun()?     removes it (nil with --keep or --scratch-url)
---@field url string      how to connect to it (with the password: never shown)

-- This host in scratch names: a hash of its name, so that a run removes
-- only the leftovers of processes it can see.
local function host_tag()
  return host.checksum(host.hostname()):sub(1, 8)
end

---A new scratch name: luamig_drill_<pid>_<host>_<random>, plus "_kept" for
---one --keep leaves (no later run removes that one).
---@param keep boolean?
---@return string
function M.new_name(keep)
  return ("luamig_drill_%d_%s_%s%s"):format(host.getpid(), host_tag(), host.random_hex(8), keep and "_kept" or "")
end

---Whether `name` is exactly a scratch name of this host whose process is
---gone (killed before it could drop it).
---@param name string
---@return boolean
function M.is_leftover(name)
  local pid, tag, rand = name:match("^luamig_drill_(%d+)_(%x+)_(%x+)$")
  pid = math.tointeger(tonumber(pid))
  return pid ~= nil and pid > 1 and pid < 2 ^ 31 and tag == host_tag() and #rand == 8 and not host.pid_alive(pid)
end

-- What the dialect's scratch part reaches the rest through.
local function env_of(o)
  local tmp = os.getenv("TMPDIR")
  return {
    -- the target's server, without the config's schema (nothing is made on it)
    open = function(url) return (connect.open(url, {}, nil, { base = o.base, create = false })) end,
    file = function(url) return connect.sqlite_file(url, o.base) end,
    tmpdir = (tmp and tmp ~= "") and tmp:gsub("(.)/+$", "%1") or "/tmp",
    is_leftover = M.is_leftover,
    removed = function(name, err)
      if err then
        o.log:debug(("could not remove %s, left by a killed luamig: %s"):format(name, errors.text(err)))
      else
        o.log:info(("removed %s, a scratch database a killed luamig left"):format(name))
      end
    end,
    what = o.what,
    hint = o.hint,
  }
end

local function shared_key(a, b)
  for _, k in ipairs(a.keys) do
    for _, l in ipairs(b.keys) do
      if k == l then return true end
    end
  end
  return false
end

-- Refuse a scratch database that is the target.
local function check_not_target(s, target_id, o)
  local id = s.dialect.scratch.identity(s.db)
  if not shared_key(id, target_id) then return end
  if o.scratch_url then
    errors.raise("usage", ("--scratch-url is the target database (%s); %s needs a database of its own: " ..
      "pass the URL of an empty one"):format(id.shown, o.what))
  end
  errors.raise("connect", ("the scratch database %s is the target database (%s): nothing was run"):format(s.shown,
    id.shown))
end

-- Refuse a --scratch-url database that holds tables.
local function check_empty(s, o)
  local found = s.dialect.scratch.tables(s.db, 6)
  if #found == 0 then return end
  local names = {}
  for i = 1, math.min(#found, 5) do
    local t = found[i]
    names[i] = (t.schema and (t.schema .. ".") or "") .. t.name
    if t.name == o.config.version_table then
      names[i] = names[i] .. " (luamig's version table: was it migrated by luamig?)"
    end
  end
  if #found > 5 then names[#names + 1] = "..." end
  errors.raise("usage", ("--scratch-url is not empty: it holds %s; give an empty database (%s runs migrations " ..
    "there and leaves what they made)"):format(table.concat(names, ", "), o.what))
end

-- Close the session's connection, then drop its database.
local function finish(s)
  if s.db and not s.db:is_closed() then s.db:close() end
  local drop = s.drop
  if drop then
    local ok, err = pcall(drop)
    s.drop = nil
    if not ok then
      s.log:warn(("the scratch database %s was not removed (%s); the next run on this host removes it")
        :format(s.shown, errors.text(err)))
    end
  end
end

---Close the session and drop its database (unless kept or the user's).
---Never raises: a database it cannot drop is named in a warning.
---@param s luamig.ScratchSession
function M.close(s)
  -- a Ctrl-C raises once (luamig.host): when it lands here, finish again
  if not pcall(finish, s) then pcall(finish, s) end
end

-- Fill session `s`: the target's identity, the database (created, with
-- s.drop set before anything is created), the connection, the checks.
local function prepare(s, o)
  local d = dialects.load(connect.parse(o.target).backend)
  local env = env_of(o)
  local got, target_id = pcall(d.scratch.target_identity, o.target, env)
  if not got then
    if not o.scratch_url then error(target_id, 0) end
    errors.raise("connect", ("cannot check that --scratch-url is not the target database: %s"):format(
      errors.text(target_id)))
  end
  local place
  if o.scratch_url then
    place = { url = o.scratch_url, shown = redact.url(o.scratch_url) }
  else
    local name = M.new_name(o.keep)
    s.shown = name
    s.drop = function() d.scratch.drop(o.target, name, env) end
    place = d.scratch.create(o.target, name, env)
  end
  s.shown, s.url = place.shown, place.url
  s.db, s.dialect = connect.open(place.url, o.config)
  check_not_target(s, target_id, o)
  if o.scratch_url then check_empty(s, o) end
  if o.fast then s.dialect.scratch.fast(s.db) end
  if o.keep then s.drop = nil end -- (kept from here on: a database nothing ran on is dropped)
end

local function new_session(o)
  return { config = o.config, graph = o.graph, log = o.log, shown = "" }
end

---Open a scratch session for options `o`: create the database (or take
-----scratch-url's), connect, and refuse it when it is the target (same
---server and database, or same file) or, for --scratch-url, not empty.
---Close it with M.close (M.with does).
---@param o luamig.ScratchOptions
---@return luamig.ScratchSession
function M.open(o)
  local s = new_session(o)
  local ok, err = pcall(prepare, s, o)
  if not ok then
    M.close(s)
    error(err, 0)
  end
  return s
end

---fn(s) on a scratch session (M.open), which is closed and dropped
---afterwards whatever happens, error or Ctrl-C; returns what fn returns.
---@generic T
---@param o luamig.ScratchOptions
---@param fn fun(s: luamig.ScratchSession): T
---@return T
function M.with(o, fn)
  local s = new_session(o)
  local ok, res = pcall(function()
    prepare(s, o)
    return fn(s)
  end)
  M.close(s)
  if not ok then error(res, 0) end
  return res
end

return M
