--- op.online.retype_column(t, c, type, opts): a column's type changed in
--- one step, under its own name, without rewriting the table under a lock
--- (PostgreSQL rewrites it for most type changes, holding ACCESS EXCLUSIVE
--- throughout). A shadow column of the new type is added, kept equal to
--- the column's value (through `using`) by a trigger for every row written,
--- and filled for the rows already there in batches that each commit
--- (luamig.run.online_fill: resumable after a kill); NOT NULL, indexes,
--- unique and primary keys, checks and foreign keys are built on it
--- concurrently or NOT VALID then validated. One short transaction then
--- drops the column, gives the shadow its name, default, comment, owned
--- sequences and triggers, and re-points the foreign keys that refer to it
--- (added NOT VALID there, validated after). The column moves to the end of
--- the table. A dialect without this part (one that rebuilds the table for
--- any change, SQLite) makes the plain change.
local errors = require "luamig.util.errors"
local host = require "luamig.host"
local ddl = require "luamig.model.ddl"

local M = {}

M.SUFFIX = "_luamig_new" -- the shadow column, and what is built on it
M.OLD_SUFFIX = "_luamig_old" -- the column, in the swap, until it is dropped

local function raise(ctx, fmt, ...)
  errors.raise("migration", fmt:format(...), { where = host.where(ctx.path) })
end

