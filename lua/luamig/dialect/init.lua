--- The dialect contract: what every backend (dialect/sqlite/,
--- dialect/postgresql/) implements, checked when it loads. Generic code asks
--- its dialect; it never branches on a backend's name.
local errors = require "luamig.util.errors"

local M = {}

---Backend names, one spelling each.
M.NAMES = { "sqlite", "postgresql" }

---A backend: everything generic code asks of a database. The one list of
---its members is M.CONTRACT below (the spec checks the two agree).
---@class luamig.Dialect
---@field name "sqlite"|"postgresql"
---@field quote_ident fun(name: string): string
---@field quote_literal fun(value: string): string
---@field types table<string, string>       the SQL of the shorthands id, bool and float
---@field type_names table<string, string>  portable type -> SQL type
---@field autoincrement fun(sql_type: string, inline_pk: boolean): string?
---@field known_type fun(db: luamig.Db, t: string): boolean
---@field index_features table              { backend = "PostgreSQL", methods = {...}, ... } (luamig.model.ddl)
---@field max_identifier? integer           the longest identifier in bytes (nil: unlimited)
---@field has_table fun(db: luamig.Db, name: string): boolean
---@field has_column fun(db: luamig.Db, table_name: string, column: string): boolean
---@field has_index fun(db: luamig.Db, name: string): boolean
---@field has_enum? fun(db: luamig.Db, name: string): boolean          (a backend with enum types)
---@field has_extension? fun(db: luamig.Db, name: string): boolean     (a backend with extensions)
---@field snapshot fun(db: luamig.Db, opts: table?): luamig.Snapshot
---@field fingerprint fun(db: luamig.Db, t: table): table   drill --with-seeds: a table's row count and checksum
---@field dump_items fun(db: luamig.Db, s: luamig.Snapshot): table[]  luamig dump
---@field on_connect? fun(db: luamig.Db, cfg: luamig.Config, opts: {create: boolean})  right after connecting
---@field home_schema? fun(db: luamig.Db): string?   the schema luamig qualifies its own tables with
---@field read_heads fun(db: luamig.Db, tables: {schema: string?, name: string}[]): string[][]
---@field reuse fun(db: luamig.Db): boolean   a fleet job's connection made as new for its next target (or false)
---@field begin_locked fun(db: luamig.Db)
---@field lock_run fun(db: luamig.Db, cfg: luamig.Config, log: luamig.Log?)
---@field unlock_run fun(db: luamig.Db, cfg: luamig.Config)
---@field step_setup fun(cfg: luamig.Config, scripts: luamig.Script[]): string
---@field apply_setup fun(db: luamig.Db, setup: string)
---@field check_step fun(db: luamig.Db, setup: string)
---@field apply_timeouts fun(db: luamig.Db, t: table, transactional: boolean)
---@field now_text fun(): string
---@field column_spec fun(db: luamig.Db, spec: table): table
---@field add_column fun(db: luamig.Db, table_name: string, spec: table, opts: {if_not_exists: boolean?}?)
---@field drop_column fun(db: luamig.Db, table_name: string, column: string)
---@field alter_column fun(db: luamig.Db, table_name: string, column: string, opts: table)
---@field add_constraint fun(db: luamig.Db, table_name: string, spec: table)
---@field drop_constraint fun(db: luamig.Db, table_name: string, name: string|table)  (a table: an unnamed one, by content)
---@field drop_primary_key fun(db: luamig.Db, table_name: string)
---@field validate_constraint fun(db: luamig.Db, table_name: string, name: string)  (after ADD ... NOT VALID)
---@field batch_alter_table fun(db: luamig.Db, op: table, table_name: string, fn: function)
---@field concurrently fun(opts: table): string
---@field create_extension fun(db: luamig.Db, name: string, opts: table?)
---@field drop_extension fun(db: luamig.Db, name: string)
---@field rename_default_pkey fun(db: luamig.Db, old: string, new: string)
---@field create_enum fun(db: luamig.Db, name: string, values: string[], opts: table?)
---@field drop_enum fun(db: luamig.Db, name: string, opts: table?)
---@field add_enum_value fun(db: luamig.Db, name: string, value: string, opts: table?)
---@field rename_enum_value fun(db: luamig.Db, name: string, old: string, new: string)
---@field drop_enum_value fun(db: luamig.Db, name: string, value: string)
---@field backfill_writer fun(db: luamig.Db, table_name: string, key: string[], prepared: table): table
---@field scratch luamig.DialectScratch     the scratch database of drill, lint and autogenerate
---@field render_style luamig.RenderStyle  how autogenerate writes some changes (luamig.schema.render)
---@field declared_objects luamig.DeclaredObjects  the declared objects beyond tables it builds (luamig.schema.declare)
---@field lint_observer string             the module that watches statements for `luamig lint`
---@field fill_info fun(db: luamig.Db, skip: table<string, true>): luamig.FillInfo  what `lint --rows` fills
---@field replica_lag? luamig.DialectReplicaLag  replica positions (a backend with streaming replication)
---@field online table                    op.online.*'s backend part (luamig.run.online)

