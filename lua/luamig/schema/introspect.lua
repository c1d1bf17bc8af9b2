--- Schema snapshots: one normalized Lua structure per database, the same
--- shape on every backend (each dialect's snapshot reads its own catalog),
--- so that two snapshots can be compared (luamig.schema.diff; rollback
--- drills) and migrations can look before they change.
---
--- snapshot = {
---   tables = { [name] = { columns = { {name, type, nullable, default}... },
---       primary_key = {cols}, indexes = { [name] = {columns, unique, where} },
---       uniques = { {name?, columns} }, checks = { {name?, condition} },
---       foreign_keys = { {name?, columns, references, ref_columns, on_delete, on_update} } } },
---   views = { [name] = sql }, triggers = { [name] = {table, sql} },
---   enums = { [name] = {values} }, sequences = { [name] = true }, extensions = { [name] = true } }
local diff = require "luamig.schema.diff"

local M = {}

-- luamig's own tables, left out of every snapshot.
local function ours(name)
  return name:match("^luamig_version") or name == "luamig_enums" or name == "luamig_backfill"
end

---The schema of the database `db` is connected to (PostgreSQL: its current
---schema), without luamig's own tables (version tables, SQLite's enum
---list, backfill checkpoints).
---@param db table
---@param dialect table?  db's luamig dialect (default: the one of db.backend)
---@return table snapshot
function M.snapshot(db, dialect)
  local s = (dialect or require("luamig.dialect").of(db)).snapshot(db)
  for name in pairs(s.tables) do
    if ours(name) then s.tables[name] = nil end
  end
  for name in pairs(s.sequences) do
    if name:match("^luamig_version") then s.sequences[name] = nil end
  end
  return s
end

---The differences between snapshots (luamig.schema.diff).
M.diff = diff.diff

return M
