--- The statement recorder behind `luamig lint`: while installed, every
--- db:exec on the scratch connection is timed and recorded with the line of
--- the migration file that made it (from the Lua traceback), so SQL that a
--- migration builds at run time is analysed like a literal one. The
--- observer sees each statement right after it ran, inside its transaction.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local line_in = require("luamig.schema.ops").migration_line

local M = {}

---@class luamig.LintStatement
---@field sql string
---@field where string?   "migrations/x.lua:12"; nil for luamig's own statements
---@field ms number
---@field started number  host.now_ms() when it began
---@field changes integer? rows it changed
---@field error string?   why the server refused it

---Record the statements of connection `db` (a driver's `Conn` method table
---is shared by every connection: only `db`'s statements are recorded).
---Returns the recorder: rec.start(path, observer) begins a migration's
---list (observer.before(st) / observer.after(st) run around each statement,
---after only when it succeeded), rec.stop() returns the list,
---rec.uninstall() puts db:exec back.
---@param Conn table
---@param db userdata
function M.install(Conn, db)
  local raw = Conn.exec
  local rec = {}
  local list, path, observer
  Conn.exec = function(self, sql, ...)
    if self ~= db or not list or type(sql) ~= "string" then return raw(self, sql, ...) end
    local st = { sql = sql, where = path and line_in(path), started = host.now_ms() }
    list[#list + 1] = st
    if observer.before then observer.before(st) end
    local r = table.pack(pcall(raw, self, sql, ...))
    st.ms = host.now_ms() - st.started
    if not r[1] then
      local e = r[2]
      st.error = errors.text(e)
      -- the driver blames its caller's line, which is this wrapper's
      if errors.is(e) and st.where and (not e.where or e.where:find("lint/record", 1, true)) then e.where = st.where end
      error(e, 0)
    end
    st.changes = math.type(r[2]) == "integer" and r[2] or nil
    if observer.after then observer.after(st) end
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
    Conn.exec = raw
  end
  return rec
end

return M
