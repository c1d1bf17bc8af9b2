--- Replica awareness (PostgreSQL streaming replication; the positions are
--- the dialect's replica_lag): how far each replica's replay is behind the
--- primary, a throttle that backfills call
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

---One replica's lag.
---@class luamig.ReplicaLag
---@field name string
---@field bytes number
---@field seconds number

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

---@class luamig.Replicas
---@field db luamig.Db      the primary
---@field lag luamig.DialectReplicaLag  its dialect's replica_lag
---@field urls string[]?    explicit replicas
---@field conns table[]     their connections, opened on first use
local Replicas = {}
Replicas.__index = Replicas

---Every replica's lag behind `lsn` (default: the primary's current position).
---@param lsn string?
---@return luamig.ReplicaLag[]
function Replicas:lags(lsn)
  if not self.urls then return self.lag.listed(self.db, lsn) end
  local out = {}
  for i, url in ipairs(self.urls) do
    local ok, bytes, seconds = pcall(function()
      if not self.conns[i] then
        self.conns[i] = connect.open(url, self.config, nil, { create = false })
      end
      return self.lag.behind(self.db, self.conns[i], lsn)
    end)
    if not ok then
      errors.raise("migration", ("cannot reach replica %s: %s"):format(redact.url(url),
        redact.scrub(errors.text(bytes), redact.secrets_of(url))), { replica = true })
    end
    if not bytes then
      errors.raise("migration", ("replica %s %s; fix `replicas` in the config"):format(redact.url(url), seconds),
        { replica = true })
    end
    out[i] = { name = redact.url(url), bytes = bytes, seconds = seconds }
  end
  return out
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
  local lsn = self.lag.position(self.db)
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
---wait_for_replicas is set. A dialect without replica_lag (SQLite) has no
---replicas: there they are a config error.
---@param s luamig.Session
---@return luamig.Replicas?
function M.of_session(s)
  local cfg = s.config
  if not cfg.max_replica_lag and not cfg.wait_for_replicas then return nil end
  if not s.dialect.replica_lag then
    errors.raise("config", "max_replica_lag and wait_for_replicas need PostgreSQL (streaming replication)")
  end
  return setmetatable({ db = s.db, lag = s.dialect.replica_lag, config = cfg, urls = cfg.replicas, conns = {} },
    Replicas)
end

return M
