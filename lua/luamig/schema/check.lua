--- The arguments of the schema ops, checked before any SQL runs: a key no op
--- reads (a column spec's, an options table's, a constraint spec's) is a typo
--- that would silently change the schema ({ "bio", "text", nulable = false }
--- makes a nullable column), so it is an error with a did-you-mean; so is a
--- type that is neither portable nor known to the database. Errors carry no
--- location: the op boundary names the migration's line.
local ddl = require "luamig.model.ddl"
local errors = require "luamig.util.errors"
local text = require "luamig.util.text"

local M = {}

local COLUMN_KEYS = { "name", "type", "nullable", "primary_key", "autoincrement", "unique", "default",
  "server_default", "references", "on_delete", "on_update", "check" }
local ALTER_KEYS = { "type", "using", "nullable", "server_default", "default", "new_name" }
local FK_KEYS = { "on_delete", "on_update", "not_valid" }

---What each op's arguments hold, by position: `options` (the options table:
---its position and keys), `column` (a column spec), `columns` (a list of
---column specs). Ops not listed take no table argument to check.
M.OPS = {
  create_table = { columns = 2, options = 3, keys = { "constraints", "if_not_exists" } },
  drop_table = { options = 2, keys = { "if_exists" } },
  rename_table = { options = 3, keys = { "primary_key" } },
  create_index = { options = 4, keys = ddl.INDEX_OPTIONS, index_keys = 3 },
  drop_index = { options = 2, keys = { "if_exists", "concurrently", "table" } },
  add_column = { column = 2, options = 3, keys = { "if_not_exists" } },
  alter_column = { options = 3, keys = ALTER_KEYS },
  create_foreign_key = { options = 6, keys = FK_KEYS },
  create_check_constraint = { options = 4, keys = { "not_valid" } },
  create_unique_constraint = { options = 4, keys = { "concurrently" } },
  create_primary_key = { options = 4, keys = { "concurrently" } },
  create_enum = { options = 3, keys = { "if_not_exists" } },
  drop_enum = { options = 2, keys = { "if_exists" } },
  add_enum_value = { options = 3, keys = { "before", "after", "if_not_exists" } },
  create_extension = { options = 2, keys = { "if_not_exists" } },
  bulk_insert = { options = 3, keys = { "columns", "batch_size" } },
}

---batch_alter_table's batch methods (the table argument left out), as M.OPS.
M.BATCH = {
  add_column = { column = 1 },
  drop_column = {},
  alter_column = { options = 2, keys = ALTER_KEYS },
  create_unique_constraint = {},
  create_check_constraint = {},
  create_foreign_key = { options = 5, keys = FK_KEYS },
  drop_constraint = {},
  create_primary_key = {},
  drop_primary_key = {},
  create_index = { options = 3, keys = { "unique", "where", "using", "include", "nulls_not_distinct" }, index_keys = 2 },
  drop_index = {},
}

-- The keys of each kind of table constraint.
local CONSTRAINT_KEYS = {
  primary_key = { "type", "name", "columns" },
  unique = { "type", "name", "columns" },
  check = { "type", "name", "condition" },
  foreign_key = { "type", "name", "columns", "references", "ref_columns", "on_delete", "on_update" },
}

local function fail(fmt, ...)
  errors.raise("migration", fmt:format(...))
end

---" (did you mean "x"?)" for a typo of a candidate (luamig.util.text.did_you_mean).
M.did_you_mean = text.did_you_mean

-- A key of `t` that is not in `allowed` (nor an index up to `items`): an
-- error saying `what` `t` is.
local function known_keys(label, what, t, allowed, items)
  local set = {}
  for _, k in ipairs(allowed) do set[k] = true end
  for k in pairs(t) do
    if not set[k] and not (items and math.type(k) == "integer" and k >= 1 and k <= items) then
      if type(k) ~= "string" then fail("%s: %s: unknown key [%s]", label, what, tostring(k)) end
      fail("%s: %s: unknown key %q%s", label, what, k, M.did_you_mean(k, allowed))
    end
  end
end

