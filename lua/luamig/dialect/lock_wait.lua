--- Waiting for the migration lock, shared by the dialects: poll, say who
--- holds it after a second, give up after lock_timeout seconds.
local errors = require "luamig.util.errors"
local host = require "luamig.host"

local M = {}

---@class luamig.LockWait
---@field try fun(): any            one attempt: the lock (truthy) or nil
---@field holder fun(): string      who holds it, as text
---@field what string               the lock, for messages ("the migration lock (x.db)")
---@field timeout number?           seconds (cfg.lock_timeout); nil waits forever
---@field log luamig.Log?

---Poll `w.try` (10 ms, doubling to 250 ms) until it returns a lock, which is
---returned. After 1 s the log says who holds it; after `w.timeout` seconds a
---"lock" error (code "lock_timeout") names the holder.
---@param w luamig.LockWait
---@return any
function M.wait(w)
  local started, pause, told = host.now_ms(), 10, false
  while true do
    local lock = w.try()
    if lock then return lock end
    local waited = host.now_ms() - started
    if w.timeout and waited >= w.timeout * 1000 then
      errors.raise("lock", ("timed out after %gs waiting for %s held by %s; wait for that run to finish, " ..
        "or raise lock_timeout"):format(w.timeout, w.what, w.holder()), { code = "lock_timeout" })
    end
    if w.log and not told and waited >= 1000 then
      told = true
      w.log:progress("waiting for the migration lock held by " .. w.holder())
    end
    host.sleep_ms(pause)
    pause = math.min(pause * 2, 250)
  end
end

return M
