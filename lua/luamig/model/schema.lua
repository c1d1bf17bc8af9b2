--- The schema model: what a snapshot (db:schema(), luamig.schema.introspect)
--- holds, the same shape on every backend. Each dialect's catalog module
--- fills it; luamig.schema.diff compares two of them; dump, baselines and
--- drills build on it.
---
--- Keys: an object of the connection's home schema (PostgreSQL: the current
--- schema at connect time; SQLite: main) is keyed by its bare name, any other
--- by "schema.name" (functions: "name(args)"; triggers, rules and policies:
--- "<table key>.<name>"). Entries carry `schema` and `name` themselves, so
--- that messages always name objects qualified. Fields a backend does not
--- know are nil. Identifiers (oids) never appear: two databases built by the
--- same migrations have equal snapshots.

---@class luamig.Snapshot
---@field schemas table<string, luamig.SchemaEntry>      PostgreSQL
---@field tables table<string, luamig.Table>
---@field views table<string, luamig.View>               views and materialized views
---@field sequences table<string, luamig.Sequence>
---@field functions table<string, luamig.Function>       functions, procedures, aggregates
---@field types table<string, luamig.Type>               domains, composite and range types
---@field enums table<string, {schema: string?, name: string, values: string[], comment: string?}>
---@field triggers table<string, luamig.Rule>
---@field rules table<string, luamig.Rule>
---@field policies table<string, luamig.Rule>
---@field extensions table<string, {name: string, version: string?, schema_name: string?, comment: string?}>
---@field unsupported string[]  objects the model does not cover, described ("operator public.===(integer,integer)")

---@class luamig.SchemaEntry
---@field name string
---@field comment string?
---@field owner string?   with compare_privileges
---@field acl string?     with compare_privileges

---@class luamig.Table
---@field schema string?
---@field name string
---@field kind "table"|"partitioned table"|"virtual table"
---@field columns luamig.Column[]           in order
---@field primary_key string[]              column names ({} when none)
---@field indexes table<string, luamig.Index>  indexes not owned by a constraint
---@field constraints table<string, luamig.Constraint>  by name (SQLite: by text when unnamed)
---@field uniques {name: string?, columns: string[]}[]   (views of `constraints`, for ops and plugins)
---@field checks {name: string?, condition: string}[]
---@field foreign_keys luamig.ForeignKey[]
---@field partition_key string?     PostgreSQL: "RANGE (day)"
---@field partition_of string?      the parent's key
---@field partition_bound string?   "FOR VALUES FROM (...) TO (...)"
---@field inherits string?          qualified parents, in order
---@field unlogged boolean?
---@field rls boolean?              row-level security enabled
---@field rls_forced boolean?
---@field options string?           storage parameters
---@field replica_identity string?  "full"|"nothing"|"index" (nil: default)
---@field strict boolean?           SQLite STRICT
---@field without_rowid boolean?    SQLite WITHOUT ROWID
---@field create_sql string?        SQLite: the CREATE TABLE text (not compared: batch rebuilds rewrite it)
---@field comment string?
---@field owner string?
---@field acl string?

---@class luamig.ForeignKey
---@field name string?
---@field columns string[]
---@field references string
---@field ref_columns string[]
---@field on_delete string?
---@field on_update string?

---@class luamig.Column
---@field name string
---@field type string
---@field nullable boolean
---@field default string?      the default expression's text
---@field collation string?    when not the type's
---@field identity string?     "always" | "by default" (its sequence is in `sequences`)
---@field generated string?    the generation expression
---@field stored boolean?      SQLite: a stored (not virtual) generated column
---@field hidden boolean?      SQLite: hidden column of a virtual table
---@field autoincrement boolean? SQLite: INTEGER PRIMARY KEY AUTOINCREMENT
---@field statistics integer?  PostgreSQL: SET STATISTICS target
---@field storage string?      PostgreSQL: when not the type's
---@field comment string?
---@field acl string?

---@class luamig.Index
---@field name string
---@field columns string[]     key columns or expressions (as the database writes them)
---@field keys luamig.IndexKey[]?  the same keys in full, in order
---@field unique boolean
---@field where string?        partial predicate
---@field method string?       access method (btree, gin, ...)
---@field include string[]?    INCLUDE columns
---@field nulls_not_distinct boolean?
---@field clustered boolean?  CLUSTER ON
---@field def string?          the full CREATE INDEX text (compared when nothing else differs)
---@field comment string?

