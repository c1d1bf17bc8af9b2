--- Declared vs actual for the objects beyond tables that luamig.schema.compare
--- leaves to this module: domains, row-level security and its policies, and
--- comments on tables, columns, views, domains and policies. Each is
--- compared as the catalog normalizes it (pg_get_expr, pg_get_constraintdef,
--- pg_description) and changed with op.execute of SQL written by
--- luamig.model.ddl_objects.
local ddl = require "luamig.model.ddl"
local ddl_objects = require "luamig.model.ddl_objects"
local sqltext = require "luamig.model.sql"
local q = sqltext.quote_ident

local M = {}

local function names(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function exec(sql, extra)
  local ch = { call = "execute", args = { sql } }
  for k, v in pairs(extra or {}) do ch[k] = v end
  return ch
end

---The change setting the comment of object `ref` ("FUNCTION ...") to `e`'s,
---when it differs from `was`'s (nil: the object is new or made anew).
---@param out table[]
---@param ref string
---@param e table
---@param was table?
function M.comment_change(out, ref, e, was)
  if (was and was.comment) == e.comment or (not was and e.comment == nil) then return end
  out[#out + 1] = exec(("COMMENT ON %s IS %s"):format(ref, e.comment == nil and "NULL" or sqltext.quote_literal(e.comment)))
end

-- Domains ------------------------------------------------------------------

---The domains of snapshot `s`, by key.
---@param s luamig.Snapshot
---@return table<string, table>
function M.domains(s)
  local out = {}
  for k, t in pairs(s.types or {}) do
    if t.kind == "domain" then out[k] = t end
  end
  return out
end

local function check_key(c) return c.name .. "\0" .. c.def end

local function condition(def) return def:match("^CHECK %((.*)%)$") or def end

local function create_domain(out, n, e)
  local checks = {}
  for i, c in ipairs(e.checks or {}) do checks[i] = { name = c.name, condition = condition(c.def) } end
  out[#out + 1] = exec(ddl_objects.create_domain(n, e.base, { default = e.default, not_null = e.not_null, checks = checks }))
end

-- The ALTER DOMAIN changes taking domain `n` from `a` to `b` (same base type).
local function alter_domain(out, n, a, b)
  local function alter(action, caution)
    out[#out + 1] = exec(ddl_objects.alter_domain(n, action), { caution = caution and
      ("%s on domain %s fails where a column of that type already holds a value it refuses"):format(caution, n) })
  end
  if a.default ~= b.default then alter(b.default and ("SET DEFAULT " .. b.default) or "DROP DEFAULT") end
  if (a.not_null or false) ~= (b.not_null or false) then
    alter(b.not_null and "SET NOT NULL" or "DROP NOT NULL", b.not_null and "NOT NULL")
  end
  local had, has = {}, {}
  for _, c in ipairs(a.checks or {}) do had[check_key(c)] = true end
  for _, c in ipairs(b.checks or {}) do has[check_key(c)] = true end
  for _, c in ipairs(a.checks or {}) do
    if not has[check_key(c)] then alter("DROP CONSTRAINT " .. q(c.name)) end
  end
  for _, c in ipairs(b.checks or {}) do
    if not had[check_key(c)] then alter("ADD CONSTRAINT " .. q(c.name) .. " " .. c.def, "a check") end
  end
end

---Domain `n` created or changed to `e` (from `was`, nil: new), before the
---tables whose columns use it: ALTER DOMAIN where it can say the change; a
---new base type is a drop and a create, which fails while a column uses it.
---@param out table[]
---@param n string
---@param e table  the snapshot's domain
---@param was table?
function M.domain_change(out, n, e, was)
  if was and was.base ~= e.base then
    out[#out + 1] = exec("DROP DOMAIN " .. ddl.qualified(n), { caution = ("changes the base type of domain %s " ..
      "from %s to %s by dropping and creating it, which fails while a column uses it"):format(n, was.base, e.base) })
    was = nil
  end
  if not was then create_domain(out, n, e) else alter_domain(out, n, was, e) end
  M.comment_change(out, "DOMAIN " .. ddl.qualified(n), e, was)
end

