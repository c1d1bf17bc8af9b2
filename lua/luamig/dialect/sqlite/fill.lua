--- What `lint --rows` needs to fill SQLite's tables (the policy is
--- luamig.tools.lint.rows): each column's value for row g by its declared
--- type, distinct per g where the type allows (dates a day apart, times a
--- second apart, uuids and blobs derived from g, enum values cycling), its
--- default, generated columns; the CHECKs (in the CREATE TABLE text, an
--- enum's too), the unique keys, the foreign keys.
local catalog = require "luamig.dialect.sqlite.catalog"
local enum_list = require "luamig.dialect.sqlite.enum_list"

local M = {}

-- The expression of g for declared type `decl` (the enum types' values
-- `enums`), and how many distinct values it takes (nil: one per row).
local function value(decl, enums)
  local vals = enums[decl]
  if vals then
    local out = {}
    for i, v in ipairs(vals) do out[i] = ("WHEN %d THEN '%s'"):format(i - 1, v:gsub("'", "''")) end
    return ("(CASE (g - 1) %% %d %s END)"):format(#vals, table.concat(out, " ")), #vals
  end
  local t = (decl or ""):upper()
  if t:find("INT") then return "g" end
  if t:find("BOOL") then return "(g % 2)", 2 end
  if t == "DATE" then return "date('2000-01-01', '+' || g || ' days')" end
  if t:find("DATE") or t:find("TIME") then return "datetime('2000-01-01', '+' || g || ' seconds')" end
  if t == "UUID" then return "printf('00000000-0000-4000-8000-%012x', g)" end
  if t:find("JSON") then return "json_object('g', g)" end
  if t:find("CHAR") or t:find("CLOB") or t:find("TEXT") then return "('r' || g)" end
  if t:find("BLOB") or t == "" then return "CAST(g AS BLOB)" end
  return "(g * 1.5)"
end

-- The columns of `cols` that CHECK condition `cond` names (SQLite's names are case-insensitive).
local function named(cond, cols)
  local text, out = cond:lower(), {}
  for _, c in ipairs(cols) do
    if text:find("%f[%w_]" .. c.name:lower():gsub("%W", "%%%0") .. "%f[^%w_]") then out[#out + 1] = c.name end
  end
  return out
end

---The tables (but `skip`'s), their columns, unique keys and foreign keys,
---for luamig.tools.lint.rows.
---@param db luamig.Db
---@param skip table<string, true>
---@return luamig.FillInfo
function M.fill_info(db, skip)
  local tables, deps, enums = {}, {}, {}
  if db:has_table(enum_list.TABLE) then
    for _, r in ipairs(db:query("SELECT name, vals FROM " .. enum_list.TABLE)) do enums[r.name] = enum_list.split(r.vals) end
  end
  for _, r in ipairs(db:query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) do
    local name = r.name
    if not skip[name] then
      local q = db:quote_ident(name)
      local t = { columns = {}, keys = {}, fks = {}, checks = {} }
      tables[name] = t
      for _, c in ipairs(db:query(("PRAGMA table_xinfo(%s)"):format(q))) do
        local expr, distinct = value(c.type, enums)
        t.columns[#t.columns + 1] = { name = c.name, type = c.type, nullable = c.notnull == 0 and c.pk == 0,
          default = c.dflt_value ~= nil, default_sql = c.dflt_value, auto = c.hidden ~= 0, value = expr,
          distinct = distinct }
      end
      for _, k in ipairs(r.sql and catalog.checks(r.sql) or {}) do
        t.checks[#t.checks + 1] = { sql = "(" .. k.condition .. ")", columns = named(k.condition, t.columns) }
      end
      for _, ix in ipairs(db:query(("PRAGMA index_list(%s)"):format(q))) do
        if ix.unique == 1 then
          local cols = {}
          for _, k in ipairs(db:query(("PRAGMA index_info(%s)"):format(db:quote_ident(ix.name)))) do
            if k.name then cols[#cols + 1] = k.name end
          end
          t.keys[#t.keys + 1] = { columns = cols, nulls_distinct = true }
        end
      end
      local by_id = {}
      for _, f in ipairs(db:query(("PRAGMA foreign_key_list(%s)"):format(q))) do
        local fk = by_id[f.id]
        if not fk then
          fk = { columns = {}, parent = f.table, parent_columns = {} }
          by_id[f.id], t.fks[#t.fks + 1] = fk, fk
          deps[name] = deps[name] or {}
          table.insert(deps[name], f.table)
        end
        fk.columns[f.seq + 1], fk.parent_columns[f.seq + 1] = f.from, f.to
      end
      for _, fk in ipairs(t.fks) do
        if #fk.parent_columns == 0 then -- (REFERENCES parent: its primary key)
          for _, c in ipairs(db:query(("PRAGMA table_info(%s)"):format(db:quote_ident(fk.parent)))) do
            if c.pk > 0 then fk.parent_columns[c.pk] = c.name end
          end
        end
      end
    end
  end
  return { tables = tables, deps = deps,
    series = function(n, sql)
      return ("WITH RECURSIVE series(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM series WHERE g < %d) %s")
        :format(n, sql)
    end }
end

return M
