--- What luamig remembers of each PostgreSQL connection from connect time
--- (kept on the connection, luamig.Db.session):
--- the home schema (where the version tables live and what snapshots key
--- bare names by), the snapshot settings of the config, and the session
--- settings a migration may change (search_path, role, timeouts, ...), so
--- that each step starts from them again and none leaks into the next.
local common = require "luamig.model.sql"

local M = {}

-- Settings restored before and after each step when a migration changed
-- them (pg_dump's preamble sets most of these).
M.SETTINGS = { "search_path", "role", "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout",
  "check_function_bodies", "client_min_messages", "standard_conforming_strings", "row_security",
  "default_tablespace", "default_table_access_method", "xmloption", "session_replication_role" }

local function current(db)
  local cols = {}
  for i, name in ipairs(M.SETTINGS) do
    cols[i] = ("pg_catalog.current_setting(%s, true) AS s%d"):format(common.quote_literal(name), i)
  end
  return db:first("SELECT " .. table.concat(cols, ", "))
end

---Set the connection up: the configured schema first on search_path (made
---if missing, unless `opts.create` is false: a read-only command creates
---nothing), then remember the home schema and the settings.
---@param db luamig.Db
---@param cfg luamig.Config
---@param opts { create: boolean }?
function M.connect(db, cfg, opts)
  if cfg.schema then
    if not opts or opts.create then db:exec("CREATE SCHEMA IF NOT EXISTS " .. common.quote_ident(cfg.schema)) end
    db:exec("SET search_path TO " .. common.quote_ident(cfg.schema) .. ", public")
  end
  db.session = { home = cfg.schema or db:scalar "SELECT pg_catalog.current_schema()", settings = current(db),
    config = { schemas = cfg.schemas, compare_privileges = cfg.compare_privileges } }
end

---The schema resolved at connect time (nil when none was: empty search_path).
---@param db luamig.Db
---@return string?
function M.home(db)
  local st = db.session
  if st then return st.home end
  return db:scalar "SELECT pg_catalog.current_schema()"
end

---The snapshot settings of the config the connection was opened with.
---@param db luamig.Db
---@return table
function M.config(db)
  return db.session and db.session.config or {}
end

---Put back every remembered setting a migration changed (a setting that
---did not change is not set again: some need privileges to set).
---@param db luamig.Db
function M.reset(db)
  local st = db.session
  if not st or db:is_closed() then return end
  local now = current(db)
  for i, name in ipairs(M.SETTINGS) do
    local key = "s" .. i
    if now[key] ~= st.settings[key] and st.settings[key] ~= nil then
      db:exec("SELECT pg_catalog.set_config(?, ?, false)", name, st.settings[key])
    end
  end
end

return M
