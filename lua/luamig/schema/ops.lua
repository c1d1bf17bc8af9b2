--- Schema operations (`op` in migrations): portable DDL, bound to the
--- running step's connection and dialect. What differs between backends
--- (ALTER TABLE in place or SQLite's table rebuild, enum types, extensions,
--- CONCURRENTLY) is the dialect's (luamig.dialect). Each op that has an
--- obvious inverse names it (INVERSE), so a migration may define change(op)
--- instead of upgrade/downgrade.
local check = require "luamig.schema.check"
local ddl = require "luamig.model.ddl"
local db_rows = require "luamig.db.rows"
local sql_file = require "luamig.db.sql_file"
local common = require "luamig.model.sql"
local errors = require "luamig.util.errors"
local host = require "luamig.host"

local M = {}

local q = common.quote_ident

-- The enums op.create_enum made in the running step (luamig.Db.step_enums;
-- the offline recorder keeps its own).
local function created(db)
  db.step_enums = db.step_enums or {}
  return db.step_enums
end


-- `fn` such that an error it raises without a location names the
-- migration's line that called the op (found while the stack is intact).
local function blamed(fn, path)
  if not path then return fn end
  local function locate(e)
    if errors.is(e) and not e.where and (e.kind == "migration" or e.kind == "script") then
      e.where = host.where(path)
    end
    return e
  end
  return function(...)
    local r = table.pack(xpcall(fn, locate, ...))
    if not r[1] then error(r[2], 0) end
    return table.unpack(r, 2, r.n)
  end
end

-- The table-level ops: the same SQL everywhere but for the dialect's types
-- and CONCURRENTLY.
local function table_ops(op, db, d)
  ---CREATE TABLE: columns are luamig.ColumnSpec, opts.constraints table
  ---constraints, opts.if_not_exists.
  function op.create_table(name, columns, opts)
    opts = opts or {}
    ddl.identifier(d, name:match("[^.]+$") or name, "table")
    local specs = {}
    for i, c in ipairs(columns) do specs[i] = d.column_spec(db, c) end
    db:exec(ddl.create_table(d, name, specs, opts.constraints, opts.if_not_exists))
  end

  function op.drop_table(name, opts)
    db:exec(("DROP TABLE %s%s"):format(opts and opts.if_exists and "IF EXISTS " or "", ddl.qualified(name)))
  end

  ---ALTER TABLE ... RENAME; opts.primary_key: a primary key of the default
  ---name ("<old>_pkey", PostgreSQL) takes the new table's ("<new>_pkey").
  function op.rename_table(old, new, opts)
    ddl.identifier(d, new, "table")
    db:exec(("ALTER TABLE %s RENAME TO %s"):format(ddl.qualified(old), q(new)))
    if opts and opts.primary_key then d.rename_default_pkey(db, old, new) end
  end

  ---CREATE INDEX: each column a name or a luamig.IndexKeySpec ({ "col",
  ---opclass =, order =, nulls = } or { expr = "lower(email)" }); opts as
  ---luamig.IndexOptions (concurrently: PostgreSQL, outside a transaction).
  ---@param name string
  ---@param table_name string
  ---@param columns (string|luamig.IndexKeySpec)[]
  ---@param opts luamig.IndexOptions?
  function op.create_index(name, table_name, columns, opts)
    db:exec(ddl.create_index(d, name, table_name, columns, opts, d.concurrently(opts or {})))
  end

  function op.drop_index(name, opts)
    opts = opts or {}
    db:exec(("DROP INDEX %s%s%s"):format(d.concurrently(opts), opts.if_exists and "IF EXISTS " or "", q(name)))
  end
end