---How a dialect wants autogenerate to write some changes.
---@class luamig.RenderStyle
---@field batch boolean?            a table's changes in one op.batch_alter_table (a table rebuild)
---@field using boolean?            a type change says USING column::type
---@field enum_outside_tx boolean?  a new enum value makes the migration transactional = false
---@field trigger_on boolean?       DROP TRIGGER names the table (ON t)
---@field online boolean?           changes to tables with rows can be written online-safe (CONCURRENTLY, NOT VALID)

---Which declared objects beyond tables a backend builds, and how.
---@class luamig.DeclaredObjects
---@field backend string            its name in messages ("SQLite")
---@field kinds table<string, true>  the schema.<kind> it builds (func, trigger, sequence, comment,
---  materialized_view, policy, domain) and row_security (a table option); the others are refused
---@field defer_function_bodies string[]?  the statements before and after creating functions ahead of the
---  tables their bodies name (PostgreSQL: check_function_bodies off, then reset)

---Replica positions for luamig.run.replicas (the policy: throttle, wait).
---@class luamig.DialectReplicaLag
---@field position fun(db: luamig.Db): string   the primary's position now
---@field listed fun(db: luamig.Db, lsn: string?): luamig.ReplicaLag[]  the replicas the primary lists
---@field behind fun(db: luamig.Db, replica: luamig.Db, lsn: string?): number?, number|string  bytes, seconds