---@class luamig.IndexKey  one key of an index (op.create_index writes it { "col", ... } or { expr = ... })
---@field column string?   a column, or
---@field expr string?     an expression, without outer parentheses
---@field opclass string?  the operator class when not the type's default
---@field order "desc"?    nil: ascending
---@field nulls "first"|"last"?  when not the order's default (ASC: last, DESC: first)

---@class luamig.Constraint
---@field name string?
---@field type "primary key"|"unique"|"check"|"foreign key"|"exclusion"
---@field columns string[]?
---@field condition string?    check
---@field references string?   foreign key: the referenced table's key
---@field ref_columns string[]?
---@field on_delete string?
---@field on_update string?
---@field match string?
---@field deferrable boolean?
---@field deferred boolean?    initially deferred
---@field validated boolean?   false: NOT VALID
---@field def string?          the full definition text
---@field comment string?

---@class luamig.View
---@field schema string?
---@field name string
---@field definition string
---@field materialized boolean?
---@field options string?
---@field indexes table<string, luamig.Index>?  materialized views
---@field comment string?

---@class luamig.Sequence
---@field schema string?
---@field name string
---@field type string?
---@field start string?
---@field increment string?
---@field min string?
---@field max string?
---@field cache string?
---@field cycle boolean?
---@field owned_by string?     "schema.table.column"
---@field identity boolean?    the sequence of an identity column
---@field comment string?

---@class luamig.Function
---@field schema string
---@field name string          "name(identity arguments)"
---@field kind "function"|"procedure"|"aggregate"|"window function"
---@field result string?
---@field language string
---@field volatility string?
---@field security_definer boolean
---@field strict boolean?
---@field parallel string?
---@field config string?       SET options
---@field body_md5 string      checksum of the body (aggregates: of their parts)
---@field definition string?   PostgreSQL: its CREATE OR REPLACE statement, normalized (pg_get_functiondef; not aggregates)
---@field base_name string     the name without its arguments
---@field comment string?

---@class luamig.Type
---@field schema string
---@field name string
---@field kind "domain"|"composite type"|"range type"
---@field base string?         domain: base type; range: subtype
---@field default string?
---@field not_null boolean?
---@field constraint_defs string?  domain: "name CHECK (...); ..."
---@field attributes string?   composite: "a integer, b text"
---@field comment string?

---@class luamig.Rule  a trigger, rule or policy of a table
---@field schema string?
---@field table string         the table's key
---@field name string
---@field sql string           its definition
---@field enabled string?      "origin"|"disabled"|"replica"|"always"
---@field comment string?

local M = {}

---An empty snapshot.
---@return luamig.Snapshot
function M.new()
  return { schemas = {}, tables = {}, views = {}, sequences = {}, functions = {}, types = {}, enums = {},
    triggers = {}, rules = {}, policies = {}, extensions = {}, unsupported = {} }
end

---The key of object `name` of schema `schema` when `home` is the home schema.
---@param home string?
---@param schema string?
---@param name string
---@return string
function M.key(home, schema, name)
  if schema == nil or schema == home then return name end
  return schema .. "." .. name
end

-- luamig's own tables, left out of every snapshot.
local function ours(name)
  return name:match("^luamig_version") or name == "luamig_enums" or name == "luamig_backfill" or
    name:match("^luamig_online_") -- (op.online's writes and shapes)
end

local function drop_ours(list)
  for key, e in pairs(list or {}) do
    if ours(type(e) == "table" and e.name or key) then list[key] = nil end
  end
end

---Snapshot `s` (as a dialect's snapshot returns it) without luamig's own
---tables (version tables, SQLite's enum list, backfill checkpoints, the
---online ops' write log) and their triggers; returns `s`.
---@param s luamig.Snapshot
---@return luamig.Snapshot
function M.without_luamig(s)
  drop_ours(s.tables)
  drop_ours(s.sequences)
  for key, t in pairs(s.triggers or {}) do
    if ours(t.table:match("[^.]+$")) then s.triggers[key] = nil end
  end
  return s
end

---An entry's name as messages show it: qualified when it has a schema.
---@param e table
---@param key string
---@return string
function M.qualified(e, key)
  if type(e) == "table" and e.schema and e.name then return e.schema .. "." .. e.name end
  return key
end

return M
