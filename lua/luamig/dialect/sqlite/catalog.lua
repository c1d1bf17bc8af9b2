--- SQLite's catalog snapshot: sqlite_master and the table pragmas, with
--- CHECK constraints read from each table's CREATE TABLE text.
local table_sql = require "luamig.dialect.sqlite.table_sql"
local enums = require "luamig.dialect.sqlite.enums"

local M = {}

local function lower(s) return s and s:lower() or nil end

local function sqlite_table_info(db, name, sql)
  local t = { columns = {}, primary_key = {}, indexes = {}, uniques = {}, checks = {}, foreign_keys = {} }
  local pk = {}
  for r in db:rows("SELECT name, type, \"notnull\" AS nn, dflt_value, pk FROM pragma_table_info(?) ORDER BY cid", name) do
    t.columns[#t.columns + 1] = { name = r.name, type = lower(r.type) or "", nullable = r.nn == 0 and r.pk == 0,
      default = r.dflt_value }
    if r.pk > 0 then pk[#pk + 1] = { r.pk, r.name } end
  end
  table.sort(pk, function(a, b) return a[1] < b[1] end)
  for i, p in ipairs(pk) do t.primary_key[i] = p[2] end
  for ix in db:rows("SELECT name, \"unique\" AS u, origin, partial FROM pragma_index_list(?)", name) do
    local cols = {}
    for c in db:rows("SELECT name FROM pragma_index_info(?) ORDER BY seqno", ix.name) do cols[#cols + 1] = c.name end
    if ix.origin == "u" then
      t.uniques[#t.uniques + 1] = { columns = cols }
    elseif ix.origin == "c" then
      local isql = db:scalar("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", ix.name) or ""
      local where = ix.partial == 1 and isql:match("[Ww][Hh][Ee][Rr][Ee]%s+(.-)%s*$") or nil
      t.indexes[ix.name] = { columns = cols, unique = ix.u == 1, where = where }
    end
  end
  local fks = {}
  for r in db:rows("SELECT id, seq, \"table\" AS ref, \"from\" AS col, \"to\" AS refcol, on_update, on_delete " ..
    "FROM pragma_foreign_key_list(?) ORDER BY id, seq", name) do
    local fk = fks[r.id + 1]
    if not fk then
      fk = { columns = {}, references = r.ref, ref_columns = {}, on_delete = r.on_delete, on_update = r.on_update }
      fks[r.id + 1] = fk
    end
    fk.columns[#fk.columns + 1] = r.col
    fk.ref_columns[#fk.ref_columns + 1] = r.refcol
  end
  for i = #fks, 1, -1 do t.foreign_keys[#t.foreign_keys + 1] = fks[i] end -- pragma lists them last first
  local parsed = table_sql.parse(sql)
  for _, item in ipairs(parsed.items) do
    local text = item.text
    if item.kind == "constraint" then
      local cond = text:match("^.-[Cc][Hh][Ee][Cc][Kk]%s*(%b())")
      if cond then t.checks[#t.checks + 1] = { name = item.name, condition = cond:sub(2, -2) } end
    else
      local _, _, clauses = table_sql.column_parts(text)
      for _, cl in ipairs(clauses) do
        local cond = cl:match("^[Cc][Hh][Ee][Cc][Kk]%s*(%b())") or cl:match("^CONSTRAINT.-CHECK%s*(%b())")
        if cond then t.checks[#t.checks + 1] = { condition = cond:sub(2, -2), column = item.name } end
      end
    end
  end
  return t
end

---The schema snapshot (luamig.schema.introspect's shape) of the main database.
---@param db table
---@return table
function M.snapshot(db)
  local s = { tables = {}, views = {}, triggers = {}, enums = {}, sequences = {}, extensions = {} }
  for r in db:rows("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name") do
    if r.type == "table" then
      s.tables[r.name] = r.sql
    elseif r.type == "view" then
      s.views[r.name] = r.sql
    elseif r.type == "trigger" then
      s.triggers[r.name] = { table = r.tbl_name, sql = r.sql }
    end
  end
  for name, sql in pairs(s.tables) do s.tables[name] = sqlite_table_info(db, name, sql) end
  if s.tables[enums.TABLE] then -- enum types kept by the enum ops (CHECKs on their columns)
    for r in db:rows("SELECT name, vals FROM " .. enums.TABLE .. " ORDER BY name") do
      s.enums[r.name] = { values = enums.split(r.vals) }
    end
  end
  return s
end

return M
