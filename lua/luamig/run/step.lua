--- The step context: what one migration step sees while it runs, built by
--- the runner (or the offline recorder) and bound to the migration file's
--- `op` and `luamig` for the duration of the step. No module keeps a
--- "current step": everything reaches the step through this table.
local ops = require "luamig.schema.ops"
local backfill = require "luamig.run.backfill"
local online = require "luamig.run.online"

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
---@field phase "upgrade"|"expand"|"contract"|"downgrade"|"uncontract"  the body running now
---@field replay boolean?      expand(db) runs again for another phase: only op.online acts (luamig.run.online)
---@field force boolean?       contract --force: drop columns still written through their old name
---@field still_written number?  seconds (config still_written): how recent a write through an old name blocks contract
---@field offline table?       upgrade --sql: the run's state (luamig.run.online_sql.state()); op.online renders the fresh state

---A step context for `script` on `db`.
---@param db luamig.Db
---@param dialect luamig.Dialect
---@param script luamig.Script
---@param fields table?  log, dry_run, transactional (default: the script's), replicas, root, offline
---@return luamig.StepContext
function M.new(db, dialect, script, fields)
  fields = fields or {}
  local ctx = { db = db, dialect = dialect, revision = script.id, path = script.path, log = fields.log,
    dry_run = fields.dry_run, transactional = fields.transactional, rows = 0, replicas = fields.replicas,
    root = fields.root, phase = fields.phase or "upgrade", force = fields.force, still_written = fields.still_written,
    offline = fields.offline }
  if ctx.transactional == nil then ctx.transactional = script.transactional end
  ctx.op = online.ops(ctx, ops.new(ctx))
  ctx.luamig = backfill.api(ctx)
  return ctx
end

---Run one phase's body fn(db) in `ctx` (bound already by M.call). With
---`replay`, fn is expand(db) run again for `phase`: `db` and the plain ops
---do nothing, and the op.online calls it makes do their part of `phase`
---afterwards (in reverse order when undoing), once every op's check of
---that phase passed (contract's "still written" rule), before any of them runs.
---@param ctx luamig.StepContext
---@param phase string
---@param fn function
---@param replay boolean?
---@param db table
function M.phase(ctx, phase, fn, replay, db)
  ctx.phase, ctx.replay = phase, replay or nil
  if not replay then return fn(db) end
  ctx.deferred, ctx.prechecks = {}, {}
  fn(online.inert_db(db))
  local list, checks = ctx.deferred, ctx.prechecks
  ctx.deferred, ctx.prechecks, ctx.replay = nil, nil, nil
  for _, check in ipairs(checks) do
    local ok, e = pcall(check)
    if not ok then -- (a refusal: none of this phase ran)
      if type(e) == "table" then e.refused = true end
      error(e, 0)
    end
  end
  local undo = phase == "downgrade" or phase == "uncontract"
  for i = undo and #list or 1, undo and 1 or #list, undo and -1 or 1 do list[i]() end
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
