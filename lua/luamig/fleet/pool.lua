--- The connections a fleet job process keeps between its targets, one per
--- database: after a target its connection is made as new (dialect.reuse:
--- no transaction, setting, temporary table or lock of that target left)
--- and kept; the job's next target on that database gets a new luamig.Db
--- over it, set up for its own schema, instead of connecting again. A
--- connection that cannot be made as new is closed.
local connect = require "luamig.db.connect"
local targets = require "luamig.fleet.targets"

local M = {}

---@class luamig.FleetPool
---@field kept table<string, { handle: userdata, dialect: table }>  by targets.database
local Pool = {}
Pool.__index = Pool

---@return luamig.FleetPool
function M.new()
  return setmetatable({ kept = {} }, Pool)
end

---The session of `ctx` (target `t`'s context) on the connection kept for
---its database, set up for its config; nil when none is kept.
---@param ctx luamig.Context
---@param t luamig.Target
---@return luamig.Session?
function Pool:session(ctx, t)
  local key = targets.database(t)
  local kept = self.kept[key]
  if not kept then return nil end
  self.kept[key] = nil
  local ok, db = pcall(connect.attach, kept.handle, kept.dialect, ctx.config, ctx.log, { create = not ctx.readonly })
  if not ok then
    kept.handle:close()
    error(db, 0)
  end
  return { db = db, dialect = kept.dialect, config = ctx.config, graph = ctx.graph, log = ctx.log }
end

---Keep the connection of session `s` (target `t`'s) for the next target on
---its database, or close it.
---@param t luamig.Target
---@param s luamig.Session?
function Pool:release(t, s)
  if not s or s.db:is_closed() then return end
  local key = targets.database(t)
  if self.kept[key] == nil and s.dialect.reuse(s.db) then
    self.kept[key] = { handle = s.db.handle, dialect = s.dialect }
  else
    s.db:close()
  end
end

---Close every kept connection.
function Pool:close()
  for key, kept in pairs(self.kept) do
    kept.handle:close()
    self.kept[key] = nil
  end
end

return M