-- Column and constraint changes: the dialect's (in place, or a rebuild).
local function alter_ops(op, db, d)
  ---Add a column; opts.if_not_exists: nothing when the table has it (a rerun
  ---of a migration a kill stopped after a db:autocommit section).
  function op.add_column(table_name, spec, opts) d.add_column(db, table_name, d.column_spec(db, spec), opts) end
  function op.drop_column(table_name, column) d.drop_column(db, table_name, column) end

  ---Change a column: opts.type (opts.using on PostgreSQL), opts.nullable,
  ---opts.server_default / opts.default (false drops it), opts.new_name.
  function op.alter_column(table_name, column, opts) d.alter_column(db, table_name, column, opts) end

  ---UNIQUE (columns); opts.concurrently (PostgreSQL, outside a transaction):
  ---its index built CONCURRENTLY first, then the constraint USING it.
  function op.create_unique_constraint(name, table_name, columns, opts)
    d.add_constraint(db, table_name, { type = "unique", name = name, columns = columns,
      concurrently = opts and opts.concurrently })
  end

  ---CHECK (condition); opts.not_valid (PostgreSQL): existing rows are not
  ---checked until op.validate_constraint.
  function op.create_check_constraint(name, table_name, condition, opts)
    d.add_constraint(db, table_name, { type = "check", name = name, condition = condition,
      not_valid = opts and opts.not_valid })
  end

  ---FOREIGN KEY (local_cols) REFERENCES referent (remote_cols); opts.on_delete,
  ---opts.on_update, opts.not_valid (as create_check_constraint's).
  function op.create_foreign_key(name, source, referent, local_cols, remote_cols, opts)
    opts = opts or {}
    d.add_constraint(db, source, { type = "foreign_key", name = name, columns = local_cols, references = referent,
      ref_columns = remote_cols, on_delete = opts.on_delete, on_update = opts.on_update, not_valid = opts.not_valid })
  end

  ---Check the existing rows against a constraint added with not_valid
  ---(PostgreSQL: VALIDATE CONSTRAINT, which blocks no writes; SQLite: nothing).
  function op.validate_constraint(name, table_name) d.validate_constraint(db, table_name, name) end

  ---Drop constraint `name`; on SQLite, one the table left unnamed is given by
  ---its content instead ({ type = "check", condition = "x > 0" }, { type =
  ---"unique", columns = { "a" } }, { type = "foreign_key", columns = ..., references = ... }).
  function op.drop_constraint(name, table_name) d.drop_constraint(db, table_name, name) end

  ---PRIMARY KEY (columns), named `name` (nil: the database's default name).
  ---opts.concurrently as create_unique_constraint's.
  function op.create_primary_key(name, table_name, columns, opts)
    d.add_constraint(db, table_name, { type = "primary_key", name = name, columns = columns,
      concurrently = opts and opts.concurrently })
  end

  ---Drop the table's primary key, whatever its name.
  function op.drop_primary_key(table_name) d.drop_primary_key(db, table_name) end

  ---Several changes to one table at once (one rebuild on SQLite; plain
  ---ALTER TABLE statements on PostgreSQL). `fn(batch)` gets add_column,
  ---drop_column, alter_column, create_*_constraint, drop_constraint,
  ---create_primary_key, drop_primary_key,
  ---create_index, drop_index with the table left out.
  function op.batch_alter_table(table_name, fn)
    d.batch_alter_table(db, op, table_name, function(b) return fn(M.checked_batch(b, db, d)) end)
  end
end

-- Enum types and extensions: the dialect's.
local function type_ops(op, db, d)
  ---An enum type. PostgreSQL: CREATE TYPE ... AS ENUM. SQLite: columns of
  ---this type are TEXT with a CHECK (col IN (...)). opts.if_not_exists: an
  ---existing enum of that name is left as it is.
  function op.create_enum(name, values, opts)
    d.create_enum(db, name, values, opts or {})
    created(db)[name] = true
  end

  function op.drop_enum(name, opts)
    d.drop_enum(db, name, opts)
    created(db)[name] = nil
  end

  ---Add a value: opts.before / opts.after, opts.if_not_exists. On
  ---PostgreSQL the value cannot be used before the transaction that added
  ---it commits (use db:autocommit or a later migration).
  function op.add_enum_value(name, value, opts) d.add_enum_value(db, name, value, opts or {}) end
  function op.rename_enum_value(name, old, new) d.rename_enum_value(db, name, old, new) end

  ---Remove a value (rows holding it make this fail).
  function op.drop_enum_value(name, value) d.drop_enum_value(db, name, value) end

  function op.create_extension(name, opts) d.create_extension(db, name, opts) end
  function op.drop_extension(name) d.drop_extension(db, name) end
end

-- Every op, bound to `db` and dialect `d` (unchecked, unlocated); `step`
-- (luamig.OpsTarget) places op.execute_file's file.
local function build(db, d, step)
  local raw = {}
  table_ops(raw, db, d)
  alter_ops(raw, db, d)
  type_ops(raw, db, d)

  ---Run SQL (with bound parameters).
  function raw.execute(sql, ...) return db:exec(sql, ...) end

  ---Run a SQL file (plain pg_dump output included: luamig.db.sql_file), named
  ---relative to the migration file's folder, else to the project's.
  function raw.execute_file(name)
    if type(name) ~= "string" or name == "" then
      errors.raise("migration", "op.execute_file: name the SQL file, e.g. op.execute_file(\"sql/dump.sql\")")
    end
    local path, looked = sql_file.resolve(name, step.path, step.root)
    if not path then errors.raise("migration", ("op.execute_file: no file %s in %s"):format(name, looked)) end
    return sql_file.run(db, path)
  end

  ---Insert rows through db:copy_in (COPY on PostgreSQL, multi-row INSERTs on
  ---SQLite and in --sql output): rows keyed by column name (luamig.null or a
  ---missing key for NULL), or positional in the order of opts.columns.
  function raw.bulk_insert(table_name, rows, opts)
    if type(rows) ~= "table" then errors.raise("migration", "op.bulk_insert: rows must be a list of rows") end
    if #rows == 0 then return 0 end
    local columns = opts and opts.columns or db_rows.columns_of(rows, "op.bulk_insert")
    return db_rows.copy_in(db, table_name, columns, rows, "op.bulk_insert")
  end
  return raw
end

local op_names, op_set -- every op's name (sorted) and as a set, made on first use

local function names()
  if not op_names then
    op_names, op_set = {}, {}
    for name in pairs(build()) do
      op_names[#op_names + 1] = name
      op_set[name] = true
    end
    table.sort(op_names)
  end
  return op_names, op_set
end

local batch_names = {}
for name in pairs(check.BATCH) do batch_names[#batch_names + 1] = name end
table.sort(batch_names)

---batch_alter_table's batch `b` with each method's arguments checked first
---(check.BATCH) and an unknown method an error with a did-you-mean.
---@param b table  the dialect's batch
---@param db luamig.Db
---@param d luamig.Dialect
---@return table
function M.checked_batch(b, db, d)
  local proxy = {}
  for name, sig in pairs(check.BATCH) do
    proxy[name] = function(_, ...)
      check.args(db, d, "batch." .. name, sig, table.pack(...), created(db))
      if name == "add_column" then return b[name](b, d.column_spec(db, (...))) end -- as op.add_column: enum columns
      return b[name](b, ...)
    end
  end
  return setmetatable(proxy, { __index = function(_, name) error(check.unknown("batch.", name, batch_names), 0) end })
end

---@class luamig.OpsTarget
---@field db luamig.Db        the connection (or the offline recorder)
---@field dialect luamig.Dialect   its luamig dialect
---@field path string?    the running migration's file, to name its line in errors
---@field root string?    the project's folder (op.execute_file's other place)

---Bind the ops to a step's connection. Returns a table of functions (called
---as `op.create_table(...)`, like Alembic's), each checking its arguments
---(luamig.schema.check) before any SQL runs; an unknown name is an error
---with a did-you-mean. The functions are made on the first use of `op`
---(most steps of a long chain run SQL only and never use it).
---@param step luamig.OpsTarget
---@return table op
function M.new(step)
  local db, d, path = step.db, step.dialect, step.path
  local op = {}
  local function unknown(_, name)
    local e = check.unknown("op.", name, (names()))
    e.where = path and host.where(path)
    error(e, 0)
  end
  local function fill()
    setmetatable(op, { __index = unknown })
    for name, fn in pairs(build(db, d, step)) do
      local sig = check.OPS[name]
      op[name] = blamed(sig and function(...)
        check.args(db, d, "op." .. name, sig, table.pack(...), created(db))
        return fn(...)
      end or fn, path)
    end
  end
  return setmetatable(op, {
    __index = function(_, name)
      fill()
      return op[name]
    end,
    __pairs = function()
      fill()
      return next, op, nil
    end,
  })
end

-- ------------------------------------------------------------ change()

-- The inverse of each reversible op, given its arguments.
local INVERSE = {
  create_table = function(name) return "drop_table", { name } end,
  rename_table = function(old, new, opts) return "rename_table", { new, old, opts } end,
  add_column = function(t, spec) return "drop_column", { t, spec[1] or spec.name } end,
  create_index = function(name, t) return "drop_index", { name, { table = t } } end,
  create_unique_constraint = function(name, t) return "drop_constraint", { name, t } end,
  create_check_constraint = function(name, t) return "drop_constraint", { name, t } end,
  create_foreign_key = function(name, t) return "drop_constraint", { name, t } end,
  create_primary_key = function(_, t) return "drop_primary_key", { t } end,
  create_enum = function(name) return "drop_enum", { name } end,
  create_extension = function(name) return "drop_extension", { name } end,
  alter_column = function(t, col, opts)
    local only_rename = opts.new_name ~= nil
    for k in pairs(opts) do
      if k ~= "new_name" then only_rename = false end
    end
    if only_rename then return "alter_column", { t, opts.new_name, { new_name = col } } end
  end,
}

---Run `change(op)` forwards (upgrade) with the step's ops.
---@param change fun(op: table)
---@param op table
function M.change_up(change, op)
  change(op)
end

-- An op change() calls that does not exist, in the words of `kind`'s error
-- (where: the line of `path` that called it).
local function unknown_in_change(kind, path, name)
  local _, set = names()
  if not set[name] then
    errors.raise(kind, check.unknown("op.", name, (names()), "change(): ").message, { where = host.where(path) or path })
  end
end

-- An op change() calls that has no inverse, as an error of `kind`.
local function irreversible(kind, path, name)
  errors.raise(kind, ("change() uses op.%s, which cannot be reversed; write upgrade(db) and downgrade(db) instead")
    :format(name), { where = host.where(path) or path })
end

---Run `change(op)` backwards (downgrade): record its ops, then run their
---inverses in reverse order. An op without an inverse is an error naming it.
---@param change fun(op: table)
---@param op table     the step's ops
---@param path string  the migration file, for messages
function M.change_down(change, op, path)
  local recorded = {}
  local recorder = setmetatable({}, { __index = function(_, name)
    return function(...)
      unknown_in_change("migration", path, name)
      local inverse = INVERSE[name]
      local inv_name, inv_args
      if inverse then inv_name, inv_args = inverse(...) end
      if not inv_name then irreversible("migration", path, name) end
      recorded[#recorded + 1] = { inv_name, inv_args }
    end
  end })
  change(recorder)
  for i = #recorded, 1, -1 do
    local name, args = recorded[i][1], recorded[i][2]
    op[name](table.unpack(args))
  end
end

---Whether change() can be reversed, checked before anything runs.
function M.reversible(change, path)
  local ok, err = pcall(change, setmetatable({}, { __index = function(_, name)
    return function(...)
      unknown_in_change("script", path, name)
      local inverse = INVERSE[name]
      if not (inverse and inverse(...)) then irreversible("script", path, name) end
    end
  end }))
  return ok, err
end

return M
