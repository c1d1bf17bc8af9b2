--- What a migration really does on PostgreSQL, seen from its own backend:
--- after each of its statements (and just before COMMIT, when the
--- transaction still holds every lock) the relation locks in pg_locks, the
--- tables whose pg_class.relfilenode changed (rewritten) and those the
--- transaction scanned (pg_stat_xact_user_tables) — for the tables that
--- existed before the migration. Locks on tables it created block nobody.
local host = require "luamig.host"
local cost = require "luamig.tools.lint.cost"
local backend_locks = require "luamig.tools.lint.backend_locks"

local M = { driver = "luamig.pg" }

---Lock modes, weakest first, with what each blocks in other sessions.
M.MODES = {
  { "AccessShareLock", "ACCESS SHARE", "DDL that takes ACCESS EXCLUSIVE" },
  { "RowShareLock", "ROW SHARE", "DDL (EXCLUSIVE, ACCESS EXCLUSIVE)" },
  { "RowExclusiveLock", "ROW EXCLUSIVE", "DDL and CREATE INDEX" },
  { "ShareUpdateExclusiveLock", "SHARE UPDATE EXCLUSIVE", "DDL, VACUUM and CREATE INDEX CONCURRENTLY" },
  { "ShareLock", "SHARE", "writes and DDL" },
  { "ShareRowExclusiveLock", "SHARE ROW EXCLUSIVE", "writes and DDL" },
  { "ExclusiveLock", "EXCLUSIVE", "writes and DDL (reads go on)" },
  { "AccessExclusiveLock", "ACCESS EXCLUSIVE", "reads, writes and DDL" },
}
local RANK, NAME, BLOCKS = {}, {}, {}
for i, m in ipairs(M.MODES) do RANK[m[1]], NAME[m[1]], BLOCKS[m[1]] = i, m[2], m[3] end

---Rank of a pg_locks mode (1 = ACCESS SHARE ... 8 = ACCESS EXCLUSIVE; 0 = none).
function M.rank(mode) return RANK[mode] or 0 end

