--- PostgreSQL's catalog reads for `luamig dump` (luamig.dialect.postgresql.dump)
--- beyond the snapshot: what it keeps only as a checksum (function bodies,
--- aggregates' parts, domain constraints), what a dump must leave to a
--- parent (inherited constraints and columns, partition indexes), and the
--- dependency edges between dump items, from pg_depend.
local errors = require "luamig.util.errors"

local M = {}

---What the snapshot of `schemas` leaves out that a dump needs.
---@param db luamig.Db
---@param schemas string[]
---@return table
function M.extras(db, schemas)
  local x = { defs = {}, inherited = {}, attached = {}, nonlocal = {}, domain_cons = {}, unreadable = {} }
  local nsps = "{" .. table.concat(schemas, ",") .. "}"
  local FUNCTIONS = [[
SELECT p.oid::text AS oid, n.nspname, p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')' AS name,
  l.oid IS NULL AS no_language%s
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
LEFT JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE n.nspname = ANY (?::text[]) AND p.prokind <> 'a']]
  local function unreadable(r, why)
    x.unreadable[#x.unreadable + 1] = ("function %s.%s (%s)"):format(r.nspname, r.name, why)
  end
  local ok = pcall(function()
    for r in db:rows(FUNCTIONS:format(", CASE WHEN l.oid IS NOT NULL THEN pg_catalog.pg_get_functiondef(p.oid) END AS def"),
      nsps) do
      if r.no_language then unreadable(r, "its language is not installed") end
      x.defs[r.nspname .. "\0" .. r.name] = r.def
    end
  end)
  if not ok then -- one at a time, to name each that cannot be read back
    for _, r in ipairs(db:query(FUNCTIONS:format(""), nsps)) do
      local got, def = pcall(db.scalar, db, "SELECT pg_catalog.pg_get_functiondef(?::oid)", r.oid)
      if got then x.defs[r.nspname .. "\0" .. r.name] = def else unreadable(r, errors.text(def)) end
    end
  end
  for r in db:rows([[
SELECT n.nspname, p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')' AS name,
  pg_catalog.concat_ws(', ', 'SFUNC = ' || g.aggtransfn::regproc::text,
    'STYPE = ' || pg_catalog.format_type(g.aggtranstype, NULL),
    CASE WHEN g.aggtransspace <> 0 THEN 'SSPACE = ' || g.aggtransspace END,
    CASE WHEN g.aggfinalfn <> 0 THEN 'FINALFUNC = ' || g.aggfinalfn::regproc::text END,
    CASE WHEN g.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
    CASE WHEN g.aggcombinefn <> 0 THEN 'COMBINEFUNC = ' || g.aggcombinefn::regproc::text END,
    CASE WHEN g.aggserialfn <> 0 THEN 'SERIALFUNC = ' || g.aggserialfn::regproc::text END,
    CASE WHEN g.aggdeserialfn <> 0 THEN 'DESERIALFUNC = ' || g.aggdeserialfn::regproc::text END,
    CASE WHEN g.agginitval IS NOT NULL THEN 'INITCOND = ' || pg_catalog.quote_literal(g.agginitval) END,
    CASE WHEN g.aggmtransfn <> 0 THEN 'MSFUNC = ' || g.aggmtransfn::regproc::text END,
    CASE WHEN g.aggminvtransfn <> 0 THEN 'MINVFUNC = ' || g.aggminvtransfn::regproc::text END,
    CASE WHEN g.aggmtransfn <> 0 THEN 'MSTYPE = ' || pg_catalog.format_type(g.aggmtranstype, NULL) END,
    CASE WHEN g.aggmfinalfn <> 0 THEN 'MFINALFUNC = ' || g.aggmfinalfn::regproc::text END,
    CASE WHEN g.aggminitval IS NOT NULL THEN 'MINITCOND = ' || pg_catalog.quote_literal(g.aggminitval) END,
    CASE WHEN g.aggsortop <> 0 THEN 'SORTOP = ' || g.aggsortop::regoperator::text END,
    CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' END) AS parts,
  g.aggkind
FROM pg_catalog.pg_aggregate g JOIN pg_catalog.pg_proc p ON p.oid = g.aggfnoid
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY (?::text[])]], nsps) do
    x.defs[r.nspname .. "\0" .. r.name] = r.aggkind == "n" and r.parts or false
  end
  for r in db:rows([[
SELECT n.nspname, c.relname, k.conname FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (?::text[]) AND (NOT k.conislocal OR k.conparentid <> 0)]], nsps) do
    x.inherited[r.nspname .. "\0" .. r.relname .. "\0" .. r.conname] = true
  end
  for r in db:rows([[
SELECT n.nspname, c.relname FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I') AND n.nspname = ANY (?::text[])]],
    nsps) do
    x.attached[r.nspname .. "\0" .. r.relname] = true
  end
  for r in db:rows([[
SELECT n.nspname, c.relname, a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (?::text[]) AND a.attnum > 0 AND NOT a.attisdropped AND NOT a.attislocal]], nsps) do
    x.nonlocal[r.nspname .. "\0" .. r.relname .. "\0" .. r.attname] = true
  end
  for r in db:rows([[
SELECT n.nspname, t.typname, pg_catalog.string_agg('CONSTRAINT ' || pg_catalog.quote_ident(k.conname) || ' ' ||
  pg_catalog.pg_get_constraintdef(k.oid), ' ' ORDER BY k.conname) AS cons
FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_type t ON t.oid = k.contypid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = ANY (?::text[]) AND k.contype = 'c' GROUP BY 1, 2]], nsps) do
    x.domain_cons[r.nspname .. "\0" .. r.typname] = r.cons
  end
  return x
end

-- Each object of the snapshot's schemas that pg_depend may name, as
-- (catalog, oid) -> the id of the item it belongs to: an index or a
-- column default belongs to its table, a view's rule to the view, an
-- array type to its element type, an extension's member to the extension.
local ID_SQL = [[
WITH nsp AS (SELECT oid, nspname FROM pg_catalog.pg_namespace WHERE nspname = ANY (?::text[])),
rel AS (SELECT c.oid, CASE WHEN c.relkind IN ('i', 'I') THEN x.indrelid ELSE c.oid END AS owner
  FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_index x ON x.indexrelid = c.oid
  WHERE c.relnamespace IN (SELECT oid FROM nsp)),
relid AS (SELECT r.oid, CASE WHEN c.relkind = 'c' THEN 'type' ELSE 'rel' END AS kind, n.nspname, c.relname AS name FROM rel r
  JOIN pg_catalog.pg_class c ON c.oid = r.owner JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace),
typ AS (SELECT t.oid, CASE WHEN e.oid IS NOT NULL THEN e.oid ELSE t.oid END AS base FROM pg_catalog.pg_type t
  LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem AND e.typarray = t.oid),
typid AS (SELECT y.oid, CASE WHEN b.typrelid <> 0 AND c.relkind <> 'c' THEN 'rel' ELSE 'type' END AS kind, n.nspname,
    CASE WHEN b.typrelid <> 0 AND c.relkind <> 'c' THEN c.relname ELSE b.typname END AS name
  FROM typ y JOIN pg_catalog.pg_type b ON b.oid = y.base JOIN nsp n ON n.oid = b.typnamespace
  LEFT JOIN pg_catalog.pg_class c ON c.oid = b.typrelid)
SELECT 'pg_class' AS cat, oid, kind, nspname, name, NULL AS sub FROM relid
UNION ALL SELECT 'pg_type', oid, kind, nspname, name, NULL FROM typid
UNION ALL SELECT 'pg_proc', p.oid, 'fn', n.nspname, p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')', NULL
  FROM pg_catalog.pg_proc p JOIN nsp n ON n.oid = p.pronamespace
UNION ALL SELECT 'pg_attrdef', d.oid, 'rel', n.nspname, c.relname, NULL FROM pg_catalog.pg_attrdef d
  JOIN pg_catalog.pg_class c ON c.oid = d.adrelid JOIN nsp n ON n.oid = c.relnamespace
UNION ALL SELECT 'pg_constraint', k.oid, CASE WHEN k.contypid <> 0 THEN 'type' ELSE 'rel' END, n.nspname,
    COALESCE(c.relname, t.typname), NULL
  FROM pg_catalog.pg_constraint k LEFT JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
  LEFT JOIN pg_catalog.pg_type t ON t.oid = k.contypid JOIN nsp n ON n.oid = COALESCE(c.relnamespace, t.typnamespace)
  WHERE k.contype <> 'f'
UNION ALL SELECT 'pg_rewrite', r.oid, CASE WHEN r.rulename = '_RETURN' THEN 'rel' ELSE 'rule' END, n.nspname, c.relname,
    CASE WHEN r.rulename <> '_RETURN' THEN r.rulename END
  FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class JOIN nsp n ON n.oid = c.relnamespace
UNION ALL SELECT 'pg_trigger', g.oid, 'trigger', n.nspname, c.relname, g.tgname FROM pg_catalog.pg_trigger g
  JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid JOIN nsp n ON n.oid = c.relnamespace
UNION ALL SELECT 'pg_policy', p.oid, 'policy', n.nspname, c.relname, p.polname FROM pg_catalog.pg_policy p
  JOIN pg_catalog.pg_class c ON c.oid = p.polrelid JOIN nsp n ON n.oid = c.relnamespace
UNION ALL SELECT 'pg_namespace', oid, 'schema', NULL, nspname, NULL FROM nsp
UNION ALL SELECT 'pg_extension', oid, 'ext', NULL, extname, NULL FROM pg_catalog.pg_extension]]

---The catalog's dependencies between items: { {from id, to id} ... };
---`id_of(kind, schema, name, sub)` is the id of an object's item, or nil.
---@param db luamig.Db
---@param schemas string[]
---@param id_of fun(kind: string, schema: string?, name: string, sub: string?): string?
---@return string[][]
function M.edges(db, schemas, id_of)
  local nsps = "{" .. table.concat(schemas, ",") .. "}"
  local ids = {}
  for r in db:rows(ID_SQL, nsps) do
    local id = id_of(r.kind, r.nspname, r.name, r.sub)
    if id then ids[r.cat .. ":" .. r.oid] = id end
  end
  for r in db:rows [[
SELECT d.classid::regclass::text AS cat, d.objid::text AS oid, e.extname
FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e']] do
    ids[r.cat .. ":" .. r.oid] = "ext:" .. r.extname
  end
  local out = {}
  for r in db:rows [[
SELECT d.classid::regclass::text AS cat, d.objid::text AS oid, d.refclassid::regclass::text AS refcat,
  d.refobjid::text AS refoid
FROM pg_catalog.pg_depend d
WHERE d.deptype IN ('n', 'a') AND NOT (d.deptype = 'a' AND d.classid = 'pg_class'::regclass AND d.refobjsubid <> 0)]] do
    local from, to = ids[r.cat .. ":" .. r.oid], ids[r.refcat .. ":" .. r.refoid]
    if from and to and from ~= to then out[#out + 1] = { from, to } end
  end
  return out
end

return M
