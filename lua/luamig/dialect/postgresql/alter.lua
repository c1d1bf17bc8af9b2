--- PostgreSQL's schema changes for the ops: ALTER TABLE in place, native
--- enum types, extensions.
local ddl = require "luamig.model.ddl"
local common = require "luamig.model.sql"
local errors = require "luamig.util.errors"
local types = require "luamig.dialect.postgresql.types"

local M = {}

local q, lit = common.quote_ident, common.quote_literal

-- Enum-typed columns are plain columns of the type.
function M.column_spec(_, spec) return spec end

function M.add_column(db, table_name, spec, opts)
  db:exec(("ALTER TABLE %s ADD COLUMN %s%s"):format(ddl.qualified(table_name),
    opts and opts.if_not_exists and "IF NOT EXISTS " or "", ddl.column(types, spec, false)))
end

function M.drop_column(db, table_name, column)
  db:exec(("ALTER TABLE %s DROP COLUMN %s"):format(ddl.qualified(table_name), q(column)))
end

---opts.type (with opts.using), opts.nullable, opts.server_default /
---opts.default (false drops it), opts.new_name: one ALTER each.
function M.alter_column(db, table_name, column, opts)
  local head = ("ALTER TABLE %s ALTER COLUMN %s "):format(ddl.qualified(table_name), q(column))
  if opts.type then
    db:exec(head .. "TYPE " .. ddl.type(types, opts.type) .. (opts.using and (" USING " .. opts.using) or ""))
  end
  if opts.nullable ~= nil then db:exec(head .. (opts.nullable and "DROP" or "SET") .. " NOT NULL") end
  if opts.server_default == false or opts.default == false then
    db:exec(head .. "DROP DEFAULT")
  elseif opts.server_default ~= nil or opts.default ~= nil then
    db:exec(head .. "SET DEFAULT " .. ddl.default(opts))
  end
  if opts.new_name then
    ddl.identifier(types, opts.new_name, "column")
    db:exec(("ALTER TABLE %s RENAME COLUMN %s TO %s"):format(ddl.qualified(table_name), q(column), q(opts.new_name)))
  end
end

---ADD a table constraint; spec.not_valid: NOT VALID; spec.concurrently (a
---unique or primary key): its index built CONCURRENTLY, then ADD ... USING INDEX.
function M.add_constraint(db, table_name, spec)
  local t = ddl.qualified(table_name)
  if spec.concurrently and (spec.type == "unique" or spec.type == "primary_key") then
    local name = spec.name or ddl.identifier(types, table_name:match("[^.]+$") .. "_pkey", "constraint")
    db:exec(ddl.create_index(types, name, table_name, spec.columns, { unique = true }, "CONCURRENTLY "))
    return db:exec(("ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s"):format(t, q(name),
      spec.type == "unique" and "UNIQUE" or "PRIMARY KEY", q(name)))
  end
  db:exec(("ALTER TABLE %s ADD %s%s"):format(t, ddl.constraint(spec, types),
    spec.not_valid and spec.type ~= "unique" and spec.type ~= "primary_key" and " NOT VALID" or ""))
end

function M.validate_constraint(db, table_name, name)
  db:exec(("ALTER TABLE %s VALIDATE CONSTRAINT %s"):format(ddl.qualified(table_name), q(name)))
end

function M.drop_primary_key(db, table_name)
  local name = db:scalar("SELECT conname FROM pg_catalog.pg_constraint WHERE conrelid = ?::regclass AND contype = 'p'",
    ddl.qualified(table_name))
  if not name then errors.raise("migration", ("table %s has no primary key to drop"):format(table_name)) end
  M.drop_constraint(db, table_name, name)
end

function M.drop_constraint(db, table_name, name)
  if type(name) ~= "string" then
    errors.raise("migration", ("drop_constraint on %s: PostgreSQL names every constraint; give its name"):format(table_name))
  end
  db:exec(("ALTER TABLE %s DROP CONSTRAINT %s"):format(ddl.qualified(table_name), q(name)))
end

---Plain ALTER TABLE statements, one per call of fn(batch): the batch's
---methods are the table's ops with the table left out.
function M.batch_alter_table(_, op, table_name, fn)
  local b = {}
  for _, name in ipairs({ "add_column", "drop_column", "alter_column" }) do -- op.x(table, ...)
    b[name] = function(_, ...) return op[name](table_name, ...) end
  end
  for _, name in ipairs({ "drop_constraint", "create_unique_constraint", "create_check_constraint",
    "create_foreign_key", "create_primary_key", "validate_constraint" }) do -- op.x(name, table, ...)
    b[name] = function(_, cname, ...) return op[name](cname, table_name, ...) end
  end
  function b.create_index(_, name, columns, opts) return op.create_index(name, table_name, columns, opts) end
  function b.drop_index(_, name) return op.drop_index(name) end
  function b.drop_primary_key() return op.drop_primary_key(table_name) end
  fn(b)