-- def (a constraint's definition) without a trailing NOT VALID, and whether it had one.
local function validity(def)
  local clause, n = def:gsub("%s+NOT VALID$", "")
  return clause, n > 0
end

---@class luamig.RetypeTools  what luamig.run.online's step ops share
---@field run fun(sql: string, t: string?)          one DDL statement, retried on lock_timeout
---@field atomic fun(what: string, t: string, fn: function)  fn's statements in one transaction
---@field fills luamig.OnlineFills
---@field sync_name fun(t: string, col: string): string
---@field of_new fun(d: luamig.Dialect, expr: string, cols: string[]): string

---The op for step `ctx`.
---@param ctx luamig.StepContext
---@param k luamig.RetypeTools
---@return fun(t: string, c: string, new_type: string, opts: table?)
function M.new(ctx, k)
  local db, d = ctx.db, ctx.dialect
  local o = d.online
  local run, atomic = k.run, k.atomic
  return function(t, c, new_type, opts)
    if type(t) ~= "string" or type(c) ~= "string" or type(new_type) ~= "string"
      or (opts ~= nil and type(opts) ~= "table") then
      raise(ctx, 'op.online.retype_column(table, column, type, { key = "id", using = "SQL", default = "SQL" })')
    end
    opts = opts or {}
    if ctx.offline then
      raise(ctx, "op.online.retype_column reads what hangs on %s.%s (indexes, constraints, foreign keys) from the " ..
        "database, which --sql cannot give; run it against a database, or write alter_column for --sql", t, c)
    end
    if not o.retype then return d.alter_column(db, t, c, { type = new_type, using = opts.using }) end
    if db:in_transaction() then
      raise(ctx, "op.online.retype_column commits as it goes (batches, CREATE INDEX CONCURRENTLY): call it in a " ..
        "db:autocommit(function() ... end) section, or set transactional = false in this migration")
    end
    local R = o.retype
    local plan, why = R.plan(db, t, c)
    if why then raise(ctx, "op.online.retype_column(%s, %s): %s; use op.alter_column (it rewrites the table)", t, c, why) end
    if not plan then raise(ctx, "op.online.retype_column: %s has no column %s", t, c) end
    local key = opts.key or "id"
    if not o.column(db, t, key) then
      raise(ctx, "op.online.retype_column: %s has no column %s to fill by (give key = a unique column)", t, key)
    end
    local q, qt = d.quote_ident, ddl.qualified(t)
    local shadow = R.shadow_name(c, M.SUFFIX)
    local type_sql = ddl.type(d, new_type)
    local using = opts.using or ("%s::%s"):format(q(c), type_sql)
    run(("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s"):format(qt, q(shadow), type_sql), t)
    if o.column(db, t, shadow).type == plan.type then -- (of that type already: a rerun after the swap, or no change)
      run(("ALTER TABLE %s DROP COLUMN %s"):format(qt, q(shadow)), t)
      return
    end
    local sync = k.sync_name(t, shadow)
    atomic("sync " .. t .. "." .. shadow, t, function()
      o.mirror(run, t, sync, shadow, k.of_new(d, using, o.columns(db, t)))
    end)
    k.fills.add(t, { key = key, batch_size = opts.batch_size, sleep_ms = opts.sleep_ms }, shadow, using,
      { not_null = plan.not_null })
    k.fills.settle()
    -- the indexes, keys and constraints again, over the shadow
    local function tmp(name) return R.shadow_name(name, M.SUFFIX) end
    for _, ix in ipairs(plan.indexes) do o.index(run, db, tmp(ix.name), R.index_like(ix.def, tmp(ix.name), c, shadow)) end
    for _, key_ix in ipairs(plan.keys) do
      o.index(run, db, tmp(key_ix.index), R.index_like(key_ix.def, tmp(key_ix.index), c, shadow))
    end
    for _, con in ipairs(plan.constraints) do
      local clause, not_valid = validity(R.constraint_like(con.def, c, shadow))
      if not_valid then
        o.drop_check(run, t, tmp(con.name), db)
        run(("ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID"):format(qt, q(tmp(con.name)), clause), t)
      else
        o.validated(run, t, tmp(con.name), clause, db)
      end
    end
    local default = plan.default
    if opts.default ~= nil then default = opts.default or nil end
    local schema = t:match("^(.+)%.[^.]+$")
    local function in_schema(name) return (schema and (q(schema) .. ".") or "") .. q(name) end
    atomic("retype " .. t .. "." .. c, t, function()
      o.drop_sync(run, t, sync)
      for _, f in ipairs(plan.incoming) do run(("ALTER TABLE %s DROP CONSTRAINT %s"):format(f.on, q(f.name))) end
      for _, tg in ipairs(plan.triggers) do run(("DROP TRIGGER %s ON %s"):format(q(tg.name), qt)) end
      for _, s in ipairs(plan.sequences) do run(("ALTER SEQUENCE %s OWNED BY %s.%s"):format(s, qt, q(shadow))) end
      -- (the names say whose columns these are: lint's drop and rename rules pass luamig's own swap)
      local old = R.shadow_name(c, M.OLD_SUFFIX)
      run(("ALTER TABLE %s RENAME COLUMN %s TO %s"):format(qt, q(c), q(old)))
      run(("ALTER TABLE %s RENAME COLUMN %s TO %s"):format(qt, q(shadow), q(c)))
      run(("ALTER TABLE %s DROP COLUMN %s"):format(qt, q(old)))
      if default then run(("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s"):format(qt, q(c), default)) end
      if plan.comment then
        run(("COMMENT ON COLUMN %s.%s IS %s"):format(qt, q(c), d.quote_literal(plan.comment)))
      end
      for _, ix in ipairs(plan.indexes) do
        run(("ALTER INDEX %s RENAME TO %s"):format(in_schema(tmp(ix.name)), q(ix.name)))
      end
      for _, key_ix in ipairs(plan.keys) do
        run(("ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s%s"):format(qt, q(key_ix.name), key_ix.kind,
          q(tmp(key_ix.index)), key_ix.deferrable))
      end
      for _, con in ipairs(plan.constraints) do
        run(("ALTER TABLE %s RENAME CONSTRAINT %s TO %s"):format(qt, q(tmp(con.name)), q(con.name)))
      end
      for _, f in ipairs(plan.incoming) do
        run(("ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID"):format(f.on, q(f.name), (validity(f.def))))
      end
      for _, tg in ipairs(plan.triggers) do run(tg.def) end
    end)
    for _, f in ipairs(plan.incoming) do
      local _, not_valid = validity(f.def)
      if not not_valid then run(("ALTER TABLE %s VALIDATE CONSTRAINT %s"):format(f.on, q(f.name))) end
    end
  end
end

return M
