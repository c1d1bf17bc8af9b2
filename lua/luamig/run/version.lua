--- The version tables: <version_table> holds the current head(s), and
--- <version_table>_history records every step (applied, failed or stamped).
local M = {}

---@class luamig.VersionTables
---@field heads string    quoted name of the heads table
---@field history string  quoted name of the history table
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
    plain = (home and (schema .. ".") or "") .. cfg.version_table,
  }
end

---Create both tables if missing (inside the caller's transaction).
function M.ensure(db, dialect, t)
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
  error TEXT
)]]):format(t.heads, t.history, dialect.types.id, dialect.types.float, dialect.types.bool))
end

local function exists(db, t)
  return db:has_table(t.plain)
end

---Current heads, sorted ({} when the table does not exist yet).
---@return string[]
function M.heads(db, t)
  local out = {}
  if not exists(db, t) then return out end
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
  for _, v in ipairs({ "ms", "transactional", "error" }) do
    params.n = params.n + 1
    params[params.n] = rec[v]
  end
  db:exec("INSERT INTO " .. t.history .. " (revision, direction, status, checksum, applied_at, ms, transactional, " ..
    "error) VALUES (?, ?, ?, ?, " .. at .. ", ?, ?, ?)", table.unpack(params, 1, params.n))
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
