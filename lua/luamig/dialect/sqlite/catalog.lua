--- SQLite's catalog snapshot (the model is luamig.model.schema):
--- sqlite_master and the table pragmas, with CHECK constraints, generated
--- columns and foreign-key deferrability read from each table's CREATE
--- TABLE text. Indexes, views and triggers keep their SQL text, compared
--- when no field tells a difference; a table's text (create_sql) is not
--- compared: a rebuild by the batch ops writes the same table differently.
local table_sql = require "luamig.dialect.sqlite.table_sql"
local enums = require "luamig.dialect.sqlite.enum_list"
local model = require "luamig.model.schema"
local named = require "luamig.dialect.sqlite.named"

local M = {}

local function lower(s) return s and s:lower() or nil end

-- Constraints have no names in SQLite unless written: key them by their text.
local function add_constraint(t, key, x)
  local k, n = key, 1
  while t.constraints[k] do
    n = n + 1
    k = key .. " #" .. n
  end
  t.constraints[k] = x
end

local function ci(word) return (word:gsub("%a", function(c) return "[" .. c:upper() .. c:lower() .. "]" end)) end
local CHECK, REFERENCES, FOREIGN = ci "check", ci "references", ci "foreign" .. "%s+" .. ci "key"
local DEFERRABLE, NOT_DEFERRABLE = ci "deferrable", ci "not" .. "%s+" .. ci "deferrable"
local DEFERRED = ci "initially" .. "%s+" .. ci "deferred"
local GENERATED = "^" .. ci "generated" .. "%s+" .. ci "always" .. "%s+" .. ci "as" .. "%s*(%b())"
local AS = "^" .. ci "as" .. "%s*(%b())"
local COLLATE = "^" .. ci "collate" .. "%s+(%S+)"

-- What the CREATE TABLE text says and no pragma does: checks, generation
-- expressions, deferrable foreign keys (by their first column).
local function nothing() return { checks = {}, generated = {}, deferral = {}, collation = {}, autoincrement = {} } end

