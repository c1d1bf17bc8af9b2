--- SQLite's table rebuild ("batch mode"): what SQLite cannot ALTER in place
--- (a column's type, nullability or default, dropping a column or a
--- constraint, adding a constraint) is done by writing the table anew, inside
--- the migration's transaction:
---
---   1. remember the table's indexes and triggers;
---   2. PRAGMA legacy_alter_table = ON, so renaming the table leaves the
---      views and triggers that name it alone;
---   3. rename the table aside, create the new one, copy the rows, drop the
---      old one;
---   4. recreate the indexes and triggers, restore legacy_alter_table, and
---      run PRAGMA foreign_key_check.
--- Foreign keys must not be enforced meanwhile (dropping the old table would
--- fire the children's ON DELETE CASCADE), and PRAGMA foreign_keys cannot
--- change inside a transaction: the dialect's step set-up turns enforcement
--- off before a migration that uses op, and check_step checks every foreign
--- key before it commits instead (luamig.dialect.sqlite).
local sqlite_table = require "luamig.dialect.sqlite.table_sql"
local ddl = require "luamig.model.ddl"
local common = require "luamig.model.sql"
local errors = require "luamig.util.errors"
local types = require "luamig.dialect.sqlite.types"

local M = {}

local q = common.quote_ident

---@class luamig.Batch
---@field name string
---@field shape luamig.SqliteTable
---@field renames table<string, string>   new column name -> old (for copying)
---@field dropped_indexes table<string, true>
---@field new_indexes string[]            CREATE INDEX statements to run after

local Batch = {}
Batch.__index = Batch

local function find_column(b, name)
  for i, item in ipairs(b.shape.items) do
    if item.kind == "column" and item.name:lower() == name:lower() then return i, item end
  end
  errors.raise("migration", ("table %s has no column %s"):format(b.name, name))
end

---Add a column (a luamig.ColumnSpec).
function Batch:add_column(spec)
  table.insert(self.shape.items, self:last_column() + 1,
    { kind = "column", name = spec[1] or spec.name, text = ddl.column(types, spec, spec.primary_key or false) })
end

function Batch:last_column()
  local last = 0
  for i, item in ipairs(self.shape.items) do
    if item.kind == "column" then last = i end
  end
  return last
end

---Drop a column.
function Batch:drop_column(name)
  local i = find_column(self, name)
  table.remove(self.shape.items, i)
  self.renames[name] = false
end

---Change a column: type, nullable, server_default/default (false drops it),
---new_name. Other clauses of its definition (REFERENCES, CHECK, COLLATE,
---PRIMARY KEY, UNIQUE) are kept.
function Batch:alter_column(name, opts)
  local i, item = find_column(self, name)
  local col, typ, clauses = sqlite_table.column_parts(item.text)
  local kept = {}
  local nullable_set = opts.nullable ~= nil
  local default_set = opts.server_default ~= nil or opts.default ~= nil
  for _, cl in ipairs(clauses) do
    local word = cl:match("^(%a+)"):upper()
    local is_null = word == "NULL" or (word == "NOT" and cl:upper():match("^NOT%s+NULL"))
    if not (nullable_set and is_null) and not (default_set and word == "DEFAULT") then kept[#kept + 1] = cl end
  end
  if opts.nullable == false then kept[#kept + 1] = "NOT NULL" end
  local def = (opts.server_default ~= false and opts.default ~= false) and ddl.default(opts) or nil
  if def then kept[#kept + 1] = "DEFAULT (" .. def .. ")" end
  if opts.check_replace then
    for k = #kept, 1, -1 do
      if kept[k]:upper():match("^CHECK") then table.remove(kept, k) end
    end
    kept[#kept + 1] = opts.check_replace
  end
  local new_name = opts.new_name or col
  if opts.new_name then self.renames[opts.new_name] = col end
  local new_type = opts.type and ddl.type(types, opts.type) or typ
  item.text = table.concat({ q(new_name), new_type, table.concat(kept, " ") }, " "):gsub("%s+$", "")
  item.name = new_name
  self.shape.items[i] = item
end

---Add a table constraint (a luamig.ConstraintSpec).
function Batch:add_constraint(spec)
  if spec.name then
    for _, item in ipairs(self.shape.items) do
      if item.kind == "constraint" and item.name == spec.name then
        errors.raise("migration", ("table %s already has a constraint named %s"):format(self.name, spec.name))
      end
    end
  end
  self.shape.items[#self.shape.items + 1] = { kind = "constraint", name = spec.name, text = ddl.constraint(spec) }
end

function Batch:create_unique_constraint(name, columns)
  self:add_constraint({ type = "unique", name = name, columns = columns })
end

function Batch:create_check_constraint(name, condition)
  self:add_constraint({ type = "check", name = name, condition = condition })
end

function Batch:create_foreign_key(name, referent, local_cols, remote_cols, opts)
  opts = opts or {}
  self:add_constraint({ type = "foreign_key", name = name, columns = local_cols, references = referent,
    ref_columns = remote_cols, on_delete = opts.on_delete, on_update = opts.on_update })
end

-- "(\"a\", b)" -> "a,b" (lower case)
local function column_list(text)
  local out = {}
  for part in text:sub(2, -2):gmatch("[^,]+") do out[#out + 1] = sqlite_table.unquote(part:match("^%s*(.-)%s*$")):lower() end
  return table.concat(out, ",")
end

local function lower_list(list)
  local out = {}
  for i, c in ipairs(list or {}) do out[i] = c:lower() end
  return table.concat(out, ",")
end

local function squeeze(text) return (text:gsub("%s+", " "):match("^%s*(.-)%s*$")) end

-- Whether constraint text `text` (a table constraint without its CONSTRAINT
-- name, or a column's clause; `column`: that column) is what `spec` describes.
local function same_constraint(text, spec, column)
  local upper = text:upper()
  if spec.type == "check" then
    local cond = upper:match("^CHECK") and text:match("^%a+%s*(%b())")
    return cond ~= nil and squeeze(cond:sub(2, -2)) == squeeze(spec.condition or "")
  end
  local cols
  if spec.type == "unique" and upper:match("^UNIQUE") then
    cols = column and column:lower() or column_list(text:match("%b()") or "()")
  elseif spec.type == "foreign_key" and upper:match("^FOREIGN") then
    cols = column_list(text:match("%b()") or "()")
    text = text:match("^.-%b()%s*(.*)$")
  elseif spec.type == "foreign_key" and upper:match("^REFERENCES") and column then
    cols = column:lower()
  else
    return false
  end
  if cols ~= lower_list(spec.columns) then return false end
  if spec.type == "foreign_key" then
    local ref = text:match("^%a+%s+(.-)%s*%(") or text:match("^%a+%s+(%S+)")
    return ref ~= nil and sqlite_table.unquote(ref):lower() == tostring(spec.references):lower()
  end
  return true
end

-- Remove the unnamed constraint `spec` describes: a table constraint, or a
-- column's clause. Whether one was found.
local function drop_unnamed(b, spec)
  for i, item in ipairs(b.shape.items) do
    if item.kind == "constraint" and not item.name and same_constraint(item.text, spec) then
      table.remove(b.shape.items, i)
      return true
    elseif item.kind == "column" then
      local col, typ, clauses = sqlite_table.column_parts(item.text)
      for k, cl in ipairs(clauses) do
        if same_constraint(cl, spec, col) then
          table.remove(clauses, k)
          item.text = table.concat({ q(col), typ, table.concat(clauses, " ") }, " "):gsub("%s+$", "")
          return true
        end
      end
    end
  end
  return false
end

---Drop a table constraint: by name (CONSTRAINT name ...), or, for one the
---table left unnamed, by content: { type = "unique", columns = {...} },
---{ type = "check", condition = "..." }, { type = "foreign_key", columns =
---{...}, references = "t" } (a table constraint or a column's clause).
---@param name string|table
function Batch:drop_constraint(name)
  if type(name) == "table" then
    if drop_unnamed(self, name) then return end
    errors.raise("migration", ("table %s has no unnamed %s constraint %s"):format(self.name, tostring(name.type),
      name.condition and ("(" .. name.condition .. ")") or ("(" .. table.concat(name.columns or {}, ", ") .. ")")))
  end
  for i, item in ipairs(self.shape.items) do
    if item.kind == "constraint" and item.name == name then
      table.remove(self.shape.items, i)
      return
    end
  end
  errors.raise("migration", ("table %s has no constraint named %s (SQLite knows only named table constraints: " ..
    "CONSTRAINT name ...)"):format(self.name, name))
end

---PRIMARY KEY (columns), as a table constraint (named when `name` is given).
function Batch:create_primary_key(name, columns)
  self:add_constraint({ type = "primary_key", name = name, columns = columns })
end

-- Column `name`'s definition: NOT NULL added unless it says it.
local function not_null(b, name)
  local _, item = find_column(b, name)
  local col, typ, clauses = sqlite_table.column_parts(item.text)
  for _, cl in ipairs(clauses) do
    if cl:upper():match("^NOT%s+NULL") then return end
  end
  clauses[#clauses + 1] = "NOT NULL"
  item.text = table.concat({ q(col), typ, table.concat(clauses, " ") }, " ")
end

local function is_primary(text) return (text:upper():gsub("^CONSTRAINT%s+%S+%s+", "")):match("^PRIMARY") ~= nil end

---Drop the primary key: the table constraint, or the column's PRIMARY KEY
---clause. Its columns stay NOT NULL (as on PostgreSQL; SQLite lets a
---primary key's column hold NULL unless it says NOT NULL).
function Batch:drop_primary_key()
  for i, item in ipairs(self.shape.items) do
    if item.kind == "constraint" and is_primary(item.text) then
      table.remove(self.shape.items, i)
      for c in column_list(item.text:match("%b()")):gmatch("[^,]+") do not_null(self, c) end
      return
    elseif item.kind == "column" then
      local col, typ, clauses = sqlite_table.column_parts(item.text)
      for k, cl in ipairs(clauses) do
        if is_primary(cl) then
          table.remove(clauses, k)
          item.text = table.concat({ q(col), typ, table.concat(clauses, " ") }, " "):gsub("%s+$", "")
          not_null(self, col)
          return
        end
      end
    end
  end
  errors.raise("migration", ("table %s has no primary key to drop"):format(self.name))
end

function Batch:create_index(name, columns, opts)
  self.new_indexes[#self.new_indexes + 1] = ddl.create_index(types, name, self.name, columns, opts)
end

function Batch:drop_index(name)
  self.dropped_indexes[name] = true
end

---Start a batch on table `name` (its current definition).
---@return luamig.Batch
function M.start(db, name)
  local sql = db:scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", name)
  if not sql then errors.raise("migration", ("no table %s to alter"):format(name)) end
  return setmetatable({ name = name, shape = sqlite_table.parse(sql), renames = {}, dropped_indexes = {},
    new_indexes = {} }, Batch)
end

---Rebuild the table as the batch describes (see the module comment).
---@param db luamig.Db
---@param b luamig.Batch
function M.finish(db, b)
  local saved = {}
  for _, r in ipairs(db:query("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? " ..
    "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name", b.name)) do
    if not b.dropped_indexes[r.name] then saved[#saved + 1] = r end
  end
  local old_cols = {}
  for _, r in ipairs(db:query("SELECT name FROM pragma_table_info(?) ORDER BY cid", b.name)) do
    old_cols[r.name:lower()] = r.name
  end
  local into, from = {}, {}
  for _, item in ipairs(b.shape.items) do
    if item.kind == "column" then
      local source = b.renames[item.name] == nil and item.name or b.renames[item.name]
      local old = source and old_cols[source:lower()]
      if old then
        into[#into + 1], from[#from + 1] = q(item.name), q(old)
      end
    end
  end
  local aside = "_luamig_old_" .. b.name
  local was_legacy = db:scalar "PRAGMA legacy_alter_table"
  db:exec "PRAGMA legacy_alter_table = ON"
  local ok, err = pcall(function()
    db:exec(("ALTER TABLE %s RENAME TO %s"):format(q(b.name), q(aside)))
    db:exec(sqlite_table.render(b.shape, q(b.name)))
    if #into > 0 then
      db:exec(("INSERT INTO %s (%s) SELECT %s FROM %s"):format(q(b.name), table.concat(into, ", "),
        table.concat(from, ", "), q(aside)))
    end
    db:exec(("DROP TABLE %s"):format(q(aside)))
    for _, r in ipairs(saved) do
      local rok, rerr = pcall(db.exec, db, r.sql)
      if not rok then
        errors.raise("migration", ("cannot recreate %s %s after rebuilding %s: %s; drop it first")
          :format(r.type, r.name, b.name, tostring(rerr.message or rerr)))
      end
    end
    for _, sql in ipairs(b.new_indexes) do db:exec(sql) end
  end)
  db:exec("PRAGMA legacy_alter_table = " .. (was_legacy == 1 and "ON" or "OFF"))
  if not ok then error(err, 0) end
  local bad = db:first("SELECT \"table\" AS t, rowid, parent FROM pragma_foreign_key_check(?)", b.name)
  if bad then
    errors.raise("migration", ("rebuilding %s broke a foreign key: a row of %s (rowid %s) references a missing row " ..
      "of %s"):format(b.name, bad.t, tostring(bad.rowid), bad.parent))
  end
end

return M
