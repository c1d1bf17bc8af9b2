--- `--wait-for-db` / `wait_for_db`: retry the first connection with backoff
--- until the database accepts it or the time is up (dbmate's `wait`).
local errors = require "luamig.util.errors"
local host = require "luamig.host"
local connect = require "luamig.db.connect"

local M = {}

local UNITS = { ms = 0.001, s = 1, [""] = 1, min = 60 }

---Seconds from a number or text such as "30s", "500ms", "2min". Raises a
---"usage" error naming `what` for anything else.
---@param v number|string
---@param what string
---@return number
function M.seconds(v, what)
  local n, unit
  if type(v) == "number" then n, unit = v, "" else n, unit = tostring(v):match("^%s*(%d+%.?%d*)%s*(%a*)%s*$") end
  n = tonumber(n)
  if not n or n < 0 or n ~= n or not UNITS[unit] then
    errors.raise("usage", ('%s must be a duration such as "30s", "500ms" or "2min" (got %s)'):format(what, tostring(v)))
  end
  return n * UNITS[unit]
end

---connect.open, retried while it fails with a "connect" error, for up to
---`seconds`: 250 ms between attempts, doubling to 4 s. Each failed attempt
---is one line on stderr. The last error is raised when the time is up.
---@param seconds number
---@param url string
---@return table db, table dialect
function M.open(seconds, url, cfg, log, opts)
  local started, pause, attempt = host.now_ms(), 250, 0
  while true do
    attempt = attempt + 1
    local ok, db, dialect = pcall(connect.open, url, cfg, log, opts)
    if ok then return db, dialect end
    if not (errors.is(db) and db.kind == "connect") then error(db, 0) end
    local left = seconds * 1000 - (host.now_ms() - started)
    if left <= 0 then
      errors.raise("connect", ("the database did not accept connections within %gs (%d attempts): %s")
        :format(seconds, attempt, db.message))
    end
    local wait = math.min(pause, left)
    io.stderr:write(("luamig: waiting for the database (attempt %d, next in %.2fs): %s\n")
      :format(attempt, wait / 1000, (tostring(db.message):gsub("\n.*", ""))))
    host.sleep_ms(wait)
    pause = math.min(pause * 2, 4000)
  end
end

return M