local function from_sql(sql)
  local out = nothing()
  local function deferral(text, first)
    if first and text:find(REFERENCES) then
      out.deferral[first:lower()] = { deferrable = (text:find(DEFERRABLE) and not text:find(NOT_DEFERRABLE)) and true
        or nil, deferred = text:find(DEFERRED) and true or nil }
    end
  end
  for _, item in ipairs(table_sql.parse(sql).items) do
    local text = item.text
    if item.kind == "constraint" then
      local cond = text:match("^.-" .. CHECK .. "%s*(%b())")
      if cond then out.checks[#out.checks + 1] = { name = item.name, condition = cond:sub(2, -2) } end
      local cols = text:match(FOREIGN .. "%s*(%b())")
      deferral(text, cols and table_sql.unquote(cols:sub(2, -2):match("^%s*([^,%s]+)")))
    else
      local _, _, clauses = table_sql.column_parts(text)
      for _, cl in ipairs(clauses) do
        local cond = cl:match("^" .. CHECK .. "%s*(%b())") or cl:match("^CONSTRAINT.-CHECK%s*(%b())")
        if cond then out.checks[#out.checks + 1] = { condition = cond:sub(2, -2), column = item.name } end
        local gen = cl:match(GENERATED) or cl:match(AS)
        if gen then out.generated[item.name:lower()] = gen:sub(2, -2) end
        local coll = cl:match(COLLATE)
        if coll then out.collation[item.name:lower()] = table_sql.unquote(coll):lower() end
      end
      if text:find(ci "autoincrement") then out.autoincrement[item.name:lower()] = true end
      deferral(text, item.name)
    end
  end
  return out
end

---The CHECK constraints CREATE TABLE text `sql` declares: each {name?,
---condition, column?} (column: written in that column's definition).
---@param sql string
---@return {name: string?, condition: string, column: string?}[]
function M.checks(sql) return from_sql(sql).checks end

local function columns(db, t, name, parsed)
  local pk = {}
  for r in db:rows("SELECT name, type, \"notnull\" AS nn, dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid",
    name) do
    t.columns[#t.columns + 1] = { name = r.name, type = lower(r.type) or "", nullable = r.nn == 0 and r.pk == 0,
      default = r.dflt_value, hidden = r.hidden == 1 or nil, generated = r.hidden >= 2 and
      parsed.generated[r.name:lower()] or nil, stored = r.hidden == 3 or nil,
      collation = parsed.collation[r.name:lower()], autoincrement = parsed.autoincrement[r.name:lower()] }
    if r.pk > 0 then pk[#pk + 1] = { r.pk, r.name } end
  end
  table.sort(pk, function(a, b) return a[1] < b[1] end)
  for i, p in ipairs(pk) do t.primary_key[i] = p[2] end
end

-- The parts of index SQL `sql`'s column list, split at top-level commas.
local function key_texts(sql)
  local open = sql:find("(", 1, true)
  local inner = open and sql:match("^%b()", open)
  local out = {}
  if not inner then return out end
  inner = inner:sub(2, -2)
  local depth, start, quote = 0, 1, nil
  for i = 1, #inner + 1 do
    local ch = inner:sub(i, i)
    if quote then
      if ch == quote then quote = nil end
    elseif ch == "'" or ch == '"' then
      quote = ch
    elseif ch == "(" then
      depth = depth + 1
    elseif ch == ")" then
      depth = depth - 1
    elseif (ch == "," and depth == 0) or i == #inner + 1 then
      out[#out + 1] = inner:sub(start, i - 1):gsub("^%s+", ""):gsub("%s+$", "")
      start = i + 1
    end
  end
  return out
end

-- An expression key's text: without ASC/DESC, COLLATE and outer parentheses.
local function expr_text(text)
  text = text:gsub("%s+[Dd][Ee][Ss][Cc]$", ""):gsub("%s+[Aa][Ss][Cc]$", "")
  while text:match("^%b()$") do text = text:sub(2, -2) end
  return text
end

-- The keys (luamig.IndexKey) and key texts of index `ix` whose SQL is `sql`.
local function index_keys(db, ix, sql)
  local texts, keys, cols = key_texts(sql or ""), {}, {}
  for c in db:rows("SELECT name, cid, \"desc\" AS d FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno", ix) do
    local i = #keys + 1
    local expr = c.cid == -2 and expr_text(texts[i] or "?") or nil
    keys[i] = { column = c.name, expr = expr, order = c.d == 1 and "desc" or nil }
    cols[i] = c.name or expr
  end
  return keys, cols
end

local function indexes(db, t, name)
  for ix in db:rows("SELECT name, \"unique\" AS u, origin, partial FROM pragma_index_list(?)", name) do
    local cols = {}
    for c in db:rows("SELECT name, cid FROM pragma_index_info(?) ORDER BY seqno", ix.name) do
      cols[#cols + 1] = c.name or "(expression)"
    end
    if ix.origin == "u" then
      t.uniques[#t.uniques + 1] = { columns = cols }
      add_constraint(t, "(" .. table.concat(cols, ", ") .. ")", { type = "unique", columns = cols })
    elseif ix.origin == "c" then
      local isql = db:scalar("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", ix.name) or ""
      local where = ix.partial == 1 and isql:match("[Ww][Hh][Ee][Rr][Ee]%s+(.-)%s*$") or nil
      local keys, texts = index_keys(db, ix.name, isql)
      t.indexes[ix.name] = { name = ix.name, columns = texts, keys = keys, unique = ix.u == 1, where = where,
        sql = isql }
    end
  end
end

local function foreign_keys(db, t, name, parsed)
  local fks = {}
  for r in db:rows("SELECT id, seq, \"table\" AS ref, \"from\" AS col, \"to\" AS refcol, on_update, on_delete, " ..
    "\"match\" AS m FROM pragma_foreign_key_list(?) ORDER BY id, seq", name) do
    local fk = fks[r.id + 1]
    if not fk then
      fk = { columns = {}, references = r.ref, ref_columns = {}, on_delete = r.on_delete, on_update = r.on_update }
      fks[r.id + 1] = fk
    end
    fk.columns[#fk.columns + 1] = r.col
    fk.ref_columns[#fk.ref_columns + 1] = r.refcol
  end
  for i = #fks, 1, -1 do -- the pragma lists them last first
    local fk = fks[i]
    if #fk.ref_columns == 0 then -- `REFERENCES t` names no column: t's primary key
      for c in db:rows("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", fk.references) do
        fk.ref_columns[#fk.ref_columns + 1] = c.name
      end
    end
    t.foreign_keys[#t.foreign_keys + 1] = fk
    local d = parsed.deferral[fk.columns[1]:lower()] or {}
    add_constraint(t, ("(%s) -> %s (%s)"):format(table.concat(fk.columns, ", "), fk.references,
      table.concat(fk.ref_columns, ", ")), { type = "foreign key", columns = fk.columns, references = fk.references,
      ref_columns = fk.ref_columns, on_delete = fk.on_delete, on_update = fk.on_update, deferrable = d.deferrable,
      deferred = d.deferred })
  end
end

local function table_info(db, r)
  local t = { name = r.name, kind = r.type == "virtual" and "virtual table" or "table", columns = {}, primary_key = {},
    indexes = {}, constraints = {}, uniques = {}, checks = {}, foreign_keys = {}, strict = r.strict == 1 or nil,
    without_rowid = r.wr == 1 or nil, create_sql = r.sql }
  local parsed = r.type == "virtual" and nothing() or from_sql(r.sql)
  columns(db, t, r.name, parsed)
  if r.type == "virtual" then return t end
  indexes(db, t, r.name)
  foreign_keys(db, t, r.name, parsed)
  for _, c in ipairs(parsed.checks) do
    t.checks[#t.checks + 1] = c
    add_constraint(t, c.name or ("(" .. c.condition .. ")"), { name = c.name, type = "check",
      condition = c.condition })
  end
  return t
end

---A table's row count and its rows in primary-key order (all columns
---without one) folded into one text, computed in the database in one query
---(SQLite has no hash function: the text is the checksum).
---@param db luamig.Db
---@param t luamig.Table
---@return integer rows, string checksum
function M.fingerprint(db, t)
  local q = db.dialect.quote_ident
  local cols, order = {}, {}
  for i, c in ipairs(t.columns) do cols[i] = "quote(" .. q(c.name) .. ")" end
  for i, c in ipairs(t.primary_key) do order[i] = q(c) end
  local row = table.concat(cols, " || ',' || ")
  local r = db:first(("SELECT count(*) AS n, coalesce(group_concat(r, char(10)), '') AS sum FROM " ..
    "(SELECT %s AS r FROM %s ORDER BY %s)"):format(row, q(t.name), #order > 0 and table.concat(order, ", ") or "1"))
  return tonumber(r.n), r.sum
end

---The schema snapshot (luamig.model.schema) of the main database; with
---opts.named, every constraint named when its CREATE TABLE names it
---(luamig.dialect.sqlite.named).
---@param db luamig.Db
---@param opts {named: boolean?}?
---@return luamig.Snapshot
function M.snapshot(db, opts)
  local s = model.new()
  for r in db:rows([[
SELECT m.type AS mtype, m.name, m.tbl_name, m.sql, l.type, l.wr, l.strict FROM sqlite_master m
LEFT JOIN pragma_table_list l ON l.schema = 'main' AND l.name = m.name
WHERE m.name NOT LIKE 'sqlite_%' AND m.type <> 'index' AND COALESCE(l.type, '') <> 'shadow' ORDER BY m.name]]) do
    if r.mtype == "table" then
      s.tables[r.name] = table_info(db, r)
    elseif r.mtype == "view" then
      s.views[r.name] = { name = r.name, definition = r.sql }
    elseif r.mtype == "trigger" then
      s.triggers[r.name] = { name = r.name, table = r.tbl_name, sql = r.sql }
    end
  end
  if s.tables[enums.TABLE] then -- enum types kept by the enum ops (CHECKs on their columns)
    for r in db:rows("SELECT name, vals FROM " .. enums.TABLE .. " ORDER BY name") do
      s.enums[r.name] = { name = r.name, values = enums.split(r.vals) }
    end
  end
  if opts and opts.named then named.name_constraints(db, s) end
  return s
end

return M
