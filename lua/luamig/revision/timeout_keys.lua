--- The per-migration timeout settings a migration file (or the config's
--- `migration_timeouts`) may set: `lock_timeout`, `statement_timeout` and
--- `lock_retries`, and their checks. Applying them is the runner's
--- (luamig.run.timeouts).
local M = {}

M.KEYS = { "lock_timeout", "statement_timeout", "lock_retries" }
M.MAX_RETRIES = 100

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

---Duration `v` (as M.problem accepts it) in milliseconds.
---@param v string
---@return number
function M.ms(v)
  local num, unit = v:match("^%s*(%d+%.?%d*)%s*(%a*)%s*$")
  return tonumber(num) * UNITS[unit]
end

return M
