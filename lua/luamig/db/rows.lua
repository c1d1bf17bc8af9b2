--- Bulk rows for a connection (luamig.Db, or anything with exec and
--- quote_ident): column lists, multi-row INSERTs, COPY text (db:copy_in,
--- op.bulk_insert, the seed plugin's upsert).
local errors = require "luamig.util.errors"
local limits = require "luamig.db.limits"
local text = require "luamig.util.text"
local null = require "luamig.null"

local M = {}

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
          table.concat(columns, ", "), text.did_you_mean(tostring(k), columns, "; "))
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
  local v = row[key]
  if v == nil or v == null then return null end
  local t = type(v)
  if t ~= "string" and t ~= "number" and t ~= "boolean" then
    bad(label, "row %d, column %q: cannot store a %s", n, column, t)
  end
  if v ~= v then bad(label, "row %d, column %q: cannot store NaN", n, column) end
  return v
end


---Append row[c] for each of `columns` to `params`, luamig.null for a
---missing one (a statement's parameters, row by row).
---@param params any[]
---@param row table
---@param columns string[]
function M.append_values(params, row, columns)
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
---@param db luamig.Db
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
---@param db luamig.Db
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

return M
