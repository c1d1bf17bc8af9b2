--- DDL text for the schema ops: column definitions and table constraints,
--- with the type vocabulary and autoincrement of the dialect passed in. Pure
--- string building; names are always quoted, literal defaults always go
--- through quote_literal.
local common = require "luamig.dialect.sql"
local errors = require "luamig.util.errors"

local M = {}

local q = common.quote_ident

---The SQL type for portable type `t` ("string(255)", "numeric(10,2)",
---"uuid") on dialect `d` (its type_names), or nil when `t` is none.
---@param d table luamig dialect
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
---@param d table luamig dialect
---@param t string|{raw: string}
---@return string
function M.type(d, t)
  if type(t) == "table" and type(t.raw) == "string" then return t.raw end
  if type(t) ~= "string" or t == "" then errors.raise("migration", 'a column needs a type (e.g. "text", "string(80)")') end
  return M.portable(d, t) or t
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
function M.qualified(name)
  local schema, rel = name:match("^([^.]+)%.([^.]+)$")
  if schema then return q(schema) .. "." .. q(rel) end
  return q(name)
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
---@param d table luamig dialect
---@param c luamig.ColumnSpec
---@param inline_pk boolean
---@return string
function M.column(d, c, inline_pk)
  local name, typ = c[1] or c.name, c[2] or c.type
  if type(name) ~= "string" or name == "" then errors.raise("migration", "a column needs a name as its first item") end
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
function M.constraint(c)
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
---@param d table luamig dialect
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
  for _, c in ipairs(constraints or {}) do items[#items + 1] = M.constraint(c) end
  return ("CREATE TABLE %s%s (\n  %s\n)"):format(if_not_exists and "IF NOT EXISTS " or "", M.qualified(name),
    table.concat(items, ",\n  "))
end

return M
