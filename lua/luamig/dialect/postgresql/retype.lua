--- PostgreSQL's part of op.online.retype_column (luamig.run.online_retype):
--- what hangs on the column, read from the catalog before anything
--- changes, and the statements that build each of those again on a shadow
--- column (the new type, filled while the application writes) and move them
--- over in one short transaction: the old column dropped, the shadow renamed
--- to its name. What it cannot move (a view, a policy, a generated column
--- over the column...) is refused, named, before anything runs.
local common = require "luamig.model.sql"
local ddl = require "luamig.model.ddl"

local M = {}

local q = common.quote_ident

---@class luamig.RetypePlan
---@field attnum integer
---@field type string             the column's type now (format_type)
---@field not_null boolean
---@field default string?
---@field comment string?
---@field indexes {name: string, def: string}[]               plain indexes over the column
---@field keys {name: string, index: string, def: string, kind: string, deferrable: string}[]  primary and unique keys
---@field constraints {name: string, def: string}[]           checks and foreign keys of the table over it
---@field incoming {name: string, on: string, def: string}[]  foreign keys referring to it
---@field triggers {name: string, def: string}[]              triggers naming it (UPDATE OF, WHEN)
---@field sequences string[]                                  sequences it owns (serial)

local function yes(v) return v == true or v == "t" end

