--- PostgreSQL's dialect (the contract is luamig.dialect): introspection
--- along search_path, the advisory lock that serializes runners,
--- version-table column types; the type vocabulary, the schema changes and
--- enums, the catalog snapshot and the backfill writer come from the modules
--- next to this one.
local common = require "luamig.model.sql"
local dialects = require "luamig.dialect"
local lock_wait = require "luamig.dialect.lock_wait"
local session = require "luamig.dialect.postgresql.session"

---@type luamig.Dialect
local M = {}

M.name = "postgresql"
M.quote_ident = common.quote_ident
M.quote_literal = common.quote_literal
M.types = { id = "BIGSERIAL PRIMARY KEY", bool = "BOOLEAN", float = "DOUBLE PRECISION" }

-- The parts next to this module load on first use (luamig.dialect.defer):
-- reading the version table loads none of them.
dialects.defer(M, {
  -- types (luamig.model.ddl)
  ["luamig.dialect.postgresql.types"] = { "type_names", "autoincrement", "known_type", "index_features",
    "max_identifier" },
  -- schema changes, in place, and enum types (CREATE TYPE ... AS ENUM)
  ["luamig.dialect.postgresql.alter"] = { "column_spec", "add_column", "drop_column", "alter_column",
    "add_constraint", "drop_constraint", "drop_primary_key", "validate_constraint", "batch_alter_table",
    "concurrently", "create_extension", "drop_extension", "rename_default_pkey",
    "create_enum", "drop_enum", "add_enum_value", "rename_enum_value", "drop_enum_value" },
  ["luamig.dialect.postgresql.catalog"] = { "snapshot", "fingerprint" },
  ["luamig.dialect.postgresql.dump"] = { "dump_items" },
  ["luamig.dialect.postgresql.backfill"] = { "backfill_writer" },
  ["luamig.dialect.postgresql.fill"] = { "fill_info" },
  -- the scratch database of drill, lint and autogenerate
  ["luamig.dialect.postgresql.scratch"] = "scratch",
  ["luamig.dialect.postgresql.online"] = "online",
  -- replica positions on streaming replication (luamig.run.replicas)
  ["luamig.dialect.postgresql.replica_lag"] = "replica_lag",
})

---Autogenerate writes a type change with USING, DROP TRIGGER ... ON its
---table, and (unless --offline-ddl) changes to tables with rows online-safe;
---offline, a new enum value makes the migration run outside a transaction.
M.render_style = { using = true, enum_outside_tx = true, trigger_on = true, online = true }

---Every declared kind; functions are created with their bodies unchecked (as pg_dump does), so that an SQL
---function may come before the tables it reads.
M.declared_objects = { backend = "PostgreSQL", kinds = { func = true, trigger = true, sequence = true, comment = true,
  materialized_view = true, policy = true, domain = true, row_security = true },
  defer_function_bodies = { "SET check_function_bodies = off", "RESET check_function_bodies" } }

---`luamig lint` watches locks, rewrites and scans in pg_locks and the catalog.
M.lint_observer = "luamig.tools.lint.observe_pg"

---Replica positions on streaming replication (luamig.run.replicas).
M.replica_lag = require "luamig.dialect.postgresql.replica_lag"

-- "schema.name" -> schema, name; a bare name is looked up along search_path.
local function split(name)
  local schema, rel = name:match("^([^.]+)%.([^.]+)$")
  return schema, rel or name
end

local function has_relation(db, name, kinds)
  local schema, rel = split(name)
  return db:scalar(([[
SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = ? AND c.relkind IN (%s)
  AND (n.nspname = ? OR (?::text IS NULL AND n.nspname = ANY (pg_catalog.current_schemas(false))))]]):format(kinds),
    rel, schema, schema) ~= nil
end

function M.has_table(db, name)
  return has_relation(db, name, "'r', 'p', 'v', 'm', 'f'")
end

function M.has_index(db, name)
  return has_relation(db, name, "'i', 'I'")
end

function M.has_column(db, table_name, column)
  local schema, rel = split(table_name)
  return db:scalar([[
SELECT 1 FROM information_schema.columns
WHERE table_name = ? AND column_name = ?
  AND (table_schema = ? OR (?::text IS NULL AND table_schema = ANY (pg_catalog.current_schemas(false))))]],
    rel, column, schema, schema) ~= nil
end

function M.has_enum(db, name)
  local schema, typ = split(name)
  return db:scalar([[
SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typname = ? AND t.typtype = 'e'
  AND (n.nspname = ? OR (?::text IS NULL AND n.nspname = ANY (pg_catalog.current_schemas(false))))]],
    typ, schema, schema) ~= nil
end

function M.has_extension(db, name)
  return db:scalar("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = ?", name) ~= nil
end

-- The advisory lock key: one per database, schema and version table.
local function lock_key(cfg)
  return "luamig:" .. (cfg.schema or "") .. ":" .. cfg.version_table
end