---The user tables that exist now, by oid: name, relfilenode; luamig's
---version tables (`skip`, by name) left out. Also the session's lock_timeout.
---@return table<integer, {name: string, node: integer}> tables, string lock_timeout
function M.before(db, skip)
  local out = {}
  for _, r in ipairs(db:query([[
SELECT c.oid::bigint AS oid, c.relname, c.relfilenode::bigint AS node
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%']])) do
    if not skip[r.relname] then out[r.oid] = { name = r.relname, node = r.node } end
  end
  return out, db:scalar("SELECT current_setting('lock_timeout')")
end

-- One round trip: this backend's locks on `oids`, their relfilenode and
-- scan counts in this transaction, and lock_timeout.
local function look(db, oids)
  local list = "'{" .. table.concat(oids, ",") .. "}'::oid[]"
  return db:query(([[
SELECT l.relation::bigint AS oid, l.mode, NULL::bigint AS node, NULL::bigint AS scans FROM pg_locks l
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted AND l.relation = ANY(%s)
UNION ALL
SELECT c.oid::bigint, NULL, c.relfilenode::bigint, (coalesce(s.seq_scan, 0) + coalesce(s.idx_scan, 0))::bigint
FROM pg_class c LEFT JOIN pg_stat_xact_user_tables s ON s.relid = c.oid WHERE c.oid = ANY(%s)
UNION ALL
SELECT NULL, current_setting('lock_timeout'), NULL, NULL]]):format(list, list))
end

-- Foreign keys: the referencing table and columns, and whether an index
-- (not partial) starts with those columns, in any order.
local FOREIGN_KEYS = [[
SELECT k.oid::bigint AS oid, k.conname, c.relname,
  (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_attribute a
   WHERE a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)) AS columns,
  EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = k.conrelid AND i.indpred IS NULL
    AND (i.indkey::int2[])[0:cardinality(k.conkey) - 1] @> k.conkey) AS indexed
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE k.contype = 'f' AND %s]]

-- The json columns and the serial ones (a default from a sequence the
-- column owns, not an identity) of the user tables.
local COLUMN_KINDS = [[
SELECT c.oid::bigint || '.' || a.attnum AS key, c.relname, a.attname, a.atttypid = 'json'::regtype AS json,
  a.atthasdef AND a.attidentity = '' AND pg_get_serial_sequence(c.oid::regclass::text, a.attname) IS NOT NULL AS serial
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
  AND (a.atttypid = 'json'::regtype OR (a.atthasdef AND a.attidentity = ''))]]

-- The json and serial columns now, by "table oid.attnum" (renames keep
-- them), with what they are.
local function column_kinds(db)
  local out = {}
  for _, r in ipairs(db:query(COLUMN_KINDS)) do
    if r.json or r.serial then out[r.key] = r end
  end
  return out
end

-- The state of one migration's observation: `held[oid][mode]` (and since
-- when), scan counts, the tables rewritten, scanned and dropped so far,
-- the foreign keys and json/serial columns that existed before it.
local function watch(db, tables, lock_timeout)
  local w = { db = db, tables = tables, oids = {}, setting = lock_timeout, held = {}, since = {}, scans = {},
    rewritten = {}, scanned = {}, dropped = {}, fks = {}, new_fks = {}, columns = column_kinds(db) }
  for oid in pairs(tables) do w.oids[#w.oids + 1] = math.tointeger(oid) end
  for _, r in ipairs(db:query(FOREIGN_KEYS:format("true"))) do w.fks[r.oid] = true end
  return w
end

local function oid_list(set)
  local out = {}
  for oid in pairs(set) do out[#out + 1] = math.tointeger(oid) end
  return "'{" .. table.concat(out, ",") .. "}'::oid[]"
end

-- After a DDL statement: the foreign keys it added (st.where noted for the
-- finish's index check) and its new json and serial columns (st.columns).
local function new_objects(w, st, s)
  if s:find("REFERENCES", 1, true) then
    for _, r in ipairs(w.db:query(FOREIGN_KEYS:format("NOT (k.oid = ANY(" .. oid_list(w.fks) .. "))"))) do
      w.fks[r.oid] = true
      w.new_fks[#w.new_fks + 1] = { oid = r.oid, where = st.where, relation = r.relname, constraint = r.conname,
        columns = r.columns, sql = st.sql }
    end
  end
  st.columns = {}
  for key, r in pairs(column_kinds(w.db)) do
    if not w.columns[key] then
      w.columns[key] = r
      st.columns[#st.columns + 1] = { relation = r.relname, column = r.attname, json = r.json, serial = r.serial }
    end
  end
  table.sort(st.columns, function(a, b) return a.column < b.column end)
end

-- The foreign keys the migration added that no index serves at its end.
local function unindexed(w)
  if #w.new_fks == 0 then return {} end
  local still = {}
  for _, k in ipairs(w.new_fks) do still[k.oid] = k end
  local out = {}
  for _, r in ipairs(w.db:query(FOREIGN_KEYS:format("k.oid = ANY(" .. oid_list(still) .. ")"))) do
    if not r.indexed then out[#out + 1] = still[r.oid] end
  end
  table.sort(out, function(a, b) return a.constraint < b.constraint end)
  for _, k in ipairs(out) do k.oid = nil end
  return out
end

-- One row of `look` about table `t` (its lock, or its node and scans), for `st`.
local function note(w, st, r, t, nodes)
  if r.mode then
    w.held[r.oid] = w.held[r.oid] or {}
    if not w.held[r.oid][r.mode] then
      w.held[r.oid][r.mode], w.since[r.oid .. r.mode] = true, st.started
      st.locks[#st.locks + 1] = { relation = t.name, mode = r.mode }
    end
    return
  end
  nodes[r.oid] = true
  if r.node ~= t.node and not w.rewritten[r.oid] then
    w.rewritten[r.oid] = true
    st.rewrote[#st.rewrote + 1] = t.name
  end
  if r.scans > (w.scans[r.oid] or 0) then
    -- the migration's own queries scan too: only DDL's scans are its hazard
    w.scans[r.oid] = r.scans
    if not st.dml then
      w.scanned[r.oid] = true
      st.scanned[#st.scanned + 1] = t.name
    end
  end
end

-- Annotate statement `st` with what the transaction holds and did since
-- the previous one: st.locks (new), rewrote, scanned, dropped; st.held is
-- the strongest mode per table so far, st.lock_timeout the one it ran under.
local function observe(w, st)
  if not w.db:in_transaction() then return end
  local nodes = {}
  st.locks, st.rewrote, st.scanned, st.dropped, st.lock_timeout = {}, {}, {}, {}, w.setting
  for _, r in ipairs(look(w.db, w.oids)) do
    if r.oid then note(w, st, r, w.tables[r.oid], nodes) else w.setting = r.mode end
    if r.mode == "AccessExclusiveLock" then st.exclusive = w.tables[r.oid].name end
  end
  st.observed, st.held = true, {}
  for oid, modes in pairs(w.held) do
    local name = w.tables[oid].name
    for mode in pairs(modes) do
      if RANK[mode] > M.rank(st.held[name]) then st.held[name] = mode end
    end
  end
  for oid, t in pairs(w.tables) do
    if not nodes[oid] and not w.dropped[oid] then
      w.dropped[oid] = true
      st.dropped[#st.dropped + 1] = t.name
    end
  end
end

-- The names of the oids in `set`, sorted.
local function names(w, set)
  local out = {}
  for oid in pairs(set) do out[#out + 1] = w.tables[oid].name end
  table.sort(out)
  return out
end

-- The migration's summary: every lock (strongest first per table), the
-- strongest one and how long it was held until COMMIT, rewrites, scans.
local function summarize(w)
  local locks, strongest, strongest_since = {}, nil, nil
  for oid, modes in pairs(w.held) do
    for mode in pairs(modes) do
      local l = { relation = w.tables[oid].name, mode = NAME[mode], blocks = BLOCKS[mode], rank = RANK[mode],
        since = w.since[oid .. mode] }
      locks[#locks + 1] = l
      if not strongest or l.rank > strongest.rank or (l.rank == strongest.rank and l.since < strongest.since) then
        strongest, strongest_since = l, l.since
      end
    end
  end
  table.sort(locks, function(a, b)
    if a.relation ~= b.relation then return a.relation < b.relation end
    return a.rank > b.rank
  end)
  for _, l in ipairs(locks) do l.since, l.rank = nil, nil end
  for oid in pairs(w.rewritten) do w.scanned[oid] = nil end -- (a rewrite reads the table too)
  local summary = { locks = locks, rewritten = names(w, w.rewritten), scanned = names(w, w.scanned),
    dropped = names(w, w.dropped), unindexed = unindexed(w) }
  if strongest and w.committed then
    summary.strongest = { relation = strongest.relation, mode = strongest.mode, blocks = strongest.blocks,
      held_ms = w.committed - strongest_since }
  end
  return summary
end

local function is_commit(sql) return sql:match("^%s*[Cc][Oo][Mm][Mm][Ii][Tt]") ~= nil end

local DML = { SELECT = true, INSERT = true, UPDATE = true, DELETE = true, WITH = true, VALUES = true, TABLE = true,
  COPY = true, MERGE = true }
local DDL = { CREATE = true, ALTER = true }

-- The statements run outside a transaction (with a file:line), with what
-- the watch on the backend saw during each: table locks, waits for other
-- transactions (CONCURRENTLY's wait for older snapshots).
local function outside_summary(statements, samples, tables)
  local out, existed = {}, M.existing(tables)
  for _, st in ipairs(statements) do
    if st.where and not st.observed and st.ms then
      local d = backend_locks.during(samples, st.started, st.started + st.ms)
      local locks = {}
      for _, l in ipairs(d.locks) do
        if existed[l.relation] then -- (the tables that existed before the migration: luamig's own left out)
          locks[#locks + 1] = { relation = l.relation, mode = NAME[l.mode] or l.mode, blocks = BLOCKS[l.mode] }
        end
      end
      out[#out + 1] = { where = st.where, ms = st.ms, locks = locks, wait_ms = d.wait_ms, waited_for = d.waited_for }
    end
  end
  return out
end

---What the whole lint run shares: the standbys to measure replay on
---(the config's `replicas` that stream from the scratch server), and
---notes on those left out.
---@param s luamig.Session
function M.start(s)
  local standbys, notes = cost.standbys(s.db, s.config)
  return { standbys = standbys, notes = notes, url = s.url, config = s.config }
end

---Close what M.start opened.
function M.stop(run)
  for _, sb in ipairs(run.standbys or {}) do sb.db:close() end
end

---An observer for one migration (tables: M.before's), for the recorder:
---before(st) and after(st) run around each statement (the last look is
---just before COMMIT, when the transaction still holds every lock);
---finish() gives the migration's summary, with its cost (WAL, replay).
---@param db userdata
---@param tables table
---@param lock_timeout string
---@param run table? M.start's
function M.observer(db, tables, lock_timeout, _, run)
  local w = watch(db, tables, lock_timeout)
  local meter, seen = cost.meter(db, run and run.standbys), {}
  local o = {}
  local function look_before(st)
    if is_commit(st.sql) then
      observe(w, { sql = st.sql, started = st.started })
    elseif not w.counted and db:in_transaction() then
      -- the scan counts are the backend's pending statistics, which may
      -- still hold earlier transactions' (flushed when idle): the baseline
      -- is taken in the migration's transaction, before its first statement
      w.counted = true
      for _, r in ipairs(look(db, w.oids)) do
        if r.scans then w.scans[r.oid] = r.scans end
      end
    end
  end
  local outside -- the watch on this backend, from the first statement outside a transaction
  function o.before(st)
    local prev = seen[#seen]
    seen[#seen + 1] = st
    if st.where and not outside and run and run.url and not db:in_transaction() then
      outside = backend_locks.start(run.url, run.config, db:scalar("SELECT pg_backend_pid()"))
    end
    look_before(st)
    -- (after a failed statement the transaction takes no query until it ends)
    if not (prev and prev.error and db:in_transaction()) then meter.before(st) end
  end
  local function look_after(st)
    if is_commit(st.sql) then
      w.committed, w.counted = host.now_ms(), false
    elseif st.where then
      local word = (st.sql:match("^%s*(%a+)") or ""):upper()
      st.dml = DML[word]
      observe(w, st)
      if DDL[word] then new_objects(w, st, st.sql:upper()) end
    elseif st.sql:match("^SET [%a ]*lock_timeout") then
      -- the step's own lock_timeout (a migration file's or the config's), set by the runner
      w.setting = db:scalar("SELECT current_setting('lock_timeout')")
    end
  end
  function o.after(st)
    look_after(st)
    meter.after(st) -- (last: it may wait for the standbys' replay after a COMMIT)
  end
  function o.finish()
    local summary = summarize(w)
    summary.cost = cost.summary(seen)
    if outside then summary.outside = outside_summary(seen, outside.stop(), tables) end
    return summary
  end
  return o
end

---The target's row estimate of each table of the current schema
---(pg_class.reltuples: the catalog only, never a row; -1 when never
---analyzed), for `lint --rows-from-target`.
---@return table<string, number>
function M.row_counts(db)
  local out = {}
  for _, r in ipairs(db:query([[
SELECT c.relname, c.reltuples::float8 AS n FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND s.nspname = pg_catalog.current_schema()]])) do
    out[r.relname] = r.n
  end
  return out
end

---The workload of `lint --contention` on `tables` (names): per table a
---read, a write (the first plain column set to itself in one row: the
---lock, a row lock, no change) and the query the long transaction holds
---ACCESS SHARE with.
---@return {read: string[], write: string[], hold: string[]}
function M.workload(db, tables)
  local out = { read = {}, write = {}, hold = {} }
  for _, t in ipairs(tables) do
    local q = db:quote_ident(t)
    local col = db:scalar([[
SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped
  AND attgenerated = '' AND attidentity <> 'a' ORDER BY attnum LIMIT 1]], q)
    out.read[#out.read + 1] = ("SELECT 1 FROM %s LIMIT 1"):format(q)
    out.hold[#out.hold + 1] = out.read[#out.read]
    if col then
      local c = db:quote_ident(col)
      out.write[#out.write + 1] = ("UPDATE %s SET %s = %s WHERE ctid = (SELECT ctid FROM %s LIMIT 1)"):format(q, c, c, q)
    end
  end
  if #out.write == 0 then out.write = out.read end
  return out
end

---The names of `tables` (M.before's), as a set.
function M.existing(tables)
  local out = {}
  for _, t in pairs(tables) do out[t.name] = true end
  return out
end

-- The strongest lock statement `st` took that blocks writes, or nil.
local function strong_lock(st)
  local best
  for _, l in ipairs(st.locks or {}) do
    if RANK[l.mode] >= RANK.ShareLock and (not best or RANK[l.mode] > RANK[best.mode]) then best = l end
  end
  return best and { relation = best.relation, mode = NAME[best.mode] }
end

---The rules' findings for a migration's statements (and its summary's
---foreign keys without an index).
function M.findings(statements, summary, _, ctx)
  ctx.lock_of = function(st, t) return st.held and st.held[t] and NAME[st.held[t]] end
  ctx.strong_lock = strong_lock
  ctx.unindexed = summary.unindexed
  ctx.held_mode = function(st)
    local best
    for t, mode in pairs(st.held or {}) do
      if not best or RANK[mode] > RANK[best.raw] then best = { relation = t, raw = mode, mode = NAME[mode] } end
    end
    return best
  end
  return ctx.rules.check(statements, ctx)
end

return M
