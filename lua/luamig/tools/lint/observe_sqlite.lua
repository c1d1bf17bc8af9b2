--- What a migration does on SQLite: the tables it rebuilds (batch alter:
--- rename aside, create, copy, drop) with the rows copied, the indexes it
--- builds on filled tables, its writes of many rows in one statement, the
--- foreign-key checks it runs, the triggers it adds to existing tables,
--- and how long its transaction holds the database's single write lock,
--- from its first write to COMMIT (every finding gives it); statements
--- slower than opts.slow_ms are named.
local host = require "luamig.host"

local M = { driver = "luamig.sqlite" }

local function unquote(tok)
  return (tok:match('^"(.*)"$') or tok:match("^`(.*)`$") or tok:match("^%[(.*)%]$") or tok):gsub('""', '"')
end

---The tables that exist now (luamig's `skip` left out), by name.
function M.before(db, skip)
  local out = {}
  for _, r in ipairs(db:query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) do
    if not skip[r.name] then out[r.name] = { name = r.name } end
  end
  return out
end

---The target's row estimate of each table, for `lint --rows-from-target`:
---sqlite_stat1's (written by ANALYZE; the catalog only, never a row), -1
---for a table it does not know.
---@return table<string, number>
function M.row_counts(db)
  local out = {}
  for name in pairs(M.before(db, {})) do out[name] = -1 end
  if db:has_table("sqlite_stat1") then
    for _, r in ipairs(db:query("SELECT tbl, stat FROM sqlite_stat1")) do
      local n = tonumber((r.stat or ""):match("^(%d+)"))
      if n and out[r.tbl] then out[r.tbl] = math.max(out[r.tbl], n) end
    end
  end
  return out
end

---The workload of `lint --contention` on `tables` (names): per table a
---read, and a write (the first column set to itself in one row: SQLite's
---write lock, no change); its connections wait up to 60 s for the lock
---(busy_timeout): how long they waited is what the workload measures.
---No long transaction (hold is empty): a reader blocks no writer's
---statements, only, outside WAL mode, its commit.
---@return {read: string[], write: string[], hold: string[], setup: string[]}
function M.workload(db, tables)
  local out = { read = {}, write = {}, hold = {}, setup = { "PRAGMA busy_timeout = 60000" } }
  for _, t in ipairs(tables) do
    local q = db:quote_ident(t)
    local col = db:scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid LIMIT 1", t)
    out.read[#out.read + 1] = ("SELECT 1 FROM %s LIMIT 1"):format(q)
    if col then
      local c = db:quote_ident(col)
      out.write[#out.write + 1] = ("UPDATE %s SET %s = %s WHERE rowid = (SELECT rowid FROM %s LIMIT 1)"):format(
        q, c, c, q)
    end
  end
  if #out.write == 0 then out.write = out.read end
  return out
end

---The names of `tables`, as a set.
function M.existing(tables)
  local out = {}
  for name in pairs(tables) do out[name] = true end
  return out
end

local READS = { SELECT = true, PRAGMA = true, BEGIN = true, SAVEPOINT = true, RELEASE = true, WITH = true }

M.MANY_ROWS = 1000 -- a statement writing this many rows (or an index on a table this big) is reported

-- The table a CREATE INDEX / CREATE TRIGGER statement is on.
local function on_table(sql)
  local t = sql:match("^%s*[Cc][Rr][Ee][Aa][Tt][Ee] .- [Oo][Nn]%s+(%S+)")
  return t and unquote((t:gsub("%(.*$", "")))
end

---An observer for one migration (see observe_pg.observer).
function M.observer(db, tables, _, opts)
  local o, aside, rebuilds, first_write, slow = {}, {}, {}, nil, {}
  local indexes, writes, checks, triggers = {}, {}, {}, {}
  local slow_ms = opts.slow_ms or 1000
  local rebuilding = {} -- tables whose copy is under way (their indexes are recreated: part of the rebuild)
  local function rows(t) return db:scalar(("SELECT count(*) FROM %s"):format(db:quote_ident(t))) end
  local function look(st, word)
    if word == "CREATE" and st.where then
      local t = on_table(st.sql)
      local what = (st.sql:match("^%s*[Cc][Rr][Ee][Aa][Tt][Ee]%s+(%a+)") or ""):upper()
      what = what == "UNIQUE" and "INDEX" or what
      if t and tables[t] and not rebuilding[t] and what == "INDEX" then
        local n = rows(t)
        if n >= M.MANY_ROWS then indexes[#indexes + 1] = { table = t, rows = n, ms = st.ms, where = st.where } end
      elseif t and tables[t] and not rebuilding[t] and what == "TRIGGER" then
        triggers[#triggers + 1] = { table = t, where = st.where }
      end
    elseif (word == "UPDATE" or word == "DELETE" or word == "INSERT" or word == "REPLACE") and st.where and
        (st.changes or 0) >= M.MANY_ROWS then
      writes[#writes + 1] = { rows = st.changes, ms = st.ms, where = st.where, sql = st.sql }
    elseif st.sql:find("foreign_key_check", 1, true) and st.where and #rebuilds > 0 then
      -- after a rebuild: its table's own foreign keys, every row checked
      local t = rebuilds[#rebuilds].table
      if db:scalar("SELECT count(*) FROM pragma_foreign_key_list(?)", t) > 0 then
        checks[#checks + 1] = { ms = st.ms, where = st.where, table = t, rows = rebuilds[#rebuilds].rows }
      end
    end
  end
  function o.after(st)
    local word = (st.sql:match("^%s*(%a+)") or ""):upper()
    if word == "COMMIT" or word == "END" then
      o.committed = host.now_ms()
      return
    end
    if not READS[word] and not first_write then first_write = st.started end
    local from, to = st.sql:match('^%s*ALTER TABLE%s+(%S+)%s+RENAME TO%s+(%S+)%s*$')
    if from then aside[unquote(to)], rebuilding[unquote(from)] = unquote(from), true end
    local into, src = st.sql:match("^%s*INSERT INTO%s+(%S+)%s*%b()%s*SELECT .- FROM%s+(%S+)%s*$")
    if into and aside[unquote(src)] == unquote(into) then
      rebuilds[#rebuilds + 1] = { table = unquote(into), rows = st.changes or 0, ms = st.ms, where = st.where }
    elseif word == "PRAGMA" and st.sql:find("legacy_alter_table = OFF", 1, true) then
      rebuilding = {}
    else
      look(st, word)
    end
    if st.where and st.ms >= slow_ms then slow[#slow + 1] = { where = st.where, ms = st.ms, sql = st.sql } end
  end
  function o.finish()
    return { rebuilds = rebuilds, slow = slow, indexes = indexes, writes = writes, checks = checks,
      triggers = triggers, write_lock_ms = first_write and o.committed and (o.committed - first_write) or nil }
  end
  return o
end

local REBUILD = { id = "table-rebuild", severity = "warning",
  blocks = "every write to the database (SQLite has one write lock) while the table is copied",
  recipe = "fine for small tables; for a large one plan the write pause, or split the change so that " ..
    "the rebuild happens once" }
local LONG = { id = "long-write-lock", severity = "warning", blocks = "every write to the database",
  recipe = "move bulk data changes into batched backfills (luamig.backfill) outside the schema change" }

local INDEX = { id = "index-build", severity = "warning", blocks = "every write to the database while it builds",
  recipe = "SQLite cannot build an index concurrently: plan the write pause, or create the index while the " ..
    "table is small (with the table)" }
local WRITES = { id = "unbatched-write", severity = "warning",
  blocks = "every write to the database until the migration commits",
  recipe = "move the data change out of the schema migration into batches that each commit (luamig.backfill), " ..
    "so other writers get the lock between them" }
local CHECK = { id = "foreign-key-check", severity = "warning", blocks = "every write to the database while it runs",
  recipe = "the check reads every referencing row under the write lock: keep rebuilds of tables with foreign " ..
    "keys small, or run them when writes can pause" }
local TRIGGER = { id = "trigger", severity = "warning", blocks = "nothing now; every later write to the table",
  recipe = "a trigger runs inside every write to the table and widens its transaction: measure the write path " ..
    "with it, keep it to one cheap statement, or do the work in the application or a batched job" }

local CONTENTION = { id = "contention", severity = "error", blocks = "the application's writes (measured)",
  recipe = "shorten the write lock: data changes in batches that each commit (luamig.backfill), rebuilds and " ..
    "index builds while the table is small or when writes can pause" }

---Every rule's id (for lint.ignore).
M.RULES = { REBUILD, LONG, INDEX, WRITES, CHECK, TRIGGER, CONTENTION }

---The findings for a migration: its rebuilds, index builds on filled tables,
---writes of many rows, foreign-key checks, triggers on existing tables,
---and a write lock held longer than opts.slow_ms; each with the write-lock
---span; with --contention, the writes that waited longer than --max-wait.
function M.findings(statements, summary, _, ctx)
  local out = {}
  local span = summary.write_lock_ms and ("; the migration held the write lock %.1f ms"):format(summary.write_lock_ms)
    or ""
  local function add(rule, where, message, relation)
    if ctx.rules.ignored(rule.id, { where = where }, ctx) then return end
    out[#out + 1] = { rule = rule.id, severity = rule.severity, where = where, relation = relation,
      blocks = rule.blocks, message = message .. span, recipe = rule.recipe, write_lock_ms = summary.write_lock_ms }
  end
  for _, r in ipairs(summary.rebuilds) do
    add(REBUILD, r.where, ("rebuilds table %s, copying %d row%s (%.1f ms)"):format(r.table, r.rows,
      r.rows == 1 and "" or "s", r.ms), r.table)
  end
  for _, r in ipairs(summary.indexes) do
    add(INDEX, r.where, ("builds an index on %s (%d rows) in %.1f ms"):format(r.table, r.rows, r.ms), r.table)
  end
  for _, r in ipairs(summary.writes) do
    add(WRITES, r.where, ("writes %d rows in one statement (%.1f ms)"):format(r.rows, r.ms))
  end
  for _, r in ipairs(summary.checks) do
    add(CHECK, r.where, ("checks the foreign keys of every row of %s (%d rows, %.1f ms)"):format(r.table, r.rows,
      r.ms), r.table)
  end
  for _, r in ipairs(summary.triggers) do
    add(TRIGGER, r.where, ("adds a trigger to existing table %s"):format(r.table), r.table)
  end
  if ctx.max_wait_ms then
    ctx.rules.contended(statements, ctx, function(_, st, t, message)
      if not ctx.rules.ignored(CONTENTION.id, st, ctx) then
        out[#out + 1] = ctx.rules.finding(CONTENTION, st, t, message .. span)
        out[#out].write_lock_ms = summary.write_lock_ms
      end
    end, "writes")
  end
  local slowest
  for _, st in ipairs(summary.slow) do
    if not slowest or st.ms > slowest.ms then slowest = st end
  end
  if slowest then
    add(LONG, slowest.where, ("the migration held the write lock for %.1f ms; this statement ran %.1f ms of it")
      :format(summary.write_lock_ms or slowest.ms, slowest.ms))
  end
  return out
end

return M
