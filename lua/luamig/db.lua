--- The `db` handle's Lua half (SPEC §3): methods added to every driver's Conn.
-- The C drivers provide exec, query, rows, scalar, prepare, in_transaction and
-- close; this module adds first, transaction, introspection and quoting,
-- delegating dialect specifics to luamig.dialect.*.
local M = {}

local savepoints = 0 -- names savepoints uniquely within the process

local function rollback_all(db)
  if db:in_transaction() then pcall(db.exec, db, "ROLLBACK") end
end

-- Ends what Conn:transaction began: savepoint `sp`, or the whole transaction.
local function finish(db, sp, ok, ...)
  if ok then
    local done, err = pcall(db.exec, db, sp and ("RELEASE SAVEPOINT " .. sp) or "COMMIT")
    if not done then
      if not sp then rollback_all(db) end -- e.g. a deferred constraint failed
      error(err, 0)
    end
    return ...
  end
  if sp then
    pcall(db.exec, db, "ROLLBACK TO SAVEPOINT " .. sp)
    pcall(db.exec, db, "RELEASE SAVEPOINT " .. sp)
  else
    rollback_all(db)
  end
  error((...), 0)
end

---Install the Lua methods on a driver's Conn method table (idempotent).
---@param Conn table the driver's method table (sqlite.Conn, pg.Conn)
---@param dialect table luamig.dialect.<name>
function M.install(Conn, dialect)
  if Conn.transaction then return end

  ---First row of a query, or nil.
  function Conn:first(sql, ...)
    for row in self:rows(sql, ...) do return row end -- luacheck: ignore 512 (first row only)
    return nil
  end

  ---Run fn(db) atomically: BEGIN/COMMIT, or a SAVEPOINT inside an open
  ---transaction. An error rolls back and is re-raised. Returns fn's results.
  function Conn:transaction(fn)
    local sp
    if self:in_transaction() then
      savepoints = savepoints + 1
      sp = "luamig_sp_" .. savepoints
      self:exec("SAVEPOINT " .. sp)
    else
      self:exec "BEGIN"
    end
    return finish(self, sp, pcall(fn, self))
  end

  function Conn:has_table(name) return dialect.has_table(self, name) end
  function Conn:has_column(table_name, column) return dialect.has_column(self, table_name, column) end
  function Conn:has_index(name) return dialect.has_index(self, name) end
  function Conn.quote_ident(_, s) return dialect.quote_ident(s) end
  function Conn.quote_literal(_, v) return dialect.quote_literal(v) end
  if dialect.has_enum then
    function Conn:has_enum(name) return dialect.has_enum(self, name) end
    function Conn:has_extension(name) return dialect.has_extension(self, name) end
  end
end

return M
