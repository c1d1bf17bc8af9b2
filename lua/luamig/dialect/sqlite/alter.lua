--- SQLite's schema changes for the ops: what ALTER TABLE cannot do in place
--- goes through the table rebuild (luamig.dialect.sqlite.rebuild).
local ddl = require "luamig.model.ddl"
local common = require "luamig.model.sql"
local rebuild = require "luamig.dialect.sqlite.rebuild"
local types = require "luamig.dialect.sqlite.types"

local M = {}

local q = common.quote_ident

---Rebuild table `table_name` once, after fn(batch) described the changes.
---@param db luamig.Db
---@param table_name string
---@param fn fun(b: luamig.Batch)
function M.with_batch(db, table_name, fn)
  -- (outside a transaction the rebuild is one of its own: failing midway must not leave the rows aside, nor a
  -- reader see the table missing)
  if not db:in_transaction() then
    db:exec "BEGIN IMMEDIATE" -- (the write lock first: a deferred transaction that has read cannot wait for it)
    local ok, err = pcall(M.with_batch, db, table_name, fn)
    if ok then ok, err = pcall(db.exec, db, "COMMIT") end
    if not ok then
      pcall(db.exec, db, "ROLLBACK")
      error(err, 0)
    end
    return
  end
  local b = rebuild.start(db, table_name)
  fn(b)
  rebuild.finish(db, b)
end

function M.add_column(db, table_name, spec, opts)
  if opts and opts.if_not_exists and db:has_column(table_name, spec[1] or spec.name) then return end
  if spec.primary_key or spec.unique then -- ADD COLUMN refuses these on SQLite
    return M.with_batch(db, table_name, function(b) b:add_column(spec) end)
  end
  db:exec(("ALTER TABLE %s ADD COLUMN %s"):format(ddl.qualified(table_name), ddl.column(types, spec, false)))
end

function M.drop_column(db, table_name, column)
  M.with_batch(db, table_name, function(b) b:drop_column(column) end)
end

---A rename runs in place; any other change rebuilds the table.
function M.alter_column(db, table_name, column, opts)
  local rest = {}
  for k, v in pairs(opts) do rest[k] = v end
  if opts.new_name then
    db:exec(("ALTER TABLE %s RENAME COLUMN %s TO %s"):format(ddl.qualified(table_name), q(column), q(opts.new_name)))
    column, rest.new_name = opts.new_name, nil
  end
  if next(rest) then M.with_batch(db, table_name, function(b) b:alter_column(column, rest) end) end
end

function M.add_constraint(db, table_name, spec)
  M.with_batch(db, table_name, function(b) b:add_constraint(spec) end)
end

function M.drop_constraint(db, table_name, name)
  M.with_batch(db, table_name, function(b) b:drop_constraint(name) end)
end

-- (a rebuild checks every row: a constraint is valid once added)
function M.validate_constraint() end

function M.drop_primary_key(db, table_name)
  M.with_batch(db, table_name, function(b) b:drop_primary_key() end)
end

---One rebuild for all of fn(batch)'s changes.
function M.batch_alter_table(db, _, table_name, fn)
  M.with_batch(db, table_name, fn)
end

-- No CONCURRENTLY on SQLite.
function M.concurrently() return "" end

-- SQLite's primary keys have no name to follow a renamed table.
function M.rename_default_pkey() end

-- Nothing to install on SQLite.
function M.create_extension() end
function M.drop_extension() end

return M
