--- DDL text for the schema ops: column definitions and table constraints,
--- with the type vocabulary and autoincrement of the dialect passed in. Pure
--- string building; names are always quoted, literal defaults always go
--- through quote_literal.
local common = require "luamig.model.sql"
local errors = require "luamig.util.errors"

local M = {}

local q = common.quote_ident

---`name` itself, or an error when it is longer than dialect `d`'s limit
---(d.max_identifier bytes), which the database would silently truncate.
---@param d luamig.Dialect|table  (or its types module)
---@param name string
---@param what string?  "column", "index" ...
---@return string
function M.identifier(d, name, what)
  local max = d.max_identifier
  if max and type(name) == "string" and #name > max then
    errors.raise("migration", ("%s name %q is %d bytes, longer than the database's limit of %d bytes (it would " ..
      "be truncated); choose a shorter name"):format(what or "identifier", name, #name, max))
  end
  return name
end

---The SQL type for portable type `t` ("string(255)", "numeric(10,2)",
---"uuid") on dialect `d` (its type_names), or nil when `t` is none.
---@param d luamig.Dialect
---@param t string
---@return string?
function M.portable(d, t)
  local base, args = t:match("^%s*([%a_]+)%s*(%b())%s*$")
  base = base or t:match("^%s*([%a_]+)%s*$")
  local mapped = base and d.type_names[base:lower()]
  if not mapped then return nil end
  return mapped .. (args and args:gsub("%s", "") or "")
end

---The SQL type for a portable name, `{ raw = "SQL" }` (as written), or a
---type of the database's own (passed through as written: CITEXT, an enum's
---name, "INTEGER[]" ...; luamig.schema.check refuses an unknown one).
---@param d luamig.Dialect
---@param t string|{raw: string}
---@return string
function M.type(d, t)
  if type(t) == "table" and type(t.raw) == "string" then return t.raw end
  if type(t) ~= "string" or t == "" then errors.raise("migration", 'a column needs a type (e.g. "text", "string(80)")') end
  return M.portable(d, t) or t
end

---A column spec's `nullable` for a column that is nullable or not: false, or
---nil (the default).
---@param nullable boolean
---@return false?
function M.nullable(nullable)
  if not nullable then return false end
  return nil
end

---A column type as a column spec's: as written when the op vocabulary reads
---it as the same type, else { raw = t } (PostgreSQL's json is not the
---portable json, which is jsonb).
---@param d table  the dialect
---@param t string
---@return string|{raw: string}
function M.spec_type(d, t)
  local mapped = M.portable(d, t)
  if mapped == nil or mapped:lower() == t:lower() then return t end
  return { raw = t }
end

---@class luamig.ColumnSpec
---@field [1] string   name
---@field [2] string|{raw: string}   type (portable, the database's, or raw SQL)
---@field nullable boolean?        default true (false for primary keys)
---@field primary_key boolean?
---@field autoincrement boolean?   integer primary key numbered by the database
---@field unique boolean?
---@field default any?             a literal value
---@field server_default string?   an SQL expression, as written
---@field references string?       "table.column" or "table" (its primary key)
---@field on_delete string?
---@field on_update string?
---@field check string?            an SQL condition

local ACTIONS = { ["CASCADE"] = true, ["SET NULL"] = true, ["SET DEFAULT"] = true, ["RESTRICT"] = true,
  ["NO ACTION"] = true }

local function action(kind, v)
  if v == nil then return "" end
  local up = tostring(v):upper()
  if not ACTIONS[up] then
    errors.raise("migration", ("%s must be one of CASCADE, SET NULL, SET DEFAULT, RESTRICT, NO ACTION (got %s)")
      :format(kind, v))
  end
  return (" %s %s"):format(kind == "on_delete" and "ON DELETE" or "ON UPDATE", up)
end

---" REFERENCES t (c) ON DELETE ..." for `ref` ("table.column", "table", or
---"schema.table.column" read as table "schema.table").
function M.references(ref, ref_columns, on_delete, on_update)
  local tbl, col = ref, nil
  if not ref_columns then tbl, col = ref:match("^(.+)%.([^.]+)$") end
  if not tbl then tbl = ref end
  local cols = ref_columns or (col and { col }) or nil
  return (" REFERENCES %s%s%s%s"):format(M.qualified(tbl), cols and (" (" .. M.names(cols) .. ")") or "",
    action("on_delete", on_delete), action("on_update", on_update))
end

---A possibly schema-qualified name, quoted part by part.
function M.qualified(name, d)
  local schema, rel = name:match("^([^.]+)%.([^.]+)$")
  if d then M.identifier(d, rel or name, "table") end
  if schema then return q(schema) .. "." .. q(rel) end
  return q(name)
end

---UPDATE `t` setting each column of `set` (column -> SQL expression, in
---name order) on the rows of `where` (SQL, optional) whose `key` lies
---between the placeholders `lo` and `hi` ("?", ":first"): one batch of a
---server-side backfill.
---@param t string
---@param set table<string, string>
---@param where string?
---@param key string
---@param lo string
---@param hi string
---@return string
function M.range_update(t, set, where, key, lo, hi)
  local cols = {}
  for c in pairs(set) do cols[#cols + 1] = c end
  table.sort(cols)
  for i, c in ipairs(cols) do cols[i] = ("%s = %s"):format(q(c), set[c]) end
  return ("UPDATE %s SET %s WHERE %s%s >= %s AND %s <= %s"):format(M.qualified(t), table.concat(cols, ", "),
    where and ("(" .. where .. ") AND ") or "", q(key), lo, q(key), hi)
end

---Quoted, comma-separated names.
function M.names(list)
  local out = {}
  for i, n in ipairs(list) do out[i] = q(n) end
  return table.concat(out, ", ")
end

---The SQL for a default: a literal value, or a server_default expression.
function M.default(spec)
  if spec.server_default ~= nil then return tostring(spec.server_default) end
  if spec.default ~= nil then return common.quote_literal(spec.default) end
  return nil
end

---One column's definition. `inline_pk`: this column alone is the primary key.
---@param d luamig.Dialect
---@param c luamig.ColumnSpec
---@param inline_pk boolean
---@return string
function M.column(d, c, inline_pk)
  local name, typ = c[1] or c.name, c[2] or c.type
  if type(name) ~= "string" or name == "" then errors.raise("migration", "a column needs a name as its first item") end
  M.identifier(d, name, "column")
  local sql_type = M.type(d, typ)
  local parts = { q(name) }
  if c.autoincrement then
    parts[#parts + 1] = d.autoincrement(sql_type, inline_pk)
  else
    parts[#parts + 1] = inline_pk and (sql_type .. " PRIMARY KEY") or sql_type
  end
  if c.nullable == false and not inline_pk then parts[#parts + 1] = "NOT NULL" end
  if c.unique then parts[#parts + 1] = "UNIQUE" end
  local def = M.default(c)
  if def then parts[#parts + 1] = "DEFAULT " .. (def:match("^[%w_.'\"+-]+$") and def or ("(" .. def .. ")")) end
  if c.check then parts[#parts + 1] = "CHECK (" .. c.check .. ")" end
  if c.references then parts[#parts + 1] = M.references(c.references, nil, c.on_delete, c.on_update):sub(2) end
  return table.concat(parts, " ")
end

---@class luamig.ConstraintSpec
---@field type "primary_key"|"unique"|"check"|"foreign_key"
---@field name string?
---@field columns string[]?
---@field condition string?     check
---@field references string?    foreign_key: the referenced table
---@field ref_columns string[]? foreign_key
---@field on_delete string?
---@field on_update string?

---A table constraint clause.
---@param c luamig.ConstraintSpec
---@return string
function M.constraint(c, d)
  if d and c.name then M.identifier(d, c.name, "constraint") end
  local head = c.name and ("CONSTRAINT " .. q(c.name) .. " ") or ""
  if c.type == "primary_key" then return head .. "PRIMARY KEY (" .. M.names(c.columns) .. ")" end
  if c.type == "unique" then return head .. "UNIQUE (" .. M.names(c.columns) .. ")" end
  if c.type == "check" then return head .. "CHECK (" .. c.condition .. ")" end
  if c.type == "foreign_key" then
    return head .. "FOREIGN KEY (" .. M.names(c.columns) .. ")" ..
        M.references(c.references, c.ref_columns or c.columns, c.on_delete, c.on_update)
  end
  errors.raise("migration", ("unknown constraint type %s (primary_key, unique, check, foreign_key)")
    :format(tostring(c.type)))
end

---CREATE TABLE for `name` with columns and table constraints.
---@param d luamig.Dialect
---@param name string
---@param columns luamig.ColumnSpec[]
---@param constraints luamig.ConstraintSpec[]?
---@param if_not_exists boolean?
---@return string
function M.create_table(d, name, columns, constraints, if_not_exists)
  local pk = {}
  for _, c in ipairs(columns) do
    if c.primary_key then pk[#pk + 1] = c[1] or c.name end
  end
  local items = {}
  for _, c in ipairs(columns) do items[#items + 1] = M.column(d, c, #pk == 1 and c.primary_key or false) end
  if #pk > 1 then items[#items + 1] = "PRIMARY KEY (" .. M.names(pk) .. ")" end
  for _, c in ipairs(constraints or {}) do items[#items + 1] = M.constraint(c, d) end
  return ("CREATE TABLE %s%s (\n  %s\n)"):format(if_not_exists and "IF NOT EXISTS " or "", M.qualified(name, d),
    table.concat(items, ",\n  "))
end

---@class luamig.IndexKeySpec  one entry of an index's column list (or a bare column name)
---@field [1] string?     a column
---@field expr string?    an expression instead ("lower(email)")
---@field opclass string? an operator class ("jsonb_path_ops")
---@field order "asc"|"desc"?
---@field nulls "first"|"last"?

---@class luamig.IndexOptions
---@field unique boolean?
---@field using string?      btree (default), hash, gist, gin, brin, spgist
---@field include string[]?  INCLUDE columns
---@field nulls_not_distinct boolean?
---@field where string?      partial index predicate
---@field concurrently boolean?  PostgreSQL: CREATE INDEX CONCURRENTLY (outside a transaction)
---@field if_not_exists boolean?

---The options of a sequence (schema.sequence): its type and parameters.
M.SEQUENCE_OPTIONS = { "type", "start", "increment", "min", "max", "cache", "cycle" }

---The clauses of CREATE / ALTER SEQUENCE for options `o` (M.SEQUENCE_OPTIONS).
---@param o table
---@return string
function M.sequence_clauses(o)
  local out = {}
  local function add(fmt, v) if v ~= nil then out[#out + 1] = fmt:format(tostring(v)) end end
  add("AS %s", o.type)
  add("INCREMENT BY %s", o.increment)
  add("MINVALUE %s", o.min)
  add("MAXVALUE %s", o.max)
  add("START WITH %s", o.start)
  add("CACHE %s", o.cache)
  if o.cycle ~= nil then out[#out + 1] = o.cycle and "CYCLE" or "NO CYCLE" end
  return table.concat(out, " ")
end

---CREATE SEQUENCE `name` with options `o`.
---@param name string
---@param o table
---@return string
function M.create_sequence(name, o)
  local clauses = M.sequence_clauses(o)
  return "CREATE SEQUENCE " .. M.qualified(name) .. (clauses ~= "" and (" " .. clauses) or "")
end

M.INDEX_OPTIONS = { "unique", "using", "include", "nulls_not_distinct", "where", "concurrently", "if_not_exists" }
M.INDEX_KEY_FIELDS = { "expr", "opclass", "order", "nulls" }
local FEATURE_OF = { opclass = "operator classes", nulls = "NULLS FIRST/LAST", include = "INCLUDE",
  nulls_not_distinct = "NULLS NOT DISTINCT" }

local function one_of(v, allowed)
  for _, a in ipairs(allowed) do if v == a then return true end end
  return false
end

local function need(d, feature, index)
  if not d.index_features[feature] then
    errors.raise("migration", ("index %s: %s has no %s"):format(index, d.index_features.backend, FEATURE_OF[feature]))
  end
end

-- One entry of an index's column list as SQL.
local function index_key(d, index, e, i)
  if type(e) == "string" and e ~= "" then return q(e) end
  if type(e) ~= "table" then
    errors.raise("migration", ("index %s: column %d must be a name or a table ({ \"col\", order = \"desc\" } or " ..
      "{ expr = \"lower(email)\" })"):format(index, i))
  end
  if (e[1] == nil) == (e.expr == nil) then
    errors.raise("migration", ("index %s: column %d needs a column name or expr, not both"):format(index, i))
  end
  local parts = { e.expr and ("(" .. tostring(e.expr) .. ")") or q(e[1]) }
  if e.opclass then
    need(d, "opclass", index)
    parts[#parts + 1] = tostring(e.opclass):match("^[%w_.]+$") and e.opclass or q(e.opclass)
  end
  if e.order ~= nil then
    if not one_of(e.order, { "asc", "desc" }) then
      errors.raise("migration", ("index %s: column %d: order must be \"asc\" or \"desc\""):format(index, i))
    end
    parts[#parts + 1] = e.order:upper()
  end
  if e.nulls ~= nil then
    need(d, "nulls", index)
    if not one_of(e.nulls, { "first", "last" }) then
      errors.raise("migration", ("index %s: column %d: nulls must be \"first\" or \"last\""):format(index, i))
    end
    parts[#parts + 1] = "NULLS " .. e.nulls:upper()
  end
  return table.concat(parts, " ")
end

---CREATE INDEX `name` ON `table_name` for dialect `d`; `concurrently` is
---the dialect's keyword for opts.concurrently ("" where there is none).
---Methods and features the dialect lacks are errors (luamig.schema.check
---refuses unknown keys before).
---@param d luamig.Dialect
---@param name string
---@param table_name string
---@param columns (string|luamig.IndexKeySpec)[]
---@param opts luamig.IndexOptions?
---@param concurrently string?
---@return string
function M.create_index(d, name, table_name, columns, opts, concurrently)
  opts = opts or {}
  if type(opts) ~= "table" then errors.raise("migration", ("index %s: options must be a table"):format(name)) end
  M.identifier(d, name, "index")
  if type(columns) ~= "table" or #columns == 0 then
    errors.raise("migration", ("index %s: needs a list of columns"):format(name))
  end
  local keys = {}
  for i, e in ipairs(columns) do keys[i] = index_key(d, name, e, i) end
  local using = ""
  if opts.using ~= nil then
    local m = tostring(opts.using):lower()
    if not d.index_features.methods[m] then
      local known = {}
      for k in pairs(d.index_features.methods) do known[#known + 1] = k end
      table.sort(known)
      errors.raise("migration", ("index %s: %s has no index method %q (it has %s)"):format(name, d.index_features.backend,
        tostring(opts.using), table.concat(known, ", ")))
    end
    using = d.index_features.opclass and (" USING " .. m) or ""
  end
  local include = ""
  if opts.include ~= nil then
    need(d, "include", name)
    include = " INCLUDE (" .. M.names(opts.include) .. ")"
  end
  local nnd = ""
  if opts.nulls_not_distinct then
    need(d, "nulls_not_distinct", name)
    nnd = " NULLS NOT DISTINCT"
  end
  return ("CREATE %sINDEX %s%s%s ON %s%s (%s)%s%s%s"):format(opts.unique and "UNIQUE " or "", concurrently or "",
    opts.if_not_exists and "IF NOT EXISTS " or "", q(name), M.qualified(table_name), using, table.concat(keys, ", "),
    include, nnd, opts.where and (" WHERE " .. opts.where) or "")
end

return M
