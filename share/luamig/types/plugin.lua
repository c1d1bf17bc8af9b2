---@meta _
-- luamig editor types (see luamig.lua in this folder): what plugins return and get: PluginSpec, hooks, ctx, config, log, graph.

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

---What a plugin command's run(ctx, args) and its hooks get (one context
---per command run, shared by its plugins).
---@class luamig.PluginContext
---@field config luamig.Config     the project's configuration (a copy: changing it changes nothing else)
---@field log luamig.Log           output that respects -q and --json; ctx.log(s) is ctx.log:info(s)
---@field progress fun(total: integer?, label: string?): luamig.Progress  a progress bar on stderr
---@field db luamig.Db             the database (connected on first use)
---@field graph luamig.Graph       the revision graph (loaded on first use; read it, do not change it)
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
---@field lock_timeout number?     seconds to wait for the migration lock (0 to 86400)
---@field migration_timeouts table? defaults of the migration files' own settings: { lock_timeout = "2s", statement_timeout = "5min", lock_retries = 3 }
---@field foreign_keys boolean     SQLite: enforce foreign keys
---@field plugins string|string[]|nil  plugin directories or files
---@field seeds string
---@field drills string
---@field schema string?           PostgreSQL schema of the version tables
---@field lint table?             `luamig lint`: { ignore = { RULE... } }, rules ignored in every migration
---@field targets table|function|nil  fleet targets: a list of URLs or { name =, url =, schema = }, or a function returning one
---@field replicas string[]?       replica URLs (default: those pg_stat_replication lists)
---@field max_replica_lag luamig.Lag?  backfills pause between batches while a replica lags more
---@field still_written number?  seconds (default 300): contract refuses to drop a column written through its old name this recently
---@field wait_for_replicas number?    seconds upgrade waits after each migration for every replica (true: 60)
---@field schemas string[]?        PostgreSQL schemas snapshots cover (default: every non-system one)
---@field compare_privileges boolean? snapshots include owners and grants (default: off)
---@field offline_ddl boolean? `revision --autogenerate` writes plain DDL, not the online-safe forms (default: off)

---A replica lag limit (max_replica_lag = 16777216, "16MB" or "5s").
---@class luamig.Lag
---@field bytes number?            WAL bytes not yet replayed
---@field seconds number?          age of the last replayed transaction

---Output for humans: stdout for results, stderr for diagnostics. Callable:
---ctx.log(s) writes an informational line, as ctx.log:info(s).
---@class luamig.Log
---@overload fun(s: any)
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

---Whether informational lines are shown (not with -q or --json): a line
---built per item can be skipped.
---@return boolean
function Log:informs() end

---A progress line on stderr (skipped with -q; kept with --json).
---@param s string
function Log:progress(s) end

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
