--- `lint --rows N` and `--rows-from-target`: synthetic rows in the tables
--- of the scratch database, so that durations, rewrites and scans mean
--- something. Before each migration, the tables not filled yet (those that
--- existed before the first, then those the previous migrations created)
--- get their count: the target's row estimate capped by --rows-cap, or N.
--- Each column gets the dialect's value for row number g (1..n), distinct
--- per row as far as its type allows; a foreign key gets the key of one of
--- its parent's rows (cycling through them), parents filled first; a
--- column with a default is left to it unless it is in a unique key or a
--- foreign key; identities, generated columns and sequences are the
--- server's. A unique key none of whose columns can take n distinct
--- values gets NULL in a nullable column of it, or the table fewer rows (a
--- note says so). A row whose values break a CHECK takes others that meet
--- it where it can (luamig.tools.lint.rows_checks).
local errors = require "luamig.util.errors"
local toposort = require "luamig.util.toposort"
local rows_checks = require "luamig.tools.lint.rows_checks"

local M = {}

---What the dialect tells the filler (its fill_info(db, skip)).
---@class luamig.FillInfo
---@field tables table<string, luamig.FillTable>
---@field deps table<string, string[]>   the tables each table's foreign keys name
---@field series fun(n: integer, sql: string): string  `sql` with a `series(g)` of 1..n before it

