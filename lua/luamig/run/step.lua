--- The step context: what one migration step sees while it runs, built by
--- the runner (or the offline recorder) and bound to the migration file's
--- `op` and `luamig` for the duration of the step. No module keeps a
--- "current step": everything reaches the step through this table.
local ops = require "luamig.schema.ops"
local backfill = require "luamig.run.backfill"

local M = {}

---@class luamig.StepContext
---@field db luamig.Db             the connection (or the offline recorder)
---@field dialect luamig.Dialect        its luamig dialect
---@field revision string
---@field path string          the migration file
---@field root string?         the project's folder (the config file's)
---@field transactional boolean
---@field log luamig.Log?
---@field dry_run boolean?
---@field rows integer         rows written by backfills in this step
---@field op table             the ops bound to db
---@field luamig table         the `luamig` table (backfill, progress, null) bound to this step
---@field replicas luamig.Replicas?  backfills pause between batches while they lag (max_replica_lag)

---A step context for `script` on `db`.
---@param db luamig.Db
---@param dialect luamig.Dialect
---@param script luamig.Script
---@param fields table?  log, dry_run, transactional (default: the script's), replicas, root
---@return luamig.StepContext
function M.new(db, dialect, script, fields)
  fields = fields or {}
  local ctx = { db = db, dialect = dialect, revision = script.id, path = script.path, log = fields.log,
    dry_run = fields.dry_run, transactional = fields.transactional, rows = 0, replicas = fields.replicas, root = fields.root }
  if ctx.transactional == nil then ctx.transactional = script.transactional end
  ctx.op = ops.new(ctx)
  ctx.luamig = backfill.api(ctx)
  return ctx
end

---Call fn(...) with the migration file's `op` and `luamig` bound to `ctx`;
---they are unbound again afterwards, whatever fn did. Returns pcall's results.
---@param ctx luamig.StepContext
---@param script luamig.Script
---@param call fun(f: function, ...): ...  pcall or an xpcall wrapper
---@param fn function
function M.call(ctx, script, call, fn, ...)
  local bind = script.bind
  bind(ctx)
  local r = table.pack(call(fn, ...))
  bind(nil)
  return table.unpack(r, 1, r.n)
end

return M
