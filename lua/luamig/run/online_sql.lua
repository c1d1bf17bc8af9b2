--- op.online under `upgrade --sql` (luamig.run.offline): no database to
--- read, so the ops render their statements for the fresh state (the
--- columns they add do not exist yet, no INVALID leftover, no checkpoint).
--- What only the database or live traffic decides (a column's type, the
--- backfill's batch boundaries, lock retries, table rebuilds) is printed as
--- a `--` comment saying so. The run's knowledge of the columns the ops
--- added, dropped or made NOT NULL carries from expand to contract.
local ddl = require "luamig.model.ddl"
local limits = require "luamig.db.limits"

local M = {}

---The state of one `--sql` run, shared by its step contexts (ctx.offline).
---@return table
function M.state() return { columns = {} } end

---@class luamig.OnlineSql
---@field ctx luamig.StepContext
---@field columns table<string, table|false>  "table.column" -> its shape as the ops left it (false: dropped)
local Sql = {}
Sql.__index = Sql

---@param ctx luamig.StepContext  with ctx.offline (M.state())
---@return luamig.OnlineSql
function M.new(ctx) return setmetatable({ ctx = ctx, columns = ctx.offline.columns }, Sql) end

---Print `text` as `--` comment lines.
function Sql:note(text)
  for line in (text .. "\n"):gmatch("(.-)\n") do self.ctx.db:exec("-- " .. line) end
end

---A column's shape (nil: dropped by an op). One no op touched existed
---before: its type is a placeholder, and it is taken as nullable.
function Sql:column(t, c)
  local k = t .. "." .. c
  local v = self.columns[k]
  if v == nil then
    self:note(("%s: its type, NOT NULL and default come from the database at run time; shown here as " ..
      "<type of %s>, taken as nullable"):format(k, k))
    v = { type = ("<type of %s>"):format(k), not_null = false }
    self.columns[k] = v
  end
  return v or nil
end

---Whether an op of this run added column t.c (in the fresh state no other exists yet).
function Sql:added(t, c) return self.columns[t .. "." .. c] and self.columns[t .. "." .. c].added or false end

---Whether t.c exists: every column does, but those an op of this run dropped.
function Sql:exists(t, c) return self.columns[t .. "." .. c] ~= false end

---Note what an op did to t.c: `shape` (added), false (dropped), or fields to merge.
function Sql:set(t, c, shape)
  local k = t .. "." .. c
  if shape and self.columns[k] then
    for f, v in pairs(shape) do self.columns[k][f] = v end
  else
    self.columns[k] = shape
  end
end

---The columns of `t` the run knows (for a trigger's NEW."col"): `key` and those the ops touched.
function Sql:known(t, key)
  local out, prefix = { key }, t .. "."
  for k, v in pairs(self.columns) do
    if v and k:sub(1, #prefix) == prefix then out[#out + 1] = k:sub(#prefix + 1) end
  end
  return out
end

---A server-side backfill as comment lines: its batch boundaries depend on
---the live table. `spec` as luamig.backfill's with set = { column = "SQL" };
---`quiet(db)` (optional) writes the statements each batch starts with.
---@param spec luamig.BackfillSpec
---@param quiet fun(db: table)?
function Sql:backfill(spec, quiet)
  local ctx = self.ctx
  local key, cols = spec.key or "id", {}
  for c in pairs(spec.set) do cols[#cols + 1] = c end
  table.sort(cols)
  local batch = {}
  if quiet then quiet({ exec = function(_, sql) batch[#batch + 1] = sql .. ";" end }) end
  batch[#batch + 1] = ddl.range_update(spec.table, spec.set, spec.where, key, ":first", ":last") .. ";"
  self:note(("backfill %s (%s) through luamig.backfill: the rows with %s up to max(%s) when it starts, in batches " ..
    "of %d %s, %s; the batch boundaries depend on live data (:first and :last are each batch's first and last " ..
    "%s):\n  %s"):format(spec.table, table.concat(cols, ", "), key, key, spec.batch_size or limits.BACKFILL_BATCH_ROWS,
    key, ctx.db:in_transaction() and "in the migration's transaction" or
    "each in its own transaction, checkpointed (a rerun resumes)", key, table.concat(batch, "\n  ")))
end

---The backfill of `target` = `expr` (where it is NULL), as comment lines.
---@param quiet fun(db: table)  the dialect's per-batch session switch (dialect.online.quiet)
function Sql:fill(t, opts, target, expr, quiet)
  self:backfill({ table = t, key = opts.key, batch_size = opts.batch_size, set = { [target] = expr },
    where = self.ctx.dialect.quote_ident(target) .. " IS NULL" }, quiet)
end

---A change SQLite makes by rebuilding the table: its statements depend on the table's definition.
function Sql:rebuilt(t, what)
  self:note(("the table %s is rebuilt here (%s): its statements depend on the table's definition in the database, " ..
    "which --sql cannot read"):format(t, what))
end

return M
