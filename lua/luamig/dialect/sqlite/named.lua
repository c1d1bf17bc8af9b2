--- The names SQLite's pragmas leave out of UNIQUE and FOREIGN KEY
--- constraints, read from the table's CREATE TABLE text: the snapshot with
--- { named = true } (what autogenerate and dump compare: dropping a
--- constraint needs its name).
local table_sql = require "luamig.dialect.sqlite.table_sql"

local M = {}

-- "(\"a\", b)" -> "a,b"
local function column_list(text)
  return (text:sub(2, -2):gsub("[\"`%[%]%s]", ""))
end

-- The unnamed constraint of `list` that CREATE TABLE item `text` is, if any.
local function unnamed_match(t, text)
  local u = text:match("^.-[Uu][Nn][Ii][Qq][Uu][Ee]%s*(%b())")
  local f, ref = text:match("^.-[Ff][Oo][Rr][Ee][Ii][Gg][Nn]%s+[Kk][Ee][Yy]%s*(%b())%s*" ..
    "[Rr][Ee][Ff][Ee][Rr][Ee][Nn][Cc][Ee][Ss]%s*([^%s(]+)")
  local cols, candidates = u or f, u and t.uniques or t.foreign_keys
  if not cols then return nil end
  ref = ref and ref:gsub('["`%[%]]', "")
  for _, c in ipairs(candidates or {}) do
    if not c.name and table.concat(c.columns, ",") == column_list(cols) and (not ref or c.references == ref) then
      return c
    end
  end
end

---Name the table constraints of snapshot `snap` that the catalog left
---unnamed (SQLite's pragmas give none for UNIQUE and FOREIGN KEY), from the
---CREATE TABLE text; returns `snap`.
---@param db luamig.Db
---@param snap luamig.Snapshot
---@return luamig.Snapshot
function M.name_constraints(db, snap)
  for tname, t in pairs(snap.tables) do
    local missing = false
    for _, kind in ipairs({ "uniques", "foreign_keys" }) do
      for _, c in ipairs(t[kind] or {}) do missing = missing or not c.name end
    end
    if missing then
      local sql = db:scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", tname)
      for _, item in ipairs(sql and table_sql.parse(sql).items or {}) do
        local c = item.kind == "constraint" and item.name and unnamed_match(t, item.text)
        if c then c.name = item.name end
      end
    end
  end
  return snap
end

return M
