--- Replica lag on PostgreSQL streaming replication (the dialect's
--- replica_lag; luamig.run.replicas holds the policy: throttle and wait).
local errors = require "luamig.util.errors"

local M = {}

-- Lag of the replicas pg_stat_replication lists, behind `lsn` (nil: now).
-- Its positions are NULL to a role without pg_read_all_stats (pg_monitor).
local DISCOVER = [[
SELECT coalesce(nullif(application_name, ''), host(client_addr), 'pid ' || pid) AS name,
  pg_catalog.pg_wal_lsn_diff(%s, replay_lsn)::float8 AS bytes,
  coalesce(extract(epoch FROM replay_lag), 0)::float8 AS seconds
FROM pg_catalog.pg_stat_replication ORDER BY 1]]

local CAN_SEE = "SELECT pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE')"

local STANDBY = [[
SELECT pg_catalog.pg_is_in_recovery() AS in_recovery,
  coalesce(pg_catalog.pg_last_wal_replay_lsn(), '0/0')::text AS lsn,
  coalesce(extract(epoch FROM now() - pg_catalog.pg_last_xact_replay_timestamp()), 0)::float8 AS seconds]]

-- `lsn` as SQL, or the primary's current WAL insert position.
local function target_sql(lsn)
  return lsn and ("'" .. lsn:gsub("'", "") .. "'::pg_lsn") or "pg_catalog.pg_current_wal_insert_lsn()"
end

---The primary's position now, as text: the insert position (with
---synchronous_commit = off the commit record may not be written yet, and
---the write position would be before it).
---@param db luamig.Db
---@return string
function M.position(db)
  return db:scalar("SELECT pg_catalog.pg_current_wal_insert_lsn()::text")
end

---The replicas the primary `db` lists, each behind `lsn` (nil: now);
---raises (a "migration" error with replica = true) when this role cannot
---see their positions.
---@param db luamig.Db
---@param lsn string?
---@return luamig.ReplicaLag[]
function M.listed(db, lsn)
  local rows = db:query(DISCOVER:format(target_sql(lsn)))
  for _, r in ipairs(rows) do
    if r.bytes == nil then
      if not db:scalar(CAN_SEE) then
        errors.raise("migration", ("role %s cannot see the replicas' positions in pg_stat_replication: grant it " ..
          "pg_monitor (GRANT pg_monitor TO %s), or list the replicas' URLs in `replicas`"):format(
          db:scalar("SELECT current_user"), db:scalar("SELECT quote_ident(current_user)")), { replica = true })
      end
      r.bytes = 0 -- (a walsender still starting: no position yet)
    end
  end
  return rows
end

---How far the standby on connection `replica` is behind the primary `db`'s
---`lsn` (nil: now): bytes, seconds; nil and why when it is no standby.
---@param db luamig.Db
---@param replica luamig.Db
---@param lsn string?
---@return number? bytes, number|string seconds_or_why
function M.behind(db, replica, lsn)
  local r = replica:first(STANDBY)
  if not r.in_recovery then
    return nil, "is not a standby (pg_is_in_recovery() is false): the primary listed by mistake, or a promoted standby"
  end
  local bytes = db:scalar(("SELECT pg_catalog.pg_wal_lsn_diff(%s, ?::pg_lsn)::float8"):format(target_sql(lsn)), r.lsn)
  return math.max(bytes, 0), bytes > 0 and r.seconds or 0
end

return M
