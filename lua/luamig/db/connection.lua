--- The connection object (`luamig.Db`): wraps a driver's Conn handle and
--- owns everything luamig knows about that connection: transaction depth and
--- savepoints, autocommit sections and refusals, the open pipeline, enums
--- made in the step, the dialect's session state and run lock, the
--- transaction guard and the statement hook. The drivers' method tables are
--- never extended. Migrations, seeds and plugins see `db:public()`, which
--- has only the README's methods.
local errors = require "luamig.util.errors"
local host = require "luamig.host"
local lazy = require "luamig.util.lazy"
-- (loaded on first use: db:copy_in and db:schema())
local handle_rows = lazy "luamig.db.rows"
local model = lazy "luamig.model.schema"

local M = {}

---@class luamig.Db
---@field handle userdata        the driver's Conn (luamig.sqlite or luamig.pg)
---@field dialect luamig.Dialect          the backend's luamig dialect
---@field backend "sqlite"|"postgresql"
---@field depth integer          open db:transaction levels
---@field savepoints integer     savepoints named so far (luamig_sp_<n>)
---@field sections integer       db:autocommit sections run
---@field refusal string?        why db:autocommit is refused now
---@field step_timeouts table?   the running step's timeouts (luamig.run.timeouts.of): a db:autocommit
---                              section's COMMIT ends their SET LOCAL, so the section sets them again
---                              inside, and again in the transaction after it
---@field open_pipeline luamig.Pipeline?  the db:pipeline running on it
---@field step_enums table<string, true>  enum types op.create_enum made in the running step
---@field session table?         the dialect's state of this connection (home schema, settings)
---@field run_lock userdata?     the dialect's run-wide lock, while held
---@field guarded boolean        the runner's step transaction must stay open
---@field on_statement (fun(sql: string, run: fun(): ...): ...)?  sees every statement sent (lint)
local Db = {}
Db.__index = Db
M.Db = Db

-- Driver methods a Db forwards as they are (when the driver has them).
local FORWARD = { "in_transaction", "is_closed", "close", "server_version", "last_insert_id", "on_notice",
  "copy_from" }

---Wrap an open driver handle.
---@param handle userdata
---@param dialect luamig.Dialect
---@return luamig.Db
function M.new(handle, dialect)
  local db = setmetatable({ handle = handle, dialect = dialect, backend = dialect.name, depth = 0, savepoints = 0,
    sections = 0, step_enums = {}, guarded = false }, Db)
  for _, name in ipairs(FORWARD) do
    if handle[name] then
      local f = handle[name]
      db[name] = function(self, ...) return f(self.handle, ...) end
    end
  end
  return db
end

-- Statements -------------------------------------------------------------

-- Run `fn(handle, sql, ...)`, through the statement hook when one is set.
local function send(self, fn, sql, ...)
  local hook = self.on_statement
  if not hook or type(sql) ~= "string" then return fn(self.handle, sql, ...) end
  local args = table.pack(sql, ...)
  return hook(sql, function() return fn(self.handle, table.unpack(args, 1, args.n)) end)
end

local function forwarder(name)
  return function(self, sql, ...) return send(self, self.handle[name], sql, ...) end
end
Db.exec, Db.query, Db.rows, Db.scalar = forwarder "exec", forwarder "query", forwarder "rows", forwarder "scalar"

---First row of a query, or nil (PostgreSQL's driver has its own: one round trip).
function Db:first(sql, ...)
  if self.handle.first then return send(self, self.handle.first, sql, ...) end
  for row in self:rows(sql, ...) do return row end -- luacheck: ignore 512 (first row only)
  return nil
end

local RAW = {} -- key of a watched statement's driver statement (harmless to reach: no way back to the Db)

-- A prepared statement whose runs go through the statement hook.
local function watched(db, stmt)
  local w = { [RAW] = stmt }
  for _, name in ipairs({ "exec", "query", "rows" }) do
    w[name] = function(_, ...)
      local args = table.pack(...)
      return db.on_statement(stmt:sql(), function() return stmt[name](stmt, table.unpack(args, 1, args.n)) end)
    end
  end
  function w.sql() return stmt:sql() end
  function w.close() return stmt:close() end
  return w
end

---Prepare `sql`; with a statement hook set, its runs are observed too.
function Db:prepare(sql)
  local stmt = self.handle:prepare(sql)
  if not self.on_statement then return stmt end
  return watched(self, stmt)
end

-- The driver's statement for `stmt` (watched or the driver's own).
local function raw_stmt(stmt)
  return type(stmt) == "table" and stmt[RAW] or stmt
