--- SQLite's types: the portable vocabulary, autoincrement, the runner's own columns.
local M = {}

---Portable type name -> SQLite type.
M.type_names = { integer = "INTEGER", bigint = "BIGINT", smallint = "SMALLINT", text = "TEXT", boolean = "BOOLEAN",
  float = "REAL", date = "DATE", timestamp = "DATETIME", timestamptz = "DATETIME", json = "TEXT", uuid = "TEXT",
  bytes = "BLOB", string = "VARCHAR", numeric = "NUMERIC" }

---Column types for the runner's own tables.
M.types = { id = "INTEGER PRIMARY KEY AUTOINCREMENT", bool = "INTEGER", float = "REAL" }

---An autoincrement column's type: a lone primary key becomes the rowid,
---numbered by SQLite; anywhere else SQLite has no autoincrement.
---@param sql_type string
---@param inline_pk boolean
---@return string
function M.autoincrement(sql_type, inline_pk)
  if inline_pk then return "INTEGER PRIMARY KEY" end
  return sql_type
end

return M
