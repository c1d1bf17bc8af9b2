--- SQLite's dialect (the contract is luamig.dialect): introspection,
--- locking, the step set-up that relaxes foreign keys; the types, the schema
--- changes (alter, with the table rebuild), enums, the catalog snapshot and
--- the backfill writer come from the modules next to this one.
local common = require "luamig.model.sql"
local dialects = require "luamig.dialect"
local errors = require "luamig.util.errors"
local host = require "luamig.host"
local lock_wait = require "luamig.dialect.lock_wait"

---@type luamig.Dialect
local M = {}

M.name = "sqlite"
M.quote_ident = common.quote_ident
M.quote_literal = common.quote_literal
-- (no identifier length limit: max_identifier nil)

-- The parts next to this module load on first use (luamig.dialect.defer):
-- reading the version table loads none of them.
dialects.defer(M, {
  -- types (luamig.model.ddl)
  ["luamig.dialect.sqlite.types"] = { "types", "type_names", "autoincrement", "known_type", "index_features" },
  -- schema changes: ALTER TABLE where SQLite has it, else the table rebuild
  ["luamig.dialect.sqlite.alter"] = { "add_column", "drop_column", "alter_column", "add_constraint",
    "drop_constraint", "drop_primary_key", "validate_constraint", "batch_alter_table", "concurrently",
    "create_extension", "drop_extension", "rename_default_pkey" },
  -- enum types, kept in a table of their own and enforced by CHECKs (an
  -- enum column becomes a CHECK: column_spec)
  ["luamig.dialect.sqlite.enums"] = { "column_spec", "create_enum", "drop_enum", "add_enum_value",
    "rename_enum_value", "drop_enum_value" },
  ["luamig.dialect.sqlite.catalog"] = { "snapshot", "fingerprint" },
  ["luamig.dialect.sqlite.dump"] = { "dump_items" },
  ["luamig.dialect.sqlite.backfill"] = { "backfill_writer" },
  ["luamig.dialect.sqlite.fill"] = { "fill_info" },
  -- the scratch database of drill, lint and autogenerate
  ["luamig.dialect.sqlite.scratch"] = "scratch",
  ["luamig.dialect.sqlite.online"] = "online",
})

---Autogenerate writes each table's changes, primary keys and unnamed
---constraints included, as one op.batch_alter_table (a rebuild).
M.render_style = { batch = true }

---Of the declared kinds beyond tables, views and indexes: triggers.
M.declared_objects = { backend = "SQLite", kinds = { trigger = true } }

---`luamig lint` watches table rebuilds and the write lock.
M.lint_observer = "luamig.tools.lint.observe_sqlite"

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

---The heads of the version tables `tables` ({ schema =, name = } each: an
---attached database, or main), each sorted ({} where the table is missing).
---@param db luamig.Db
---@param tables { schema: string?, name: string }[]
---@return string[][]
function M.read_heads(db, tables)
  local out = {}
  for i, t in ipairs(tables) do
    local s = t.schema and (common.quote_ident(t.schema) .. ".") or ""
    out[i] = {}
    if db:scalar(("SELECT 1 FROM %ssqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE"):format(s), t.name)
    then
      for j, row in ipairs(db:query(("SELECT version_num FROM %s%s ORDER BY version_num"):format(s,
        common.quote_ident(t.name)))) do
        out[i][j] = row.version_num
      end
    end
  end
  return out
end

---A fleet job keeps no SQLite connection for its next target: each target
---is a file of its own, and opening one costs less than putting back the
---PRAGMAs a migration may have set.
---@return boolean
function M.reuse() return false end

---Start the runner's write transaction. BEGIN IMMEDIATE takes SQLite's write
---lock up front (waiting up to the busy timeout), so the version read that
---follows cannot be overtaken by another runner.
function M.begin_locked(db)
  db:exec "BEGIN IMMEDIATE"
end

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
---@param db luamig.Db
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
  db.run_lock = lock -- (luamig.Db.run_lock)
end

function M.unlock_run(db)
  local lock = db.run_lock
  db.run_lock = nil
  if lock then lock:unlock() end
end

-- A migration using op may rebuild tables, and dropping the old copy of a
-- table would fire its children's ON DELETE CASCADE (PRAGMA foreign_keys
-- cannot change inside a transaction). Such a migration runs with foreign
-- keys unenforced and has them checked before it commits (check_step), as
-- Django does; others keep them enforced.
local function wants_relaxed(cfg, script)
  return cfg.foreign_keys ~= false and script.uses_op == true
end

---The connection set-up for running `scripts` in one transaction:
---"relaxed" (foreign keys unenforced) when one of them may rebuild a table,
---else "enforced" (as the connection was opened).
---@param cfg luamig.Config
---@param scripts luamig.Script[]
---@return "relaxed"|"enforced"
function M.step_setup(cfg, scripts)
  for _, script in ipairs(scripts) do
    if wants_relaxed(cfg, script) then return "relaxed" end
  end
  return "enforced"
end

---Switch foreign-key enforcement (no transaction may be open).
---@param setup "relaxed"|"enforced"
function M.apply_setup(db, setup)
  if not db:is_closed() then db:exec("PRAGMA foreign_keys = " .. (setup == "relaxed" and "OFF" or "ON")) end
end

---SQLite has no lock or statement timeouts: a migration's lock_timeout and
---statement_timeout do not apply (the write lock is taken once, by lock_run).
function M.apply_timeouts() end

---SQL for the current UTC time as ISO-8601 text, as the history's
---applied_at (offline scripts: the time the script runs).
function M.now_text() return "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')" end

---Before a relaxed step commits: raise when it left a row whose foreign key
---points at no row.
function M.check_step(db, setup)
  if setup ~= "relaxed" then return end
  local bad = db:first "SELECT \"table\" AS t, rowid, parent FROM pragma_foreign_key_check"
  if bad then
    errors.raise("migration", ("foreign key violated: a row of %s (rowid %s) references a missing row of %s " ..
      "(luamig checks foreign keys at the end of each migration on SQLite)"):format(bad.t, tostring(bad.rowid),
      bad.parent))
  end
end

return M
