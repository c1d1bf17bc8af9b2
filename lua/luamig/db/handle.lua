--- The `db` handle's Lua half: methods added to every driver's Conn.
-- The C drivers provide exec, query, rows, scalar, prepare, in_transaction,
-- close and `dialect` (the backend's name); this module adds first,
-- transaction, autocommit, introspection, quoting, bulk inserts and
-- `backend` (the same name), delegating dialect specifics to the dialect.
local limits = require "luamig.db.limits"

local M = {}

local savepoints = 0 -- names savepoints uniquely within the process
local depth = setmetatable({}, { __mode = "k" })    -- conn -> open db:transaction levels
local sections = setmetatable({}, { __mode = "k" }) -- conn -> autocommit sections run
local refusals = setmetatable({}, { __mode = "k" }) -- conn -> why db:autocommit is refused now

---Make db:autocommit raise `why` (nil allows it again); for a run that must
---stay one transaction.
---@param db table
---@param why string?
function M.refuse_autocommit(db, why)
  refusals[db] = why
end

---How many db:autocommit sections have run on `db` (the runner reads this to
---tell whether a failed step was partly committed).
---@param db table
---@return integer
function M.autocommit_sections(db)
  return sections[db] or 0
end

-- (in_transaction reads what a pipeline left in flight first, which may raise:
-- the error being handled comes first, and the ROLLBACK is still due)
local function rollback_all(db)
  local ok, open = pcall(db.in_transaction, db)
  if open or not ok then pcall(db.exec, db, "ROLLBACK") end
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

-- An array of rows or an iterator function, as an iterator.
local function iterate(rows)
  if type(rows) ~= "table" then return rows end
  local i = 0
  return function()
    i = i + 1
    return rows[i]
  end
end

---The columns any of `rows` (tables keyed by column name) sets, sorted.
---@param rows table[]
---@return string[]
function M.columns_of(rows)
  local cols, seen = {}, {}
  for _, r in ipairs(rows) do
    for k in pairs(r) do
      if not seen[k] then
        seen[k] = true
        cols[#cols + 1] = k
      end
    end
  end
  table.sort(cols)
  return cols
end

-- `column` of the n-th row for a bulk insert (nil: luamig.null). A value with
-- no SQL form is an error naming the row and column: PostgreSQL's COPY would
-- store a table as "table: 0x...", NaN as "-nan".
local function field(row, column, n)
  local null = require "luamig.null"
  local v = row[column]
  if v == nil or v == null then return null end
  local t = type(v)
  if t ~= "string" and t ~= "number" and t ~= "boolean" then
    error(("row %d, column %q: cannot store a %s"):format(n, column, t), 0)
  end
  if v ~= v then error(("row %d, column %q: cannot store NaN"):format(n, column), 0) end
  return v
end

local null_value -- luamig.null, loaded on first use

---Append row[c] for each of `columns` to `params`, luamig.null for a
---missing one (a statement's parameters, row by row).
---@param params any[]
---@param row table
---@param columns string[]
function M.append_values(params, row, columns)
  local null = null_value or require "luamig.null"
  null_value = null
  for _, c in ipairs(columns) do
    local v = row[c]
    if v == nil then v = null end
    params[#params + 1] = v
  end
end

---Insert rows (an array or an iterator of tables keyed by column name; a
---missing key is NULL) with multi-row INSERT ... VALUES statements of up to
---limits.INSERT_ROWS rows (and limits.INSERT_PARAMS values), every value bound; `suffix` ends each statement (e.g. ON
---CONFLICT ...). Needs only db:exec and db:quote_ident. Returns the count.
---@param db table
---@param table_name string
---@param columns string[]
---@param rows table[]|fun(): table?
---@param suffix string?
---@return integer
function M.insert_rows(db, table_name, columns, rows, suffix)
  local next_row = iterate(rows)
  local cols = {}
  for i, c in ipairs(columns) do cols[i] = db:quote_ident(c) end
  local head = ("INSERT INTO %s (%s) VALUES "):format(db:quote_ident(table_name), table.concat(cols, ", "))
  local per = math.max(1, math.min(limits.INSERT_ROWS, limits.INSERT_PARAMS // #columns))
  local one = "(" .. ("?, "):rep(#columns - 1) .. "?)"
  local n, read, done = 0, 0, false
  while not done do
    local values, params = {}, {}
    for _ = 1, per do
      local row = next_row()
      if not row then
        done = true
        break
      end
      read = read + 1
      values[#values + 1] = one
      for _, c in ipairs(columns) do params[#params + 1] = field(row, c, read) end
    end
    if #values > 0 then
      n = n + db:exec(head .. table.concat(values, ", ") .. (suffix and (" " .. suffix) or ""), table.unpack(params))
    end
  end
  return n
end

-- COPY's text format: tab-separated, \N for NULL, backslash escapes.
local COPY_ESCAPES = { ["\\"] = "\\\\", ["\t"] = "\\t", ["\n"] = "\\n", ["\r"] = "\\r" }

-- A chunk source for Conn:copy_from: ~1000 rows of COPY text per call.
local function copy_text(next_row, columns)
  local null = require "luamig.null"
  local read = 0
  return function()
    local lines = {}
    for _ = 1, 1000 do
      local row = next_row()
      if not row then break end
      read = read + 1
      local fields = {}
      for i, c in ipairs(columns) do
        local v = field(row, c, read)
        if v == null then
          fields[i] = "\\N"
        elseif type(v) == "boolean" then
          fields[i] = v and "t" or "f"
        elseif math.type(v) == "float" then
          fields[i] = ("%.17g"):format(v)
        else
          fields[i] = tostring(v):gsub("[\\\t\n\r]", COPY_ESCAPES)
        end
      end
      lines[#lines + 1] = table.concat(fields, "\t")
    end
    if #lines == 0 then return nil end
    return table.concat(lines, "\n") .. "\n"
  end
end

-- db:transaction and db:autocommit.
local function install_transactions(Conn, dialect)
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
    depth[self] = (depth[self] or 0) + 1
    return finish(self, sp, (function(...)
      depth[self] = depth[self] - 1
      return ...
    end)(pcall(fn, self)))
  end

  ---Run fn(db) outside any transaction, for statements a transaction refuses
  ---(CREATE INDEX CONCURRENTLY, VACUUM, ALTER TYPE ... ADD VALUE on old
  ---servers). Inside a migration's transaction this COMMITs what came before
  ---and opens a new transaction afterwards: the migration is no longer atomic.
  ---Returns fn's results; an error is re-raised after the new transaction began.
  function Conn:autocommit(fn)
    if refusals[self] then error(refusals[self], 2) end
    if (depth[self] or 0) > 0 then
      error("db:autocommit cannot run inside db:transaction: end the transaction first", 2)
    end
    local reopen = self:in_transaction()
    if reopen then self:exec "COMMIT" end
    sections[self] = (sections[self] or 0) + 1
    local res = table.pack(pcall(fn, self))
    if self:in_transaction() then pcall(self.exec, self, "ROLLBACK") end -- fn left one open
    if reopen then dialect.begin_locked(self) end
    if not res[1] then error(res[2], 0) end
    return table.unpack(res, 2, res.n)
  end
end

---Install the Lua methods on a driver's Conn method table (idempotent).
---@param Conn table the driver's method table (sqlite.Conn, pg.Conn)
---@param dialect table luamig.dialect.<name>
function M.install(Conn, dialect)
  if Conn.transaction then return end
  Conn.backend = dialect.name
  install_transactions(Conn, dialect)
  require("luamig.db.pipeline").install(Conn)

  ---First row of a query, or nil (PostgreSQL's driver has its own: one round trip).
  Conn.first = Conn.first or function(self, sql, ...)
    for row in self:rows(sql, ...) do return row end -- luacheck: ignore 512 (first row only)
    return nil
  end

  function Conn:has_table(name) return dialect.has_table(self, name) end
  function Conn:has_column(table_name, column) return dialect.has_column(self, table_name, column) end
  function Conn:has_index(name) return dialect.has_index(self, name) end
  function Conn.quote_ident(_, s) return dialect.quote_ident(s) end
  function Conn.quote_literal(_, v) return dialect.quote_literal(v) end
  ---Insert many rows fast: `rows` is an array of rows or an iterator
  ---function returning rows (nil at the end); each row is keyed by column
  ---name (a missing key is NULL). PostgreSQL: COPY ... FROM STDIN;
  ---SQLite: multi-row INSERTs (insert_rows). Returns the row count.
  ---@param table_name string
  ---@param columns string[]
  ---@param rows table[]|fun(): table?
  ---@return integer
  function Conn:copy_in(table_name, columns, rows)
    if not self.copy_from then return M.insert_rows(self, table_name, columns, rows) end
    local cols = {}
    for i, c in ipairs(columns) do cols[i] = dialect.quote_ident(c) end
    return self:copy_from(("COPY %s (%s) FROM STDIN"):format(dialect.quote_ident(table_name), table.concat(cols, ", ")),
      copy_text(iterate(rows), columns))
  end

  ---The schema as one normalized structure (luamig.schema.introspect), e.g.
  ---db:schema().tables.users.columns; PostgreSQL: the current schema.
  function Conn:schema() return require("luamig.schema.introspect").snapshot(self, dialect) end

  if dialect.has_enum then
    function Conn:has_enum(name) return dialect.has_enum(self, name) end
    function Conn:has_extension(name) return dialect.has_extension(self, name) end
  end
end

return M
