--- Replica awareness on PostgreSQL streaming replication: how far each
--- replica's replay is behind the primary, a throttle that backfills call
--- between batches (pause while a replica lags more than max_replica_lag),
--- and the wait after each migration (wait_for_replicas).
--- Replicas are the config's `replicas` URLs (each asked for its replay
--- position), or else those pg_stat_replication lists on the primary.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local text = require "luamig.util.text"
local redact = require "luamig.util.redact"
local connect = require "luamig.db.connect"

local M = {}

---@class luamig.Lag
---@field bytes number?    WAL bytes not yet replayed
---@field seconds number?  age of the last replayed transaction

M.DEFAULT_WAIT = 60 -- seconds wait_for_replicas = true waits for each migration
M.POLL_MS = 200

local BYTES = { [""] = 1, b = 1, kb = 1024, mb = 1024 ^ 2, gb = 1024 ^ 3 }
local SECONDS = { ms = 0.001, s = 1, min = 60 }

---`max_replica_lag` as a luamig.Lag: a number of bytes, or text such as
---"16MB", "512kB", "5s", "250ms". Returns nil and what is wrong for a bad value.
---@param v any
---@return luamig.Lag?, string?
function M.parse_lag(v)
  if type(v) == "number" and v == v and v > 0 then return { bytes = v } end
  local n, unit = tostring(v):match("^%s*(%d+%.?%d*)%s*(%a*)%s*$")
  n, unit = tonumber(n), unit and unit:lower()
  if type(v) == "string" and n and n > 0 then
    if BYTES[unit] then return { bytes = n * BYTES[unit] } end
    if SECONDS[unit] then return { seconds = n * SECONDS[unit] } end
  end
  return nil, ('must be a number of bytes or text like "16MB" or "5s" (got %s)'):format(tostring(v))
end

-- Lag of the replicas pg_stat_replication lists, behind `lsn` (nil: now).
-- Its positions are NULL to a role without pg_read_all_stats (pg_monitor).
local DISCOVER = [[
SELECT coalesce(nullif(application_name, ''), host(client_addr), 'pid ' || pid) AS name,
  pg_catalog.pg_wal_lsn_diff(%s, replay_lsn)::float8 AS bytes,
  coalesce(extract(epoch FROM replay_lag), 0)::float8 AS seconds
FROM pg_catalog.pg_stat_replication ORDER BY 1]]

local CAN_SEE = "SELECT pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE')"

local REPLICA = [[
SELECT pg_catalog.pg_is_in_recovery() AS in_recovery,
  coalesce(pg_catalog.pg_last_wal_replay_lsn(), '0/0')::text AS lsn,
  coalesce(extract(epoch FROM now() - pg_catalog.pg_last_xact_replay_timestamp()), 0)::float8 AS seconds]]

---@class luamig.Replicas
---@field db table          the primary
---@field urls string[]?    explicit replicas
---@field conns table[]     their connections, opened on first use
local Replicas = {}
Replicas.__index = Replicas

---Every replica's lag behind `lsn` (default: the primary's current WAL position).
---@param lsn string?
---@return {name: string, bytes: number, seconds: number}[]
function Replicas:lags(lsn)
  local target = lsn and ("'" .. lsn:gsub("'", "") .. "'::pg_lsn") or "pg_catalog.pg_current_wal_insert_lsn()"
  if not self.urls then return self:discovered(target) end
  local out = {}
  for i, url in ipairs(self.urls) do
    local ok, r = pcall(function()
      if not self.conns[i] then
        self.conns[i] = connect.open(url, self.config, nil, { create = false })
      end
      return self.conns[i]:first(REPLICA)
    end)
    if not ok then
      errors.raise("migration", ("cannot reach replica %s: %s"):format(redact.url(url),
        redact.scrub(errors.text(r), redact.secrets_of(url))), { replica = true })
    end
    if not r.in_recovery then
      errors.raise("migration", ("replica %s is not a standby (pg_is_in_recovery() is false): the primary listed " ..
        "by mistake, or a promoted standby; fix `replicas` in the config"):format(redact.url(url)), { replica = true })
    end
    local bytes = self.db:scalar(("SELECT pg_catalog.pg_wal_lsn_diff(%s, ?::pg_lsn)::float8"):format(target), r.lsn)
    out[i] = { name = redact.url(url), bytes = math.max(bytes, 0), seconds = bytes > 0 and r.seconds or 0 }
  end
  return out