---A caution on each column added (in `out`) whose type is a domain of `b` that is NOT NULL without a
---default (like a NOT NULL column without one, it fails on a table with rows) or, on an existing
---table, has checks or NOT NULL (PostgreSQL rewrites the table to check them); and on each column
---of an existing table changed to such a domain (no online form: not op.online.retype_column).
---@param out table[]
---@param b luamig.Snapshot
function M.domain_cautions(out, b)
  local bd = M.domains(b)
  for _, ch in ipairs(out) do
    local spec = ch.call == "add_column" and ch.args[2]
    local d = spec and bd[spec[2]]
    if d and d.not_null and d.default == nil and spec.server_default == nil and spec.default == nil then
      ch.caution = ("adds %s.%s of domain %s, NOT NULL without a default, which fails on a table with rows: give " ..
        "the domain or the column a default, or add it with another type, backfill it, then change its type")
        :format(ch.args[1], spec[1], spec[2])
    elseif d and (d.not_null or #(d.checks or {}) > 0) and ch.existing then
      ch.caution = ("adds %s.%s of domain %s, whose checks make PostgreSQL rewrite the table under ACCESS EXCLUSIVE")
        :format(ch.args[1], spec[1], spec[2])
    end
    local to = ch.call == "alter_column" and ch.retyped and ch.existing and bd[ch.args[3].type]
    if to and (to.not_null or #(to.checks or {}) > 0) then -- (a shadow column of it would be rewritten too)
      ch.caution = ("changes %s.%s to domain %s, whose checks make PostgreSQL rewrite the table under ACCESS " ..
        "EXCLUSIVE, whatever the form"):format(ch.args[1], ch.args[2], ch.args[3].type)
      ch.retyped = nil
    end
  end
end

---Dropping domain `n`, once no column uses it.
---@param n string
---@return table change
function M.drop_domain(n) return exec("DROP DOMAIN " .. ddl.qualified(n)) end

-- Tables: row-level security and comments -----------------------------------

---The row-level security and comments of table `name` (snapshot table `t`),
---from `was` (nil: a new table; `back`: its renamed columns, new -> old).
---@param out table[]
---@param name string
---@param t luamig.Table
---@param was luamig.Table?
---@param back table<string, string>?
function M.table_extras(out, name, t, was, back)
  if (t.rls or false) ~= (was and was.rls or false) then out[#out + 1] = exec(ddl_objects.row_security(name, t.rls)) end
  if (t.rls_forced or false) ~= (was and was.rls_forced or false) then
    out[#out + 1] = exec(ddl_objects.row_security(name, t.rls_forced, true))
  end
  M.comment_change(out, "TABLE " .. ddl.qualified(name), t, was)
  local old = {}
  for _, c in ipairs(was and was.columns or {}) do old[c.name] = c end
  for _, c in ipairs(t.columns) do
    M.comment_change(out, "COLUMN " .. ddl.qualified(name) .. "." .. q(c.name), c, old[(back or {})[c.name] or c.name])
  end
end

-- Policies -----------------------------------------------------------------

local function mentions(text, cols)
  for col in pairs(cols or {}) do
    if text and text:find("%f[%w_]" .. col:gsub("%p", "%%%0") .. "%f[^%w_]") then return true end
  end
  return false
end

-- Whether policy `a` must be dropped and created (not altered) to become
-- `b`: ALTER POLICY changes neither command nor AS, nor removes a clause;
-- and a column its expressions name that the tables' changes drop or
-- retype (`touched`) would refuse the change.
local function remade(a, b, touched)
  if mentions(a.using, touched) or mentions(a.with_check, touched) then return true end
  return a.sql ~= b.sql and (a.command ~= b.command or a.as ~= b.as or (a.using and not b.using)
    or (a.with_check and not b.with_check))
end

---Policies dropped before the tables change: gone, or changed in a way
---ALTER POLICY cannot say. `touched`: table key -> the columns the tables'
---changes drop or retype. Returns the keys of those to create again.
---@param out table[]
---@param a luamig.Snapshot
---@param b luamig.Snapshot
---@param touched table<string, table<string, string>>
---@return table<string, true>
function M.policies_before(out, a, b, touched)
  local ap, bp, again = a.policies or {}, b.policies or {}, {}
  for _, n in ipairs(names(ap)) do
    local p = ap[n]
    if not bp[n] or remade(p, bp[n], touched[p.table]) then
      out[#out + 1] = exec(ddl_objects.drop_policy(p.name, p.table))
      again[n] = true
    end
  end
  return again
end

---Policies created after the tables changed (new, or dropped by
---M.policies_before: `again`), or altered; their comments.
---@param out table[]
---@param a luamig.Snapshot
---@param b luamig.Snapshot
---@param again table<string, true>
function M.policies_after(out, a, b, again)
  local ap, bp = a.policies or {}, b.policies or {}
  for _, n in ipairs(names(bp)) do
    local p, was = bp[n], not again[n] and ap[n] or nil
    if not was then
      out[#out + 1] = exec(ddl_objects.create_policy(p.name, p.table, p))
    elseif was.sql ~= p.sql then
      out[#out + 1] = exec(ddl_objects.alter_policy(p.name, p.table, p))
    end
    M.comment_change(out, "POLICY " .. ddl_objects.policy_ref(p.name, p.table), p, was)
  end
end

return M