---The type of a column, or alter_column's: portable, known to the database
---(the dialect's known_type, or an enum this run created) or
---`{ raw = "SQL" }`, taken as written.
---@param db luamig.Db
---@param d luamig.Dialect
---@param t any
---@param label string  "op.add_column: column \"x\"" ...
---@param enums table<string, true>?  enums created by this step's ops
function M.type(db, d, t, label, enums)
  if type(t) == "table" then
    known_keys(label, "type", t, { "raw" })
    if type(t.raw) ~= "string" or t.raw == "" then fail("%s: type = { raw = ... } needs the SQL type as a string", label) end
    return
  end
  if type(t) ~= "string" or not t:match("%S") then fail('%s: needs a type (e.g. "text", "string(80)")', label) end
  if ddl.portable(d, t) or (enums and enums[t]) or d.known_type(db, t) then return end
  local portable = {}
  for name in pairs(d.type_names) do portable[#portable + 1] = name end
  table.sort(portable)
  fail("%s: unknown type %q%s; use a portable type (%s), a type this database knows, or " ..
    "type = { raw = %q } to pass it through unchecked", label, t, M.did_you_mean(t:match("^%s*([%a_]*)"), portable),
    table.concat(portable, ", "), t)
end

---A column spec: `{ name, type, key = value ... }` with known keys only.
---@param db luamig.Db
---@param d luamig.Dialect
---@param spec any
---@param label string  the op, e.g. "op.create_table"
---@param enums table<string, true>?
function M.column(db, d, spec, label, enums)
  if type(spec) ~= "table" then fail("%s: a column is { name, type, key = value ... } (got a %s)", label, type(spec)) end
  local name = spec[1] or spec.name
  if type(name) ~= "string" or name == "" then fail("%s: a column needs a name as its first item", label) end
  local what = ("column %q"):format(name)
  if spec[1] ~= nil and spec.name ~= nil then fail("%s: %s: give the name once, as [1] or name", label, what) end
  if spec[2] ~= nil and spec.type ~= nil then fail("%s: %s: give the type once, as [2] or type", label, what) end
  for k in pairs(spec) do
    if math.type(k) == "integer" and k > 2 then
      fail("%s: %s: unknown key [%d] (a column is { name, type, key = value ... })", label, what, k)
    end
  end
  known_keys(label, what, spec, COLUMN_KEYS, 2)
  M.type(db, d, spec[2] or spec.type, label .. ": " .. what, enums)
end

-- create_table's opts.constraints.
local function constraints(label, list)
  if type(list) ~= "table" then fail("%s: constraints must be a list of constraint specs", label) end
  for i, c in ipairs(list) do
    local keys = type(c) == "table" and CONSTRAINT_KEYS[c.type]
    if not keys then
      fail("%s: constraint %d needs type = primary_key, unique, check or foreign_key", label, i)
    end
    known_keys(label, ("constraint %d (%s)"):format(i, c.type), c, keys)
  end
end

-- The options table `opts` of `label`, with keys from `allowed` only.
local function options(label, opts, allowed)
  if opts == nil then return end
  if type(opts) ~= "table" then fail("%s: options must be a table (got a %s)", label, type(opts)) end
  for k in pairs(opts) do
    if type(k) ~= "string" then fail("%s: unknown option [%s]", label, tostring(k)) end
    local ok = false
    for _, a in ipairs(allowed) do ok = ok or a == k end
    if not ok then fail("%s: unknown option %q%s", label, k, M.did_you_mean(k, allowed)) end
  end
end

---Check the arguments of op (or batch method) `label` as `sig` (an entry of
---M.OPS or M.BATCH) describes them; `args` packed.
---@param db luamig.Db
---@param d luamig.Dialect
---@param label string
---@param sig table
---@param args table
---@param enums table<string, true>?
function M.args(db, d, label, sig, args, enums)
  if sig.options then
    local opts = args[sig.options]
    options(label, opts, sig.keys)
    if opts and opts.type ~= nil and sig.keys == ALTER_KEYS then M.type(db, d, opts.type, label, enums) end
    if opts and opts.constraints ~= nil then constraints(label, opts.constraints) end
  end
  if sig.column then M.column(db, d, args[sig.column], label, enums) end
  if sig.index_keys and type(args[sig.index_keys]) == "table" then
    for i, e in ipairs(args[sig.index_keys]) do
      if type(e) == "table" then known_keys(label, ("column %d"):format(i), e, ddl.INDEX_KEY_FIELDS, 1) end
    end
  end
  if sig.columns then
    local list = args[sig.columns]
    if type(list) ~= "table" then fail("%s: columns must be a list of column specs", label) end
    for _, c in ipairs(list) do M.column(db, d, c, label, enums) end
  end
end

---The error for `prefix .. name`, which is none of `names`: "op.add_colum
---does not exist (did you mean op.add_column?)"; `context` (e.g.
---"migrations/2.lua: change(): ") goes first.
---@param prefix string  "op." or "batch."
---@param name any
---@param names string[]
---@param context string?
---@return luamig.Error
function M.unknown(prefix, name, names, context)
  local hint = type(name) == "string" and M.did_you_mean(name, names) or ""
  return errors.new("migration", ("%s%s%s does not exist%s"):format(context or "", prefix, tostring(name),
    (hint:gsub('"(.-)"', prefix .. "%1"))))
end

return M
