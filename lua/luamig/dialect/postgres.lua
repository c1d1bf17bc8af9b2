--- PostgreSQL specifics: introspection along search_path, the advisory lock
--- that serializes runners, version-table column types.
local common = require "luamig.dialect.common"

local M = {}

M.name = "postgresql"
M.quote_ident = common.quote_ident
M.quote_literal = common.quote_literal

M.types = { id = "BIGSERIAL PRIMARY KEY", bool = "BOOLEAN", float = "DOUBLE PRECISION" }

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

-- The advisory lock key: one per database and version table.
local function lock_key(cfg)
  return "luamig:" .. (cfg.schema or "") .. ":" .. cfg.version_table
end

---Serialize runners for the whole run with a session advisory lock, so a
---step outside a transaction cannot run twice either. Waits up to
---lock_timeout seconds when set.
function M.lock_run(db, cfg)
  if cfg.lock_timeout then
    db:exec(("SET lock_timeout = '%dms'"):format(math.floor(cfg.lock_timeout * 1000)))
  end
  db:exec("SELECT pg_advisory_lock(hashtext(?))", lock_key(cfg))
end

function M.unlock_run(db, cfg)
  if not db:is_closed() then
    pcall(db.exec, db, "SELECT pg_advisory_unlock(hashtext(?))", lock_key(cfg))
  end
end

---Start a step's transaction (the run-wide lock is already held).
function M.begin_locked(db)
  db:exec "BEGIN"
end

---Put the version tables (and unqualified names) in the configured schema.
function M.on_connect(db, cfg)
  if cfg.schema then
    db:exec("CREATE SCHEMA IF NOT EXISTS " .. M.quote_ident(cfg.schema))
    db:exec("SET search_path TO " .. M.quote_ident(cfg.schema) .. ", public")
  end
end

return M
