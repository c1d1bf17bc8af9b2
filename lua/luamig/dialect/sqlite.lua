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

---Whether `script` must run with foreign keys unenforced: migrations using
---op may rebuild tables, and dropping the old copy of a table would fire
---its children's ON DELETE CASCADE (PRAGMA foreign_keys cannot change inside
---a transaction). Such a migration's foreign keys are checked before it
---commits instead (check_step), as Django does; others keep them enforced.
function M.wants_relaxed(cfg, script)
  return cfg.foreign_keys ~= false and script.uses_op == true
end

---Switch enforcement (no transaction may be open).
function M.set_relaxed(db, relaxed)
  if not db:is_closed() then db:exec("PRAGMA foreign_keys = " .. (relaxed and "OFF" or "ON")) end
end

---Raise when the migration that just ran left a row whose foreign key points
---at no row (checked before its COMMIT).
function M.check_step(db)
  local bad = db:first "SELECT \"table\" AS t, rowid, parent FROM pragma_foreign_key_check"
  if bad then
    error(("foreign key violated: a row of %s (rowid %s) references a missing row of %s (luamig checks " ..
      "foreign keys at the end of each migration on SQLite)"):format(bad.t, tostring(bad.rowid), bad.parent), 0)
  end
end

return M
