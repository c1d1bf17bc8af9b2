--- Error objects shared by the runner and the C drivers, and their exit codes.
-- Every error the runner raises on purpose is a table with `kind` and
-- `message`; drivers raise tables of kind "db"; any other value raised is
-- caught as one of kind "internal" (M.caught). All share the C metatable
-- "luamig.Error", whose __tostring prints "<where>: <driver> <code>: <message>"
-- (without "<where>: " when the message names that place already).
-- The user's line on the stack (luamig.host.where); outside the host
-- (pure-Lua specs) there is none.
local has_host, host = pcall(require, "luamig.host")
local user_line = has_host and host.where or function() return nil end

local M = {}

-- Outside the host (pure-Lua specs) there is no C metatable; use a stand-in.
local mt = debug.getregistry()["luamig.Error"] or {
  __tostring = function(e)
    local message = tostring(e.message)
    local named = not e.where or e.where == "" or message:find(e.where, 1, true)
    return (named and "" or (e.where .. ": ")) .. message
  end,
}

---@class luamig.Error
---@field kind string     "usage"|"config"|"script"|"revision"|"db"|"connect"|"migration"|"lock"|"internal"
---@field message string
---@field where string?   "file:line" the error points at
---@field hint string?    what to do about it
---@field code string?    the driver's (SQLSTATE, SQLite's name) or the runner's ("lock_timeout", ...)
---@field cause any?      the error this one reports (a failed step's, a plugin's, a foreign value)
---@field traceback string? where it was raised, for --debug
---@field lost boolean?   (a failed step's cause) the connection to the database was lost
---@field ended_tx boolean? (a failed step's cause) the migration ended the step's transaction itself
---@field phase string?   (a failed step's cause) the body that failed: "expand", "contract", ...
---@field refused boolean? a phase's check refused it before any of that phase ran (contract's "still written")
---@field nothing_ran boolean? (a failed step's cause) refused before any of the step ran

---Process exit codes, named once: 0 ok, 1 a migration or database failed,
---2 bad usage, config or migration files, 3 `luamig check`: not at head,
---4 `luamig check --fail-on-drift`: an applied migration's file changed,
---5 `luamig check`: the declared schema differs, 6 the migration lock was
---not free within lock_timeout (nothing ran; the holder may still finish).
M.EXIT = { ok = 0, failure = 1, usage = 2, not_at_head = 3, drifted = 4, schema_differs = 5, lock_timeout = 6 }

local exit_codes = {
  usage = M.EXIT.usage, config = M.EXIT.usage, script = M.EXIT.usage, revision = M.EXIT.usage,
  db = M.EXIT.failure, connect = M.EXIT.failure, migration = M.EXIT.failure, lock = M.EXIT.failure,
  internal = M.EXIT.failure,
}

---Make an error object. A `level` above 0 fills `where` with the user's
---line on the stack (luamig.host.where: the innermost line outside luamig's
---own code, such as the migration that called an API), unless fields.where
---is given; 0 or nil leaves it empty.
---@param kind string
---@param message string
---@param fields table? extra fields (where, hint, code, ...)
---@param level integer?
---@return luamig.Error
function M.new(kind, message, fields, level)
  local e = fields or {}
  e.kind, e.message = kind, message
  if e.where == nil and level and level > 0 then e.where = user_line() end
  return setmetatable(e, mt)
end

---Raise an error object (never returns). A `level` above 0 blames the
---user's line (see M.new).
---@param kind string
---@param message string
---@param fields table?
---@param level integer?
function M.raise(kind, message, fields, level)
  error(M.new(kind, message, fields, level and level + 1), 0)
end

---True when `e` is one of our error objects.
function M.is(e)
  return type(e) == "table" and debug.getmetatable(e) == mt -- (getmetatable sees __metatable)
end

---The process exit code for an error; 1 for anything unrecognised.
---@return integer
function M.exit_code(e)
  if M.is(e) and e.kind == "lock" and e.code == "lock_timeout" then return M.EXIT.lock_timeout end
  return M.is(e) and exit_codes[e.kind] or M.EXIT.failure
end

-- Instructions a user's __tostring may run before it counts as unprintable.
local TOSTRING_BUDGET = 1000000

-- tostring(e) for a value whose __tostring is user code: it runs in a
-- coroutine of its own under an instruction limit (it may loop forever).
local function bounded_tostring(e)
  local co = coroutine.create(tostring)
  debug.sethook(co, function() error("its __tostring does not return", 0) end, "", TOSTRING_BUDGET)
  local ok, s = coroutine.resume(co, e)
  return ok and type(s) == "string" and s or nil
end

---Text of any error value: our objects via __tostring, others via tostring
---(a user's __tostring under an instruction limit).
---@return string
function M.text(e)
  if type(e) == "string" then return e end
  if type(e) ~= "table" and type(e) ~= "userdata" or M.is(e) then
    local ok, s = pcall(tostring, e)
    return ok and s or "(unprintable error)"
  end
  return bounded_tostring(e) or ("(an error object, a %s value, whose __tostring fails or does not return)"):format(type(e))
end

---As an xpcall message handler: the error object for any raised value `e`,
---with a traceback. Our objects are kept (the same table); any other value
---becomes an "internal" one whose `cause` is the value.
---@return luamig.Error
function M.caught(e)
  if M.is(e) then
    e.traceback = e.traceback or debug.traceback(M.text(e), 2)
    return e
  end
  local text = M.text(e)
  return M.new("internal", text, { cause = type(e) ~= "string" and e or nil, traceback = debug.traceback(text, 2) })
end

---`s` cut to at most `max` bytes (at a UTF-8 boundary), saying how much was cut.
---@param s string
---@param max integer
---@return string
function M.capped(s, max)
  if #s <= max then return s end
  local cut = max
  while cut > 0 and (s:byte(cut + 1) or 0) & 0xC0 == 0x80 do cut = cut - 1 end
  return ("%s... (%d more bytes)"):format(s:sub(1, cut), #s - cut)
end

return M
