--- SQLite specifics: introspection, locking, version-table column types.
local common = require "luamig.dialect.sql"
local errors = require "luamig.util.errors"
local host = require "luamig.host"
local lock_wait = require "luamig.db.lock_wait"

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

local held = setmetatable({}, { __mode = "k" }) -- db -> its luamig.host Lock

-- The database file (nil for :memory: and temporary databases).
local function file_of(db)
  local f = db:scalar "SELECT file FROM pragma_database_list WHERE name = 'main'"
  return f ~= "" and f or nil
end

---Serialize runners for the whole run, as PostgreSQL's advisory lock does:
---each step's BEGIN IMMEDIATE already orders transactional steps, but a step
---with transactional = false runs between write transactions, and only a
---run-wide lock keeps two runners from both running it. The lock is taken
---on the database file itself (luamig.host.try_lock), so every path to it
---shares it, polled up to lock_timeout seconds (when set);
---<database>-luamig.lock names its holder for waiting runners.
---@param db table
---@param cfg luamig.Config
---@param log luamig.Log?
function M.lock_run(db, cfg, log)
  local file = file_of(db)
  if not file then return end
  local holder = ""
  local lock = lock_wait.wait({
    try = function()
      local lock, who, err = host.try_lock(file)
      if err then errors.raise("lock", err, { code = "lock_failed" }) end
      holder = who
      return lock
    end,
    holder = function() return holder ~= "" and holder or "another luamig" end,
    what = ("the migration lock (%s)"):format(file),
    timeout = cfg.lock_timeout,
    log = log,
  })
  lock:write(("pid %d since %s"):format(host.getpid(), os.date("!%Y-%m-%d %H:%M:%S UTC")))
  held[db] = lock
end

function M.unlock_run(db)
  local lock = held[db]
  held[db] = nil
  if lock then lock:unlock() end
end

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
