--- SQLite specifics: introspection, locking, version-table column types.
local common = require "luamig.dialect.common"

local M = {}

M.name = "sqlite"
M.quote_ident = common.quote_ident
M.quote_literal = common.quote_literal

-- Column types for the runner's own tables.
M.types = { id = "INTEGER PRIMARY KEY AUTOINCREMENT", bool = "INTEGER", float = "REAL" }

function M.has_table(db, name)
  return db:scalar("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE",
    name) ~= nil
end

function M.has_column(db, table_name, column)
  return db:scalar("SELECT 1 FROM pragma_table_info(?) WHERE name = ? COLLATE NOCASE", table_name, column) ~= nil
end

function M.has_index(db, name)
  return db:scalar("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ? COLLATE NOCASE", name) ~= nil
end

---Start the runner's write transaction. BEGIN IMMEDIATE takes SQLite's write
---lock up front (waiting up to the busy timeout), so the version read that
---follows cannot be overtaken by another runner.
function M.begin_locked(db)
  db:exec "BEGIN IMMEDIATE"
end

-- Transactional DDL covers everything SQLite does, so a run-wide lock outside
-- transactions is not needed; steps with transactional = false run between
-- write transactions.
function M.lock_run(_) end
function M.unlock_run(_) end

return M
