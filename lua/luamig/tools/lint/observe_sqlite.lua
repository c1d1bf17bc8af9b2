--- What a migration does on SQLite: the tables it rebuilds (batch alter:
--- rename aside, create, copy, drop) with the rows copied, and how long
--- its transaction holds the database's single write lock, from its first
--- write to COMMIT; statements slower than opts.slow_ms are named.
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

-- A declared type's affinity (SQLite's rules, in their order).
local function kind(decl)
  local t = (decl or ""):upper()
  if t:find("INT") then return "integer" end
  if t:find("CHAR") or t:find("CLOB") or t:find("TEXT") then return "text" end
  if t:find("BLOB") or t == "" then return "blob" end
  if t:find("BOOL") then return "boolean" end
  return "real"
end

---The columns to fill for `lint --rows` (luamig.tools.lint.rows).
function M.fill_info(db, skip)
  local tables, deps = {}, {}
  for name in pairs(M.before(db, skip)) do
    local cols = {}
    for _, c in ipairs(db:query(("PRAGMA table_info(%s)"):format(db:quote_ident(name)))) do
      if not c.dflt_value then
        cols[#cols + 1] = { name = c.name, type = c.type, nullable = c.notnull == 0, kind = kind(c.type) }
      end
    end
    tables[name] = cols
    for _, f in ipairs(db:query(("PRAGMA foreign_key_list(%s)"):format(db:quote_ident(name)))) do
      deps[name] = deps[name] or {}
      table.insert(deps[name], f.table)
      for _, c in ipairs(cols) do
        if c.name == f.from then c.parent = f.table end
      end
    end
  end
  return { tables = tables, deps = deps, boolean = "(g % 2)", now = "datetime('now')", blob = "x'00'",
    uuid = "lower(hex(randomblob(16)))",
    left = function(n) return ("substr('r' || g, 1, %d)"):format(n) end,
    series = function(n, sql)
      return ("WITH RECURSIVE series(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM series WHERE g < %d) %s")
        :format(n, sql)
    end }
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

---The names of `tables`, as a set.
function M.existing(tables)
  local out = {}
  for name in pairs(tables) do out[name] = true end
  return out
end

local READS = { SELECT = true, PRAGMA = true, BEGIN = true, SAVEPOINT = true, RELEASE = true, WITH = true }

---An observer for one migration (see observe_pg.observer).
function M.observer(_, _, _, opts)
  local o, aside, rebuilds, first_write, slow = {}, {}, {}, nil, {}
  local slow_ms = opts.slow_ms or 1000
  function o.after(st)
    local word = (st.sql:match("^%s*(%a+)") or ""):upper()
    if word == "COMMIT" or word == "END" then
      o.committed = host.now_ms()
      return
    end
    if not READS[word] and not first_write then first_write = st.started end
    local from, to = st.sql:match('^%s*ALTER TABLE%s+(%S+)%s+RENAME TO%s+(%S+)%s*$')
    if from then aside[unquote(to)] = unquote(from) end
    local into, src = st.sql:match("^%s*INSERT INTO%s+(%S+)%s*%b()%s*SELECT .- FROM%s+(%S+)%s*$")
    if into and aside[unquote(src)] == unquote(into) then
      rebuilds[#rebuilds + 1] = { table = unquote(into), rows = st.changes or 0, ms = st.ms, where = st.where }
    end
    if st.where and st.ms >= slow_ms then slow[#slow + 1] = { where = st.where, ms = st.ms, sql = st.sql } end
  end
  function o.finish()
    return { rebuilds = rebuilds, slow = slow,
      write_lock_ms = first_write and o.committed and (o.committed - first_write) or nil }
  end
  return o
end

local REBUILD = { id = "table-rebuild", severity = "warning",
  blocks = "every write to the database (SQLite has one write lock) while the table is copied",
  recipe = "fine for small tables; for a large one plan the write pause, or split the change so that " ..
    "the rebuild happens once" }
local LONG = { id = "long-write-lock", severity = "warning", blocks = "every write to the database",
  recipe = "move bulk data changes into batched backfills (luamig.backfill) outside the schema change" }

---The findings for a migration: its rebuilds, and a write lock held longer
---than opts.slow_ms.
function M.findings(_, summary, _, ctx)
  local out = {}
  local function add(rule, where, message, relation)
    if ctx.rules.ignored(rule.id, { where = where }, ctx) then return end
    out[#out + 1] = { rule = rule.id, severity = rule.severity, where = where, relation = relation,
      blocks = rule.blocks, message = message, recipe = rule.recipe }
  end
  for _, r in ipairs(summary.rebuilds) do
    add(REBUILD, r.where, ("rebuilds table %s, copying %d row%s (%.1f ms)"):format(r.table, r.rows,
      r.rows == 1 and "" or "s", r.ms), r.table)
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
