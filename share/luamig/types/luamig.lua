---@meta _
-- Editor types for luamig (Lua Language Server definitions): what a
-- migration, seed, plugin or drill file sees. Nothing here runs; the editor
-- reads it through `workspace.library` (see README, "Editor set-up").
-- spec/inproc/types_spec.lua checks every class below against the running
-- objects; "SQLite only" / "PostgreSQL only" at the start of a description
-- marks a method only that driver's handle has.

-- ------------------------------------------------------------ globals

---Schema operations bound to the running migration's connection.
---@type luamig.Op
op = nil

---luamig's helpers for migration files: backfill, progress, null.
---@type luamig.Api
luamig = nil

---The scripted-drill API (`luamig drill FILE.lua`).
---@type luamig.Drill
drill = nil

-- What a migration file defines (read by the loader).

---The revision id (letters, digits and _).
---@type string
revision = nil
---The parent revision(s); nil for a root.
---@type string|string[]|nil
down_revision = nil
---Labels naming the branch this revision starts.
---@type string|string[]|nil
branch_labels = nil
---Revisions (or labels) of other branches that must be applied first.
---@type string|string[]|nil
depends_on = nil
---false runs the migration outside a transaction (default true).
---@type boolean?
transactional = nil
---The revision's message (default: the file's first comment line).
---@type string?
message = nil

---Apply the revision.
---@param db luamig.Db
function upgrade(db) end

---Revert the revision.
---@param db luamig.Db
function downgrade(db) end

---Apply the revision with ops luamig can reverse (instead of upgrade/downgrade).
---@param op luamig.Op
function change(op) end

-- What a seed file defines (read by the seed plugin).

---Skip the seed until this revision is applied.
---@type string?
requires = nil
---Environments the seed runs in (--env, $LUAMIG_ENV; default dev).
---@type string|string[]|nil
env = nil
---Tables `luamig seed --reset` empties first.
---@type string[]?
tables = nil

---Fill the database; runs in its own transaction.
---@param db luamig.Db
---@param h luamig.SeedHelpers
function seed(db, h) end

-- ------------------------------------------------------------ db

---A database row: column name -> value; a NULL column is absent.
---@alias luamig.Row table<string, any>

---The handle a migration, seed or plugin gets: SQLite or PostgreSQL, same methods.
---@class luamig.Db
---@field dialect "sqlite"|"postgresql"  which database this is
---@field driver "sqlite"|"pg"           the C driver behind it
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

---Load many rows fast: COPY on PostgreSQL, multi-row INSERTs on SQLite.
---@param table_name string
---@param columns string[]
---@param rows luamig.Row[]|fun(): luamig.Row? an array, or an iterator returning nil at the end
---@return integer count rows loaded
function Db:copy_in(table_name, columns, rows) end

---The schema as one normalized table (tables, views, triggers, enums, sequences, extensions).
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

---SQLite only: the rowid of the last successful INSERT.
---@return integer rowid
function Db:last_insert_id() end

---PostgreSQL only: run `COPY ... FROM STDIN`, feeding it the strings next() returns until nil.
---@param sql string
---@param next fun(): string?
---@return integer count rows copied
function Db:copy_from(sql, next) end

---PostgreSQL only: the server version number, e.g. 150004.
---@return integer version
function Db:server_version() end

---PostgreSQL only: fn(severity, message) receives the server's notices from now on (nil: they are dropped; luamig sends them to its log).
---@param fn fun(severity: string, message: string)?
function Db:on_notice(fn) end

---Whether the connection is closed.
---@return boolean
function Db:is_closed() end

---Close the connection (closing twice is harmless).
function Db:close() end

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

---db:schema(): one shape for both databases (see lua/luamig/schema/introspect.lua).
---@class luamig.Schema
---@field tables table<string, table>      columns, primary_key, indexes, uniques, checks, foreign_keys
---@field views table<string, string>      name -> SQL
---@field triggers table<string, table>    name -> {table, sql}
---@field enums table<string, table>       name -> {values}
---@field sequences table<string, true>
---@field extensions table<string, true>

-- ------------------------------------------------------------ op

---A column: `{ "name", "type", key = value ... }`.
---@class luamig.ColumnSpec
---@field [1] string                the column's name
---@field [2] string                its type: integer, bigint, smallint, text, string(n), boolean, float, numeric(p,s), date, timestamp, timestamptz, json, uuid, bytes, or any SQL type
---@field name string?              the name, when not given as [1]
---@field type string?              the type, when not given as [2]
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

---Schema operations (`op`): portable DDL for SQLite and PostgreSQL, every name quoted.
---@class luamig.Op
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
---@param opts {type: string?, using: string?, nullable: boolean?, server_default: string|false|nil, default: any, new_name: string?}
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
function Op.create_unique_constraint(name, table_name, columns) end

---Add a CHECK constraint.
---@param name string
---@param table_name string
---@param condition string an SQL condition
function Op.create_check_constraint(name, table_name, condition) end

