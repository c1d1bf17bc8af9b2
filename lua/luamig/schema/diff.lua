--- Comparing two schema snapshots (luamig.model.schema): one sentence per
--- difference, naming the object by its qualified name and saying what
--- changed ("function billing.last_day(date) still exists after downgrade
--- of X", "column public.orders.total: default 0 became NULL").
local model = require "luamig.model.schema"

local M = {}

local function sorted_keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out, function(a, b) return tostring(a) < tostring(b) end)
  return out
end

-- Fields that are an entry's identity or compared on their own.
local SKIP = { schema = true, name = true, indexes = true, constraints = true, uniques = true,
  checks = true, foreign_keys = true, table = true, on = true, create_sql = true }
-- The full definition text: said only when no other field tells the difference.
local FALLBACK = { def = true, sql = true }
local LABEL = { body_md5 = "body checksum", schema_name = "schema" }

local function text(v, field)
  if field == "nullable" then return v and "NULL" or "NOT NULL" end
  if v == nil then return "NULL" end
  if type(v) == "table" then return "(" .. table.concat(v, ", ") .. ")" end
  return (tostring(v):gsub("%s+", " "))
end

-- A list of entries (a table's columns), compared on its own.
local function nested(v)
  return type(v) == "table" and type(v[1]) == "table"
end

-- The scalar (and list) fields of two entries; `say(what)` per difference.
local function compare_fields(e, a, say)
  local fields = {}
  for k in pairs(e) do fields[k] = true end
  for k in pairs(a) do fields[k] = true end
  for _, f in ipairs(sorted_keys(fields)) do
    local ev, av = e[f], a[f]
    if not SKIP[f] and not FALLBACK[f] and not nested(ev) and not nested(av) then
      if type(ev) == "boolean" or type(av) == "boolean" then ev, av = ev or false, av or false end
      local et, at = text(ev, f), text(av, f)
      if et ~= at then
        say(f == "nullable" and (et .. " became " .. at)
          or ("%s %s became %s"):format(LABEL[f] or f:gsub("_", " "), et, at))
      end
    end
  end
end

-- SQL text without the spacing that differs between equal statements.
local function normal(sql)
  return (text(sql):gsub(" ?([(),]) ?", "%1"))
end

-- The full definition, when nothing else told the entries apart.
local function compare_definition(e, a, say)
  for _, f in ipairs({ "def", "sql" }) do
    if e[f] ~= nil and normal(e[f]) ~= normal(a[f]) then
      return say(("definition %s became %s"):format(text(e[f]), text(a[f])))
    end
  end
end

-- Two keyed collections: missing, extra and changed entries. `show(key,
-- entry)` is how a message names an entry, `inner(key, e, a, out)` compares
-- what an entry holds besides its fields.
local function compare(ec, ac, show, out, inner)
  ec, ac = ec or {}, ac or {}
  local n_lines = out.count
  for _, k in ipairs(sorted_keys(ac)) do
    if ec[k] == nil then out(show(k, ac[k]) .. " still exists") end
  end
  for _, k in ipairs(sorted_keys(ec)) do
    local e, a = ec[k], ac[k]
    if a == nil then
      out(show(k, e) .. " is missing")
    elseif type(e) == "table" and type(a) == "table" then
      local before = n_lines()
      local function say(what) out(show(k, e) .. ": " .. what) end
      compare_fields(e, a, say)
      if inner then inner(k, e, a, out) end
      if n_lines() == before then compare_definition(e, a, say) end
    end
  end
end

local CONSTRAINT = { unique = "unique constraint", check = "check constraint", exclusion = "exclusion constraint",
  ["primary key"] = "primary key", ["foreign key"] = "foreign key" }

local function by_name(list)
  local out, order = {}, {}
  for i, c in ipairs(list or {}) do
    out[c.name] = c
    order[i] = c.name
  end
  return out, order
end

---Whether column order `actual` is `expected` but for columns of `readded`
---moved to the end: what ALTER TABLE ADD COLUMN makes of a column dropped
---and added back (a downgrade re-adding a dropped column), which no
---migration can avoid. Both lists hold the same names.
---@param expected string[]
---@param actual string[]
---@param readded table<string, true>  the columns dropped and added back
---@return boolean
function M.added_last(expected, actual, readded)
  for k = 1, #actual - 1 do
    local moved = {}
    for i = #actual - k + 1, #actual do moved[actual[i]] = true end
    for c in pairs(moved) do
      if not readded[c] then return false end
    end
    local e, a = {}, {}
    for _, c in ipairs(expected) do if not moved[c] then e[#e + 1] = c end end
    for _, c in ipairs(actual) do if not moved[c] then a[#a + 1] = c end end
    if table.concat(e, "\0") == table.concat(a, "\0") then return true end
  end
  return false
end

-- What a table (or materialized view) `name` holds: columns in order,
-- indexes and constraints.
local function table_parts(name, e, a, out)
  local ecols, eorder = by_name(e.columns)
  local acols, aorder = by_name(a.columns)
  compare(ecols, acols, function(k) return "column " .. name .. "." .. k end, out)
  local ekept, akept = {}, {}
  for _, c in ipairs(eorder) do if acols[c] then ekept[#ekept + 1] = c end end
  for _, c in ipairs(aorder) do if ecols[c] then akept[#akept + 1] = c end end
  if table.concat(ekept, "\0") ~= table.concat(akept, "\0") then
    local line = ("table %s: column order %s became %s"):format(name, text(ekept), text(akept))
    local between = out.between and out.between[name]
    local readded = {}
    if between then
      local kept = by_name(between.columns)
      -- (a column the step dropped, or retyped: op.online.retype_column adds it again)
      for _, c in ipairs(akept) do readded[c] = not kept[c] or kept[c].type ~= ecols[c].type or nil end
    end
    if out.strict_order or not between or not M.added_last(ekept, akept, readded) then out(line) else out.note(line) end
  end
  local schema = e.schema and (e.schema .. ".") or ""
  compare(e.indexes, a.indexes, function(k) return "index " .. schema .. k end, out)
  compare(e.constraints, a.constraints, function(k, x)
    return ("%s %s on %s"):format(CONSTRAINT[x.type] or "constraint", k, name)
  end, out)
end

local function kind_of(word)
  return function(e) return type(e) == "table" and e.kind or word end
end

-- The snapshot's collections, in the order messages come: field, how an
-- entry is called, whether its name is schema-qualified.
local COLLECTIONS = {
  { "schemas", kind_of "schema" },
  { "tables", kind_of "table", true, table_parts },
  { "views", function(e) return e.materialized and "materialized view" or "view" end, true, table_parts },
  { "sequences", kind_of "sequence", true },
  { "functions", kind_of "function", true },
  { "types", kind_of "type", true },
  { "enums", kind_of "enum", true },
  { "triggers", kind_of "trigger" },
  { "rules", kind_of "rule" },
  { "policies", kind_of "policy" },
  { "extensions", kind_of "extension" },
}

local function show_for(c)
  local kind, qualify = c[2], c[3]
  return function(k, e)
    if type(e) == "table" and e.table then
      return ("%s %s on %s"):format(kind(e), e.name, e.on or e.table)
    end
    return kind(e) .. " " .. (qualify and model.qualified(e, k) or k)
  end
end

---The differences between snapshots `expected` and `actual`, one sentence
---each ("index public.ix_orders_status still exists", "column
---public.users.age: type integer became text"); `context` ends each line
---(e.g. "after downgrade of X"). With opts.between (the snapshot in
---between, e.g. after the upgrade a downgrade undid), column order that
---differs only by columns it lacks moved to the end (M.added_last) is a
---note, not a difference, unless opts.strict_order.
---@param expected luamig.Snapshot
---@param actual luamig.Snapshot
---@param context string?
---@param opts {strict_order: boolean?, between: luamig.Snapshot?}?
---@return string[] differences, string[] notes
function M.diff(expected, actual, context, opts)
  local lines, notes = {}, {}
  local suffix = context and (" " .. context) or ""
  -- out(line) adds a line; out.count() is how many there are; out.note(line) adds a note
  opts = opts or {}
  local between = {}
  for k, t in pairs(opts.between and opts.between.tables or {}) do between[model.qualified(t, k)] = t end
  local out = setmetatable({ count = function() return #lines end, strict_order = opts.strict_order,
    between = opts.between and between,
    note = function(line) notes[#notes + 1] = line .. suffix .. " (a column added back goes last)" end }, {
    __call = function(_, line) lines[#lines + 1] = line .. suffix end })
  for _, c in ipairs(COLLECTIONS) do
    local show, inner = show_for(c), c[4]
    compare(expected[c[1]], actual[c[1]], show, out, inner and function(k, e, a, o)
      inner(model.qualified(e, k), e, a, o)
    end)
  end
  local eu, au = {}, {}
  for _, x in ipairs(expected.unsupported or {}) do eu[x] = true end
  for _, x in ipairs(actual.unsupported or {}) do au[x] = true end
  compare(eu, au, function(k) return "object not in luamig's model: " .. k end, out)
  return lines, notes
end

return M
