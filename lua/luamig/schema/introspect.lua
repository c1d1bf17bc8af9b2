--- Schema snapshots: one normalized Lua structure per database, the same
--- shape on every backend (luamig.schema.model describes it; each dialect's
--- snapshot reads its own catalog), so that two snapshots can be compared
--- (luamig.schema.diff; rollback drills) and migrations can look before
--- they change.
local diff = require "luamig.schema.diff"

local M = {}

-- luamig's own tables, left out of every snapshot.
local function ours(name)
  return name:match("^luamig_version") or name == "luamig_enums" or name == "luamig_backfill" or name == "luamig_online_writes"
end

local function drop_ours(list)
  for key, e in pairs(list or {}) do
    if ours(type(e) == "table" and e.name or key) then list[key] = nil end
  end
end

---The schema of the database `db` is connected to (PostgreSQL: every
---non-system schema, or the config's `schemas`), without luamig's own
---tables (version tables, SQLite's enum list, backfill checkpoints).
---@param db table
---@param dialect table?  db's luamig dialect (default: the one of db.backend)
---@param opts table?     the dialect's snapshot options (PostgreSQL: schemas, privileges)
---@return luamig.Snapshot snapshot
function M.snapshot(db, dialect, opts)
  local s = (dialect or require("luamig.dialect").of(db)).snapshot(db, opts)
  drop_ours(s.tables)
  drop_ours(s.sequences)
  for key, t in pairs(s.triggers or {}) do
    if ours(t.table:match("[^.]+$")) then s.triggers[key] = nil end
  end
  return s
end

---The differences between snapshots (luamig.schema.diff).
M.diff = diff.diff

return M
