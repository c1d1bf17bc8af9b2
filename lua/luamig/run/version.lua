--- The version tables: <version_table> holds the current head(s),
--- <version_table>_history records every step (applied, failed or stamped)
--- and <version_table>_expanded the revisions whose contract phase is pending.
local M = {}

---@class luamig.VersionTables
---@field heads string    quoted name of the heads table
---@field history string  quoted name of the history table
---@field expanded string  quoted name of the pending-contracts table
---@field plain string    unquoted heads-table name (for has_table), schema-qualified where the dialect resolves one

---Quoted table names for a config and dialect. With the connection `db`,
---they are qualified with the schema the dialect resolved at connect time
---(dialect.home_schema), so that a migration that empties search_path
---cannot make luamig lose its own tables.
---@param cfg luamig.Config
---@param dialect luamig.Dialect
---@param db luamig.Db?
---@return luamig.VersionTables
function M.tables(cfg, dialect, db)
  local q = dialect.quote_ident
  local home = db and dialect.home_schema and dialect.home_schema(db)
  local schema = cfg.schema or home
  local prefix = schema and (q(schema) .. ".") or ""
  return {
    heads = prefix .. q(cfg.version_table),
    history = prefix .. q(cfg.version_table .. "_history"),
    expanded = prefix .. q(cfg.version_table .. "_expanded"),
    plain = (home and (schema .. ".") or "") .. cfg.version_table,
  }
end

-- luamig's own bookkeeping migrations, oldest first: each brings a table
-- created by an older luamig up to date. `done(db, t)` says whether it is
-- applied; tables created by this luamig have every one already.
local BOOKKEEPING = {
  { -- the phase of each history row (expand/contract, issue 26)
    done = function(db, t) return db:has_column(t.plain .. "_history", "phase") end,
    sql = function(t) return "ALTER TABLE " .. t.history .. " ADD COLUMN phase TEXT" end,
  },
}

