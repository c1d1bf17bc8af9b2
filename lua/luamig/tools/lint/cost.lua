--- What each statement costs on PostgreSQL beyond its locks: the WAL it
--- generated (pg_current_wal_insert_lsn before and after it: the insert
--- position, which a transaction's records reach before they are flushed)
--- and, when the config lists `replicas` that stream from the server the
--- scratch database is on, how long after each commit (a COMMIT, or a
--- statement run outside a transaction) their replay reached it: the
--- replication lag the migration leaves behind.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local redact = require "luamig.util.redact"

local M = {}

M.POLL_MS = 5
M.REPLAY_WAIT_MS = 60000 -- a standby slower than this is reported as "over"

local IDENTITY = "SELECT system_identifier::text FROM pg_catalog.pg_control_system()"

---The standbys to measure replay on: the config's `replicas` that replicate
---`db`'s server (same system identifier). Returns the connections and, for
---each replica left out, why.
---@param db luamig.Db
---@param cfg luamig.Config
---@return {name: string, db: luamig.Db}[], string[]
function M.standbys(db, cfg)
  local out, notes = {}, {}
  local ours = db:scalar(IDENTITY)
  for _, url in ipairs(cfg.replicas or {}) do
    local name = redact.url(url)
    local ok, conn = pcall(require("luamig.db.connect").open, url, cfg, nil, { create = false })
    if not ok then
      notes[#notes + 1] = ("replica %s not measured: %s"):format(name,
        redact.scrub(errors.text(conn), redact.secrets_of(url)))
    elseif conn:scalar(IDENTITY) ~= ours or not conn:scalar("SELECT pg_catalog.pg_is_in_recovery()") then
      conn:close()
      notes[#notes + 1] = ("replica %s not measured: it is not a standby of the scratch database's server"):format(name)
    else
      out[#out + 1] = { name = name, db = conn }
    end
  end
  return out, notes
end

-- Milliseconds until every standby replayed up to `lsn` (nil past the wait).
local function replay_ms(standbys, lsn)
  local t0 = host.now_ms()
  for _, sb in ipairs(standbys) do
    while not sb.db:scalar("SELECT coalesce(pg_catalog.pg_last_wal_replay_lsn() >= ?::pg_lsn, false)", lsn) do
      if host.now_ms() - t0 > M.REPLAY_WAIT_MS then return nil end
      if host.interrupted() then errors.raise("migration", "interrupted while waiting for the standby's replay") end
      host.sleep_ms(M.POLL_MS)
    end
  end
  return host.now_ms() - t0
end

---A meter for connection `db`: before(st) notes the WAL position, after(st)
---sets st.wal_bytes and, with standbys, after a commit st.replay_ms (nil:
---longer than M.REPLAY_WAIT_MS, st.replay_over set).
---@param db luamig.Db
---@param standbys {name: string, db: luamig.Db}[]?
function M.meter(db, standbys)
  local m = {}
  function m.before(st)
    st.lsn = db:scalar("SELECT pg_catalog.pg_current_wal_insert_lsn()::text")
  end
  function m.after(st)
    if not st.lsn then return end
    local r = db:first("SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_insert_lsn(), ?::pg_lsn)::float8 " ..
      "AS bytes, pg_catalog.pg_current_wal_insert_lsn()::text AS lsn", st.lsn)
    st.lsn, st.wal_bytes = nil, math.tointeger(r.bytes) or r.bytes
    if standbys and #standbys > 0 and r.bytes > 0 and not db:in_transaction() then
      st.replay_ms = replay_ms(standbys, r.lsn)
      st.replay_over = st.replay_ms == nil or nil
    end
  end
  return m
end

---The migration's cost: total WAL bytes, the slowest replay, and each
---statement's (those with a file:line) ms, WAL bytes and replay ms.
---@param statements luamig.LintStatement[]
function M.summary(statements)
  local out = { wal_bytes = 0, statements = {} }
  for _, st in ipairs(statements) do
    if st.wal_bytes then
      out.wal_bytes = out.wal_bytes + st.wal_bytes
      if st.replay_ms and st.replay_ms > (out.replay_ms or -1) then out.replay_ms = st.replay_ms end
      if st.replay_over then out.replay_over = true end
      if st.where then
        out.statements[#out.statements + 1] = { where = st.where, ms = st.ms, wal_bytes = st.wal_bytes,
          replay_ms = st.replay_ms, replay_over = st.replay_over }
      end
    end
  end
  return out
end

return M
