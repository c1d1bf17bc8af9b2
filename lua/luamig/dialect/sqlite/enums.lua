--- Enum types on SQLite: a column of the type is TEXT with a
--- CHECK (col IN (...)); the values live in the luamig_enums table so later
--- migrations can use and extend the type. Changing the values rewrites the
--- CHECK of every column declared with the type. Reading the stored values
--- is luamig.dialect.sqlite.enum_list's.
local common = require "luamig.model.sql"
local errors = require "luamig.util.errors"
local alter = require "luamig.dialect.sqlite.alter"
local enum_list = require "luamig.dialect.sqlite.enum_list"

local M = {}

local q = common.quote_ident

local ENUMS = enum_list.TABLE

local function existing(db, name)
  return enum_list.values(db, name) or errors.raise("migration", ("no enum %s (create it with op.create_enum)"):format(name))
end

---An enum-typed column spec gets `CHECK (name IN (...))`.
function M.column_spec(db, spec)
  local t = spec[2] or spec.type
  local values = type(t) == "string" and enum_list.values(db, t) -- (not `{ raw = ... }`)
  if not values then return spec end
  local copy = {}
  for k, v in pairs(spec) do copy[k] = v end
  local cond = ("%s IN (%s)"):format(q(spec[1] or spec.name), common.literal_list(values))
  copy.check = copy.check and ("(" .. copy.check .. ") AND " .. cond) or cond
  return copy
end

---opts.if_not_exists: an enum of that name stays as it is.
function M.create_enum(db, name, values, opts)
  if db.offline_enums and not (opts.if_not_exists and db.offline_enums[name]) then db.offline_enums[name] = values end
  db:exec("CREATE TABLE IF NOT EXISTS " .. ENUMS .. " (name TEXT PRIMARY KEY, vals TEXT NOT NULL)")
  db:exec("INSERT INTO " .. ENUMS .. " (name, vals) VALUES (?, ?)" ..
    (opts.if_not_exists and " ON CONFLICT (name) DO NOTHING" or ""), name, table.concat(values, "\n"))
end

function M.drop_enum(db, name)
  if db.offline_enums or db:has_table(ENUMS) then db:exec("DELETE FROM " .. ENUMS .. " WHERE name = ?", name) end
end

-- { {table, column} } of every column declared with enum `name`. (Listed
-- first: a table cannot be rebuilt while a query reads the schema.)
local function columns_of(db, name)
  local cols = {}
  for _, t in ipairs(db:query "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") do
    for _, c in ipairs(db:query("SELECT name FROM pragma_table_info(?) WHERE type = ? COLLATE NOCASE", t.name, name)) do
      cols[#cols + 1] = { t.name, c.name }
    end
  end
  return cols
end

-- Store the values of enum `name` and rewrite its columns' CHECKs.
local function recheck(db, name, values)
  db:exec("UPDATE " .. ENUMS .. " SET vals = ? WHERE name = ?", table.concat(values, "\n"), name)
  local by_table, order = {}, {}
  for _, tc in ipairs(columns_of(db, name)) do
    if not by_table[tc[1]] then
      by_table[tc[1]] = {}
      order[#order + 1] = tc[1]
    end
    table.insert(by_table[tc[1]], tc[2])
  end
  for _, t in ipairs(order) do
    alter.with_batch(db, t, function(b)
      for _, c in ipairs(by_table[t]) do
        b:alter_column(c, { check_replace = ("CHECK (%s IN (%s))"):format(q(c), common.literal_list(values)) })
      end
    end)
  end
end

function M.add_enum_value(db, name, value, opts)
  local values = existing(db, name)
  for _, v in ipairs(values) do
    if v == value then
      if opts.if_not_exists then return end
      errors.raise("migration", ("enum %s already has the value %s"):format(name, value))
    end
  end
  local at = #values + 1
  for i, v in ipairs(values) do
    if v == opts.before then at = i elseif v == opts.after then at = i + 1 end
  end
  table.insert(values, at, value)
  recheck(db, name, values)
end

function M.rename_enum_value(db, name, old, new)
  local values = existing(db, name)
  local cols = columns_of(db, name)
  local both = {}
  for i, v in ipairs(values) do
    both[#both + 1] = v
    if v == old then values[i] = new end
  end
  both[#both + 1] = new
  recheck(db, name, both) -- allow both while rows change
  for _, tc in ipairs(cols) do
    db:exec(("UPDATE %s SET %s = ? WHERE %s = ?"):format(q(tc[1]), q(tc[2]), q(tc[2])), new, old)
  end
  recheck(db, name, values)
end

function M.drop_enum_value(db, name, value)
  local kept = {}
  for _, v in ipairs(existing(db, name)) do
    if v ~= value then kept[#kept + 1] = v end
  end
  recheck(db, name, kept)
end

return M
