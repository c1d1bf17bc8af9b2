--- The `db` handle's Lua half: methods added to every driver's Conn.
-- The C drivers provide exec, query, rows, scalar, prepare, in_transaction,
-- close and `dialect` (the backend's name); this module adds first,
-- transaction, autocommit, introspection, quoting, bulk inserts and
-- `backend` (the same name), delegating dialect specifics to the dialect.
local errors = require "luamig.util.errors"
local limits = require "luamig.db.limits"

local M = {}

local savepoints = 0 -- names savepoints uniquely within the process
local depth = setmetatable({}, { __mode = "k" })    -- conn -> open db:transaction levels
local sections = setmetatable({}, { __mode = "k" }) -- conn -> autocommit sections run
local refusals = setmetatable({}, { __mode = "k" }) -- conn -> why db:autocommit is refused now
local step_timeouts = setmetatable({}, { __mode = "k" }) -- conn -> the running step's timeouts

---Make db:autocommit raise `why` (nil allows it again); for a run that must
---stay one transaction.
---@param db table
---@param why string?
function M.refuse_autocommit(db, why)
  refusals[db] = why
end

---The running step's timeouts (luamig.run.timeouts.of; nil when no step
---runs): a db:autocommit section's COMMIT ends their SET LOCAL, so the
---section sets them again inside, and again in the transaction after it.
---@param db table
---@param t table?
function M.step_timeouts(db, t)
  step_timeouts[db] = t
end

---How many db:autocommit sections have run on `db` (the runner reads this to
---tell whether a failed step was partly committed).
---@param db table
---@return integer
function M.autocommit_sections(db)
  return sections[db] or 0
end

---Roll back the open transaction, if any, ignoring a failure (the
---connection may be gone): for clean-up paths that re-raise the real error.
---(in_transaction reads what a pipeline left in flight first, which may raise:
---the error being handled comes first, and the ROLLBACK is still due.)
---@param db table
function M.rollback(db)
  local ok, open = pcall(db.in_transaction, db)
  if open or not ok then pcall(db.exec, db, "ROLLBACK") end
end
local rollback_all = M.rollback

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

-- A bad row or column list: an error of the caller's (`label`: who is
-- asking, e.g. "op.bulk_insert"), located by the caller (Conn:copy_in, or op).
local function bad(label, fmt, ...)
  errors.raise("migration", (label and (label .. ": ") or "") .. fmt:format(...))
end

local function ordinal(n)
  local teen = n % 100 >= 11 and n % 100 <= 13
  return n .. (not teen and ({ "st", "nd", "rd" })[n % 10] or "th")
end

