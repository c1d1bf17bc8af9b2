--- The backfills of one phase's op.online calls, run as ONE pass per table:
--- each op queues "column = SQL expression" for the rows that exist (newer
--- rows get their value from the sync trigger), and settle() walks each
--- table once through luamig.backfill's server form (checkpointed, resumable
--- after kill -9 outside a transaction), each batch one UPDATE setting every
--- queued column still NULL. After a table's pass, its columns that become NOT NULL
--- get it together (one set of locks for all), then its other follow-ups
--- run in call order.
local ddl = require "luamig.model.ddl"
local backfill = require "luamig.run.backfill"

local M = {}

---@class luamig.OnlineFills
---@field add fun(t: string, opts: table?, target: string, expr: string, follow: {not_null: boolean?, after: function?}?)
---@field settle fun()  run what is queued (at the end of the phase, or before another kind of op)

---@param ctx luamig.StepContext
---@param not_null fun(t: string, cols: string[])  NOT NULL on columns of t, together
---@return luamig.OnlineFills
function M.new(ctx, not_null)
  local db, d = ctx.db, ctx.dialect
  local groups, order = {}, {}

  -- one pass over group g: its columns' expressions where still NULL
  local function pass(g)
    local qt, qk = ddl.qualified(g.t), d.quote_ident(g.key)
    local last = db:scalar(("SELECT max(%s) FROM %s"):format(qk, qt))
    if last == nil then return end
    local set, nulls = {}, {}
    for i, s in ipairs(g.sets) do
      local qc = d.quote_ident(s.target)
      set[s.target], nulls[i] = ("COALESCE(%s, %s)"):format(qc, s.expr), qc .. " IS NULL"
    end
    backfill.run(ctx, { table = g.t, key = g.key, set = set, batch_size = g.batch_size, sleep_ms = g.sleep_ms,
      where = ("%s <= ? AND (%s)"):format(qk, table.concat(nulls, " OR ")), params = { last },
      name = ("online %s (%s)"):format(g.t, table.concat(g.names, ", ")) }, d.online.quiet)
  end

  local q = {}
  function q.add(t, opts, target, expr, follow)
    opts, follow = opts or {}, follow or {}
    local key = opts.key or "id"
    local id = t .. "\0" .. key
    local g = groups[id]
    if not g then
      g = { t = t, key = key, sets = {}, names = {}, not_null = {}, after = {} }
      groups[id], order[#order + 1] = g, id
    end
    g.sets[#g.sets + 1], g.names[#g.names + 1] = { target = target, expr = expr }, target
    -- the pass is as gentle as the gentlest op asks
    if opts.batch_size then g.batch_size = math.min(g.batch_size or opts.batch_size, opts.batch_size) end
    if opts.sleep_ms then g.sleep_ms = math.max(g.sleep_ms or 0, opts.sleep_ms) end
    if follow.not_null then g.not_null[#g.not_null + 1] = target end
    if follow.after then g.after[#g.after + 1] = follow.after end
  end
  function q.settle()
    local todo = order
    order = {}
    for _, id in ipairs(todo) do
      local g = groups[id]
      groups[id] = nil
      pass(g)
      if #g.not_null > 0 then not_null(g.t, g.not_null) end
      for _, fn in ipairs(g.after) do fn() end
    end
  end
  return q
end

return M
