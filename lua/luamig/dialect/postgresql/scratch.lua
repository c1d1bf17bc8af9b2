--- PostgreSQL's part of the scratch session (luamig.run.scratch): a
--- database created on the target's server and dropped afterwards, its
--- connection string as libpq reads the target's, the identity of the
--- database a connection is on, and the tables a database holds.
local common = require "luamig.model.sql"
local errors = require "luamig.util.errors"
local redact = require "luamig.util.redact"

local M = {}

-- A value in a libpq key/value string: quoted when it has to be.
local function kv_value(v)
  if v ~= "" and not v:find("[%s'\\]") then return v end
  return "'" .. v:gsub("[\\']", "\\%0") .. "'"
end

---The key/value connection string of database `name` on the server of
---`conninfo`, with its user, password and options, as libpq itself reads
---it (PQconninfoParse). `dbname` is left out of what it read and comes
---last, so a `dbname=` in a URL's query string, even percent-encoded,
---cannot send the scratch work to the target's database.
---@param conninfo string a postgresql:// URL or key/value string
---@param name string
---@return string
function M.conninfo_for(conninfo, name)
  -- (here: luamig.pg opens libpq on first use)
  local ok, parsed = pcall(require("luamig.pg").conninfo_parse, conninfo)
  if not ok then errors.raise("connect", redact.scrub(errors.text(parsed), redact.secrets(conninfo))) end
  local parts = {}
  for _, kv in ipairs(parsed) do
    if kv[1] ~= "dbname" then parts[#parts + 1] = kv[1] .. "=" .. kv_value(kv[2]) end
  end
  parts[#parts + 1] = "dbname=" .. kv_value(name)
  return table.concat(parts, " ")
end

-- Drop the databases env.is_leftover names: those killed runs of this
-- host left. One in use, or not ours, stays (plain DROP DATABASE refuses).
local function drop_leftovers(admin, env)
  local rows = admin:query [[SELECT datname FROM pg_catalog.pg_database WHERE datname LIKE 'luamig\_drill\_%']]
  for _, row in ipairs(rows) do
    if env.is_leftover(row.datname) then
      local ok, err = pcall(admin.exec, admin, "DROP DATABASE " .. common.quote_ident(row.datname))
      env.removed(row.datname, not ok and err or nil)
    end
  end
end

---Create scratch database `name` on the target's server (after dropping
---the leftovers of killed runs there).
---@param target string the target's URL
---@param name string
---@param env luamig.ScratchEnv
---@return luamig.ScratchPlace
function M.create(target, name, env)
  local admin = env.open(target)
  pcall(drop_leftovers, admin, env)
  local ok, err = pcall(admin.exec, admin, "CREATE DATABASE " .. common.quote_ident(name))
  admin:close()
  if not ok then
    errors.raise("connect", ("cannot create a scratch database for %s (%s); %s needs the CREATEDB privilege " ..
      "(ALTER ROLE ... CREATEDB)%s"):format(env.what, errors.text(err), env.what,
      env.hint and (", or pass " .. env.hint) or ""))
  end
  local conninfo = M.conninfo_for(target, name)
  return { url = conninfo, shown = redact.scrub(conninfo, redact.secrets_of(target, conninfo)) }
end

---Drop scratch database `name` (if it exists) from the target's server.
---@param target string
---@param name string
---@param env luamig.ScratchEnv
function M.drop(target, name, env)
  local admin = env.open(target)
  -- FORCE (PostgreSQL 13+): this run's own database; the backend of the
  -- connection just closed may not have exited yet on a loaded server
  local force = tonumber(admin:scalar "SHOW server_version_num") >= 130000 and " WITH (FORCE)" or ""
  local ok, err = pcall(admin.exec, admin, "DROP DATABASE IF EXISTS " .. common.quote_ident(name) .. force)
  admin:close()
  if not ok then error(err, 0) end
end

---The server and database connection `db` is on: the cluster's system
---identifier (or, when pg_control_system() is not granted, the
---postmaster's start time and port) and the database's oid.
---@param db luamig.Db
---@return luamig.ScratchIdentity
function M.identity(db)
  local ok, server = pcall(db.scalar, db, "SELECT system_identifier::text FROM pg_catalog.pg_control_system()")
  if not ok or not server then
    server = db:scalar [[SELECT 'started ' || pg_catalog.pg_postmaster_start_time()::text || ' on port ' ||
      pg_catalog.current_setting('port')]]
  end
  local d = db:first [[SELECT oid::text AS oid, datname FROM pg_catalog.pg_database
    WHERE datname = pg_catalog.current_database()]]
  return { keys = { ("postgresql %s database %s"):format(server, d.oid) },
    shown = ("database %s on the server with system identifier %s"):format(d.datname, server) }
end

---The identity of the database `url` names (connecting to it).
---@param url string
---@param env luamig.ScratchEnv
---@return luamig.ScratchIdentity
function M.target_identity(url, env)
  local db = env.open(url)
  local ok, id = pcall(M.identity, db)
  db:close()
  if not ok then error(id, 0) end
  return id
end

---Up to `limit` tables and views the database holds outside the system
---schemas; those of extensions are left out (PostGIS's spatial_ref_sys is
---not the user's).
---@param db luamig.Db
---@param limit integer
---@return {schema: string?, name: string}[]
function M.tables(db, limit)
  local out = {}
  for _, r in ipairs(db:query([[
SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname <> 'public', n.nspname, c.relname LIMIT ?]], limit)) do
    out[#out + 1] = { schema = r.nspname ~= "public" and r.nspname or nil, name = r.relname }
  end
  return out
end

---A scratch database is thrown away: nothing to tune.
function M.fast() end

return M
