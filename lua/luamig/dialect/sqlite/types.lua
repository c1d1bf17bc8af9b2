--- SQLite's types: the portable vocabulary, the type names SQLite gives an
--- affinity by name, autoincrement, the runner's own columns.
local enum_list = require "luamig.dialect.sqlite.enum_list"

local M = {}

---Portable type name -> SQLite type.
M.type_names = { integer = "INTEGER", bigint = "BIGINT", smallint = "SMALLINT", text = "TEXT", boolean = "BOOLEAN",
  float = "REAL", date = "DATE", timestamp = "DATETIME", timestamptz = "DATETIME", json = "TEXT", uuid = "TEXT",
  bytes = "BLOB", string = "VARCHAR", numeric = "NUMERIC" }

---What CREATE INDEX can say here (luamig.model.ddl.create_index): the
---access methods and which of opclass, nulls, include, nulls_not_distinct.
M.index_features = { backend = "SQLite", methods = { btree = true } }

---The longest identifier, in bytes (nil: no limit).
M.max_identifier = nil

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

-- The type names of SQLite's affinity table (its "datatypes" page), without
-- their arguments, and ANY (STRICT tables). Anything else gets NUMERIC
-- affinity by accident: "txet" is a typo, not a type.
local AFFINITY = {}
for _, name in ipairs({ "INT", "INTEGER", "TINYINT", "SMALLINT", "MEDIUMINT", "BIGINT", "UNSIGNED BIG INT", "INT2",
  "INT8", "CHARACTER", "VARCHAR", "VARYING CHARACTER", "NCHAR", "NATIVE CHARACTER", "NVARCHAR", "TEXT", "CLOB",
  "BLOB", "REAL", "DOUBLE", "DOUBLE PRECISION", "FLOAT", "NUMERIC", "DECIMAL", "BOOLEAN", "DATE", "DATETIME",
  "ANY" }) do
  AFFINITY[name] = true
end

---Whether `t` (not a portable type) names a SQLite type: one of the
---affinity table's names (arguments aside: VARCHAR(20), DECIMAL(10,5)) or an
---enum made by op.create_enum.
---@param db luamig.Db
---@param t string
---@return boolean
function M.known_type(db, t)
  local base = t:gsub("%b()", " "):gsub("%s+", " "):match("^%s*(.-)%s*$"):upper()
  if AFFINITY[base] then return true end
  return enum_list.values(db, t) ~= nil
end

return M
