--- db:pipeline(fn): statements whose results the Lua code does not need at
--- once, sent without waiting (libpq pipeline mode; on SQLite each runs at
--- once, so one migration runs on both). The drivers do the work
--- (pipeline_send / pipeline_sync on the handle): results are read at sync
--- points every 1,000 statements, at the end, and before any other call on
--- the connection, so db:rows / db:query inside the loop see every write
--- queued before them. The first failure is raised naming its statement,
--- its parameters and the Lua line that queued it. The running pipeline is
--- the connection's (luamig.Db.open_pipeline), released when its step ends.
local M = {}

---The `p` of db:pipeline. p:exec(stmt, ...) queues a statement (db:prepare's,
---or SQL text with `?` placeholders); p:sync() waits for every statement
---queued so far (raising the first failure) and returns the rows they
---changed since the pipeline began.
---@class luamig.Pipeline
---@field exec fun(self: luamig.Pipeline, stmt: userdata|table|string, ...: any)
---@field sync fun(self: luamig.Pipeline): integer

-- The `p` given to fn: closures only, so user code cannot reach the Db.
local function new(db)
  local p, changes = {}, 0
  function p.exec(_, stmt, ...) db:pipeline_send(stmt, ...) end
  function p.sync()
    changes = changes + db:pipeline_sync()
    return changes
  end
  return p
end

---Run fn(p) on `db`, sending p:exec(stmt, ...) statements without waiting
---for each result. Returns the rows they changed. See the README's
---backfill section for what a failure rolls back inside and outside a
---transaction. `level`: the caller to blame for a nested pipeline.
---@param db luamig.Db
---@param fn fun(p: luamig.Pipeline)
---@param level integer
---@return integer changes
function M.run(db, fn, level)
  if db.open_pipeline then error("db:pipeline is already running on this connection: queue into its p", level + 1) end
  db:pipeline_sync() -- a fresh count
  local p = new(db)
  db.open_pipeline = p
  local ok, err = pcall(fn, p)
  if db.open_pipeline == p then db.open_pipeline = nil end
  if not ok then
    pcall(db.pipeline_sync, db) -- leave the connection usable; fn's error comes first
    error(err, 0)
  end
  return p:sync()
end

return M
