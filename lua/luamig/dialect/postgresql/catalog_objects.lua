--- PostgreSQL's catalog, the objects that stand alone: sequences,
--- functions (procedures, aggregates), types (domains, composite, range,
--- enum), extensions, comments, and the objects the model does not cover.
--- `b` is the builder of luamig.dialect.postgresql.catalog.
local tables = require "luamig.dialect.postgresql.catalog_tables"

local M = {}

local own, list = tables.own, tables.list

local function sequences(b)
  for r in b.db:rows([[
SELECT c.oid::text AS oid, n.nspname, c.relname, pg_catalog.format_type(q.seqtypid, NULL) AS type,
  q.seqstart::text AS start, q.seqincrement::text AS inc, q.seqmin::text AS min, q.seqmax::text AS max,
  q.seqcache::text AS cache, q.seqcycle, d.deptype, tn.nspname AS tschema, t.relname AS tname, a.attname,
  pg_catalog.pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS acl
FROM pg_catalog.pg_sequence q JOIN pg_catalog.pg_class c ON c.oid = q.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_catalog.pg_class t ON t.oid = d.refobjid LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE c.relnamespace = ANY (?::oid[]) AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')]], b.nsps) do
    local e = { schema = r.nspname, name = r.relname, type = r.type, start = r.start, increment = r.inc, min = r.min,
      max = r.max, cache = r.cache, cycle = r.seqcycle, identity = r.deptype == "i" or nil,
      owned_by = r.tname and (r.tschema .. "." .. r.tname .. "." .. r.attname) or nil }
    b.privileges(e, r)
    b.s.sequences[b.key(r.nspname, r.relname)] = e
    b.reg["pg_class:" .. r.oid] = e
  end
end

local KIND = { f = "function", p = "procedure", a = "aggregate", w = "window function" }
local VOLATILITY = { i = "immutable", s = "stable", v = "volatile" }
local PARALLEL = { s = "safe", r = "restricted", u = "unsafe" }

local function functions(b)
  local body = b.version >= 140000 and "COALESCE(pg_catalog.pg_get_function_sqlbody(p.oid), p.prosrc)" or "p.prosrc"
  for r in b.db:rows(([[
SELECT p.oid::text AS oid, n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes) AS types,
  pg_catalog.pg_get_function_identity_arguments(p.oid) AS args,
  p.prokind, l.lanname, p.provolatile, p.prosecdef, p.proisstrict, p.proleakproof, p.proparallel,
  p.procost::text AS cost, p.prorows::text AS rows, pg_catalog.array_to_string(p.proconfig, ', ') AS config,
  pg_catalog.pg_get_function_result(p.oid) AS result,
  CASE WHEN p.prokind IN ('f', 'p') THEN pg_catalog.pg_get_functiondef(p.oid) END AS def,
  pg_catalog.md5(CASE WHEN p.prokind = 'a' THEN (SELECT pg_catalog.concat_ws(',', g.aggkind, g.aggtransfn,
      g.aggfinalfn, g.aggcombinefn, g.aggserialfn, g.aggdeserialfn, g.aggmtransfn, g.aggminvtransfn, g.aggmfinalfn,
      g.aggfinalextra, g.aggmfinalextra, g.aggfinalmodify, g.aggsortop, pg_catalog.format_type(g.aggtranstype, NULL),
      g.aggtransspace, pg_catalog.format_type(g.aggmtranstype, NULL), g.agginitval, g.aggminitval)
    FROM pg_catalog.pg_aggregate g WHERE g.aggfnoid = p.oid) ELSE %s || COALESCE(p.probin, '') END) AS body,
  pg_catalog.pg_get_userbyid(p.proowner) AS owner, p.proacl::text AS acl
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = ANY (?::oid[]) AND ]]):format(body) .. own("pg_proc", "p.oid"), b.nsps) do
    local name = r.proname .. "(" .. r.types .. ")"
    local e = { schema = r.nspname, name = name, kind = KIND[r.prokind], arguments = r.args, result = r.result,
      language = r.lanname,
      volatility = VOLATILITY[r.provolatile], security_definer = r.prosecdef, strict = r.proisstrict,
      leakproof = r.proleakproof or nil, parallel = PARALLEL[r.proparallel], cost = r.cost, rows = r.rows,
      config = r.config, body_md5 = r.body, definition = r.def, base_name = r.proname }
    b.privileges(e, r)
    b.s.functions[b.key(r.nspname, name)] = e
    b.reg["pg_proc:" .. r.oid] = e
  end
end

local TYPE = { d = "domain", c = "composite type", r = "range type", e = "enum" }

local function types(b)
  for r in b.db:rows([[
SELECT t.oid::text AS oid, n.nspname, t.typname, t.typtype, pg_catalog.format_type(t.typbasetype, t.typtypmod) AS base,
  t.typdefault, t.typnotnull,
  (SELECT pg_catalog.string_agg(k.conname || ' ' || pg_catalog.pg_get_constraintdef(k.oid, true), '; ' ORDER BY k.conname)
   FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid) AS cons,
  (SELECT pg_catalog.string_agg(k.conname || chr(30) || pg_catalog.pg_get_constraintdef(k.oid, true), chr(31)
     ORDER BY k.conname)
   FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c') AS checks,
  (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) || ' ' ||
     pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
   FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attrs,
  (SELECT pg_catalog.format_type(g.rngsubtype, NULL) || COALESCE(' ' || o.opcname, '')
   FROM pg_catalog.pg_range g LEFT JOIN pg_catalog.pg_opclass o ON o.oid = g.rngsubopc WHERE g.rngtypid = t.oid) AS sub,
  (SELECT pg_catalog.string_agg(e.enumlabel, chr(31) ORDER BY e.enumsortorder)
   FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) AS labels,
  pg_catalog.pg_get_userbyid(t.typowner) AS owner, t.typacl::text AS acl
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typnamespace = ANY (?::oid[]) AND t.typtype IN ('d', 'c', 'r', 'e')
  AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c')
  AND ]] .. own("pg_type", "t.oid"), b.nsps) do
    local key = b.key(r.nspname, r.typname)
    local e
    if r.typtype == "e" then
      e = { schema = r.nspname, name = r.typname, values = list(r.labels) }
      b.s.enums[key] = e
    else
      e = { schema = r.nspname, name = r.typname, kind = TYPE[r.typtype] }
      if r.typtype == "d" then
        e.base, e.default, e.not_null, e.constraint_defs = r.base, r.typdefault, r.typnotnull or nil, r.cons
        e.checks = {} -- (its CHECK constraints: { name, def }, by name)
        for _, c in ipairs(list(r.checks)) do
          local name, def = c:match("^(.-)\30(.*)$")
          e.checks[#e.checks + 1] = { name = name, def = def }
        end
      elseif r.typtype == "c" then
        e.attributes = r.attrs
      else
        e.base = r.sub
      end
      b.s.types[key] = e
    end
    b.privileges(e, r)
    b.reg["pg_type:" .. r.oid] = e
  end
end

local function extensions(b)
  for x in b.db:rows [[
SELECT e.oid::text AS oid, e.extname, e.extversion, n.nspname FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql']] do
    local e = { name = x.extname, version = x.extversion, schema_name = x.nspname }
    b.s.extensions[x.extname] = e
    b.reg["pg_extension:" .. x.oid] = e
  end
end

-- Comments of every object read so far, in one query.
local function comments(b)
  for d in b.db:rows [[
SELECT d.classoid::regclass::text AS cat, d.objoid::text AS oid, d.objsubid, d.description FROM pg_catalog.pg_description d
WHERE d.classoid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass, 'pg_constraint'::regclass,
  'pg_trigger'::regclass, 'pg_rewrite'::regclass, 'pg_policy'::regclass, 'pg_namespace'::regclass,
  'pg_extension'::regclass)]] do
    local e = b.reg[d.cat .. ":" .. d.oid .. (d.objsubid ~= 0 and (":" .. d.objsubid) or "")]
    if e then e.comment = d.description end
  end
end

-- Objects in the snapshot's schemas (or database-wide) the model does not
-- cover, described by PostgreSQL itself, so that they are named, never
-- silently skipped.
local UNSUPPORTED = {
  { "pg_class", "c", "c.relnamespace", "c.relkind = 'f'" },
  { "pg_type", "t", "t.typnamespace", "t.typtype IN ('b', 'p') AND t.typelem = 0 OR t.typtype = 'b' AND NOT EXISTS " ..
    "(SELECT 1 FROM pg_catalog.pg_type e WHERE e.oid = t.typelem AND e.typarray = t.oid)" },
  { "pg_operator", "o", "o.oprnamespace" }, { "pg_opclass", "o", "o.opcnamespace" },
  { "pg_opfamily", "o", "o.opfnamespace" }, { "pg_collation", "o", "o.collnamespace" },
  { "pg_conversion", "o", "o.connamespace" }, { "pg_statistic_ext", "o", "o.stxnamespace" },
  { "pg_ts_config", "o", "o.cfgnamespace" }, { "pg_ts_dict", "o", "o.dictnamespace" },
  { "pg_ts_parser", "o", "o.prsnamespace" }, { "pg_ts_template", "o", "o.tmplnamespace" },
  { "pg_foreign_data_wrapper", "o" }, { "pg_foreign_server", "o" }, { "pg_event_trigger", "o" },
  { "pg_publication", "o" }, { "pg_cast", "o", nil, "o.oid >= 16384" }, { "pg_transform", "o" },
  { "pg_language", "o", nil, "o.oid >= 16384 AND o.lanname <> 'plpgsql'" },
}

local function unsupported(b)
  local parts, args = {}, {}
  for _, u in ipairs(UNSUPPORTED) do
    local cat, alias, nsp, cond = u[1], u[2], u[3], u[4]
    local where = { own(cat, alias .. ".oid") }
    if nsp then
      where[#where + 1] = nsp .. " = ANY (?::oid[])"
      args[#args + 1] = b.nsps
    end
    if cond then where[#where + 1] = "(" .. cond .. ")" end
    parts[#parts + 1] = ("SELECT pg_catalog.pg_describe_object('%s'::regclass, %s.oid, 0) AS what FROM pg_catalog.%s %s " ..
      "WHERE %s"):format(cat, alias, cat, alias, table.concat(where, " AND "))
  end
  for r in b.db:rows(table.concat(parts, "\nUNION ALL ") .. " ORDER BY 1", table.unpack(args)) do
    b.s.unsupported[#b.s.unsupported + 1] = r.what
  end
end

---Read sequences, functions, types, extensions, comments and the
---unsupported objects into b.s.
function M.read(b)
  sequences(b)
  functions(b)
  types(b)
  extensions(b)
  comments(b)
  unsupported(b)
end

return M