---Create the tables if missing, and bring tables an older luamig created
---up to date (inside the caller's transaction). `offline` (--sql): no
---database to ask, so only the creation is written.
---@param offline boolean?
function M.ensure(db, dialect, t, offline)
  local fresh = offline or not db:has_table(t.plain .. "_history")
  db:exec(([[
CREATE TABLE IF NOT EXISTS %s (version_num TEXT NOT NULL PRIMARY KEY);
CREATE TABLE IF NOT EXISTS %s (
  id %s,
  revision TEXT NOT NULL,
  direction TEXT NOT NULL,
  status TEXT NOT NULL,
  checksum TEXT,
  applied_at TEXT NOT NULL,
  ms %s,
  transactional %s,
  error TEXT,
  phase TEXT
)]]):format(t.heads, t.history, dialect.types.id, dialect.types.float, dialect.types.bool))
  if fresh then return end
  for _, b in ipairs(BOOKKEEPING) do
    if not b.done(db, t) then db:exec(b.sql(t)) end
  end
end

---The revisions whose contract phase is pending: revision -> expanded_at
---({} when the table does not exist yet).
---@return table<string, string>
function M.expanded(db, t)
  local out = {}
  if not db:has_table(t.plain .. "_expanded") then return out end
  for _, row in ipairs(db:query("SELECT revision, expanded_at FROM " .. t.expanded)) do
    out[row.revision] = row.expanded_at
  end
  return out
end

---Mark phased revision `id` expanded (contract pending), or with `pending` false, not.
---@param id string
---@param pending boolean
---@param now_sql string?  as in M.record
function M.set_expanded(db, t, id, pending, now_sql)
  -- (made by the first phased migration: projects without one never see it)
  db:exec("CREATE TABLE IF NOT EXISTS " .. t.expanded .. " (revision TEXT NOT NULL PRIMARY KEY, expanded_at TEXT NOT NULL)")
  db:exec("DELETE FROM " .. t.expanded .. " WHERE revision = ?", id)
  if not pending then return end
  if now_sql then
    db:exec("INSERT INTO " .. t.expanded .. " (revision, expanded_at) VALUES (?, " .. now_sql .. ")", id)
  else
    db:exec("INSERT INTO " .. t.expanded .. " (revision, expanded_at) VALUES (?, ?)", id, os.date("!%Y-%m-%dT%H:%M:%SZ"))
  end
end

local function exists(db, t)
  return db:has_table(t.plain)
end

---Current heads, sorted ({} when the table does not exist yet; `known`:
---the caller knows it exists, having ensured it, which saves a catalog read).
---@param known boolean?
---@return string[]
function M.heads(db, t, known)
  local out = {}
  if not known and not exists(db, t) then return out end
  for i, row in ipairs(db:query("SELECT version_num FROM " .. t.heads .. " ORDER BY version_num")) do
    out[i] = row.version_num
  end
  return out
end

---Replace the stored heads `old` by `new` (both sorted lists).
function M.set_heads(db, t, old, new)
  local keep = {}
  for _, h in ipairs(new) do keep[h] = true end
  local had = {}
  for _, h in ipairs(old) do
    had[h] = true
    if not keep[h] then db:exec("DELETE FROM " .. t.heads .. " WHERE version_num = ?", h) end
  end
  for _, h in ipairs(new) do
    if not had[h] then db:exec("INSERT INTO " .. t.heads .. " (version_num) VALUES (?)", h) end
  end
end

---@class luamig.HistoryRecord
---@field revision string
---@field direction "up"|"down"|"stamp"
---@field status "ok"|"failed"
---@field checksum string?
---@field ms number?
---@field transactional boolean?
---@field error string?
---@field phase "upgrade"|"expand"|"contract"|"downgrade"|"uncontract"|nil  the body that ran (nil: stamps, older rows)
---@field applied_at string?   ISO-8601 UTC (filled in when absent)

---Append one history row. Its applied_at is rec.applied_at, else now: this
---clock's, or with `now_sql` (dialect.now_text(), for an offline script)
---the server's when the row is written.
---@param rec luamig.HistoryRecord
---@param now_sql string?
function M.record(db, t, rec, now_sql)
  local at = not rec.applied_at and now_sql or "?"
  local params = table.pack(rec.revision, rec.direction, rec.status, rec.checksum)
  if at == "?" then params[5], params.n = rec.applied_at or os.date("!%Y-%m-%dT%H:%M:%SZ"), 5 end
  for _, v in ipairs({ "ms", "transactional", "error", "phase" }) do
    params.n = params.n + 1
    params[params.n] = rec[v]
  end
  db:exec("INSERT INTO " .. t.history .. " (revision, direction, status, checksum, applied_at, ms, transactional, " ..
    "error, phase) VALUES (?, ?, ?, ?, " .. at .. ", ?, ?, ?, ?)", table.unpack(params, 1, params.n))
end

---Every history row, oldest first ({} when the table does not exist).
---@return luamig.HistoryRecord[]
function M.history(db, t)
  if not db:has_table(t.plain .. "_history") then return {} end
  local rows = db:query("SELECT * FROM " .. t.history .. " ORDER BY id")
  for _, r in ipairs(rows) do
    if r.transactional ~= nil and type(r.transactional) ~= "boolean" then r.transactional = r.transactional ~= 0 end
  end
  return rows
end

---The newest history row's id (0 when there is none).
---@return integer
function M.last_id(db, t)
  if not db:has_table(t.plain .. "_history") then return 0 end
  local n = tonumber(db:scalar("SELECT coalesce(max(id), 0) FROM " .. t.history))
  return n and math.tointeger(n) or 0
end

---The first failed or interrupted row written after row `id`, or nil.
---@return luamig.HistoryRecord?
function M.failure_after(db, t, id)
  if not db:has_table(t.plain .. "_history") then return nil end
  return db:query("SELECT * FROM " .. t.history .. " WHERE id > ? AND status IN ('failed', 'interrupted') " ..
    "ORDER BY id LIMIT 1", id)[1]
end

---Latest successful upgrade row per revision (applied_at, ms, checksum).
---@param rows luamig.HistoryRecord[]
---@return table<string, luamig.HistoryRecord>
function M.last_applied(rows)
  local out = {}
  for _, r in ipairs(rows) do
    if r.status == "ok" and (r.direction == "up" or r.direction == "stamp") then out[r.revision] = r end
  end
  return out
end

return M
