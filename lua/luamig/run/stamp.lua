--- Setting the version table without running migrations: `luamig stamp`
--- (heads moved as Alembic moves them, or replaced with --purge) and
--- `stamp --refresh-checksums` (accept edited applied migrations). Takes the
--- write lock; one transaction.
local errors = require "luamig.util.errors"
local version = require "luamig.run.version"

local M = {}

-- Run `body(t, heads)` under the lock in one transaction; returns its results.
local function locked(s, body)
  local t = version.tables(s.config, s.dialect, s.db)
  s.dialect.lock_run(s.db, s.config, s.log)
  s.dialect.begin_locked(s.db)
  local ok, a, b = pcall(function()
    version.ensure(s.db, s.dialect, t)
    local x, y = body(t, version.heads(s.db, t))
    s.db:exec "COMMIT"
    return x, y
  end)
  s.dialect.unlock_run(s.db, s.config)
  if not ok then
    s.db:rollback()
    error(a, 0)
  end
  return a, b
end

---Set the version table to the heads `resolve` gives for the stored ones.
---@param s luamig.Session
---@param resolve fun(heads: string[]): string[]  the target heads
---@return string[] old, string[] new
function M.stamp(s, resolve)
  return locked(s, function(t, heads)
    local targets = resolve(heads)
    version.set_heads(s.db, t, heads, targets)
    for _, id in ipairs(#targets > 0 and targets or { "base" }) do
      local script = s.graph.revs[id]
      version.record(s.db, t, { revision = id, direction = "stamp", status = "ok",
        checksum = script and script.checksum })
    end
    return heads, targets
  end)
end

---Record the current checksum of each applied revision `ids`, so that
---their edited files no longer count as drift. The new history row keeps
---the time and duration of the run it stands for. Raises a "usage" error
---(before writing) when one of them is not applied.
---@param s luamig.Session
---@param ids string[]
---@return string[] heads
function M.refresh_checksums(s, ids)
  return locked(s, function(t, heads)
    local applied = s.graph:ancestors(heads)
    local last = version.last_applied(version.history(s.db, t))
    for _, id in ipairs(ids) do
      if not applied[id] then
        errors.raise("usage", ("%s is not applied: only an applied revision has a " ..
          "checksum to refresh"):format(id))
      end
    end
    for _, id in ipairs(ids) do
      local prev = last[id] or {}
      version.record(s.db, t, { revision = id, direction = "stamp", status = "ok",
        checksum = s.graph.revs[id].checksum, applied_at = prev.applied_at, ms = prev.ms,
        transactional = prev.transactional })
    end
    return heads
  end)
end

return M
