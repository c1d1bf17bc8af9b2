--- Error objects shared by the runner and the C drivers, and their exit codes.
-- Every error the runner raises on purpose is a table with `kind` and
-- `message`; drivers raise tables of kind "db". All share the C metatable
-- "luamig.Error", whose __tostring prints "<where>: <driver> <code>: <message>".
local M = {}

-- Outside the host (pure-Lua specs) there is no C metatable; use a stand-in.
local mt = debug.getregistry()["luamig.Error"] or {
  __tostring = function(e)
    return (e.where and e.where ~= "" and (e.where .. ": ") or "") .. tostring(e.message)
  end,
}

---@class luamig.Error
---@field kind string     "usage"|"config"|"script"|"revision"|"db"|"connect"|"migration"
---@field message string
---@field where string?   "file:line" the error points at
---@field hint string?    what to do about it

-- Exit codes (SPEC §4): 1 for a failure of the database or a migration,
-- 2 for bad usage, config or migration files.
local exit_codes = {
  usage = 2, config = 2, script = 2, revision = 2,
  db = 1, connect = 1, migration = 1,
}

---Make an error object.
---@param kind string
---@param message string
---@param fields table? extra fields (where, hint, ...)
---@return luamig.Error
function M.new(kind, message, fields)
  local e = fields or {}
  e.kind, e.message = kind, message
  return setmetatable(e, mt)
end

---Raise an error object (never returns).
---@param kind string
---@param message string
---@param fields table?
function M.raise(kind, message, fields)
  error(M.new(kind, message, fields), 0)
end

---True when `e` is one of our error objects.
function M.is(e)
  return type(e) == "table" and getmetatable(e) == mt
end

---The process exit code for an error; 1 for anything unrecognised.
---@return integer
function M.exit_code(e)
  return M.is(e) and exit_codes[e.kind] or 1
end

---Text of any error value: our objects via __tostring, others via tostring.
---@return string
function M.text(e)
  if type(e) == "string" then return e end
  local ok, s = pcall(tostring, e)
  return ok and s or "(unprintable error)"
end

return M