end

---CREATE/DROP INDEX CONCURRENTLY (in a migration outside a transaction).
function M.concurrently(opts) return opts.concurrently and "CONCURRENTLY " or "" end

---After table `old` was renamed `new`: its primary key named "<old>_pkey"
---(the server's default name, which a rename keeps) becomes "<new>_pkey".
function M.rename_default_pkey(db, old, new)
  local bare_old, bare_new = old:match("[^.]+$"), new:match("[^.]+$")
  local has = db:scalar([[SELECT 1 FROM pg_catalog.pg_constraint
WHERE conrelid = ?::regclass AND contype = 'p' AND conname = ?]], ddl.qualified(new), bare_old .. "_pkey")
  if has then
    db:exec(("ALTER TABLE %s RENAME CONSTRAINT %s TO %s"):format(ddl.qualified(new), q(bare_old .. "_pkey"),
      q(ddl.identifier(types, bare_new .. "_pkey", "constraint"))))
  end
end

function M.create_extension(db, name, opts)
  db:exec(("CREATE EXTENSION %s%s"):format((opts == nil or opts.if_not_exists ~= false) and "IF NOT EXISTS " or "",
    q(name)))
end

function M.drop_extension(db, name)
  db:exec(("DROP EXTENSION IF EXISTS %s"):format(q(name)))
end

-- ------------------------------------------------------------ enums

---opts.if_not_exists: an existing type of that name stays as it is
---(PostgreSQL has no CREATE TYPE IF NOT EXISTS: a DO block, so that --sql
---output does the same).
function M.create_enum(db, name, values, opts)
  local sql = ("CREATE TYPE %s AS ENUM (%s)"):format(ddl.qualified(name, types), common.literal_list(values))
  if opts.if_not_exists then
    local tag = "$luamig$"
    while sql:find(tag, 1, true) do tag = tag:sub(1, -2) .. "_$" end
    sql = ("DO %s BEGIN %s; EXCEPTION WHEN duplicate_object THEN NULL; END %s"):format(tag, sql, tag)
  end
  db:exec(sql)
end

function M.drop_enum(db, name, opts)
  db:exec(("DROP TYPE %s%s"):format(opts and opts.if_exists and "IF EXISTS " or "", ddl.qualified(name)))
end

---On PostgreSQL >= 12 this runs inside a transaction, but the value cannot
---be used before that transaction commits.
function M.add_enum_value(db, name, value, opts)
  local where = opts.before and (" BEFORE " .. lit(opts.before)) or opts.after and (" AFTER " .. lit(opts.after)) or ""
  db:exec(("ALTER TYPE %s ADD VALUE %s%s%s"):format(ddl.qualified(name), opts.if_not_exists and "IF NOT EXISTS " or "",
    lit(value), where))
end

function M.rename_enum_value(db, name, old, new)
  db:exec(("ALTER TYPE %s RENAME VALUE %s TO %s"):format(ddl.qualified(name), lit(old), lit(new)))
end

-- Recast one column of the enum to the new type `name`: a default is cast
-- to the old type, so drop it, recast the column, set it again.
local function recast(db, c, name)
  local t, col = q(c.table_schema) .. "." .. q(c.table_name), q(c.column_name)
  local default = c.column_default and c.column_default:match("^('.*')::")
  if c.column_default then db:exec(("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT"):format(t, col)) end
  db:exec(("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::text::%s"):format(t, col, q(name), col, q(name)))
  if default then db:exec(("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s::%s"):format(t, col, default, q(name))) end
end

---PostgreSQL cannot drop a value in place: the type is renamed aside,
---created anew without it, every column of it recast, and the old type
---dropped (rows holding the value make the recast fail).
function M.drop_enum_value(db, name, value)
  local values = {}
  for _, r in ipairs(db:query([[
SELECT e.enumlabel FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
WHERE t.typname = ? ORDER BY e.enumsortorder]], name)) do
    if r.enumlabel ~= value then values[#values + 1] = r.enumlabel end
  end
  local cols = db:query([[
SELECT c.table_schema, c.table_name, c.column_name, c.column_default FROM information_schema.columns c
WHERE c.udt_name = ? AND c.table_schema = ANY (pg_catalog.current_schemas(false))]], name)
  local aside = name .. "_luamig_old"
  db:exec(("ALTER TYPE %s RENAME TO %s"):format(q(name), q(aside)))
  db:exec(("CREATE TYPE %s AS ENUM (%s)"):format(q(name), common.literal_list(values)))
  for _, c in ipairs(cols) do recast(db, c, name) end
  db:exec(("DROP TYPE %s"):format(q(aside)))
end

return M
