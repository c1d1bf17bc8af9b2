---@meta _
-- luamig editor types: the `schema` global of a declared schema (schema.lua
-- or schema/*.lua), which `luamig revision --autogenerate` and `luamig
-- check` compare with the migrations at head. Each call takes the arguments
-- of the op that would create the object.

---The declared schema: tables, indexes, enums, extensions, views and raw SQL objects.
---@type luamig.Declare
schema = nil

---A declared table's options: op.create_table's, plus renamed_from.
---@class luamig.DeclaredTableOptions
---@field constraints luamig.ConstraintSpec[]?  table constraints, as op.create_table takes them
---@field renamed_from string?                  the table's former name: autogenerate renames it instead of drop and add
---@field comment string?                       a note for readers (not compared: schema.comment("table t", ...) is)
---@field row_security (boolean|"force")?      PostgreSQL: row-level security on (ENABLE ROW LEVEL SECURITY); "force": for the owner too

---A declared column: a luamig.ColumnSpec, plus renamed_from.
---@class luamig.DeclaredColumn: luamig.ColumnSpec
---@field renamed_from string?  the column's former name: autogenerate renames it instead of drop and add

---The `schema` global of a declaration file.
---@class luamig.Declare
local Declare = {}

---A table, as op.create_table creates it.
---@param name string
---@param columns luamig.DeclaredColumn[]
---@param opts luamig.DeclaredTableOptions?
function Declare.table(name, columns, opts) end

---An index, as op.create_index creates it.
---@param name string
---@param table_name string
---@param columns string[]
---@param opts {unique: boolean?, where: string?}?
function Declare.index(name, table_name, columns, opts) end

---An enum type and its values, in order.
---@param name string
---@param values string[]
function Declare.enum(name, values) end

---An extension (PostgreSQL; nothing on SQLite).
---@param name string
function Declare.extension(name) end

---A view: its SELECT, compared as the database normalizes it.
---@param name string
---@param sql string
function Declare.view(name, sql) end

---A materialized view (PostgreSQL): its SELECT, compared as the database normalizes it.
---@param name string
---@param sql string
function Declare.materialized_view(name, sql) end

---A function (PostgreSQL) as its CREATE FUNCTION statement, compared as the catalog normalizes it
---(the body as written); a changed one becomes CREATE OR REPLACE.
---@param name string
---@param create_sql string
function Declare.func(name, create_sql) end

---A trigger as its CREATE TRIGGER statement, compared as the catalog normalizes it.
---@param name string
---@param create_sql string
function Declare.trigger(name, create_sql) end

---A sequence of its own (PostgreSQL), with its options.
---@param name string
---@param opts {type: string?, start: integer?, increment: integer?, min: integer?, max: integer?, cache: integer?, cycle: boolean?}?
function Declare.sequence(name, opts) end

---A row-level security policy (PostgreSQL) on a declared table, compared through pg_policy; a changed one is
---an ALTER POLICY where it can say the change, else a drop and a create.
---@param name string
---@param table_name string
---@param opts {command: "all"|"select"|"insert"|"update"|"delete"?, as: "permissive"|"restrictive"?, roles: string[]?, using: string?, with_check: string?}?
function Declare.policy(name, table_name, opts) end

---A domain (PostgreSQL): a base type with a default, NOT NULL and CHECKs on VALUE, compared through the
---catalog; a change is an ALTER DOMAIN, but for a new base type (a drop and a create).
---@param name string
---@param opts {type: string, default: string?, not_null: boolean?, checks: (string|{name: string, condition: string})[]?}
function Declare.domain(name, opts) end

---A comment (PostgreSQL) on `target`, as COMMENT ON writes it: "FUNCTION f(integer)", "SEQUENCE s", "TRIGGER t ON tbl",
---"TABLE t", "COLUMN t.c", "VIEW v", "MATERIALIZED VIEW v", "DOMAIN d", "POLICY p ON t".
---@param target string
---@param text string
function Declare.comment(target, text) end

---Any other object as the SQL that creates it (a composite type, a rule ...), compared by its definition in the database.
---@param name string
---@param create_sql string
function Declare.sql(name, create_sql) end