---The members of luamig.Dialect, each with its type; `optional` ones may
---be absent. A dialect has these and nothing else.
---@type {[1]: string, [2]: type, optional: boolean?}[]
M.CONTRACT = {
  { "name", "string" },
  -- SQL text and types (luamig.model.ddl)
  { "quote_ident", "function" }, { "quote_literal", "function" }, { "types", "table" }, { "type_names", "table" },
  { "autoincrement", "function" }, { "known_type", "function" }, { "index_features", "table" },
  { "max_identifier", "number", optional = true },
  -- introspection (db:has_*, db:schema())
  { "has_table", "function" }, { "has_column", "function" }, { "has_index", "function" },
  { "has_enum", "function", optional = true }, { "has_extension", "function", optional = true },
  { "snapshot", "function" },
  -- drill --with-seeds: a table's row count and checksum (luamig.tools.drill)
  { "fingerprint", "function" },
  -- luamig dump (luamig.schema.dump)
  { "dump_items", "function" },
  -- the connection, the run: lock, each step's transaction and connection set-up
  { "on_connect", "function", optional = true }, { "home_schema", "function", optional = true },
  { "begin_locked", "function" }, { "lock_run", "function" }, { "unlock_run", "function" },
  { "step_setup", "function" }, { "apply_setup", "function" }, { "check_step", "function" },
  { "apply_timeouts", "function" }, { "now_text", "function" },
  -- fleets: many version tables' heads in one read; a connection made as new for the next target
  { "read_heads", "function" }, { "reuse", "function" },
  -- the schema ops (luamig.schema.ops)
  { "column_spec", "function" }, { "add_column", "function" }, { "drop_column", "function" },
  { "alter_column", "function" }, { "add_constraint", "function" }, { "drop_constraint", "function" },
  { "drop_primary_key", "function" }, { "validate_constraint", "function" },
  { "batch_alter_table", "function" }, { "concurrently", "function" }, { "create_extension", "function" },
  { "drop_extension", "function" }, { "rename_default_pkey", "function" },
  -- enum types
  { "create_enum", "function" }, { "drop_enum", "function" }, { "add_enum_value", "function" },
  { "rename_enum_value", "function" }, { "drop_enum_value", "function" },
  -- backfills (luamig.run.backfill)
  { "backfill_writer", "function" },
  -- the scratch database of drill, lint and autogenerate (luamig.run.scratch)
  { "scratch", "table" },
  -- autogenerate's rendering (luamig.schema.render), lint's observer (luamig.tools.lint)
  { "render_style", "table" }, { "lint_observer", "string" },
  -- the tables `lint --rows` fills: columns and their values, keys (luamig.tools.lint.rows)
  { "fill_info", "function" },
  -- the declared objects beyond tables it builds (luamig.schema.declare)
  { "declared_objects", "table" },
  -- replica lag (luamig.run.replicas)
  { "replica_lag", "table", optional = true },
  -- op.online.* (luamig.run.online): sync triggers, NOT VALID constraints, concurrent indexes
  { "online", "table" },
}

