--- The SQL of declared objects beyond tables that take options
--- (schema.domain, schema.policy, a table's row_security): their options,
--- checked, and the statements that create and change them. Identifiers
--- are quoted here; expressions are the caller's SQL.
local ddl = require "luamig.model.ddl"
local sqltext = require "luamig.model.sql"
local q = sqltext.quote_ident

local M = {}

---@class luamig.DomainOptions  schema.domain's options
---@field type string            the base type (a portable name or the database's)
---@field default string?        an SQL expression
---@field not_null boolean?
---@field checks (string|{name: string, condition: string})[]?  CHECK conditions on VALUE, each named or not

---@class luamig.PolicyOptions  schema.policy's options (CREATE POLICY's clauses)
---@field command "all"|"select"|"insert"|"update"|"delete"?  FOR (default all)
---@field as "permissive"|"restrictive"?  AS (default permissive)
---@field roles string[]?        TO (default { "public" }: every role)
---@field using string?          USING: which rows are visible
---@field with_check string?     WITH CHECK: which rows may be written

M.DOMAIN_OPTIONS = { "type", "default", "not_null", "checks" }
M.POLICY_OPTIONS = { "command", "as", "roles", "using", "with_check" }
M.COMMANDS = { "all", "select", "insert", "update", "delete" }
M.AS = { "permissive", "restrictive" }

-- What is wrong with option `k` = `v` of a policy, or nil.
function M.policy_problem(k, v)
  local function one_of(list)
    for _, x in ipairs(list) do if type(v) == "string" and v:lower() == x then return nil end end
    return ("%s must be one of %s"):format(k, table.concat(list, ", "))
  end
  if k == "command" then return one_of(M.COMMANDS) end
  if k == "as" then return one_of(M.AS) end
  if k == "roles" then
    if type(v) ~= "table" or #v == 0 then return "roles must be a list of role names" end
    for _, r in ipairs(v) do if type(r) ~= "string" then return "roles must be a list of role names" end end
    return nil
  end
  if type(v) ~= "string" then return k .. " must be an SQL expression (a string)" end
end

-- A role as TO names it: PUBLIC, else quoted.
local function role(r) return r:lower() == "public" and "PUBLIC" or q(r) end

local function roles(list)
  local out = {}
  for i, r in ipairs(list or { "public" }) do out[i] = role(r) end
  return table.concat(out, ", ")
end

---ON `table` of policy `name` ("docs_own" ON "docs").
---@param name string
---@param table_name string
---@return string
function M.policy_ref(name, table_name) return q(name) .. " ON " .. ddl.qualified(table_name) end

---CREATE POLICY `name` ON `table_name` with options `o`.
---@param name string
---@param table_name string
---@param o luamig.PolicyOptions
---@return string
function M.create_policy(name, table_name, o)
  return ("CREATE POLICY %s AS %s FOR %s TO %s%s%s"):format(M.policy_ref(name, table_name),
    (o.as or "permissive"):upper(), (o.command or "all"):upper(), roles(o.roles),
    o.using and (" USING (" .. o.using .. ")") or "", o.with_check and (" WITH CHECK (" .. o.with_check .. ")") or "")
end

---ALTER POLICY setting roles, USING and WITH CHECK (what ALTER POLICY can change).
---@param name string
---@param table_name string
---@param o luamig.PolicyOptions
---@return string
function M.alter_policy(name, table_name, o)
  return ("ALTER POLICY %s TO %s%s%s"):format(M.policy_ref(name, table_name), roles(o.roles),
    o.using and (" USING (" .. o.using .. ")") or "", o.with_check and (" WITH CHECK (" .. o.with_check .. ")") or "")
end

---DROP POLICY.
function M.drop_policy(name, table_name) return "DROP POLICY " .. M.policy_ref(name, table_name) end

---ALTER TABLE turning row-level security on or off, or (`forced`) its FORCE for the table's owner.
---@param table_name string
---@param on boolean
---@param forced boolean?  the FORCE setting instead
---@return string
function M.row_security(table_name, on, forced)
  local what = forced and (on and "FORCE" or "NO FORCE") or (on and "ENABLE" or "DISABLE")
  return ("ALTER TABLE %s %s ROW LEVEL SECURITY"):format(ddl.qualified(table_name), what)
end

---A domain check as {name, condition}.
---@param c string|{name: string, condition: string}
---@return {name: string?, condition: string}
function M.domain_check(c)
  if type(c) == "string" then return { condition = c } end
  return { name = c.name, condition = c.condition }
end

---CREATE DOMAIN `name` AS `base` (the SQL type) with options `o`.
---@param name string
---@param base string
---@param o luamig.DomainOptions
---@return string
function M.create_domain(name, base, o)
  local parts = { "CREATE DOMAIN " .. ddl.qualified(name) .. " AS " .. base }
  if o.default ~= nil then parts[#parts + 1] = "DEFAULT " .. tostring(o.default) end
  if o.not_null then parts[#parts + 1] = "NOT NULL" end
  for _, c in ipairs(o.checks or {}) do
    c = M.domain_check(c)
    parts[#parts + 1] = (c.name and ("CONSTRAINT " .. q(c.name) .. " ") or "") .. "CHECK (" .. c.condition .. ")"
  end
  return table.concat(parts, " ")
end

---ALTER DOMAIN `name` `action` ("SET NOT NULL", ...).
function M.alter_domain(name, action) return "ALTER DOMAIN " .. ddl.qualified(name) .. " " .. action end

return M