end

-- The replicas pg_stat_replication lists, behind `target`; raises when
-- this role cannot see their positions.
function Replicas:discovered(target)
  local rows = self.db:query(DISCOVER:format(target))
  for _, r in ipairs(rows) do
    if r.bytes == nil then
      if not self.db:scalar(CAN_SEE) then
        errors.raise("migration", ("role %s cannot see the replicas' positions in pg_stat_replication: grant it " ..
          "pg_monitor (GRANT pg_monitor TO %s), or list the replicas' URLs in `replicas`"):format(
          self.db:scalar("SELECT current_user"), self.db:scalar("SELECT quote_ident(current_user)")), { replica = true })
      end
      r.bytes = 0 -- (a walsender still starting: no position yet)
    end
  end
  return rows
end

-- The first replica over `max`, or nil.
local function over(lags, max)
  for _, l in ipairs(lags) do
    if (max.bytes and l.bytes > max.bytes) or (max.seconds and l.seconds > max.seconds) then return l end
  end
end

local function lag_text(l)
  return ("%s is %s (%.1f s) behind"):format(l.name, text.count(math.floor(l.bytes), "byte"), l.seconds)
end

local function check_interrupt()
  local sig = host.interrupted()
  if sig then errors.raise("migration", "interrupted by " .. sig .. " while waiting for replicas") end
end

---Pause while a replica lags more than max_replica_lag (between two batches
---of backfill `name`), with a note when it pauses and when it resumes.
---@param name string
---@param log luamig.Log?
function Replicas:throttle(name, log)
  local max = self.config.max_replica_lag
  if not max then return end
  local worst = over(self:lags(), max)
  if not worst then return end
  local t0 = host.now_ms()
  if log then
    log:info(("backfill %s: paused: replica %s (max_replica_lag)"):format(name, lag_text(worst)))
    io.stdout:flush() -- seen now, also when stdout is a file
  end
  repeat
    check_interrupt()
    host.sleep_ms(M.POLL_MS)
    worst = over(self:lags(), max)
  until not worst
  if log then
    log:info(("backfill %s: resumed after %.1f s: replicas caught up"):format(name, (host.now_ms() - t0) / 1000))
  end
end

---Wait until every replica has replayed the primary's WAL up to now (after
---migration `id` committed); raise naming the replica after the timeout.
---@param id string
function Replicas:wait(id)
  local timeout = self.config.wait_for_replicas
  if not timeout then return end
  -- the insert position: with synchronous_commit = off the commit record
  -- may not be written yet, and the write position would be before it
  local lsn = self.db:scalar("SELECT pg_catalog.pg_current_wal_insert_lsn()::text")
  local deadline = host.now_ms() + timeout * 1000
  while true do
    local ok, lags = pcall(self.lags, self, lsn)
    if not ok then
      if not (errors.is(lags) and lags.replica) then error(lags, 0) end
      errors.raise("migration", ("wait_for_replicas: %s; migration %s is committed on the primary " ..
        "(a rerun continues after it)"):format(lags.message, id))
    end
    local late = over(lags, { bytes = 0 })
    if not late then return end
    if host.now_ms() >= deadline then
      errors.raise("migration", ("wait_for_replicas: replica %s has not replayed migration %s after %g s " ..
        "(%s behind; the migration is committed on the primary)"):format(late.name, id, timeout,
          text.count(math.floor(late.bytes), "byte")))
    end
    check_interrupt()
    host.sleep_ms(M.POLL_MS)
  end
end

---Close the replica connections.
function Replicas:close()
  for _, c in pairs(self.conns) do c:close() end
  self.conns = {}
end

---The replicas of session `s`, or nil when neither max_replica_lag nor
---wait_for_replicas is set. These settings are PostgreSQL's (streaming
---replication); on another database they are a config error.
---@param s luamig.Session
---@return luamig.Replicas?
function M.of_session(s)
  local cfg = s.config
  if not cfg.max_replica_lag and not cfg.wait_for_replicas then return nil end
  if s.dialect.name ~= "postgresql" then
    errors.raise("config", "max_replica_lag and wait_for_replicas need PostgreSQL (streaming replication)")
  end
  return setmetatable({ db = s.db, config = cfg, urls = cfg.replicas, conns = {} }, Replicas)
end

return M
