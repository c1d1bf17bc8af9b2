--- PostgreSQL's catalog snapshot (the model is luamig.model.schema): every
--- non-system schema, or the schemas the config names (`schemas`), read from
--- pg_catalog with one query per kind of object.
local errors = require "luamig.util.errors"
local model = require "luamig.model.schema"
local session = require "luamig.dialect.postgresql.session"
local tables = require "luamig.dialect.postgresql.catalog_tables"
local objects = require "luamig.dialect.postgresql.catalog_objects"

local M = {}

-- The schemas of the snapshot: name -> { oid, usage, comment, owner, acl }.
local function schemas(db, wanted)
  local out = {}
  for r in db:rows [[
SELECT n.oid::text AS oid, n.nspname, pg_catalog.has_schema_privilege(n.oid, 'USAGE') AS usage,
  pg_catalog.pg_get_userbyid(n.nspowner) AS owner, n.nspacl::text AS acl
FROM pg_catalog.pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname !~ '^pg_(toast_)?temp_'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_namespace'::regclass
    AND d.objid = n.oid AND d.deptype = 'e')
ORDER BY n.nspname]] do
    out[r.nspname] = r
  end
  if wanted then
    local keep = {}
    for _, name in ipairs(wanted) do keep[name] = out[name] end
    out = keep
  end
  return out
end

-- A schema the role may not use cannot be read whole (its objects'
-- definitions may be, its data and some expressions not): refuse rather
-- than return a snapshot that silently lacks part of the database.
local function check_readable(db, found)
  local denied = {}
  for name, r in pairs(found) do
    if not r.usage then denied[#denied + 1] = name end
  end
  if #denied == 0 then return end
  table.sort(denied)
  errors.raise("db", ("cannot snapshot schema %s: role %s has no USAGE privilege on it; grant it (GRANT USAGE ON " ..
    "SCHEMA %s TO %s) or leave it out with the config's `schemas` list"):format(table.concat(denied, ", "),
    db:scalar "SELECT current_user", denied[1], db:scalar "SELECT current_user"))
end

---@class luamig.PgSnapshotOptions
---@field schemas string[]?     the schemas to cover (default: the connection's config, else every non-system one)
---@field privileges boolean?   include owners and grants (default: the config's compare_privileges)

---A table's row count and a checksum of its rows in primary-key order (all
---columns without one), computed in the database in one query.
---@param db luamig.Db
---@param t luamig.Table
---@return integer rows, string checksum
function M.fingerprint(db, t)
  local q = db.dialect.quote_ident
  local order = {}
  for i, c in ipairs(t.primary_key) do order[i] = "t." .. q(c) end
  if #order == 0 then order[1] = "t::text" end
  local r = db:first(("SELECT count(*) AS n, md5(coalesce(string_agg(t::text, ',' ORDER BY %s), '')) AS sum " ..
    "FROM %s%s AS t"):format(table.concat(order, ", "), t.schema and (q(t.schema) .. ".") or "", q(t.name)))
  return tonumber(r.n), r.sum
end

---The schema snapshot (luamig.model.schema) of the database.
---@param db luamig.Db
---@param opts luamig.PgSnapshotOptions?
---@return luamig.Snapshot
function M.snapshot(db, opts)
  local conf = session.config(db)
  opts = { schemas = (opts or {}).schemas or conf.schemas,
    privileges = (opts or {}).privileges == nil and conf.compare_privileges or (opts or {}).privileges }
  local found = schemas(db, opts.schemas)
  check_readable(db, found)
  local home = session.home(db)
  local s, oids = model.new(), {}
  local b = { db = db, s = s, opts = opts, rel = {}, reg = {}, version = math.tointeger(tonumber(
    db:scalar "SELECT current_setting('server_version_num')")) }
  function b.key(schema, name) return model.key(home, schema, name) end
  function b.privileges(e, r)
    if opts.privileges then e.owner, e.acl = r.owner, r.acl end
  end
  for name, r in pairs(found) do
    oids[#oids + 1] = r.oid
    s.schemas[name] = { name = name }
    b.privileges(s.schemas[name], r)
    b.reg["pg_namespace:" .. r.oid] = s.schemas[name]
  end
  table.sort(oids)
  b.nsps = "{" .. table.concat(oids, ",") .. "}"
  tables.read(b)
  objects.read(b)
  return s
end

return M
