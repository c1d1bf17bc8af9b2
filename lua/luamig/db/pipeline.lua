--- db:pipeline(fn): statements whose results the Lua code does not need at
--- once, sent without waiting (libpq pipeline mode; on SQLite each runs at
--- once, so one migration runs on both). The drivers do the work
--- (conn:pipeline_send / conn:pipeline_sync): results are read at sync
--- points every 1,000 statements, at the end, and before any other call on
--- the connection, so db:rows / db:query inside the loop see every write
--- queued before them. The first failure is raised naming its statement,
--- its parameters and the Lua line that queued it.
local M = {}

local open = setmetatable({}, { __mode = "k" }) -- conn -> the pipeline running on it

---@class luamig.Pipeline
local Pipeline = {}
Pipeline.__index = Pipeline

---Queue a statement (db:prepare's, or SQL text with `?` placeholders).
---@param stmt luamig.Statement|string
---@param ... any bound to its placeholders
function Pipeline:exec(stmt, ...)
  self.db:pipeline_send(stmt, ...)
end

---Wait for every statement queued so far (raising the first failure);
---returns the rows they changed since the pipeline began.
---@return integer changes
function Pipeline:sync()
  self.changes = self.changes + self.db:pipeline_sync()
  return self.changes
end

---Install db:pipeline on a driver's Conn method table.
---@param Conn table
function M.install(Conn)
  ---Run fn(p), sending p:exec(stmt, ...) statements without waiting for
  ---each result. Returns the rows they changed. See the README's backfill
  ---section for what a failure rolls back inside and outside a transaction.
  ---@param fn fun(p: luamig.Pipeline)
  ---@return integer changes
  function Conn:pipeline(fn)
    if open[self] then error("db:pipeline is already running on this connection: queue into its p", 2) end
    self:pipeline_sync() -- a fresh count
    local p = setmetatable({ db = self, changes = 0 }, Pipeline)
    open[self] = p
    local ok, err = pcall(fn, p)
    open[self] = nil
    if not ok then
      pcall(self.pipeline_sync, self) -- leave the connection usable; fn's error comes first
      error(err, 0)
    end
    return p:sync()
  end
end

return M