-- What depends on column `attnum` of `t` that a retype cannot move: each
-- pg_describe_object text. (The column's own default, its indexes,
-- constraints, owned sequences and triggers are moved.)
local function unmovable(db, rel, attnum)
  local out = {}
  for _, r in ipairs(db:query([[
SELECT DISTINCT CASE WHEN d.classid = 'pg_catalog.pg_rewrite'::regclass -- (a view's rule: the view)
  THEN pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass,
    (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid = d.objid), 0)
  ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END AS what
FROM pg_catalog.pg_depend d
WHERE d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = ?::regclass AND d.refobjsubid = ?
  AND d.deptype IN ('n', 'a')
  AND d.classid NOT IN ('pg_catalog.pg_constraint'::regclass, 'pg_catalog.pg_trigger'::regclass)
  AND NOT (d.classid = 'pg_catalog.pg_class'::regclass
           AND (SELECT relkind FROM pg_catalog.pg_class WHERE oid = d.objid) IN ('i', 'S'))
  AND NOT (d.classid = 'pg_catalog.pg_attrdef'::regclass
           AND (SELECT adnum FROM pg_catalog.pg_attrdef WHERE oid = d.objid) = d.refobjsubid)
ORDER BY 1]], rel, attnum)) do
    out[#out + 1] = r.what
  end
  return out
end

---What hangs on `t`.`col`, or nil when it does not exist; raises naming
---what a retype cannot move.
---@param db luamig.Db
---@param t string
---@param col string
---@return luamig.RetypePlan?
---@return string? refusal  why it cannot be retyped online
function M.plan(db, t, col)
  local rel = ddl.qualified(t)
  local r = db:first([[
SELECT a.attnum, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       a.attidentity AS identity, a.attgenerated AS generated,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS "default", pg_catalog.col_description(a.attrelid, a.attnum) AS comment,
       c.relkind, c.relispartition OR c.relhassubclass
         OR EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid) AS inherits
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ?::regclass AND a.attname = ? AND NOT a.attisdropped]], rel, col)
  if not r then return nil end
  if r.relkind ~= "r" or yes(r.inherits) then
    return nil, ("%s is partitioned or inherits (a shadow column cannot be built concurrently there)"):format(t)
  end
  if (r.identity or "") ~= "" then return nil, ("%s.%s is an identity column"):format(t, col) end
  if (r.generated or "") ~= "" then return nil, ("%s.%s is a generated column"):format(t, col) end
  local attnum = math.tointeger(r.attnum)
  local others = unmovable(db, rel, attnum)
  if #others > 0 then
    return nil, ("%s depend%s on %s.%s (drop %s first and create %s again after)"):format(table.concat(others, ", "),
      #others == 1 and "s" or "", t, col, #others == 1 and "it" or "them", #others == 1 and "it" or "them")
  end
  local plan = { attnum = attnum, type = r.type, not_null = yes(r.not_null), default = r.default, comment = r.comment,
    indexes = {}, keys = {}, constraints = {}, incoming = {}, triggers = {}, sequences = {} }
  for _, x in ipairs(db:query([[
SELECT c.conname AS name, c.contype AS kind, pg_catalog.pg_get_constraintdef(c.oid) AS def,
       i.relname AS index, c.condeferrable AS deferrable, c.condeferred AS deferred
FROM pg_catalog.pg_constraint c LEFT JOIN pg_catalog.pg_class i ON i.oid = c.conindid
WHERE c.conrelid = ?::regclass AND ? = ANY (c.conkey)
  AND NOT (c.contype = 'f' AND c.confrelid = c.conrelid AND ? = ANY (c.confkey))
ORDER BY c.conname]], rel, attnum, attnum)) do
    if x.kind == "p" or x.kind == "u" then
      plan.keys[#plan.keys + 1] = { name = x.name, index = x.index, kind = x.kind == "p" and "PRIMARY KEY" or "UNIQUE",
        deferrable = yes(x.deferrable) and (yes(x.deferred) and " DEFERRABLE INITIALLY DEFERRED" or " DEFERRABLE") or "",
        def = db:scalar("SELECT pg_catalog.pg_get_indexdef(?::regclass)", ddl.qualified(x.index)) }
    elseif x.kind == "c" or x.kind == "f" then
      plan.constraints[#plan.constraints + 1] = { name = x.name, def = x.def }
    else
      return nil, ("constraint %s on %s (an exclusion constraint) uses %s"):format(x.name, t, col)
    end
  end
  for _, x in ipairs(db:query([[
SELECT c.conname AS name, c.conrelid::regclass::text AS "on", pg_catalog.pg_get_constraintdef(c.oid) AS def
FROM pg_catalog.pg_constraint c
WHERE c.contype = 'f' AND c.confrelid = ?::regclass AND ? = ANY (c.confkey) ORDER BY 2, 1]], rel, attnum)) do
    plan.incoming[#plan.incoming + 1] = x
  end
  for _, x in ipairs(db:query([[
SELECT DISTINCT ic.relname AS name, pg_catalog.pg_get_indexdef(i.indexrelid) AS def
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_index i ON i.indexrelid = d.objid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refobjid = ?::regclass AND d.refobjsubid = ?
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
ORDER BY 1]], rel, attnum)) do
    plan.indexes[#plan.indexes + 1] = x
  end
  for _, x in ipairs(db:query([[
SELECT DISTINCT t.tgname AS name, pg_catalog.pg_get_triggerdef(t.oid) AS def
FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_trigger t ON t.oid = d.objid
WHERE d.classid = 'pg_catalog.pg_trigger'::regclass AND d.refobjid = ?::regclass AND d.refobjsubid = ?
  AND NOT t.tgisinternal ORDER BY 1]], rel, attnum)) do
    plan.triggers[#plan.triggers + 1] = x
  end
  for _, x in ipairs(db:query([[
SELECT s.oid::regclass::text AS name
FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid
WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refobjid = ?::regclass AND d.refobjsubid = ?
  AND d.deptype = 'a' AND s.relkind = 'S' ORDER BY 1]], rel, attnum)) do
    plan.sequences[#plan.sequences + 1] = x.name
  end
  return plan
end

-- `sql` with column `from` spelled `to` (from byte `from_pos` on); a bare
-- word is `from` only when `from` is lower case (PostgreSQL folds it).
local function renamed(sql, from, to, from_pos)
  local map = { [q(from)] = q(to) }
  if from == from:lower() then map[from] = q(to) end
  return common.columns_replaced(sql, map, "postgresql", from_pos)
end

---CREATE INDEX CONCURRENTLY `name` like index definition `def`
---(pg_get_indexdef), over `to` where it has column `from`.
function M.index_like(def, name, from, to)
  local on = def:find(" ON ", 1, true)
  return ("%s CONCURRENTLY %s %s"):format(def:match("^CREATE UNIQUE INDEX ") and "CREATE UNIQUE INDEX" or
    "CREATE INDEX", q(name), renamed(def:sub(on + 1), from, to, def:find(" USING ", on, true) - on))
end

---A constraint definition (pg_get_constraintdef) over `to` where it has
---column `from`; a foreign key's referenced columns stay as they are.
function M.constraint_like(def, from, to)
  local fk = def:match("^FOREIGN KEY %b()()")
  if fk then return renamed(def:sub(1, fk - 1), from, to) .. def:sub(fk) end
  return renamed(def, from, to)
end

---A name of at most 63 bytes for a shadow object: `name` with `suffix`.
function M.shadow_name(name, suffix)
  return name:sub(1, 63 - #suffix) .. suffix
end

return M