---The columns any of `rows` (tables keyed by column name) sets, sorted. A
---positional row ({1, "a"}) has no names to give: an error naming it.
---@param rows table[]
---@param label string?  who is asking, for messages
---@return string[]
function M.columns_of(rows, label)
  local cols, seen = {}, {}
  for n, r in ipairs(rows) do
    if type(r) ~= "table" then bad(label, "row %d is a %s, not a table of values", n, type(r)) end
    if r[1] ~= nil then
      bad(label, "row %d gives values by position; name its columns in opts.columns " ..
        "(op.bulk_insert(table, rows, { columns = { ... } })) or key it by column name", n)
    end
    for k in pairs(r) do
      if type(k) == "string" and not seen[k] then
        seen[k] = true
        cols[#cols + 1] = k
      end
    end
  end
  table.sort(cols)
  return cols
end

-- A checker of the rows going to `columns`: check(row, n) is true for a
-- positional row ({1, "a"}: values in the order of `columns`), false for one
-- keyed by column name. A row mixing both, with more values than columns or
-- setting a column not listed is an error naming it: its values would be lost.
local function row_checker(columns, label)
  local listed = {}
  for _, c in ipairs(columns) do listed[c] = true end
  return function(row, n)
    if type(row) ~= "table" then bad(label, "row %d is a %s, not a table of values", n, type(row)) end
    local by_position, by_name = false, false
    for k in pairs(row) do
      if listed[k] then
        by_name = true
      elseif math.type(k) == "integer" and k >= 1 then
        if k > #columns then
          bad(label, "row %d has a %s value, but only %d columns are listed (%s)", n, ordinal(k), #columns,
            table.concat(columns, ", "))
        end
        by_position = true
      else
        bad(label, "row %d sets column %q, which is not in the column list (%s)%s", n, tostring(k),
          table.concat(columns, ", "), require("luamig.schema.check").did_you_mean(tostring(k), columns, "; "))
      end
    end
    if by_position and by_name then
      bad(label, "row %d mixes positional values and named columns; give one or the other", n)
    end
    return by_position
  end
end

-- The table and column list of a bulk insert, checked.
local function check_target(table_name, columns, label)
  label = label or "db:copy_in"
  if type(table_name) ~= "string" or table_name == "" then bad(label, "the table name must be a non-empty string") end
  if type(columns) ~= "table" or columns[1] == nil then bad(label, "columns must be a non-empty list of column names") end
  for i, c in ipairs(columns) do
    if type(c) ~= "string" or c == "" then
      bad(label, "columns must be a non-empty list of column names (item %d is a%s %s)", i,
        type(c) == "string" and "n empty" or "", type(c) == "string" and "string" or type(c))
    end
  end
end

-- The value for `column` (`key` in `row`: its name, or its position) of the
-- n-th row (luamig.null for none). A value with no SQL form is an error
-- naming the row and column: PostgreSQL's COPY would store a table as
-- "table: 0x...", NaN as "-nan".
local function field(row, key, column, n, label)
  local null = require "luamig.null"
  local v = row[key]
  if v == nil or v == null then return null end
  local t = type(v)
  if t ~= "string" and t ~= "number" and t ~= "boolean" then
    bad(label, "row %d, column %q: cannot store a %s", n, column, t)
  end
  if v ~= v then bad(label, "row %d, column %q: cannot store NaN", n, column) end
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

-- insert_rows, with `label` naming the caller in messages.
local function insert(db, table_name, columns, rows, suffix, label)
  check_target(table_name, columns, label)
  local next_row, check = iterate(rows), row_checker(columns, label)
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
      if row == nil then
        done = true
        break
      end
      read = read + 1
      values[#values + 1] = one
      local by_position = check(row, read)
      for i, c in ipairs(columns) do params[#params + 1] = field(row, by_position and i or c, c, read, label) end
    end
    if #values > 0 then
      n = n + db:exec(head .. table.concat(values, ", ") .. (suffix and (" " .. suffix) or ""), table.unpack(params))
    end
  end
  return n
end

---Insert rows (an array or an iterator of rows, each keyed by column name or
---positional in the order of `columns`; a missing value is NULL) with
---multi-row INSERT ... VALUES statements of up to limits.INSERT_ROWS rows (and
---limits.INSERT_PARAMS values), every value bound; `suffix` ends each
---statement (e.g. ON CONFLICT ...). Needs only db:exec and db:quote_ident.
---Returns the count.
---@param db table
---@param table_name string
---@param columns string[]
---@param rows table[]|fun(): table?
---@param suffix string?
---@return integer
function M.insert_rows(db, table_name, columns, rows, suffix)
  return insert(db, table_name, columns, rows, suffix)
end

-- COPY's text format: tab-separated, \N for NULL, backslash escapes.
local COPY_ESCAPES = { ["\\"] = "\\\\", ["\t"] = "\\t", ["\n"] = "\\n", ["\r"] = "\\r" }

-- One row as a line of COPY text.
local function copy_line(row, columns, by_position, n, label)
  local null = require "luamig.null"
  local fields = {}
  for i, c in ipairs(columns) do
    local v = field(row, by_position and i or c, c, n, label)
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
  return table.concat(fields, "\t")
end

-- A chunk source for Conn:copy_from: ~1000 rows of COPY text per call.
local function copy_text(next_row, columns, label)
  local check = row_checker(columns, label)
  local read = 0
  return function()
    local lines = {}
    for _ = 1, 1000 do
      local row = next_row()
      if row == nil then break end
      read = read + 1
      lines[#lines + 1] = copy_line(row, columns, check(row, read), read, label)
    end
    if #lines == 0 then return nil end
    return table.concat(lines, "\n") .. "\n"
  end
end

---db:copy_in's work, for op.bulk_insert too: COPY ... FROM STDIN where the
---driver has it (PostgreSQL), multi-row INSERTs in one transaction (or
---savepoint) otherwise. A bad row raises
---an error without a location (the caller's to give); `label` names the
---caller in messages (default "db:copy_in" for the column list).
---@param db table
---@param table_name string
---@param columns string[]
---@param rows table[]|fun(): table?
---@param label string?
---@return integer
function M.copy_in(db, table_name, columns, rows, label)
  if not db.copy_from then -- several INSERTs: all or none, as one COPY is
    return db:transaction(function() return insert(db, table_name, columns, rows, nil, label) end)
  end
  check_target(table_name, columns, label)
  local cols = {}
  for i, c in ipairs(columns) do cols[i] = db:quote_ident(c) end
  return db:copy_from(("COPY %s (%s) FROM STDIN"):format(db:quote_ident(table_name), table.concat(cols, ", ")),
    copy_text(iterate(rows), columns, label))
end

-- Results of pcall(...): its results, or its error re-raised with `where`
-- filled in when it has none (a bad row is the caller's line's fault).
local function located(where, ok, ...)
  if ok then return ... end
  local e = ...
  if errors.is(e) and e.kind == "migration" and e.where == nil then e.where = where end
  error(e, 0)
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
    local t = step_timeouts[self]
    if reopen then
      self:exec "COMMIT"
      if t then dialect.apply_timeouts(self, t, false) end -- (begin_locked puts the session's back)
    end
    sections[self] = (sections[self] or 0) + 1
    local res = table.pack(pcall(fn, self))
    if self:in_transaction() then pcall(self.exec, self, "ROLLBACK") end -- fn left one open
    if reopen then
      dialect.begin_locked(self)
      if t then dialect.apply_timeouts(self, t, true) end
    end
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
  ---name ({ id = 1, name = "a" }) or positional in the order of `columns`
  ---({ 1, "a" }); a missing value is NULL. A row mixing both, with more
  ---values than columns or setting a column not listed is an error naming
  ---it, as is a value with no SQL form (a table, NaN). PostgreSQL: COPY ...
  ---FROM STDIN; SQLite: multi-row INSERTs (insert_rows). Returns the row count.
  ---@param table_name string
  ---@param columns string[]
  ---@param rows table[]|fun(): table?
  ---@return integer
  function Conn:copy_in(table_name, columns, rows)
    local caller = debug.getinfo(2, "Sl")
    local where = caller and caller.currentline > 0 and (caller.short_src .. ":" .. caller.currentline) or nil
    return located(where, pcall(M.copy_in, self, table_name, columns, rows))
  end

  ---The schema as one normalized structure (luamig.schema.introspect), e.g.
  ---db:schema().tables.users.columns (luamig.schema.model; PostgreSQL: every schema).
  function Conn:schema() return require("luamig.schema.introspect").snapshot(self, dialect) end

  if dialect.has_enum then
    function Conn:has_enum(name) return dialect.has_enum(self, name) end
    function Conn:has_extension(name) return dialect.has_extension(self, name) end
  end
end

return M
