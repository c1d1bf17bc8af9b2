---@meta _
-- luamig editor types (see luamig.lua in this folder): `op`, its column and constraint specs, batch_alter_table's batch.

---A column: `{ "name", "type", key = value ... }`; a key not listed here is an error.
---@class luamig.ColumnSpec
---@field [1] string                the column's name
---@field [2] string|{raw: string}  its type: integer, bigint, smallint, text, string(n), boolean, float, numeric(p,s), date, timestamp, timestamptz, json, uuid, bytes, a type the database knows, or { raw = "SQL" } unchecked
---@field name string?              the name, when not given as [1]
---@field type (string|{raw: string})?  the type, when not given as [2]
---@field nullable boolean?         default true (false for primary keys)
---@field primary_key boolean?      part of the primary key
---@field autoincrement boolean?    an integer primary key numbered by the database
---@field unique boolean?           a UNIQUE column
---@field default any?              a literal default value
---@field server_default string?    a default SQL expression, as written
---@field references string?        "table.column" or "table" (its primary key)
---@field on_delete string?         CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION
---@field on_update string?         CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION
---@field check string?             an SQL condition

---A table constraint (create_table's opts.constraints).
---@class luamig.ConstraintSpec
---@field type "primary_key"|"unique"|"check"|"foreign_key"
---@field name string?
---@field columns string[]?
---@field condition string?         check: the SQL condition
---@field references string?        foreign_key: the referenced table
---@field ref_columns string[]?     foreign_key: its columns
---@field on_delete string?
---@field on_update string?

---Schema operations (`op`): portable DDL for SQLite and PostgreSQL, every name quoted. Each op
---checks its arguments first: an unknown key, option or op name is an error with a did-you-mean.
---@class luamig.Op
---@field online table  zero-downtime ops (op.online.*, README: Zero-downtime changes), in expand(db)/contract(db); op.online.retype_column(table, column, type, opts?) in upgrade(db)/downgrade(db)
local Op = {}

---CREATE TABLE.
---@param name string
---@param columns luamig.ColumnSpec[]
---@param opts {constraints: luamig.ConstraintSpec[]?, if_not_exists: boolean?}?
function Op.create_table(name, columns, opts) end

---DROP TABLE.
---@param name string
---@param opts {if_exists: boolean?}?
function Op.drop_table(name, opts) end

---Rename a table.
---@param old string
---@param new string
function Op.rename_table(old, new) end

---Add a column.
---@param table_name string
---@param column luamig.ColumnSpec
function Op.add_column(table_name, column) end

---Drop a column (SQLite: rebuilds the table).
---@param table_name string
---@param column string
function Op.drop_column(table_name, column) end

---Change a column: type (using: PostgreSQL cast), nullability, default (false drops it), name.
---@param table_name string
---@param column string
---@param opts {type: (string|{raw: string})?, using: string?, nullable: boolean?, server_default: string|false|nil, default: any, new_name: string?}
function Op.alter_column(table_name, column, opts) end

---CREATE INDEX (where: partial; concurrently: PostgreSQL, outside a transaction).
---@param name string
---@param table_name string
---@param columns string[]
---@param opts {unique: boolean?, where: string?, concurrently: boolean?, if_not_exists: boolean?}?
function Op.create_index(name, table_name, columns, opts) end

---DROP INDEX.
---@param name string
---@param opts {if_exists: boolean?, concurrently: boolean?}?
function Op.drop_index(name, opts) end

---Add a UNIQUE constraint.
---@param name string
---@param table_name string
---@param columns string[]
---@param opts {concurrently: boolean?}?  PostgreSQL: index built CONCURRENTLY, then USING INDEX
function Op.create_unique_constraint(name, table_name, columns, opts) end

---Add a CHECK constraint.
---@param name string
---@param table_name string
---@param condition string an SQL condition
---@param opts {not_valid: boolean?}?  PostgreSQL: NOT VALID (see validate_constraint)
function Op.create_check_constraint(name, table_name, condition, opts) end

---Add FOREIGN KEY (columns) REFERENCES referent (ref_columns).
---@param name string
---@param source string the referencing table
---@param referent string the referenced table
---@param columns string[]
---@param ref_columns string[]
---@param opts {on_delete: string?, on_update: string?, not_valid: boolean?}?
function Op.create_foreign_key(name, source, referent, columns, ref_columns, opts) end

---Drop a named constraint (SQLite: an unnamed one by its content, { type = "check", condition = ... }).
---@param name string|table
---@param table_name string
function Op.drop_constraint(name, table_name) end

---Check the existing rows against a constraint added with not_valid (nothing on SQLite).
---@param name string
---@param table_name string
function Op.validate_constraint(name, table_name) end

---Add PRIMARY KEY (columns).
---@param name string? nil: the database's default name
---@param table_name string
---@param columns string[]
---@param opts {concurrently: boolean?}?
function Op.create_primary_key(name, table_name, columns, opts) end

---Drop the table's primary key.
---@param table_name string
function Op.drop_primary_key(table_name) end

---Several changes to one table at once (one rebuild on SQLite).
---@param table_name string
---@param fn fun(batch: luamig.Batch)
function Op.batch_alter_table(table_name, fn) end

---Create an enum type (SQLite: TEXT columns with a CHECK). `if_not_exists`:
---an existing enum of that name is left as it is.
---@param name string
---@param values string[]
---@param opts {if_not_exists: boolean?}?
function Op.create_enum(name, values, opts) end

---Drop an enum type.
---@param name string
---@param opts {if_exists: boolean?}?
function Op.drop_enum(name, opts) end

---Add a value to an enum type.
---@param name string
---@param value string
---@param opts {before: string?, after: string?, if_not_exists: boolean?}?
function Op.add_enum_value(name, value, opts) end

---Rename an enum value (SQLite: rows holding it change too).
---@param name string
---@param old string
---@param new string
function Op.rename_enum_value(name, old, new) end

---Remove an enum value (PostgreSQL: the type is recreated and its columns recast).
---@param name string
---@param value string
function Op.drop_enum_value(name, value) end

---CREATE EXTENSION IF NOT EXISTS (nothing on SQLite).
---@param name string
---@param opts {if_not_exists: boolean?}?
function Op.create_extension(name, opts) end

---DROP EXTENSION IF EXISTS (nothing on SQLite).
---@param name string
function Op.drop_extension(name) end

---Run SQL with bound parameters.
---@param sql string
---@param ... any
---@return integer changes
function Op.execute(sql, ...) end

---Run a SQL file, statement by statement: plain pg_dump output included (COPY ... FROM stdin
---data loaded on PostgreSQL, \restrict/\unrestrict skipped, other psql meta-commands refused).
---`path` is relative to the migration file's folder, else to the project's.
---@param path string
---@return integer statements
function Op.execute_file(path) end

---Insert rows (a missing key or luamig.null is NULL) through db:copy_in; positional rows
---({ 1, "a" }) need opts.columns.
---@param table_name string
---@param rows (luamig.Row|any[])[]
---@param opts {columns: string[]?, batch_size: integer?}?
---@return integer count
function Op.bulk_insert(table_name, rows, opts) end

---op.batch_alter_table's batch: the table-level ops with the table left out.
---@class luamig.Batch
local Batch = {}

---Add a column.
---@param column luamig.ColumnSpec
function Batch:add_column(column) end

---Drop a column.
---@param name string
function Batch:drop_column(name) end

---Change a column (as op.alter_column).
---@param name string
---@param opts table
function Batch:alter_column(name, opts) end

---Add a UNIQUE constraint.
---@param name string
---@param columns string[]
function Batch:create_unique_constraint(name, columns) end

---Add a CHECK constraint.
---@param name string
---@param condition string
function Batch:create_check_constraint(name, condition) end

---Add a FOREIGN KEY.
---@param name string
---@param referent string
---@param columns string[]
---@param ref_columns string[]
---@param opts {on_delete: string?, on_update: string?}?
function Batch:create_foreign_key(name, referent, columns, ref_columns, opts) end

---Drop a named constraint (SQLite: an unnamed one by its content).
---@param name string|table
function Batch:drop_constraint(name) end

---Add PRIMARY KEY (columns).
---@param name string?
---@param columns string[]
function Batch:create_primary_key(name, columns) end

---Drop the table's primary key.
function Batch:drop_primary_key() end

---Create an index on the table.
---@param name string
---@param columns string[]
---@param opts {unique: boolean?, where: string?}?
function Batch:create_index(name, columns, opts) end

---Drop an index.
---@param name string
function Batch:drop_index(name) end