---Add FOREIGN KEY (columns) REFERENCES referent (ref_columns).
---@param name string
---@param source string the referencing table
---@param referent string the referenced table
---@param columns string[]
---@param ref_columns string[]
---@param opts {on_delete: string?, on_update: string?}?
function Op.create_foreign_key(name, source, referent, columns, ref_columns, opts) end

---Drop a named constraint.
---@param name string
---@param table_name string
function Op.drop_constraint(name, table_name) end

---Several changes to one table at once (one rebuild on SQLite).
---@param table_name string
---@param fn fun(batch: luamig.Batch)
function Op.batch_alter_table(table_name, fn) end

---Create an enum type (SQLite: TEXT columns with a CHECK).
---@param name string
---@param values string[]
function Op.create_enum(name, values) end

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

---Insert rows (a missing key or luamig.null is NULL) through db:copy_in.
---@param table_name string
---@param rows luamig.Row[]
---@return integer count
function Op.bulk_insert(table_name, rows) end

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

---Drop a named constraint.
---@param name string
function Batch:drop_constraint(name) end

---Create an index on the table.
---@param name string
---@param columns string[]
---@param opts {unique: boolean?, where: string?}?
function Batch:create_index(name, columns, opts) end

---Drop an index.
---@param name string
function Batch:drop_index(name) end

-- ------------------------------------------------------------ luamig

---The `luamig` global of migration files.
---@class luamig.Api
---@field null lightuserdata  spells NULL inside a Lua table of values (also `require "luamig.null"`)
local Api = {}

---Walk a table in key order, in batches, writing each row's new values; returns the rows visited.
---@param spec luamig.BackfillSpec
---@return integer rows
function Api.backfill(spec) end

---A progress bar (terminal) or line (otherwise) for the migration's own loops.
---@param total integer? the amount of work, if known
---@param label string?
---@return luamig.Progress
function Api.progress(total, label) end

---luamig.backfill's argument.
---@class luamig.BackfillSpec
---@field table string                         the table to walk
---@field key string?                          a unique column to walk by (default "id")
---@field columns string[]?                    columns to read (default all)
---@field where string?                        SQL condition on the rows to visit
---@field params any[]?                        bound parameters of `where`
---@field batch_size integer?                  rows per batch (default 1000)
---@field set (fun(row: luamig.Row): table?)?  new values for one row (nil leaves it)
---@field batch (fun(rows: luamig.Row[]): luamig.Row[]?)? or: new values for a batch, each with its key
---@field sleep_ms number?                     pause between batches
---@field name string?                         names the checkpoint and the progress line (default the table)

---A progress display (luamig.progress, ctx.progress, h.progress).
---@class luamig.Progress
local Progress = {}

---Count n more done (default 1).
---@param n integer?
function Progress:add(n) end

---Finish the display.
function Progress:done() end

-- ------------------------------------------------------------ drill

---The `drill` global of scripted drills, on a scratch database.
---@class luamig.Drill
---@field db luamig.Db  the scratch database
local Drill = {}

---Upgrade the scratch database (default: heads).
---@param target string?
function Drill.upgrade(target) end

---Downgrade the scratch database (-1, a revision, base).
---@param target string
function Drill.downgrade(target) end

---The scratch database's schema now.
---@return luamig.Schema
function Drill.snapshot() end