---The names of the required members (those that are not optional).
M.REQUIRED = {}
for _, m in ipairs(M.CONTRACT) do
  if not m.optional then M.REQUIRED[#M.REQUIRED + 1] = m[1] end
end

---What luamig.run.scratch gives the dialect's scratch part.
---@class luamig.ScratchEnv
---@field open fun(url: string): luamig.Db        a connection to the target's server (no schema made)
---@field file fun(url: string): string?          the file a sqlite:/// URL names, resolved; nil in memory
---@field tmpdir string                            where scratch files go ($TMPDIR, else /tmp)
---@field is_leftover fun(name: string): boolean   a scratch name a killed run of this host left
---@field removed fun(name: string, err: any?)     reports a leftover removed (or why it was not)
---@field what string                              who needs the scratch database ("the drill", "lint", ...)
---@field hint string?                             the option that names one instead ("--scratch-url URL ...")

---A scratch database created next to the target.
---@class luamig.ScratchPlace
---@field url string      its URL or connection string
---@field shown string    the same without a password

---Which database a connection is on: two that share a key are the same.
---@class luamig.ScratchIdentity
---@field keys string[]
---@field shown string    in words, for messages

---The dialect's part of the scratch session.
---@class luamig.DialectScratch
---@field create fun(target: string, name: string, env: luamig.ScratchEnv): luamig.ScratchPlace
---@field drop fun(target: string, name: string, env: luamig.ScratchEnv)   removes it, if it exists
---@field identity fun(db: luamig.Db): luamig.ScratchIdentity
---@field target_identity fun(url: string, env: luamig.ScratchEnv): luamig.ScratchIdentity  (never creates it)
---@field tables fun(db: luamig.Db, limit: integer): {schema: string?, name: string}[]
---@field fast fun(db: luamig.Db)   set a throwaway database up for speed

local loaded = {}

---Each member's type, by name.
local TYPE, OPTIONAL = {}, {}
for _, m in ipairs(M.CONTRACT) do TYPE[m[1]], OPTIONAL[m[1]] = m[2], m.optional end

-- The deferred members of dialect `d` (M.defer): name -> { module, field? }.
local function deferred(d)
  local mt = getmetatable(d)
  return mt and mt.deferred or {}
end

-- The error for dialect `name`'s members `names`, which it lacks.
local function lacks(name, names)
  errors.raise("config", ("dialect %s does not implement the dialect contract: it lacks %s")
    :format(name, table.concat(names, ", ")))
end

-- __index of a dialect with deferred members: load member `k`'s module,
-- check the member against the contract, keep it.
local function resolve(d, k)
  local from = deferred(d)[k]
  if not from then return nil end
  local part = require(from[1])
  local v = part
  if from[2] then v = part[from[2]] end
  if type(v) ~= TYPE[k] and not (OPTIONAL[k] and v == nil) then lacks(rawget(d, "name"), { k }) end
  rawset(d, k, v)
  return v
end

---Let dialect `d` load some members on first use, so that a command loads
---only the parts it asks for (`current` no schema model): `parts` maps a
---module to the members it provides, as fields of the same names, or to one
---member's name when the module itself is that member. The contract still
---holds: M.check refuses a deferred member it does not declare, reading one
---checks its type (a "config" error naming it), and M.resolve checks them
---all (the dialect spec does).
---@param d table
---@param parts table<string, string|string[]>
---@return table d
function M.defer(d, parts)
  local from = {}
  for module, names in pairs(parts) do
    if type(names) == "string" then
      from[names] = { module }
    else
      for _, n in ipairs(names) do from[n] = { module, n } end
    end
  end
  return setmetatable(d, { deferred = from, __index = resolve })
end

---Load every deferred member of dialect `d` now, checking each.
---@param d table
---@return table d
function M.resolve(d)
  for k in pairs(deferred(d)) do
    local _ = d[k]
  end
  return d
end

---The members of the contract dialect `d` lacks (or has of the wrong type;
---a deferred member counts as present: its type is checked when it loads).
---@param d table
---@return string[]
function M.missing(d)
  local out, later = {}, deferred(d)
  for _, m in ipairs(M.CONTRACT) do
    local v = rawget(d, m[1])
    if type(v) ~= m[2] and not (m.optional and v == nil) and not (v == nil and later[m[1]]) then
      out[#out + 1] = m[1]
    end
  end
  return out
end

---The members of dialect `d` (deferred ones included) the contract does not
---declare, sorted.
---@param d table
---@return string[]
function M.undeclared(d)
  local out = {}
  for _, t in ipairs({ d, deferred(d) }) do
    for k in pairs(t) do
      if not TYPE[k] and (t == d or rawget(d, k) == nil) then out[#out + 1] = tostring(k) end
    end
  end
  table.sort(out)
  return out
end

---Check that `d`, loaded as `name`, implements the contract; raises a
---"config" error naming what it lacks.
---@param d table
---@param name string
---@return luamig.Dialect d
function M.check(d, name)
  if type(d) ~= "table" or d.name ~= name then
    errors.raise("config", ("dialect %s names itself %s"):format(name, tostring(type(d) == "table" and d.name or d)))
  end
  local missing, extra = M.missing(d), M.undeclared(d)
  if #missing > 0 then lacks(name, missing) end
  if #extra > 0 then -- (generic code would have to probe for them)
    errors.raise("config", ("dialect %s has members the dialect contract does not declare: %s")
      :format(name, table.concat(extra, ", ")))
  end
  return d
end

---Load the dialect named `name` and check it implements the contract.
---@param name "sqlite"|"postgresql"
---@return luamig.Dialect dialect
function M.load(name)
  local d = loaded[name]
  if d then return d end
  d = M.check(require("luamig.dialect." .. name), name)
  loaded[name] = d
  return d
end

---The dialect of connection (or recorder) `db`, by its backend name.
---@param db luamig.Db|table
---@return luamig.Dialect dialect
function M.of(db)
  return M.load(db.backend)
end

return M
