--- Load migrations/*.lua, each in its own environment, and check their shape.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local fs = require "luamig.util.fs"
local sandbox = require "luamig.util.sandbox"
local script_cache = require "luamig.revision.cache"
local timeout_keys = require "luamig.revision.timeout_keys"
local build = require "luamig.revision.build"

local M = {}

---@class luamig.Script
---@field id string               the revision id
---@field parents string[]        down_revision as a list ({} for a root)
---@field depends_on string[]
---@field replaces string[]?       a baseline's squashed revisions, oldest first ({} otherwise)
---@field branch_labels string[]
---@field transactional boolean
---@field upgrade fun(db: table)   upgrade(db), or expand(db) when the file is phased
---@field downgrade fun(db: table)?
---@field phased boolean             the file defines expand(db): its contract phase runs apart (issue 26)
---@field contract fun(db: table)|false   contract(db), or false: the contract replays expand's op.online calls
---@field uncontract fun(db: table)|false undoes contract (needed to downgrade past a contracted revision)
---@field online boolean             the file calls op.online.* (their phases are generated)
---@field change fun(op: table)?    when the file defines change(op) instead
---@field uses_op boolean            the file calls op.* (SQLite may rebuild tables)
---@field bind fun(ctx: luamig.StepContext?)  binds the file's `op` and `luamig` to a step (nil: unbinds)
---@field renew fun(s: luamig.Script)  once a step ran its functions: s's functions and bind from the file's
---  code run again in a new environment (new globals and top-level locals; not compiled again)
---@field message string          first comment line, or `message = ...`
---@field path string             file path as shown to users
---@field line integer            line of `revision = ...` (1 when absent)
---@field checksum string         of the file's bytes, for drift detection
---@field lock_timeout string?       PostgreSQL duration, SET LOCAL for the step (luamig.run.timeouts)
---@field statement_timeout string?
---@field lock_retries integer?      retries of a transactional step that hit its lock_timeout

local RESERVED = { head = true, heads = true, base = true, current = true }

---What is wrong with `id` as a revision id, or nil when it is fine: the
---rules the loader applies, shared with `revision --rev-id` and `merge --rev-id`.
---@param id any
---@param used table<string, {path: string, line: integer?}>? the ids already taken, and by which file
---@return string? problem
function M.id_problem(id, used)
  if type(id) ~= "string" or not id:match("^[%w_]+$") then
    return ("revision must be a string of letters, digits and _ (got %s)"):format(tostring(id))
  end
  if RESERVED[id] then return ("revision %q is a reserved word; pick another id"):format(id) end
  local other = used and used[id]
  if other then return ("revision %s is already used by %s:%d"):format(id, other.path, other.line or 1) end
end

local function read(path)
  local f, err = io.open(path, "rb")
  if not f then errors.raise("script", err) end
  local text = f:read("a")
  f:close()
  return text
end

-- Line of the first `name = ...` or `function name` at the start of a line (1 if none).
local function line_of(text, name)
  local t = "\n" .. text
  local assigned = t:find("\n[ \t]*" .. name .. "[ \t]*=")
  local defined = t:find("\n[ \t]*function[ \t]+" .. name .. "%f[^%w_]")
  local at = assigned and defined and math.min(assigned, defined) or assigned or defined
  if not at then return 1 end
  local _, newlines = text:sub(1, at - 1):gsub("\n", "")
  return newlines + 1
end

-- line_of in the file `path` whose contents are `text` (nil: read it now).
local function line_in(path, text, name)
  return line_of(text or read(path), name)
end

local function message_of(text)
  local first = text:gsub("^#![^\n]*\n", ""):match("^%s*%-%-+%s*([^\n]-)%s*\n")
  if first and not first:match("^%[") then return first end
  return ""
end

-- Lua names a chunk in its messages by a short form of its name, cut to
-- "...tail" past LUA_IDSIZE (60) characters; `text` with each such name
-- of `path` spelled whole.
local function whole_path(path, text)
  return (text:gsub("%.%.%.([^:\n]+):(%d+):", function(tail, line)
    if path:sub(-#tail) == tail then return path .. ":" .. line .. ":" end
  end))
end

-- `fn` (code of the file `path`), raising errors that name `path` whole
-- (as the history table stores them). Only long paths need it: the wrapper
-- rethrows, so --debug's traceback starts here for them.
local function with_whole_path(path, fn)
  if type(fn) ~= "function" or #path < 55 then return fn end
  local function rethrow(ok, ...)
    if not ok then error((...), 0) end
    return ...
  end
  return function(...)
    return rethrow(xpcall(fn, function(e)
      if type(e) == "string" then return whole_path(path, e) end
      if errors.is(e) then
        e.message = whole_path(path, tostring(e.message))
        if e.where then e.where = whole_path(path, e.where .. ":"):sub(1, -2) end
      end
      return e
    end, ...))
  end
end

local function fail(path, line, fmt, ...)
  errors.raise("script", fmt:format(...), { where = ("%s:%d"):format(path, line) })
end

-- env[name] as a list of strings; raises naming the file and line otherwise.
local function as_list(env, name, path, text)
  local v = rawget(env, name)
  if v == nil then return {} end
  if type(v) == "string" then return { v } end
  if type(v) == "table" then
    local out = {}
    for i, x in ipairs(v) do
      if type(x) ~= "string" then fail(path, line_of(text, name), "%s[%d] must be a revision id string", name, i) end
      out[i] = x
    end
    return out
  end
  fail(path, line_of(text, name), "%s must be a string, a list of strings or nil (got %s)", name, type(v))
end

-- An iterator over t's members that does not hand out t itself (as pairs would).
local function members(t)
  local k
  return function()
    local v
    k, v = next(t, k)
    return k, v
  end
end

-- The environment of one migration file: sandbox.env's, plus `op` and `luamig`, which
-- forward to the step bound with the returned bind(ctx), and between steps
-- `luamig` to `unbound` (the runner's: luamig.run.file_api.api(nil)). They
-- are proxies rather than fields set per step, so that a file that keeps
-- them in a local (`local op = op`) still reaches the running step. Also
-- returns step_ops() (the bound step's op) and ran(): whether a step was
-- ever bound (the file's functions may have changed its state).
local function environment(unbound)
  local step -- the bound luamig.StepContext, or nil between steps
  local bound = false
  unbound = unbound or setmetatable({}, { __index = function(_, name)
    error("luamig." .. tostring(name) .. " is only available while a migration runs", 3)
  end })
  local function ops_now(name)
    if not step then error("op." .. name .. " is only available while a migration runs", 3) end
    return step.op
  end
  -- (__pairs: the globals list what they hold, for editors' cross-checks and
  -- users alike; __metatable: the step's tables stay out of the file's reach)
  local op = setmetatable({}, {
    __index = function(_, name) return ops_now(name)[name] end,
    __pairs = function() return members(step and step.op or {}) end,
    __metatable = false,
  })
  local luamig = setmetatable({}, {
    __index = function(_, name) return (step and step.luamig or unbound)[name] end,
    __pairs = function() return members(step and step.luamig or unbound) end,
    __newindex = function() error("luamig is read-only", 2) end,
    __metatable = false,
  })
  local env = sandbox.env({ op = op, luamig = luamig })
  local function bind(ctx)
    step, bound = ctx, bound or ctx ~= nil
  end
  return env, bind, function() return ops_now("change") end, function() return bound end
end

-- The file's lock_timeout, statement_timeout and lock_retries (luamig.revision.timeout_keys), checked.
local function timeouts_of(env, path, text, transactional)
  local out = {}
  for _, k in ipairs(timeout_keys.KEYS) do
    local v = rawget(env, k)
    local bad = v ~= nil and timeout_keys.problem(k, v)
    if bad then fail(path, line_of(text, k), "%s", bad) end
    out[k] = v
  end
  if out.lock_retries and not transactional then
    fail(path, line_of(text, "lock_retries"), "lock_retries needs a transactional migration " ..
      "(a failed attempt outside a transaction may have changed things); drop one of the two")
  end
  return out
end

---The file's expand, contract and uncontract functions (each nil when
---absent), checked: a contract or uncontract needs an expand.
---@param text string?  the file's contents (nil: read again should a check fail)
---@return {expand: function?, contract: function?, uncontract: function?}
function M.phases(env, path, text)
  local out = {}
  for _, name in ipairs({ "expand", "contract", "uncontract" }) do
    local f = rawget(env, name)
    if f ~= nil and type(f) ~= "function" then fail(path, line_in(path, text, name), "%s must be a function", name) end
    out[name] = f
  end
  for _, name in ipairs({ "contract", "uncontract" }) do
    if out[name] and not out.expand then
      fail(path, line_in(path, text, name), "%s(db) without expand(db): a contract phase finishes an expand; " ..
        "define expand(db) (the additive part) or rename %s to upgrade", name, name)
    end
  end
  return out
end

-- A script's fields that hold the functions of one instance of its file.
local FUNCTIONS = { "upgrade", "downgrade", "change", "phased", "contract", "uncontract", "bind" }

-- The functions the file defined in `env` (where its code ran), checked:
-- FUNCTIONS, with `bind` from environment(). `text`: the file's contents
-- (nil: read again should a check fail).
local function functions_of(env, path, text, bind, step_ops)
  local ops = require "luamig.schema.ops" -- (here, not at the top: most commands never compile a migration)
  local phases = M.phases(env, path, text)
  local change = rawget(env, "change")
  if change ~= nil and type(change) ~= "function" then fail(path, line_in(path, text, "change"), "change must be a function") end
  local up = rawget(env, "upgrade")
  if change and up ~= nil then fail(path, line_in(path, text, "change"), "define change(op) or upgrade(db), not both") end
  if phases.expand and (up ~= nil or change) then
    fail(path, line_in(path, text, "expand"), "define expand(db) or %s, not both: expand is the upgrade of a " ..
      "zero-downtime migration", change and "change(op)" or "upgrade(db)")
  end
  up = phases.expand or up
  if change then up = function() ops.change_up(change, step_ops()) end end
  if type(up) ~= "function" then
    fail(path, 1, "no upgrade(db) function defined (or change(op))")
  end
  local down = rawget(env, "downgrade")
  if down ~= nil and type(down) ~= "function" then
    fail(path, line_in(path, text, "downgrade"), "downgrade must be a function")
  end
  if change and down == nil then down = function() ops.change_down(change, step_ops(), path) end end
  return {
    upgrade = with_whole_path(path, up),
    downgrade = with_whole_path(path, down),
    change = change or false,
    phased = phases.expand ~= nil,
    contract = phases.contract and with_whole_path(path, phases.contract) or false,
    uncontract = phases.uncontract and with_whole_path(path, phases.uncontract) or false,
    bind = bind,
  }
end

-- The script's `renew` (see luamig.Script): `chunk` (the file `path`
-- compiled) run again in a new environment when `ran()` says a step ran
-- the functions of the instance it replaces.
local function renewer(path, chunk, unbound, ran)
  return function(s)
    if not ran() then return end
    local env, bind, step_ops
    env, bind, step_ops, ran = environment(unbound)
    sandbox.rerun(path, chunk, env, "script")
    local fns = functions_of(env, path, nil, bind, step_ops)
    for _, k in ipairs(FUNCTIONS) do rawset(s, k, fns[k]) end
  end
end

---Load one migration file. Raises a "script" error naming file and line.
---@param path string
---@param unbound table?  what the file's `luamig` holds outside a step (luamig.run.file_api.api(nil)); nil: nothing
---@return luamig.Script
function M.load_file(path, unbound)
  local text = read(path)
  local env, bind, step_ops, ran = environment(unbound)
  local chunk = sandbox.compile(path, env, "script", text)
  sandbox.call(path, "script", chunk)

  local rev_line = line_of(text, "revision")
  local id = rawget(env, "revision")
  if id == nil then fail(path, 1, 'no revision id: add  revision = "%s"  at the top', host.random_hex(12)) end
  local problem = M.id_problem(id)
  if problem then fail(path, rev_line, "%s", problem) end
  local s = functions_of(env, path, text, bind, step_ops)
  local tx = rawget(env, "transactional")
  if tx ~= nil and type(tx) ~= "boolean" then
    fail(path, line_of(text, "transactional"), "transactional must be true or false")
  end
  local msg = rawget(env, "message")
  local timeouts = timeouts_of(env, path, text, tx ~= false)
  s.id = id
  s.parents = as_list(env, "down_revision", path, text)
  s.depends_on = as_list(env, "depends_on", path, text)
  s.replaces = as_list(env, "replaces", path, text)
  s.branch_labels = as_list(env, "branch_labels", path, text)
  s.transactional = tx ~= false
  s.online = text:find("%f[%w_]op%s*%.%s*online%f[^%w_]") ~= nil
  s.uses_op = s.change ~= false or text:find("%f[%w_]op%s*[.:]%s*[%a_]") ~= nil
  s.renew = renewer(path, chunk, unbound, ran)
  s.message = type(msg) == "string" and msg or message_of(text)
  s.path = path
  s.line = rev_line
  s.checksum = host.checksum(text)
  s.lock_timeout = timeouts.lock_timeout
  s.statement_timeout = timeouts.statement_timeout
  s.lock_retries = timeouts.lock_retries
  return s
end

-- The fields a cached script loads from its file on first use.
local LAZY = { upgrade = true, downgrade = true, change = true, uses_op = true, bind = true, contract = true,
  uncontract = true, phased = true, online = true, renew = true }

-- ------------------------------------------------------------ the store

-- The fields of a directory's scripts, one array per field (index: file-name
-- order), rather than a table per file: `history` on 10,000 files held
-- 13 MiB of script tables. A script (luamig.Script) is made from them when
-- asked for (Store:script); lists of one id are stored as that id, empty
-- lists, transactional = true and absent timeouts not at all.
---@class luamig.ScriptStore
---@field prefix string       what a file name is prefixed with to make its path
---@field n integer
---@field name string[]       file names
---@field id string[]
---@field size integer[]     (with `dated`: kept for the script cache)
---@field mtime integer[]
---@field dated boolean
---@field checksum integer[]  the checksum's 16 hex digits as an integer
---@field full table<integer, luamig.Script>   scripts that hold their functions (kept)
---@field made table<integer, luamig.Script>   scripts made for a reader (weak: made again when dropped)
---@field index table<string, integer>?  revision id -> index (made when first needed)
---@field keep boolean  keep every script made (runs), not only those holding functions
---@field mt table      the scripts' metatable: their functions load on first use
local Store = {}
Store.__index = Store

-- The list fields, and the optional ones (nil when absent).
local LISTS = { "parents", "depends_on", "replaces", "branch_labels" }
local OPTIONAL = { "lock_timeout", "statement_timeout", "lock_retries" }

local packed, unpacked = build.packed, build.unpacked

local function new_store(prefix, keep, dated)
  local st = setmetatable({ prefix = prefix, n = 0, name = {}, id = {}, size = {}, mtime = {}, line = {},
    checksum = {}, message = {}, nontx = {}, full = {}, made = setmetatable({}, { __mode = "v" }), keep = keep,
    dated = dated }, Store)
  for _, k in ipairs(LISTS) do st[k] = {} end
  for _, k in ipairs(OPTIONAL) do st[k] = {} end
  return st
end

-- Store the fields of script `s` (of file `name`, dated `size`, `mtime`) at index i.
function Store:put(i, name, size, mtime, s)
  self.n = math.max(self.n, i)
  self.name[i], self.id[i] = name, s.id
  if self.dated then self.size[i], self.mtime[i] = size, mtime end
  self.line[i], self.checksum[i], self.message[i] = s.line, math.tointeger(tonumber(s.checksum, 16)), s.message
  self.nontx[i] = (not s.transactional) or nil
  for _, k in ipairs(LISTS) do self[k][i] = s[k] and packed(s[k]) end
  for _, k in ipairs(OPTIONAL) do self[k][i] = s[k] end
end

---The script at index `i`: the same table while a reader holds it.
---@param i integer
---@return luamig.Script?
function Store:script(i)
  local s = self.full[i] or self.made[i]
  if s or i < 1 or i > self.n then return s end
  s = setmetatable({ id = self.id[i], path = self.prefix .. self.name[i], line = self.line[i],
    checksum = ("%016x"):format(self.checksum[i]), message = self.message[i], transactional = not self.nontx[i],
    parents = unpacked(self.parents[i]), depends_on = unpacked(self.depends_on[i]),
    replaces = unpacked(self.replaces[i]), branch_labels = unpacked(self.branch_labels[i]),
    lock_timeout = self.lock_timeout[i], statement_timeout = self.statement_timeout[i],
    lock_retries = self.lock_retries[i] }, self.mt)
  if self.keep then self.full[i] = s else self.made[i] = s end
  return s
end

-- The scripts as a list (ipairs, #, [i]): each made on first use; its
-- metatable's `store` is the store (luamig.revision.graph reads the columns).
local function listed(st)
  return setmetatable({}, { store = st, __index = function(_, i) return st:script(i) end,
    __len = function() return st.n end })
end

-- The metatable of a script known from the cache: its functions are loaded
-- from the file (with `unbound`, as M.load_file) on first use; the store
-- then keeps it (store.full), with its functions, until M.release.
local function lazy(unbound, store)
  return { from_cache = store, __index = function(s, k)
    if not LAZY[k] then return nil end
    local full = M.load_file(rawget(s, "path"), unbound)
    if full.id ~= rawget(s, "id") or full.checksum ~= rawget(s, "checksum") then
      errors.raise("script", ("%s changed while luamig was running; run the command again"):format(s.path))
    end
    -- (false, not nil, for what the file lacks: a later read must not load it again,
    -- which would bind a new instance while the functions of this one run)
    for name in pairs(LAZY) do
      local v = full[name]
      if v == nil then v = false end
      rawset(s, name, v)
    end
    store:hold(s)
    return rawget(s, k) or nil
  end }
end

-- Index of the script `s` made by this store.
function Store:index_of(s)
  if not self.index then
    self.index = {}
    for i = 1, self.n do self.index[self.id[i]] = i end
  end
  return self.index[rawget(s, "id")]
end

-- Keep `s` (it holds functions now) until M.release.
function Store:hold(s)
  local i = self:index_of(s)
  if i then self.full[i], self.made[i] = s, nil end
end

---Forget the compiled functions of a script that came from the cache (they
---load again from its file on next use), so that a long run holds the code
---of one migration at a time, not of every one it ran.
---@param s luamig.Script
function M.release(s)
  local mt = getmetatable(s)
  if not (mt and mt.from_cache) then return end
  for k in pairs(LAZY) do rawset(s, k, nil) end
  local store = mt.from_cache
  local i = not store.keep and store:index_of(s)
  if i then store.full[i], store.made[i] = nil, s end
end

-- The migration file names in `dir` (as fs.list_lua: sorted, in one call to
-- the host for thousands of files) and what prefixes them to make paths.
local function listing(dir)
  local all = host.list_dir(dir)
  if not all then
    errors.raise("config", ("migrations directory %s not found; run `luamig init` or set `migrations` in luamig.lua")
      :format(dir))
  end
  local names, is_lua = {}, fs.is_lua_name
  for _, name in ipairs(all) do
    if is_lua(name) then names[#names + 1] = name end
  end
  return names, fs.prefix(dir)
end

---@class luamig.Loaded
---@field cache luamig.Cache
---@field store luamig.ScriptStore

---The memo stored with the script cache for `dir`, when no migration file
---was added, removed or changed since it was stored; else nil.
---@param dir string
---@return string?
function M.memo(dir)
  local cache = script_cache.open(dir)
  if not cache.memo then return nil end
  local names, prefix = listing(dir)
  if script_cache.unchanged(cache, names, prefix) then return cache.memo end
  return nil
end

---Store `memo` (text derived from the scripts `loaded` describes) with the cache.
---@param loaded luamig.Loaded
---@param memo string
function M.remember(loaded, memo)
  script_cache.save(loaded.cache, loaded.store, memo)
end

---Compile now every script of `loaded` that came from the cache (compiled
---only when run otherwise), and keep them compiled (M.release no longer
---forgets them): a fleet run does it once in the parent, so its forked
---children inherit the functions instead of each reading the files.
---@param loaded luamig.Loaded
function M.compile_all(loaded)
  local st = loaded.store
  for i = 1, st.n do
    local s = st:script(i)
    local _ = s.upgrade -- (the first read of a lazy script's function loads them all)
    setmetatable(s, nil)
    st.full[i] = s
  end
end

---Give every script of `loaded` whose functions ran since they were loaded
---a fresh instance of its file (luamig.Script.renew): a fleet job does it
---between two targets, so that each sees its migration files as just
---loaded, none of the last target's globals or top-level locals.
---@param loaded luamig.Loaded
function M.renew_all(loaded)
  for _, s in pairs(loaded.store.full) do
    local renew = rawget(s, "renew")
    if renew then renew(s) end
  end
end

---Load every migration in `dir` (files *.lua not starting with _ or .), in
---file-name order. Raises on a missing directory, a broken file or a
---repeated revision id. Files unchanged since an earlier run come from the
---script cache (luamig.revision.cache) and are compiled only when run.
---The list holds each script's fields (luamig.ScriptStore); a script is made
---when read from it.
---@param dir string
---@param unbound table?  what the files' `luamig` holds outside a step (as M.load_file)
---@param fields_only boolean?  keep only the fields of files read now too (their code loads again if run),
---  and make a script only while a reader holds it: for commands that read the graph only (each file's
---  code and environment is 2-4 KiB; 45 MiB for `history` on 10,000 files), not for runs (which would
---  compile each file twice)
---@return luamig.Script[] scripts, luamig.Loaded loaded
function M.load_dir(dir, unbound, fields_only)
  local names, prefix = listing(dir)
  local cache = script_cache.open(dir)
  local store = new_store(prefix, not fields_only, cache.path ~= nil)
  store.mt = lazy(unbound, store)
  local stale, seen = false, {}
  for i, name in ipairs(names) do
    local path = prefix .. name
    local size, mtime = host.stat(path)
    local s = script_cache.lookup(cache, name, size, mtime)
    if not s then
      s = M.load_file(path, unbound)
      if not fields_only then store.full[i] = s end
      stale = true
    end
    store:put(i, name, size, mtime, s)
    local j = seen[s.id]
    local problem = M.id_problem(s.id, j and { [s.id] = { path = prefix .. names[j], line = store.line[j] } })
    if problem then fail(path, s.line, "%s", problem) end
    seen[s.id] = i
  end
  if stale or script_cache.count(cache) ~= #names then script_cache.save(cache, store) end
  cache.text, cache.entries = nil, nil -- (the store holds what they said; a memo saved later needs neither)
  return listed(store), { cache = cache, store = store }
end

return M