end

---Queue a statement on the driver's pipeline (db:pipeline's p:exec; the
---PostgreSQL backfill writer).
function Db:pipeline_send(stmt, ...)
  stmt = raw_stmt(stmt)
  local handle, hook = self.handle, self.on_statement
  if not hook then return handle:pipeline_send(stmt, ...) end -- (no garbage per statement: loops send millions)
  local args = table.pack(...)
  return hook(type(stmt) == "string" and stmt or stmt:sql(),
    function() return handle:pipeline_send(stmt, table.unpack(args, 1, args.n)) end)
end

---Wait for every queued pipeline statement; the rows they changed.
function Db:pipeline_sync() return self.handle:pipeline_sync() end

-- The guard ----------------------------------------------------------------

---Arm (true) or disarm (false) the transaction guard: while armed, the
---driver refuses BEGIN, COMMIT, ROLLBACK and the like, and reports a
---transaction that ended anyway. Only the runner holds the Db; a migration
---has no way to reach this. Returns the previous state.
---@param on boolean
---@return boolean was
function Db:guard(on)
  local was = self.guarded
  self.guarded = on
  if not self.handle:is_closed() then self.handle:set_guarded(on) end
  return was
end

-- Run fn(self) with the guard lifted: luamig's own transaction control.
local function unguarded(self, fn, ...)
  local was = self:guard(false)
  local r = table.pack(pcall(fn, self, ...))
  if was and not self.handle:is_closed() then self:guard(true) end
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end
M.unguarded = unguarded

-- Transactions -------------------------------------------------------------

---Roll back the open transaction, if any, ignoring a failure (the
---connection may be gone): for clean-up paths that re-raise the real error.
---(in_transaction reads what a pipeline left in flight first, which may raise:
---the error being handled comes first, and the ROLLBACK is still due.)
function Db:rollback()
  local ok, open = pcall(self.in_transaction, self)
  if open or not ok then pcall(unguarded, self, self.exec, "ROLLBACK") end
end

-- Ends what Db:transaction began: savepoint `sp`, or the whole transaction.
local function finish(db, sp, ok, ...)
  if ok then
    local done, err = pcall(db.exec, db, sp and ("RELEASE SAVEPOINT " .. sp) or "COMMIT")
    if not done then
      if not sp then db:rollback() end -- e.g. a deferred constraint failed
      error(err, 0)
    end
    return ...
  end
  if sp then
    pcall(db.exec, db, "ROLLBACK TO SAVEPOINT " .. sp)
    pcall(db.exec, db, "RELEASE SAVEPOINT " .. sp)
  else
    db:rollback()
  end
  error((...), 0)
end

---Run fn(db) atomically: BEGIN/COMMIT, or a SAVEPOINT inside an open
---transaction. An error rolls back and is re-raised. Returns fn's results.
---`as` is what fn is given (default: self).
function Db:transaction(fn, as)
  local sp
  if self:in_transaction() then
    self.savepoints = self.savepoints + 1
    sp = "luamig_sp_" .. self.savepoints
    self:exec("SAVEPOINT " .. sp)
  else
    self:exec "BEGIN"
  end
  self.depth = self.depth + 1
  return finish(self, sp, (function(...)
    self.depth = self.depth - 1
    return ...
  end)(pcall(fn, as or self)))
end

---Make db:autocommit raise `why` (nil allows it again); for a run that must
---stay one transaction.
function Db:refuse_autocommit(why)
  self.refusal = why
end

