--- The statement recorder behind `luamig lint`: while installed, every
--- statement sent on the scratch connection is timed and recorded with the line of
--- the migration file that made it (from the Lua traceback), so SQL that a
--- migration builds at run time is analysed like a literal one. The
--- observer sees each statement right after it ran, inside its transaction.
local host = require "luamig.host"
local errors = require "luamig.util.errors"

local M = {}

---@class luamig.LintStatement
---@field sql string
---@field where string?   "migrations/x.lua:12"; nil for luamig's own statements
---@field ms number
---@field started number  host.now_ms() when it began
---@field changes integer? rows it changed
---@field error string?   why the server refused it

---Record the statements of connection `db` through its statement hook
---(luamig.Db.on_statement): db:exec, db:query, db:rows, db:first,
---db:scalar, a prepared statement's runs and a pipeline's p:exec alike.
---Returns the recorder: rec.start(path, observer) begins a migration's
---list (observer.before(st) / observer.after(st) run around each statement,
---after only when it succeeded), rec.stop() returns the list,
---rec.uninstall() removes the hook.
---@param db luamig.Db
function M.install(db)
  local rec = {}
  local list, path, observer
  local busy = false -- the observer's own queries, and one call's inner ones (db:first's rows), are not recorded
  local function quietly(f, st)
    busy = true
    local ok, err = pcall(f, st)
    busy = false
    if not ok then error(err, 0) end
  end
  db.on_statement = function(sql, run)
    if not list or busy then return run() end
    local st = { sql = sql, where = path and host.where(path), started = host.now_ms() }
    list[#list + 1] = st
    if observer.before then quietly(observer.before, st) end
    busy = true
    local r = table.pack(pcall(run))
    busy = false
    st.ms = host.now_ms() - st.started
    if not r[1] then
      local e = r[2]
      st.error = errors.text(e)
      error(e, 0)
    end
    st.changes = math.type(r[2]) == "integer" and r[2] or nil
    if observer.after then quietly(observer.after, st) end
    return table.unpack(r, 2, r.n)
  end
  function rec.start(p, obs)
    list, path, observer = {}, p, obs or {}
  end
  function rec.stop()
    local l = list
    list, path, observer = nil, nil, nil
    return l or {}
  end
  function rec.uninstall()
    db.on_statement = nil
  end
  return rec
end

return M
