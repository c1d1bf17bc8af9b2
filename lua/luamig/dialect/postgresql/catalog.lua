--- PostgreSQL's catalog snapshot of the current schema, from pg_catalog.
local M = {}

local ACTIONS = { a = "NO ACTION", r = "RESTRICT", c = "CASCADE", n = "SET NULL", d = "SET DEFAULT" }

local function columns_of(db, rel_oid, attnums)
  local out = {}
  for _, n in ipairs(attnums) do
    out[#out + 1] = db:scalar("SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = ? AND attnum = ?",
      rel_oid, n)
  end
  return out
end

-- "{1,2}" (int2vector/array text) -> { 1, 2 }
local function numbers(text)
  local out = {}
  for n in tostring(text or ""):gmatch("%-?%d+") do out[#out + 1] = math.tointeger(tonumber(n)) end
  return out
end

-- The table constraints of `oid` into `t`.
local function constraints(db, t, oid)
  for c in db:rows([[
SELECT conname, contype, conkey::text AS conkey, confkey::text AS confkey, confrelid::regclass::text AS ref,
     confdeltype, confupdtype, pg_catalog.pg_get_constraintdef(oid, true) AS def, confrelid
FROM pg_catalog.pg_constraint WHERE conrelid = ? ORDER BY conname]], oid) do
    local cols = columns_of(db, oid, numbers(c.conkey))
    if c.contype == "p" then
      t.primary_key = cols
    elseif c.contype == "u" then
      t.uniques[#t.uniques + 1] = { name = c.conname, columns = cols }
    elseif c.contype == "c" then
      t.checks[#t.checks + 1] = { name = c.conname, condition = c.def:match("^CHECK %((.*)%)$") or c.def }
    elseif c.contype == "f" then
      t.foreign_keys[#t.foreign_keys + 1] = { name = c.conname, columns = cols, references = c.ref,
        ref_columns = columns_of(db, c.confrelid, numbers(c.confkey)),
        on_delete = ACTIONS[c.confdeltype], on_update = ACTIONS[c.confupdtype] }
    end
  end
end

-- Table `name` (oid) as a snapshot entry; its triggers go into s.triggers.
local function table_info(db, s, name, oid)
  local t = { columns = {}, primary_key = {}, indexes = {}, uniques = {}, checks = {}, foreign_keys = {} }
  for c in db:rows([[
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
     pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity
FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum]], oid) do
    t.columns[#t.columns + 1] = { name = c.attname, type = c.type, nullable = not c.attnotnull,
      default = c.def or (c.attidentity ~= "" and c.attidentity and ("identity " .. c.attidentity) or nil) }
  end
  constraints(db, t, oid)
  for ix in db:rows([[
SELECT i.relname, x.indisunique, x.indkey::text AS indkey, pg_catalog.pg_get_expr(x.indpred, x.indrelid) AS pred
FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = ? AND NOT x.indisprimary
AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype = 'u')
ORDER BY i.relname]], oid) do
    t.indexes[ix.relname] = { columns = columns_of(db, oid, numbers(ix.indkey)), unique = ix.indisunique,
      where = ix.pred }
  end
  for tr in db:rows([[
SELECT tgname, pg_catalog.pg_get_triggerdef(oid) AS def FROM pg_catalog.pg_trigger
WHERE tgrelid = ? AND NOT tgisinternal]], oid) do
    s.triggers[tr.tgname] = { table = name, sql = tr.def }
  end
  return t
end

---The schema snapshot (luamig.schema.introspect's shape) of the current schema.
---@param db table
---@return table
function M.snapshot(db)
  local s = { tables = {}, views = {}, triggers = {}, enums = {}, sequences = {}, extensions = {} }
  local schema = db:scalar "SELECT current_schema()"
  for r in db:rows([[
SELECT c.oid, c.relname, c.relkind FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ? AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY c.relname]], schema) do
    if r.relkind == "v" or r.relkind == "m" then
      s.views[r.relname] = db:scalar("SELECT pg_catalog.pg_get_viewdef(?::oid, true)", r.oid)
    elseif r.relkind == "S" then
      s.sequences[r.relname] = true
    else
      s.tables[r.relname] = { oid = r.oid }
    end
  end
  for name, ref in pairs(s.tables) do s.tables[name] = table_info(db, s, name, ref.oid) end
  for e in db:rows([[
SELECT t.typname, e.enumlabel FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = ? ORDER BY t.typname, e.enumsortorder]], schema) do
    s.enums[e.typname] = s.enums[e.typname] or { values = {} }
    table.insert(s.enums[e.typname].values, e.enumlabel)
  end
  for x in db:rows "SELECT extname FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql'" do
    s.extensions[x.extname] = true
  end
  return s
end

return M
