--- Schema snapshots: one normalized Lua structure per database, the same
--- shape on every backend (luamig.model.schema describes it; each dialect's
--- snapshot reads its own catalog), so that two snapshots can be compared
--- (luamig.schema.diff; rollback drills) and migrations can look before
--- they change.
local diff = require "luamig.schema.diff"
local model = require "luamig.model.schema"

local M = {}

---The schema of the database `db` is connected to (PostgreSQL: every
---non-system schema, or the config's `schemas`), without luamig's own
---tables (version tables, SQLite's enum list, backfill checkpoints).
---@param db luamig.Db
---@param dialect luamig.Dialect?  db's luamig dialect (default: db.dialect)
---@param opts table?     the dialect's snapshot options (PostgreSQL: schemas, privileges; SQLite: named)
---@return luamig.Snapshot snapshot
function M.snapshot(db, dialect, opts)
  return model.without_luamig((dialect or db.dialect).snapshot(db, opts))
end

---The differences between snapshots (luamig.schema.diff).
M.diff = diff.diff

return M
