---@meta _
-- luamig editor types (see luamig.lua in this folder): the `db` handle and its statements.

---A database row: column name -> value; a NULL column is absent.
---@alias luamig.Row table<string, any>

---The handle a migration, seed or plugin gets: SQLite or PostgreSQL, same
---methods, and only these (luamig keeps the connection itself).
---@class luamig.Db
---@field dialect "sqlite"|"postgresql"  which database this is
---@field backend "sqlite"|"postgresql"  the same name
local Db = {}

---Run SQL; without parameters `sql` may hold several statements.
---@param sql string
---@param ... any bound to the `?` placeholders
---@return integer changes rows changed
function Db:exec(sql, ...) end

---Run a query and return every row.
---@param sql string
---@param ... any
---@return luamig.Row[] rows
function Db:query(sql, ...) end

---Stream the rows of a query (`for row in db:rows(sql) do ... end`; break is fine).
---@param sql string
---@param ... any
---@return fun(): luamig.Row? iterator
function Db:rows(sql, ...) end

---The first row of a query, or nil.
---@param sql string
---@param ... any
---@return luamig.Row? row
function Db:first(sql, ...) end

---The first column of the first row, or nil.
---@param sql string
---@param ... any
---@return any value
function Db:scalar(sql, ...) end

---Prepare one statement for repeated use.
---@param sql string
---@return luamig.Statement stmt
function Db:prepare(sql) end

---Run fn(db) atomically (BEGIN/COMMIT, or a SAVEPOINT inside a transaction); errors roll back and are re-raised.
---@generic R
---@param fn fun(db: luamig.Db): R
---@return R
function Db:transaction(fn) end

---Run fn(db) outside any transaction; inside a migration this commits what came before.
---@generic R
---@param fn fun(db: luamig.Db): R
---@return R
function Db:autocommit(fn) end

---Whether a transaction is open.
---@return boolean
function Db:in_transaction() end

---Run fn(p) with p:exec(stmt, ...) sending statements without waiting for each result (libpq pipeline mode; SQLite runs each at once). The first failure is raised naming its statement, parameters and Lua line; inside a transaction it aborts the transaction. Returns the rows changed.
---@param fn fun(p: luamig.Pipeline)
---@return integer changes
function Db:pipeline(fn) end

---Load many rows fast: COPY on PostgreSQL, multi-row INSERTs on SQLite.
---All or none. A row is keyed by column name, or positional in the order of `columns`
---({ 1, "a" }); a row mixing both, with more values than columns or setting a column not
---listed is an error naming it.
---@param table_name string
---@param columns string[]
---@param rows (luamig.Row|any[])[]|fun(): (luamig.Row|any[])? an array, or an iterator returning nil at the end
---@return integer count rows loaded
function Db:copy_in(table_name, columns, rows) end

---The schema as one normalized table (every schema and object kind: luamig.Schema).
---@return luamig.Schema schema
function Db:schema() end

---Whether the table exists ("schema.name" or a name along search_path).
---@param name string
---@return boolean
function Db:has_table(name) end

---Whether the table has the column.
---@param table_name string
---@param column string
---@return boolean
function Db:has_column(table_name, column) end

---Whether the index exists.
---@param name string
---@return boolean
function Db:has_index(name) end

---PostgreSQL only: whether the enum type exists.
---@param name string
---@return boolean
function Db:has_enum(name) end

---PostgreSQL only: whether the extension is installed.
---@param name string
---@return boolean
function Db:has_extension(name) end

---Quote an identifier for this database.
---@param name string
---@return string sql
function Db:quote_ident(name) end

---Quote a value as an SQL literal.
---@param value any
---@return string sql
function Db:quote_literal(value) end

---The `p` of db:pipeline(function(p) ... end).
---@class luamig.Pipeline
local Pipeline = {}

---Queue a statement: a prepared one (db:prepare) or SQL text with `?` placeholders.
---@param stmt luamig.Statement|string
---@param ... any bound to its placeholders
function Pipeline:exec(stmt, ...) end

---Wait for every statement queued so far (raising the first failure).
---@return integer changes rows changed since the pipeline began
function Pipeline:sync() end

---A prepared statement (db:prepare).
---@class luamig.Statement
local Statement = {}

---Run the statement with these parameters.
---@param ... any
---@return integer changes
function Statement:exec(...) end

---Run the statement and return every row.
---@param ... any
---@return luamig.Row[] rows
function Statement:query(...) end

---Stream the statement's rows.
---@param ... any
---@return fun(): luamig.Row? iterator
function Statement:rows(...) end

---The statement's SQL text.
---@return string sql
function Statement:sql() end

---Free the statement (closing twice is harmless).
function Statement:close() end

---db:schema(): one shape for both databases; every field is described in
---lua/luamig/model/schema.lua. Objects of the home schema are keyed by bare
---name, others by "schema.name"; each entry has `schema` and `name`.
---@class luamig.Schema
---@field schemas table<string, table>     PostgreSQL: name -> {name, comment}
---@field tables table<string, table>      columns, primary_key, indexes, constraints, uniques, checks, foreign_keys, ...
---@field views table<string, table>       {definition, materialized, indexes, ...}
---@field sequences table<string, table>   {type, start, increment, min, max, cache, cycle, owned_by}
---@field functions table<string, table>   "name(types)" -> {kind, language, volatility, body_md5, ...}
---@field types table<string, table>       domains, composite and range types
---@field enums table<string, table>       name -> {values}
---@field triggers table<string, table>    {table, name, sql, enabled}
---@field rules table<string, table>       {table, name, sql, enabled}
---@field policies table<string, table>    {table, name, sql}
---@field extensions table<string, table>  {name, version, schema_name}
---@field unsupported string[]             objects the model does not cover, described
