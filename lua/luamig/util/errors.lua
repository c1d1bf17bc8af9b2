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
---@field kind string     "usage"|"config"|"script"|"revision"|"db"|"connect"|"migration"|"lock"
---@field message string
---@field where string?   "file:line" the error points at
---@field hint string?    what to do about it

---Process exit codes, named once: 0 ok, 1 a migration or database failed,
---2 bad usage, config or migration files, 3 `luamig check`: not at head,
---4 `luamig check --fail-on-drift`: an applied migration's file changed,
---5 `luamig check`: the declared schema differs, 6 the migration lock was
---not free within lock_timeout (nothing ran; the holder may still finish).
M.EXIT = { ok = 0, failure = 1, usage = 2, not_at_head = 3, drifted = 4, schema_differs = 5, lock_timeout = 6 }

local exit_codes = {
  usage = M.EXIT.usage, config = M.EXIT.usage, script = M.EXIT.usage, revision = M.EXIT.usage,
  db = M.EXIT.failure, connect = M.EXIT.failure, migration = M.EXIT.failure, lock = M.EXIT.failure,
}

-- "file:line" of the function `level` levels above the caller of the
-- constructor (1: the function that called errors.raise), or nil.
local function where_of(level)
  local info = debug.getinfo(level + 2, "Sl")
  if info and info.currentline and info.currentline > 0 then
    -- (source, not short_src: Lua cuts a long file name to "...tail")
    local src = info.source:sub(1, 1) == "@" and info.source:sub(2) or info.short_src
    return src .. ":" .. info.currentline
  end
end

---Make an error object. `level` (as for error()) fills `where` with the
---file:line of the code to blame, unless fields.where is given; 0 or nil
---leaves it empty.
---@param kind string
---@param message string
---@param fields table? extra fields (where, hint, code, ...)
---@param level integer?
---@return luamig.Error
function M.new(kind, message, fields, level)
  local e = fields or {}
  e.kind, e.message = kind, message
  if e.where == nil and level and level > 0 then e.where = where_of(level) end
  return setmetatable(e, mt)
end

---Raise an error object (never returns). `level` 1 blames the caller of
---raise, 2 its caller (the user's file, for an API the user calls), ...
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