---@class luamig.FillTable
---@field columns luamig.FillColumn[]
---@field keys {columns: string[], nulls_distinct: boolean}[]   primary key, unique constraints and indexes
---@field fks {columns: string[], parent: string, parent_columns: string[]}[]
---@field checks {sql: string, columns: string[]}[]   its CHECKs (a domain's too): each condition on the column
---  names, and the columns it names

---@class luamig.FillColumn
---@field name string
---@field type string       for messages
---@field nullable boolean
---@field default boolean   it has one
---@field default_sql string? its SQL expression (nil: unknown)
---@field null_sql string?  its NULL, typed where the backend needs it to compare (nil: NULL)
---@field auto boolean      the server fills it (identity, generated, a sequence)
---@field value string?     its SQL value for row g (nil: a type the dialect cannot fill)
---@field distinct integer? how many distinct values `value` takes (nil: one per row)

local function refuse(name, why)
  errors.raise("usage", ("--rows cannot fill table %s: %s; seed it with --with-seeds"):format(name, why))
end

-- The values of the foreign-key columns of table `name` ({column -> {sql, distinct}}) and the joins
-- they need: a parent's rows numbered 1..P (its key's NULLs left out), row g taking the ((g - 1) % P + 1)th;
-- a table referring to itself takes the key of its own new row.
local function foreign_keys(db, name, t, by_name)
  local from, joins = {}, {}
  for _, fk in ipairs(t.fks) do
    if not from[fk.columns[1]] then
      local own = fk.parent == name
      for _, pc in ipairs(fk.parent_columns) do
        local c = by_name[pc]
        own = own and c and c.value and not c.auto
      end
      if own then
        for i, col in ipairs(fk.columns) do
          local c = by_name[fk.parent_columns[i]]
          from[col] = { sql = c.value, distinct = c.distinct }
        end
      elseif fk.parent ~= name then
        local keys, present = {}, {}
        for i, pc in ipairs(fk.parent_columns) do
          keys[i] = ("%s AS k%d"):format(db:quote_ident(pc), i)
          present[i] = db:quote_ident(pc) .. " IS NOT NULL"
        end
        local rows = ("FROM %s WHERE %s"):format(db:quote_ident(fk.parent), table.concat(present, " AND "))
        local p = math.tointeger(db:scalar("SELECT count(*) " .. rows)) or 0
        if p > 0 then
          local alias = "p" .. (#joins + 1)
          joins[#joins + 1] = ("JOIN (SELECT %s, row_number() OVER () AS rn %s) %s ON %s.rn = (g - 1) %% %d + 1")
            :format(table.concat(keys, ", "), rows, alias, alias, p)
          for i, col in ipairs(fk.columns) do from[col] = { sql = ("%s.k%d"):format(alias, i), distinct = p } end
        end
      end
    end
  end
  return from, joins
end

-- Insert `n` rows in table `name` (its fill_info entry `t`), or fewer: then a note says why.
local function fill_table(db, d, name, t, n)
  local by_name, in_key, in_fk = {}, {}, {}
  for _, c in ipairs(t.columns) do by_name[c.name] = c end
  for _, k in ipairs(t.keys) do for _, col in ipairs(k.columns) do in_key[col] = true end end
  for _, fk in ipairs(t.fks) do for _, col in ipairs(fk.columns) do in_fk[col] = true end end
  local from, joins = foreign_keys(db, name, t, by_name)
  -- column c's value: {sql, distinct}, "null" or nil (left to its default or the server)
  local function choose(c)
    if c.auto then return nil end
    if in_fk[c.name] then
      if from[c.name] then return from[c.name] end
      if c.nullable then return "null" end
      refuse(name, ("its foreign key column %s has no parent row to refer to"):format(c.name))
    end
    if c.default and not in_key[c.name] then return nil end
    if c.value then return { sql = c.value, distinct = c.distinct } end
    if c.default then return nil end
    if c.nullable then return "null" end
    refuse(name, ("it cannot make values of column %s (%s)"):format(c.name, c.type))
  end
  local chosen = {}
  for _, c in ipairs(t.columns) do chosen[c.name] = choose(c) end
  -- a unique key needs a column with n distinct values, or a NULL in one (a key on nothing it knows: none);
  -- else the table gets as many rows as its most varied column has values
  local note, asked = nil, n
  for _, k in ipairs(t.keys) do
    local ok, nullable, most = #k.columns == 0, nil, 1
    for _, col in ipairs(k.columns) do
      local v, c = chosen[col], by_name[col]
      local distinct = type(v) == "table" and (v.distinct or math.huge) or 1
      most = math.max(most, distinct)
      if not c or c.auto or (v == "null" and k.nulls_distinct) or distinct >= n then
        ok = true
      elseif c.nullable and k.nulls_distinct and not in_fk[col] then
        nullable = nullable or col
      end
    end
    if not ok and nullable then
      chosen[nullable] = "null"
    elseif not ok then
      n = most
      note = ("--rows filled table %s with %d rows, not %d: its unique key (%s) takes %d values at most; " ..
        "seed it with --with-seeds"):format(name, n, asked, table.concat(k.columns, ", "), n)
    end
  end
  rows_checks.apply(db, t, chosen, n, in_fk, in_key)
  local names, exprs = {}, {}
  for _, c in ipairs(t.columns) do
    local v = chosen[c.name]
    if v then names[#names + 1], exprs[#exprs + 1] = db:quote_ident(c.name), v == "null" and "NULL" or v.sql end
  end
  if #names == 0 then return note end
  local ok, err = pcall(db.exec, db, d.series(n, ("INSERT INTO %s (%s) SELECT %s FROM series %s"):format(
    db:quote_ident(name), table.concat(names, ", "), table.concat(exprs, ", "), table.concat(joins, " "))))
  if not ok then refuse(name, errors.text(err)) end
  return note
end

---Insert rows in the tables described by `d` (the dialect's
---`fill_info(db, skip)`): `n` rows in each, or counts[name] in those `n`
---names. Returns the notes on tables filled with fewer rows.
---@param db luamig.Db
---@param d luamig.FillInfo
---@param n integer|table<string, integer>
---@return string[]
function M.fill(db, d, n)
  local counts = n
  if type(n) ~= "table" then
    counts = {}
    for name in pairs(d.tables) do counts[name] = n end
  end
  local notes = {}
  for _, name in ipairs(toposort.order(d.tables, function(t) return d.deps[t] or {} end)) do
    if (counts[name] or 0) > 0 then notes[#notes + 1] = fill_table(db, d, name, d.tables[name], counts[name]) end
  end
  return notes
end

---@class luamig.LintFill
---@field rows integer?                  --rows N
---@field counts table<string, number>?  --rows-from-target: the target's estimates (negative: unknown)
---@field cap integer                    --rows-cap

---A filler for one lint run: filler.fill(db, d) fills the tables of `d` it
---has not seen yet; filler.ratio[name] = {ratio, rows, filled} for a table
---the cap cut (the target's estimate over the rows filled); filler.notes:
---the tables filled with fewer rows than asked, and why.
---@param plan luamig.LintFill
function M.filler(plan)
  local f = { seen = {}, ratio = {}, notes = {} }
  function f.fill(db, d)
    local counts = {}
    for name in pairs(d.tables) do
      if not f.seen[name] then
        f.seen[name] = true
        local real = plan.counts and plan.counts[name]
        local n = plan.rows
        if real and real >= 0 then
          n = math.min(math.floor(real), plan.cap)
          if real > n and n > 0 then f.ratio[name] = { ratio = real / n, rows = math.floor(real), filled = n } end
        end
        counts[name] = n or 0
      end
    end
    for _, note in ipairs(M.fill(db, d, counts)) do f.notes[#f.notes + 1] = note end
  end
  return f
end

return M