---Fail (naming the script's line) unless two snapshots are the same.
---@param a luamig.Schema
---@param b luamig.Schema
---@param message string?
function Drill.assert_same(a, b, message) end

---Run one named step; an error fails the step and the drill, and the next steps still run.
---@param name string
---@param fn fun()
function Drill.step(name, fn) end

-- ------------------------------------------------------------ seeds

---Helpers a seed gets as its second argument.
---@class luamig.SeedHelpers
---@field fake luamig.Fake          deterministic fake data, seeded by the seed file's name
---@field progress fun(total: integer?, label: string?): luamig.Progress
local SeedHelpers = {}

---INSERT ... ON CONFLICT (keys) DO UPDATE: the same rows twice leave one copy; returns the count.
---@param table_name string
---@param rows luamig.Row[]
---@param keys string[] the conflict columns
---@return integer count
function SeedHelpers.upsert(table_name, rows, keys) end

---The id (or `column`) of the one row of the table matching `where`.
---@param table_name string
---@param where table<string, any> column = value
---@param column string? default "id"
---@return any id
function SeedHelpers.ref(table_name, where, column) end

---Deterministic fake data: the same seed gives the same values everywhere.
---@class luamig.Fake
local Fake = {}

---An integer in [a, b].
---@param a integer
---@param b integer
---@return integer
function Fake.int(a, b) end

---One item of the list.
---@generic T
---@param list T[]
---@return T
function Fake.pick(list) end

---true with probability p (default 0.5).
---@param p number?
---@return boolean
function Fake.bool(p) end

---A first name.
---@return string
function Fake.first_name() end

---A last name.
---@return string
function Fake.last_name() end

---A full name.
---@return string
function Fake.name() end

---An email for `name` (a fresh one when nil); `n` makes it unique.
---@param name string?
---@param n integer?
---@return string
function Fake.email(name, n) end

---A word.
---@return string
function Fake.word() end

---n words separated by spaces.
---@param n integer
---@return string
function Fake.words(n) end

---A sentence of n words (default 4 to 9).
---@param n integer?
---@return string
function Fake.sentence(n) end

---A URL slug of `text` (default three words).
---@param text string?
---@return string
function Fake.slug(text) end

---A date "YYYY-MM-DD" between from and to (default 2020-01-01 .. 2026-12-31).
---@param from string?
---@param to string?
---@return string
function Fake.date(from, to) end

---A version-4-shaped UUID.
---@return string
function Fake.uuid() end

-- ------------------------------------------------------------ plugins

---What a plugin file returns.
---@class luamig.PluginSpec
---@field name string                                   letters, digits, _ and -
---@field commands table<string, luamig.CommandSpec>?  new commands, by name
---@field hooks luamig.Hooks?

---A plugin command.
---@class luamig.CommandSpec
---@field help string?                                  one line for --help
---@field args table[]?      positional arguments: { NAME, help, count (1, "?", "*", "+") }
---@field options table[]?   { "-s --long", help, ARGNAME, flag = true, count = N }
---@field run fun(ctx: luamig.PluginContext, args: table<string, any>): table?  its result (printed as JSON with --json)

---A plugin's hooks, all optional, called in plugin-name order.
---@class luamig.Hooks
---@field before_run fun(ctx: luamig.PluginContext, info: {direction: "up"|"down", heads: string[], plan: string[]})?  under the lock, before anything runs
---@field before_migration fun(ctx: luamig.PluginContext, step: {revision: string, direction: "up"|"down", message: string})?  inside the migration's transaction
---@field after_migration fun(ctx: luamig.PluginContext, step: {revision: string, direction: "up"|"down", ms: number, message: string, transactional: boolean, rows: integer?})?  after it committed
---@field after_run fun(ctx: luamig.PluginContext, info: {direction: "up"|"down", heads: string[]})?
---@field on_error fun(ctx: luamig.PluginContext, info: {direction: "up"|"down", error: string})?

---What a plugin command's run(ctx, args) and its hooks get.
---@class luamig.PluginContext
---@field config luamig.Config     the project's configuration
---@field log luamig.Log           output that respects -q and --json
---@field progress fun(total: integer?, label: string?): luamig.Progress
---@field db luamig.Db             the database (connected on first use)
---@field graph luamig.Graph       the revision graph (loaded on first use)
local PluginContext = {}

---The revisions the database is at.
---@return string[] heads
function PluginContext.heads() end

---The project's configuration (luamig.lua).
---@class luamig.Config
---@field file string?             the config file read, if any
---@field dir string               paths below are relative to it
---@field url string?
---@field migrations string        the migrations directory
---@field version_table string
---@field transaction "per-migration"|"all"
---@field lock_timeout number?     seconds to wait for the migration lock
---@field foreign_keys boolean     SQLite: enforce foreign keys
---@field plugins string|string[]|nil
---@field seeds string
---@field drills string
---@field schema string?           PostgreSQL schema of the version tables

---Output for humans: stdout for results, stderr for diagnostics.
---@class luamig.Log
---@field quiet boolean            -q: informational lines are suppressed
---@field json boolean             --json: stdout is reserved for the JSON document
---@field debugging boolean        --debug: debugging lines are shown
local Log = {}

---A result line on stdout (skipped with --json).
---@param s string
function Log:result(s) end

---An informational line on stdout (skipped with -q or --json).
---@param s string
function Log:info(s) end

---A warning on stderr.
---@param s string
function Log:warn(s) end

---An error line on stderr.
---@param s string
function Log:error(s) end

---A debugging line on stderr (only with --debug).
---@param s string
function Log:debug(s) end

---Colour `s` for stdout (unchanged off a terminal).
---@param colour "red"|"green"|"yellow"|"dim"|"bold"
---@param s string
---@return string
function Log:out_paint(colour, s) end

---The revision graph (its main methods; see lua/luamig/revision/graph.lua).
---@class luamig.Graph
---@field order string[]                        every revision id, in the order upgrades apply them
---@field revs table<string, luamig.Revision>   id -> revision
local Graph = {}

---Head revisions, in load order.
---@return string[]
function Graph:heads() end

---Revisions without a down_revision.
---@return string[]
function Graph:roots() end

---Revisions with several children.
---@return string[]
function Graph:branch_points() end

---The set of ids and everything they need (parents and dependencies).
---@param ids string[]
---@return table<string, true>
function Graph:ancestors(ids) end

---The ids a target names (head, heads, base, an id or prefix, LABEL@...).
---@param spec string
---@return string[]
function Graph:ids(spec) end

---A loaded migration file, as the graph holds it.
---@class luamig.Revision
---@field id string
---@field parents string[]
---@field depends_on string[]
---@field branch_labels string[]
---@field message string
---@field path string
---@field transactional boolean
