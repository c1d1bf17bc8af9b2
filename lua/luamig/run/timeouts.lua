--- Per-migration timeouts at run time: the `lock_timeout`,
--- `statement_timeout` and `lock_retries` of a migration file (checked by
--- luamig.revision.timeout_keys), with defaults from the config's
--- `migration_timeouts`; and the retry of a transactional step that hit its
--- lock_timeout. (The config's own `lock_timeout` is another thing: the
--- seconds luamig waits for its migration lock.)
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local keys = require "luamig.revision.timeout_keys"

local M = {}

M.FIRST_DELAY, M.MAX_DELAY = 0.5, 30 -- seconds: the backoff doubles from the first up to the cap

---The settings that apply to `script`: its own, else the config's defaults.
---@param script luamig.Script
---@param cfg luamig.Config
---@return {lock_timeout: string?, statement_timeout: string?, lock_retries: integer}
function M.of(script, cfg)
  local defaults = cfg.migration_timeouts or {}
  local out = {}
  for _, k in ipairs(keys.KEYS) do
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
