--- Schema snapshots: one normalized Lua structure per database, the same
--- shape on SQLite and PostgreSQL, so that two snapshots can be compared
--- (rollback drills) and migrations can look before they change.
---
--- snapshot = {
---   tables = { [name] = { columns = { {name, type, nullable, default}... },
---       primary_key = {cols}, indexes = { [name] = {columns, unique, where} },
---       uniques = { {name?, columns} }, checks = { {name?, condition} },
---       foreign_keys = { {name?, columns, references, ref_columns, on_delete, on_update} } } },
---   views = { [name] = sql }, triggers = { [name] = {table, sql} },
---   enums = { [name] = {values} }, sequences = { [name] = true }, extensions = { [name] = true } }
local sqlite_table = require "luamig.dialect.sqlite.table_sql"

local M = {}

local function lower(s) return s and s:lower() or nil end

-- ------------------------------------------------------------ SQLite

local function sqlite_table_info(db, name, sql)
  local t = { columns = {}, primary_key = {}, indexes = {}, uniques = {}, checks = {}, foreign_keys = {} }
  local pk = {}
  for r in db:rows("SELECT name, type, \"notnull\" AS nn, dflt_value, pk FROM pragma_table_info(?) ORDER BY cid", name) do
    t.columns[#t.columns + 1] = { name = r.name, type = lower(r.type) or "", nullable = r.nn == 0 and r.pk == 0,
      default = r.dflt_value }
    if r.pk > 0 then pk[#pk + 1] = { r.pk, r.name } end
  end
  table.sort(pk, function(a, b) return a[1] < b[1] end)
  for i, p in ipairs(pk) do t.primary_key[i] = p[2] end
  for ix in db:rows("SELECT name, \"unique\" AS u, origin, partial FROM pragma_index_list(?)", name) do
    local cols = {}
    for c in db:rows("SELECT name FROM pragma_index_info(?) ORDER BY seqno", ix.name) do cols[#cols + 1] = c.name end
    if ix.origin == "u" then
      t.uniques[#t.uniques + 1] = { columns = cols }
    elseif ix.origin == "c" then
      local isql = db:scalar("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", ix.name) or ""
      local where = ix.partial == 1 and isql:match("[Ww][Hh][Ee][Rr][Ee]%s+(.-)%s*$") or nil
      t.indexes[ix.name] = { columns = cols, unique = ix.u == 1, where = where }
    end
  end
  local fks = {}
  for r in db:rows("SELECT id, seq, \"table\" AS ref, \"from\" AS col, \"to\" AS refcol, on_update, on_delete " ..
    "FROM pragma_foreign_key_list(?) ORDER BY id, seq", name) do
    local fk = fks[r.id + 1]
    if not fk then
      fk = { columns = {}, references = r.ref, ref_columns = {}, on_delete = r.on_delete, on_update = r.on_update }
      fks[r.id + 1] = fk
    end
    fk.columns[#fk.columns + 1] = r.col
    fk.ref_columns[#fk.ref_columns + 1] = r.refcol
  end
  for i = #fks, 1, -1 do t.foreign_keys[#t.foreign_keys + 1] = fks[i] end -- pragma lists them last first
  local parsed = sqlite_table.parse(sql)
  for _, item in ipairs(parsed.items) do
    local text = item.text
    if item.kind == "constraint" then
      local cond = text:match("^.-[Cc][Hh][Ee][Cc][Kk]%s*(%b())")
      if cond then t.checks[#t.checks + 1] = { name = item.name, condition = cond:sub(2, -2) } end
    else
      local _, _, clauses = sqlite_table.column_parts(text)
      for _, cl in ipairs(clauses) do
        local cond = cl:match("^[Cc][Hh][Ee][Cc][Kk]%s*(%b())") or cl:match("^CONSTRAINT.-CHECK%s*(%b())")
        if cond then t.checks[#t.checks + 1] = { condition = cond:sub(2, -2), column = item.name } end
      end
    end
  end
  return t
end

local function sqlite_snapshot(db)
  local s = { tables = {}, views = {}, triggers = {}, enums = {}, sequences = {}, extensions = {} }
  for r in db:rows("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name") do
    if r.type == "table" then
      s.tables[r.name] = r.sql
    elseif r.type == "view" then
      s.views[r.name] = r.sql
    elseif r.type == "trigger" then
      s.triggers[r.name] = { table = r.tbl_name, sql = r.sql }
    end
  end
  for name, sql in pairs(s.tables) do s.tables[name] = sqlite_table_info(db, name, sql) end
  if s.tables.luamig_enums then -- enum types kept by luamig.ops (CHECKs on their columns)
    for r in db:rows "SELECT name, vals FROM luamig_enums ORDER BY name" do
      local values = {}
      for v in (r.vals .. "\n"):gmatch("(.-)\n") do values[#values + 1] = v end
      s.enums[r.name] = { values = values }
    end
  end
  return s
end

-- ------------------------------------------------------------ PostgreSQL

local ACTIONS = { a = "NO ACTION", r = "RESTRICT", c = "CASCADE", n = "SET NULL", d = "SET DEFAULT" }

local function pg_columns_of(db, rel_oid, attnums)
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

local function pg_snapshot(db)
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
  for name, ref in pairs(s.tables) do
    local t = { columns = {}, primary_key = {}, indexes = {}, uniques = {}, checks = {}, foreign_keys = {} }
    for c in db:rows([[
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity
FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum]], ref.oid) do
      t.columns[#t.columns + 1] = { name = c.attname, type = c.type, nullable = not c.attnotnull,
        default = c.def or (c.attidentity ~= "" and c.attidentity and ("identity " .. c.attidentity) or nil) }
    end
    for c in db:rows([[
SELECT conname, contype, conkey::text AS conkey, confkey::text AS confkey, confrelid::regclass::text AS ref,
       confdeltype, confupdtype, pg_catalog.pg_get_constraintdef(oid, true) AS def, confrelid
FROM pg_catalog.pg_constraint WHERE conrelid = ? ORDER BY conname]], ref.oid) do
      local cols = pg_columns_of(db, ref.oid, numbers(c.conkey))
      if c.contype == "p" then
        t.primary_key = cols
      elseif c.contype == "u" then
        t.uniques[#t.uniques + 1] = { name = c.conname, columns = cols }
      elseif c.contype == "c" then
        t.checks[#t.checks + 1] = { name = c.conname, condition = c.def:match("^CHECK %((.*)%)$") or c.def }
      elseif c.contype == "f" then
        t.foreign_keys[#t.foreign_keys + 1] = { name = c.conname, columns = cols, references = c.ref,
          ref_columns = pg_columns_of(db, c.confrelid, numbers(c.confkey)),
          on_delete = ACTIONS[c.confdeltype], on_update = ACTIONS[c.confupdtype] }
      end
    end
    for ix in db:rows([[
SELECT i.relname, x.indisunique, x.indkey::text AS indkey, pg_catalog.pg_get_expr(x.indpred, x.indrelid) AS pred
FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = ? AND NOT x.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype = 'u')
ORDER BY i.relname]], ref.oid) do
      t.indexes[ix.relname] = { columns = pg_columns_of(db, ref.oid, numbers(ix.indkey)), unique = ix.indisunique,
        where = ix.pred }
    end
    for tr in db:rows([[
SELECT tgname, pg_catalog.pg_get_triggerdef(oid) AS def FROM pg_catalog.pg_trigger
WHERE tgrelid = ? AND NOT tgisinternal]], ref.oid) do
      s.triggers[tr.tgname] = { table = name, sql = tr.def }
    end
    s.tables[name] = t
  end
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

---The schema of the database `db` is connected to (PostgreSQL: its current
---schema), without luamig's own tables (version tables, SQLite's enum
---list, backfill checkpoints).
---@param db table
---@return table snapshot
function M.snapshot(db)
  local s = (db.dialect == "postgresql" and pg_snapshot or sqlite_snapshot)(db)
  for name in pairs(s.tables) do
    if name:match("^luamig_version") or name == "luamig_enums" or name == "luamig_backfill" then
      s.tables[name] = nil
    end
  end
  for name in pairs(s.sequences) do
    if name:match("^luamig_version") then s.sequences[name] = nil end
  end
  return s
end

-- ------------------------------------------------------------ comparing

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
    if a then
      local ecols, acols = {}, {}
      for _, c in ipairs(e.columns) do ecols[c.name] = c end
      for _, c in ipairs(a.columns) do acols[c.name] = c end
      compare_sets(ecols, acols, "column", function(kind, col, what) say(kind, name .. "." .. col, what) end)
      for _, col in ipairs(sorted_keys(ecols)) do
        local ec, ac = ecols[col], acols[col]
        if ac then
          for _, field in ipairs({ "type", "nullable", "default" }) do
            if ec[field] ~= ac[field] then
              say("column", name .. "." .. col, ("changed: %s %s -> %s"):format(field, tostring(ec[field]),
                tostring(ac[field])))
            end
          end
        end
      end
      if list_text(e.primary_key) ~= list_text(a.primary_key) then
        say("primary key of", name, ("changed: (%s) -> (%s)"):format(list_text(e.primary_key), list_text(a.primary_key)))
      end
      local function index_text(ix) return ("(%s)%s%s"):format(list_text(ix.columns), ix.unique and " unique" or "",
        ix.where and (" where " .. ix.where) or "") end
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
