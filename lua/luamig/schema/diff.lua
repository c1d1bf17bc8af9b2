--- Comparing two schema snapshots (luamig.schema.introspect): readable lines
--- naming each difference, for rollback drills and plugins.
local M = {}

local function list_text(l) return table.concat(l or {}, ", ") end

-- A constraint as comparable text (names included when the database keeps them).
local function fk_text(fk)
  return ("(%s) -> %s (%s)%s%s"):format(list_text(fk.columns), fk.references, list_text(fk.ref_columns),
    fk.on_delete and fk.on_delete ~= "NO ACTION" and (" ON DELETE " .. fk.on_delete) or "",
    fk.on_update and fk.on_update ~= "NO ACTION" and (" ON UPDATE " .. fk.on_update) or "")
end

local function keyed(list, text)
  local out = {}
  for _, x in ipairs(list or {}) do out[(x.name and (x.name .. ": ") or "") .. text(x)] = true end
  return out
end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- Compare two keyed sets; `say(kind, key, what)` for each difference.
local function compare_sets(a, b, kind, say)
  for _, k in ipairs(sorted_keys(b)) do
    if a[k] == nil then say(kind, k, "still exists") end
  end
  for _, k in ipairs(sorted_keys(a)) do
    if b[k] == nil then say(kind, k, "is missing") end
  end
end

local function index_text(ix)
  return ("(%s)%s%s"):format(list_text(ix.columns), ix.unique and " unique" or "",
    ix.where and (" where " .. ix.where) or "")
end

-- Columns of table `name` in both snapshots: missing, extra or changed.
local function diff_columns(name, e, a, say)
  local ecols, acols = {}, {}
  for _, c in ipairs(e.columns) do ecols[c.name] = c end
  for _, c in ipairs(a.columns) do acols[c.name] = c end
  compare_sets(ecols, acols, "column", function(kind, col, what) say(kind, name .. "." .. col, what) end)
  for _, col in ipairs(sorted_keys(ecols)) do
    local ec, ac = ecols[col], acols[col]
    for _, field in ipairs(ac and { "type", "nullable", "default" } or {}) do
      if ec[field] ~= ac[field] then
        say("column", name .. "." .. col, ("changed: %s %s -> %s"):format(field, tostring(ec[field]),
          tostring(ac[field])))
      end
    end
  end
end

-- Table `name`, present in both snapshots (e expected, a actual).
local function diff_table(name, e, a, say)
  diff_columns(name, e, a, say)
  if list_text(e.primary_key) ~= list_text(a.primary_key) then
    say("primary key of", name, ("changed: (%s) -> (%s)"):format(list_text(e.primary_key), list_text(a.primary_key)))
  end
  local eix, aix = {}, {}
  for k, ix in pairs(e.indexes) do eix[k] = index_text(ix) end
  for k, ix in pairs(a.indexes) do aix[k] = index_text(ix) end
  compare_sets(eix, aix, "index", say)
  for _, k in ipairs(sorted_keys(eix)) do
    if aix[k] and aix[k] ~= eix[k] then say("index", k, ("changed: %s -> %s"):format(eix[k], aix[k])) end
  end
  local function constraints(kind, text, field)
    compare_sets(keyed(e[field], text), keyed(a[field], text), kind .. " on " .. name, say)
  end
  constraints("unique constraint", function(x) return "(" .. list_text(x.columns) .. ")" end, "uniques")
  constraints("check constraint", function(x) return x.condition end, "checks")
  constraints("foreign key", fk_text, "foreign_keys")
end

---The differences between snapshots `expected` and `actual`, as readable
---lines ("index ix_orders_status still exists", "column users.age changed:
---type integer -> text"); `context` ends each line (e.g. "after downgrade of X").
---@return string[]
function M.diff(expected, actual, context)
  local out = {}
  local suffix = context and (" " .. context) or ""
  local function say(kind, name, what) out[#out + 1] = ("%s %s %s%s"):format(kind, name, what, suffix) end
  compare_sets(expected.tables, actual.tables, "table", say)
  for _, name in ipairs(sorted_keys(expected.tables)) do
    local e, a = expected.tables[name], actual.tables[name]
    if a then diff_table(name, e, a, say) end
  end
  local function named(field, kind, text)
    local ea, aa = {}, {}
    for k, v in pairs(expected[field] or {}) do ea[k] = text and text(v) or true end
    for k, v in pairs(actual[field] or {}) do aa[k] = text and text(v) or true end
    compare_sets(ea, aa, kind, say)
    for _, k in ipairs(sorted_keys(ea)) do
      if aa[k] ~= nil and aa[k] ~= ea[k] then say(kind, k, ("changed: %s -> %s"):format(ea[k], aa[k])) end
    end
  end
  named("views", "view", function(v) return (tostring(v):gsub("%s+", " ")) end)
  named("triggers", "trigger", function(t) return t.table .. ": " .. (tostring(t.sql):gsub("%s+", " ")) end)
  named("enums", "enum", function(x) return "(" .. list_text(x.values) .. ")" end)
  named("sequences", "sequence")
  named("extensions", "extension")
  return out
end

return M
