--- Per-migration timeouts: `lock_timeout`, `statement_timeout` and
--- `lock_retries` in a migration file, with defaults from the config's
--- `migration_timeouts`; and the retry of a transactional step that hit its
--- lock_timeout. (The config's own `lock_timeout` is another thing: the
--- seconds luamig waits for its migration lock.)
local host = require "luamig.host"
local errors = require "luamig.util.errors"

local M = {}

M.KEYS = { "lock_timeout", "statement_timeout", "lock_retries" }
M.MAX_RETRIES = 100
M.FIRST_DELAY, M.MAX_DELAY = 0.5, 30 -- seconds: the backoff doubles from the first up to the cap

-- Milliseconds per unit (none means ms), and PostgreSQL's largest timeout
-- (an int of milliseconds): a larger one would load and fail at run time.
local UNITS = { [""] = 1, us = 0.001, ms = 1, s = 1000, min = 60000, h = 3600000, d = 86400000 }
M.MAX_MS = 2147483647

---What is wrong with `v` as setting `name`, or nil when it is fine.
---Durations use PostgreSQL's syntax: a number and a unit (us, ms, s, min,
---h, d; none means ms), e.g. "2s", "500ms", "5min", up to 2147483647 ms.
---@param name string
---@param v any
---@return string? problem
function M.problem(name, v)
  if name == "lock_retries" then
    if math.type(v) ~= "integer" or v < 0 or v > M.MAX_RETRIES then
      return ("lock_retries must be a whole number from 0 to %d (got %s)"):format(M.MAX_RETRIES, tostring(v))
    end
    return nil
  end
  local num, unit
  if type(v) == "string" then num, unit = v:match("^%s*(%d+%.?%d*)%s*(%a*)%s*$") end
  if not num or not UNITS[unit] then
    return ('%s must be a PostgreSQL duration such as "2s", "500ms" or "5min" (got %s)')
      :format(name, type(v) == "string" and ("%q"):format(v) or tostring(v))
  end
  if tonumber(num) * UNITS[unit] > M.MAX_MS then
    return ("%s must be at most %dms (about 24.8 days, PostgreSQL's limit; got %q)"):format(name, M.MAX_MS, v)
  end
end

---The settings that apply to `script`: its own, else the config's defaults.
---@param script luamig.Script
---@param cfg luamig.Config
---@return {lock_timeout: string?, statement_timeout: string?, lock_retries: integer}
function M.of(script, cfg)
  local defaults = cfg.migration_timeouts or {}
  local out = {}
  for _, k in ipairs(M.KEYS) do
    local v = script[k]
    if v == nil then v = defaults[k] end
    out[k] = v
  end
  out.lock_retries = out.lock_retries or 0
  return out
end

-- True when error object `err` is PostgreSQL's lock_not_available, which a
-- lock_timeout raises (its code, or its text when something wrapped it).
local function lock_not_available(err)
  if type(err) ~= "table" then return false end
  return err.code == "55P03" or errors.text(err):find("55P03", 1, true) ~= nil
end

---Run attempt_fn() (returning ok, err) up to 1 + retries times while it
---fails with lock_not_available, sleeping with a doubling backoff between
---tries and saying so through `say`. For transactional steps only: their
---failed attempt rolled back (retry_ready does that, or returns false when
---the attempt left something behind) and left nothing behind.
---@param retries integer
---@param label string          e.g. "upgrade 1a2b"
---@param say fun(line: string)
---@param retry_ready fun(): boolean  called before each retry (rollback and begin again)
---@param attempt_fn fun(): boolean, any
---@return boolean ok, any err
function M.with_retries(retries, label, say, retry_ready, attempt_fn)
  local ok, err = attempt_fn()
  local delay = M.FIRST_DELAY
  for n = 2, retries + 1 do
    if ok or not lock_not_available(err) or not retry_ready() then break end
    say(("retrying %s in %.1fs (lock_timeout; attempt %d of %d)"):format(label, delay, n, retries + 1))
    host.sleep_ms(math.floor(delay * 1000))
    delay = math.min(delay * 2, M.MAX_DELAY)
    ok, err = attempt_fn()
  end
  return ok, err
end

return M
