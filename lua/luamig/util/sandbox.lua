--- Running a Lua file in an environment of its own: migrations, the config
--- file, plugins, seeds and drill scripts all load this way. A failure
--- becomes one error object whose `where` names the file and line to fix,
--- whatever value the file raised.
local errors = require "luamig.util.errors"
-- (outside the host, in pure-Lua specs, nothing is ever interrupted)
local has_host, host = pcall(require, "luamig.host")
if not has_host then
  -- (and luamig.host.where(path)'s rule, for them, in Lua)
  local function where(path)
    for level = 2, math.huge do
      local info = debug.getinfo(level, "Sl")
      if not info then return nil end
      if info.source == "@" .. path and info.currentline > 0 then return path .. ":" .. info.currentline end
    end
  end
  host = { check_interrupt = function() end, watch_coroutine = function(co) return co end, where = where }
end

local M = {}

-- Lua prefixes messages with the chunk's short name, which it shortens to
-- "...tail" for long paths: split such a prefix off when it is `path`.
local function split_position(path, text)
  local file, line, rest = text:match("^(.-):(%d+): (.*)$")
  if not file then return nil, text end
  local tail = file:match("^%.%.%.(.*)$")
  if file == path or (tail and path:sub(-#tail) == tail) then return path .. ":" .. line, rest end
  return nil, text
end

---Where and what an error value raised while running `path` says: a string,
---one of our error objects, or any other value (a table, a number, nil).
---@param path string
---@param x any      the error value
---@param at string? "file:line" of the frame of `path` that raised it
---@return string? where, string message
function M.describe(path, x, at)
  if type(x) == "string" then
    local where, message = split_position(path, x)
    return where or at, message
  end
  if errors.is(x) then
    local text = errors.text(x)
    if x.where and x.where ~= "" then
      local prefix = x.where .. ": "
      if text:sub(1, #prefix) == prefix then text = text:sub(#prefix + 1) end
      local where = split_position(path, x.where .. ": ")
      return where or x.where, text
    end
    return at, text
  end
  local mt = getmetatable(x)
  if type(x) == "number" or (type(mt) == "table" and mt.__tostring) then return at, errors.text(x) end
  return at, ("(error object is a %s value)"):format(type(x))
end

-- Lua's parser reports nesting past its limit (about 200 levels) as a C
-- stack overflow, without a line.
local function overflows(message)
  return message:find("C stack overflow", 1, true) ~= nil
end

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

-- The line where `text` first nests too deeply: the number of whole lines
-- of the shortest prefix that still overflows (a binary search).
local function overflow_line(text)
  local ends = { 0 } -- ends[k]: where line k - 1 ends
  for pos in text:gmatch("()\n") do ends[#ends + 1] = pos end
  ends[#ends + 1] = #text
  local lo, hi = 1, #ends - 1
  while lo < hi do
    local mid = (lo + hi) // 2
    local _, err = load(text:sub(1, ends[mid + 1]), "=", "t", {})
    if err and overflows(errors.text(err)) then hi = mid else lo = mid + 1 end
  end
  return lo
end

---Compile `path` (or `text`, its contents) with `env` as its globals.
---Raises an error of `kind` naming the file and line of a syntax error.
---@param path string
---@param env table
---@param kind string  the error kind ("script", "config", ...)
---@param text string? the file's contents, when already read
---@return function
function M.compile(path, env, kind, text)
  local chunk, err
  if text then
    chunk, err = load(text, "@" .. path, "t", env)
  else
    chunk, err = loadfile(path, "t", env)
  end
  if not chunk then
    local where, message = M.describe(path, err)
    if overflows(message) then
      where = ("%s:%d"):format(path, overflow_line(text or read_all(path)))
      message = "too deeply nested to compile (C stack overflow): split the expression into smaller ones"
    end
    errors.raise(kind, message, { where = where or path })
  end
  return chunk
end

-- xpcall's results without its status; its error raised again. (No table:
-- every migration file goes through here when the script cache is cold.)
local function results(ok, ...)
  if not ok then error((...), 0) end
  return ...
end

---Call `fn` (code of `path`) protected, returning its results. Any error
---value it raises becomes an error of `kind` whose `where` is the line of
---`path` that raised it; the original value is kept as `cause`.
---@param path string
---@param kind string
---@param fn function
---@return any ...
function M.call(path, kind, fn, ...)
  return results(xpcall(fn, function(x)
    local where, message = M.describe(path, x, host.where(path))
    return errors.new(kind, message, { where = where, cause = x })
  end, ...))
end

---An xpcall message handler for code of `path` that the runner calls: our
---error objects are kept (a missing `where` becomes the line of `path` on
---the stack), any other value becomes an error of `kind` as in M.call; each
---with a traceback (errors.caught).
---@param path string
---@param kind string
---@return fun(x: any): luamig.Error
function M.caught_in(path, kind)
  return function(x)
    if not errors.is(x) then
      local where, message = M.describe(path, x, host.where(path))
      x = errors.new(kind, message, { where = where, cause = type(x) ~= "string" and x or nil })
    elseif not x.where or x.where == "" then
      x.where = host.where(path)
    end
    return errors.caught(x)
  end
end

---Compile and run `path` in `env`; returns what the file returns.
---@param path string
---@param env table
---@param kind string
---@param text string?
---@return any
function M.run_file(path, env, kind, text)
  return M.call(path, kind, M.compile(path, env, kind, text))
end

-- ------------------------------------------------------------ what a user file sees

-- Standard functions a file gets as they are (a function cannot be changed).
local SHARED = {}
for _, name in ipairs({ "assert", "collectgarbage", "error", "getmetatable", "ipairs", "next", "pairs", "pcall",
  "print", "rawequal", "rawget", "rawlen", "rawset", "select", "setmetatable", "tonumber", "tostring", "type",
  "warn", "xpcall", "_VERSION" }) do
  SHARED[name] = _G[name]
end

-- collectgarbage without the options that would change how luamig itself
-- collects ("stop", "incremental", ...): the collector is the process's.
local std_collectgarbage = collectgarbage
local GC_READS = { collect = true, count = true, step = true, isrunning = true }
SHARED.collectgarbage = function(opt, ...)
  opt = opt or "collect"
  if not GC_READS[opt] then
    error(("collectgarbage(%q) would change how luamig itself collects garbage: only \"collect\", \"count\", " ..
      "\"step\" and \"isrunning\" are available"):format(tostring(opt)), 2)
  end
  return std_collectgarbage(opt, ...)
end

-- User output goes to stderr: stdout is luamig's (--json is one document).
local stderr = io.stderr
SHARED.print = function(...)
  local n = select("#", ...)
  local parts = { ... }
  for i = 1, n do parts[i] = tostring(parts[i]) end
  stderr:write(table.concat(parts, "\t", 1, n), "\n")
end

-- ------------------------------------------------ interrupts user code cannot catch

-- Once Ctrl-C or SIGTERM is caught, every way user code catches an error
-- (pcall, xpcall, coroutine.resume) raises the interrupt again on return,
-- and every coroutine it makes is watched (src/signals.c).
local check_interrupt, watch = host.check_interrupt, host.watch_coroutine
local std_pcall, std_xpcall, co_create, co_resume, co_close = pcall, xpcall, coroutine.create, coroutine.resume,
    coroutine.close

local function settled(...)
  check_interrupt()
  return ...
end

SHARED.pcall = function(f, ...) return settled(std_pcall(f, ...)) end
SHARED.xpcall = function(f, handler, ...) return settled(std_xpcall(f, handler, ...)) end

local coroutines = {}
for k, v in pairs(coroutine) do coroutines[k] = v end
coroutines.create = function(f) return watch(co_create(f)) end
coroutines.resume = function(co, ...) return settled(co_resume(co, ...)) end
coroutines.wrap = function(f)
  local co = watch(co_create(f))
  local function resumed(ok, ...)
    check_interrupt()
    if not ok then
      co_close(co)
      error((...), 0)
    end
    return ...
  end
  return function(...) return resumed(co_resume(co, ...)) end
end

-- io, writing to stderr where it would write to stdout.
local user_io = {}
for k, v in pairs(io) do user_io[k] = v end
user_io.stdout = stderr
user_io.write = function(...) return stderr:write(...) end
user_io.output = function(file)
  if file ~= nil then error("io.output cannot be changed by user files (their output goes to stderr)", 2) end
  return stderr
end

-- Standard library tables: each file gets copies, so that `string.format =
-- nil` in one file changes neither the runner nor other files.
local LIBS = { string = string, table = table, math = math, utf8 = utf8, coroutine = coroutines, io = user_io, os = os }

local std_require, std_load, std_loadfile = require, load, loadfile
local searchpath, preload = package.searchpath, package.preload
local traceback = debug.traceback

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function exit_refused()
  error("os.exit would stop luamig without rolling back or recording anything; raise an error instead", 2)
end

-- A user module: the file found along the requiring file's package.path,
-- run in an environment of its own.
local function user_module(env, name)
  local pkg = env.package
  local loader = pkg.preload[name]
  if loader then return loader(name) end
  local path, err = searchpath(name, pkg.path)
  if not path then error(("module %q not found:%s"):format(name, err), 3) end
  local result = M.run_file(path, M.env(), "script")
  if result == nil then result = true end
  return result
end

-- require as a user file sees it: its own copies of the standard modules,
-- luamig.null but none of luamig's own modules, copies of the built-in
-- third-party ones (lfs, a fresh cjson), and modules along package.path.
local function requirer(env)
  return function(name)
    if type(name) ~= "string" then error("require expects a module name (a string)", 2) end
    if LIBS[name] or name == "debug" or name == "package" then return env[name] end
    if name == "luamig.null" then return std_require(name) end
    if name == "luamig" or name:match("^luamig%.") then
      error(("require %q: luamig's own modules are not available to user files (only \"luamig.null\")"):format(name), 2)
    end
    if name == "cjson" then return std_require("cjson").new() end
    if preload[name] then
      local mod = std_require(name)
      return type(mod) == "table" and copy(mod) or mod
    end
    local loaded = env.package.loaded
    if loaded[name] == nil then loaded[name] = user_module(env, name) end
    return loaded[name]
  end
end

-- Globals built for each file on its first use of them.
local BUILD = {
  _G = function(env) return env end,
  os = function()
    local c = copy(os)
    c.exit = exit_refused
    return c
  end,
  debug = function() return { traceback = traceback } end,
  package = function() return { path = "", cpath = "", config = package.config, loaded = {}, preload = {},
    searchpath = searchpath } end,
  require = requirer,
  -- (text only: a crafted binary chunk can crash the host)
  load = function(env) return function(chunk, name, _, e) return std_load(chunk, name, "t", e or env) end end,
  loadfile = function(env) return function(path, _, e) return std_loadfile(path, "t", e or env) end end,
  dofile = function(env)
    return function(path)
      local chunk, err = std_loadfile(path, "t", env)
      if not chunk then error(err, 2) end
      return chunk()
    end
  end,
}

-- Behind each environment, a table of its own holding the standard globals
-- the file used so far (built on first use): later reads are plain table
-- hits, and pairs(_ENV) shows only what the file defined.
local OWNER = {} -- key of the environment a lazy table belongs to
local LAZY_MT = {
  __index = function(lazy, name)
    local build, v = BUILD[name], SHARED[name]
    if build then
      v = build(rawget(lazy, OWNER))
    elseif LIBS[name] then
      v = copy(LIBS[name])
    end
    if v ~= nil then rawset(lazy, name, v) end
    return v
  end,
}

---A deep copy of plain data (tables of strings, numbers, booleans) handed
---to user code, so that what it changes stays its own.
---@generic T
---@param v T
---@return T
function M.copy_data(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = M.copy_data(x) end
  return c
end

---Keep the methods of `class` (the metatable of objects user code gets)
---out of user code's reach: getmetatable(obj) returns false, setmetatable
---refuses obj, and pairs(obj) lists obj's fields, then the class's methods.
---@param class table
function M.protect_class(class)
  class.__metatable = false
  class.__pairs = function(obj)
    local t, k = obj, nil
    return function()
      local v
      repeat
        k, v = next(t, k)
        if k == nil and t == obj then t, k, v = class, next(class) end
      until k == nil or t == obj or (type(k) == "string" and not k:match("^__"))
      return k, v
    end
  end
end

---A fresh environment for one user file: the standard globals (its own
---copies of the library tables; os.exit raises; require, package, load and
---debug without the back doors into the runner), plus `fields`.
---@param fields table? the names the file sees besides them
---@return table
function M.env(fields)
  local env = fields or {}
  return setmetatable(env, { __index = setmetatable({ [OWNER] = env }, LAZY_MT), __metatable = false })
end

return M