-- Who holds the lock, from pg_locks and pg_stat_activity, as text.
local function lock_holder(db, key)
  local ok, h = pcall(db.first, db, [[
SELECT a.pid, a.application_name, a.usename,
       to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ') AS since, a.state
FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND ((l.classid::bigint << 32) | l.objid::bigint) = pg_catalog.hashtext(?)::bigint]], key)
  if not ok or not h then return "another session" end
  return ("pid %d (application_name %q, user %s, connected since %s%s)"):format(h.pid,
    h.application_name or "", h.usename or "?", h.since or "?", h.state and (", " .. h.state) or "")
end

---Serialize runners for the whole run with a session advisory lock, so a
---step outside a transaction cannot run twice either. The lock is polled
---with pg_try_advisory_lock rather than awaited in pg_advisory_lock: a
---session blocked in a lock call holds a snapshot that another runner's
---CREATE INDEX CONCURRENTLY would wait for, a deadlock. Gives up after
---cfg.lock_timeout seconds (when set), naming the holder.
---@param db luamig.Db
---@param cfg luamig.Config
---@param log luamig.Log?
function M.lock_run(db, cfg, log)
  local key = lock_key(cfg)
  lock_wait.wait({
    try = function() return db:scalar("SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext(?))", key) end,
    holder = function() return lock_holder(db, key) end,
    what = "the migration lock",
    timeout = cfg.lock_timeout,
    log = log,
  })
end

function M.unlock_run(db, cfg)
  if not db:is_closed() then
    pcall(db.exec, db, "SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtext(?))", lock_key(cfg))
  end
end

-- Every step runs on the connection as it is: PostgreSQL alters tables and
-- constraints in place, with foreign keys enforced.
function M.step_setup() return "default" end
function M.apply_setup() end

---After each step's body (in its transaction): put back the session
---settings it changed (search_path, role, timeouts), so that luamig's own
---statements and the next migration run as the connection was set up.
function M.check_step(db)
  session.reset(db)
end

---At the start of a step's body: its lock_timeout and statement_timeout
---(luamig.run.timeouts.of), SET LOCAL in its transaction, or SET for a step
---outside one (check_step and begin_locked put the session's back after).
---@param db luamig.Db
---@param t {lock_timeout: string?, statement_timeout: string?}
---@param transactional boolean
function M.apply_timeouts(db, t, transactional)
  for _, name in ipairs { "lock_timeout", "statement_timeout" } do
    if t[name] then
      db:exec(("SET %s%s = %s"):format(transactional and "LOCAL " or "", name, common.quote_literal(t[name])))
    end
  end
end

---SQL for the current UTC time as ISO-8601 text, as the history's
---applied_at (offline scripts: the time the script runs).
function M.now_text()
  return [[pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')]]
end

---Start a step's transaction (the run-wide lock is already held), with the
---session settings as at connect time.
function M.begin_locked(db)
  session.reset_then(db, "BEGIN")
end

-- Version tables per UNION ALL: planning one costs per table read, and
-- more than superlinearly past ~50 (bench/fleet.sh, 2,000 schemas).
local READ_BATCH = 50

-- The schemas holding a table named `name` (one index scan of pg_class by
-- name, whatever the number of schemas), as a set.
local function schemas_with(db, name)
  local out = {}
  for _, row in ipairs(db:query([[
SELECT n.nspname AS s FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = ? AND c.relkind IN ('r', 'p', 'v', 'm', 'f')]], name)) do
    out[row.s] = true
  end
  return out
end

---The heads of the version tables `tables` ({ schema =, name = } each; no
---schema: the connection's home schema), each sorted ({} where the table is
---missing): one catalog query for the tables that exist, then one UNION
---ALL per batch of them.
---@param db luamig.Db
---@param tables { schema: string?, name: string }[]
---@return string[][]
function M.read_heads(db, tables)
  local out, found, having = {}, {}, {}
  for i, t in ipairs(tables) do
    out[i] = {}
    local schema = t.schema or session.home(db)
    having[t.name] = having[t.name] or schemas_with(db, t.name)
    if schema and having[t.name][schema] then
      found[#found + 1] = ("SELECT %d AS i, version_num::text AS v FROM %s.%s"):format(i, common.quote_ident(schema),
        common.quote_ident(t.name))
    end
  end
  for first = 1, #found, READ_BATCH do
    local sql = table.concat(found, " UNION ALL ", first, math.min(first + READ_BATCH - 1, #found))
    for _, row in ipairs(db:query(sql .. " ORDER BY 1, 2")) do
      local heads = out[math.tointeger(tonumber(row.i))]
      heads[#heads + 1] = row.v
    end
  end
  return out
end

---Put the version tables (and unqualified names) in the configured schema;
---remember the schema and settings resolved now.
M.on_connect = session.connect

---The schema resolved at connect time: luamig qualifies its own tables with it.
M.home_schema = session.home

---A fleet job's connection made as new for its next target (session.reuse).
M.reuse = session.reuse

return M