---Run fn(db) outside any transaction, for statements a transaction refuses
---(CREATE INDEX CONCURRENTLY, VACUUM, ALTER TYPE ... ADD VALUE on old
---servers). Inside a migration's transaction this COMMITs what came before
---and opens a new transaction afterwards: the migration is no longer atomic.
---Returns fn's results; an error is re-raised after the new transaction began.
---The guard is lifted while fn runs: there is no step transaction to end,
---and fn may run its own (db:transaction; a backfill's checkpointed batches).
function Db:autocommit(fn, as, level)
  level = level or 2
  if self.refusal then error(self.refusal, level) end
  if self.depth > 0 then error("db:autocommit cannot run inside db:transaction: end the transaction first", level) end
  local reopen, t = self:in_transaction(), self.step_timeouts
  if reopen then
    unguarded(self, self.exec, "COMMIT")
    if t then self.dialect.apply_timeouts(self, t, false) end -- (begin_locked puts the session's back)
  end
  self.sections = self.sections + 1
  local was = self:guard(false)
  local res = table.pack(pcall(fn, as or self))
  if self:in_transaction() then pcall(self.exec, self, "ROLLBACK") end -- fn left one open
  if was and not self.handle:is_closed() then self:guard(true) end
  if reopen then
    unguarded(self, self.dialect.begin_locked)
    if t then self.dialect.apply_timeouts(self, t, true) end
  end
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- Step state ---------------------------------------------------------------

---End of a step: forget what belonged to it (the enums it made, a pipeline
---a suspended coroutine left open) and lift the guard.
function Db:end_step()
  self.step_enums, self.step_timeouts = {}, nil
  if self.open_pipeline then
    self.open_pipeline = nil
    if not self.handle:is_closed() then pcall(self.pipeline_sync, self) end
  end
  if not self.handle:is_closed() then self:guard(false) end
end

-- Introspection, quoting, bulk loads ---------------------------------------

function Db:has_table(name) return self.dialect.has_table(self, name) end
function Db:has_column(table_name, column) return self.dialect.has_column(self, table_name, column) end
function Db:has_index(name) return self.dialect.has_index(self, name) end
function Db:has_enum(name) return self.dialect.has_enum(self, name) end
function Db:has_extension(name) return self.dialect.has_extension(self, name) end
function Db:quote_ident(s) return self.dialect.quote_ident(s) end
function Db:quote_literal(v) return self.dialect.quote_literal(v) end

---The schema as one normalized structure (luamig.model.schema; as luamig.schema.introspect's).
function Db:schema() return model.without_luamig(self.dialect.snapshot(self)) end

-- Results of pcall(...): its results, or its error re-raised with `where`
-- filled in when it has none (a bad row is the caller's line's fault).
local function located(where, ok, ...)
  if ok then return ... end
  local e = ...
  if errors.is(e) and e.kind == "migration" and e.where == nil then e.where = where end
  error(e, 0)
end

---Insert many rows fast (see luamig.db.rows.copy_in). Returns the row count;
---a bad row names the user's line that called it.
---@param table_name string
---@param columns string[]
---@param rows table[]|fun(): table?
---@return integer
function Db:copy_in(table_name, columns, rows)
  return located(host.where(), pcall(handle_rows.copy_in, self, table_name, columns, rows))
end

---Run fn(p), sending p:exec(stmt, ...) statements without waiting for
---each result. Returns the rows they changed.
---@param fn fun(p: luamig.Pipeline)
---@return integer changes
function Db:pipeline(fn, level)
  local changes = require("luamig.db.pipeline").run(self, fn, (level or 1) + 1) -- (here: start-up)
  return changes -- (not a tail call: `level` counts this frame)
end

-- What user code sees ------------------------------------------------------

-- The README's `db` methods, each as a Db method taking the user's view.
local PUBLIC = { "exec", "query", "rows", "first", "scalar", "prepare", "in_transaction", "has_table", "has_column",
  "has_index", "quote_ident", "quote_literal", "schema" }

local function results(...) return ... end

-- getmetatable(db) is false and setmetatable refuses it, as for the driver's objects.
local PROTECTED = { __metatable = false }

---The `db` a migration, seed or plugin sees: a fresh table holding only the
---README's methods (closures over this Db; no way to reach it, its guard,
---its driver handle, close or on_notice).
---@return table
function Db:public()
  local db = self
  local pub = { dialect = self.backend, backend = self.backend }
  for _, name in ipairs(PUBLIC) do
    local f = db[name]
    pub[name] = function(_, ...) return f(db, ...) end
  end
  if self.dialect.has_enum then
    pub.has_enum = function(_, name) return db:has_enum(name) end
    pub.has_extension = function(_, name) return db:has_extension(name) end
  end
  function pub.transaction(_, fn) return db:transaction(fn, pub) end
  -- (no tail calls below: the levels count these frames, to blame the user's line)
  function pub.autocommit(_, fn) return results(db:autocommit(fn, pub, 3)) end
  function pub.pipeline(_, fn)
    local changes = db:pipeline(fn, 2)
    return changes
  end
  function pub.copy_in(_, table_name, columns, rows)
    local n = db:copy_in(table_name, columns, rows)
    return n
  end
  return setmetatable(pub, PROTECTED)
end

return M
