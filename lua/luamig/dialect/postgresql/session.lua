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

-- One statement that puts back, on the server, each remembered setting
-- that differs now (a setting that did not change is not set again: some
-- need privileges to set), and its parameters; made once per connection.
local function reset_statement(st)
  if not st.reset_sql then
    local cols, params = {}, {}
    for i, name in ipairs(M.SETTINGS) do
      local v = st.settings["s" .. i]
      if v ~= nil then
        local q = common.quote_literal(name)
        cols[#cols + 1] = ("CASE WHEN pg_catalog.current_setting(%s, true) IS DISTINCT FROM ? " ..
          "THEN pg_catalog.set_config(%s, ?, false) END"):format(q, q)
        params[#params + 1], params[#params + 2] = v, v
      end
    end
    st.reset_sql, st.reset_params = "SELECT " .. table.concat(cols, ", "), params
  end
  return st.reset_sql, st.reset_params
end

---Put back every remembered setting a migration changed: one statement,
---no read first.
---@param db luamig.Db
function M.reset(db)
  local st = db.session
  if not st or db:is_closed() then return end
  local sql, params = reset_statement(st)
  db:exec(sql, table.unpack(params))
end

---M.reset, then `sql` (BEGIN), in one round trip (queued on the pipeline).
---@param db table
---@param sql string
function M.reset_then(db, sql)
  local st = db.session
  if not st or db:is_closed() then return db:exec(sql) end
  local reset, params = reset_statement(st)
  db:pipeline_send(reset, table.unpack(params))
  db:pipeline_send(sql)
  db:pipeline_sync()
end

-- What a connection's session holds beyond its settings, put back as a new
-- connection has it: DISCARD ALL but for the prepared statements (the
-- driver deallocates its own as they are collected).
local RESET = "SET SESSION AUTHORIZATION DEFAULT; RESET ALL; CLOSE ALL; UNLISTEN *; " ..
    "SELECT pg_catalog.pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES"

---Make the connection as a new one is, for another target (a fleet job's
---next schema): no transaction, no setting, temporary table, cursor,
---LISTEN or session lock left by the last one. False when it cannot be
---(closed, broken, in a pipeline): then it is not to be used again.
---@param db table
---@return boolean
function M.reuse(db)
  if db:is_closed() then return false end
  return (pcall(function()
    db:guard(false)
    if db:in_transaction() then db:exec "ROLLBACK" end
    db:exec(RESET)
  end))
end

return M
