--- Running a Lua file in an environment of its own: migrations, the config
--- file, plugins, seeds and drill scripts all load this way. A failure
--- becomes one error object whose `where` names the file and line to fix,
--- whatever value the file raised.
local errors = require "luamig.util.errors"

local M = {}

-- "file:line" of the innermost frame running code of `path`, or nil.
local function frame_in(path)
  local source = "@" .. path
  for level = 3, math.huge do
    local info = debug.getinfo(level, "Sl")
    if not info then return nil end
    if info.source == source and info.currentline > 0 then return path .. ":" .. info.currentline end
  end
end

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
    local where, message = M.describe(path, x, frame_in(path))
    return errors.new(kind, message, { where = where, cause = x })
  end, ...))
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

---A fresh environment whose misses fall back to the standard globals.
---@param fields table? the names the file sees besides them
---@return table
function M.env(fields)
  return setmetatable(fields or {}, { __index = _G })
end

return M
