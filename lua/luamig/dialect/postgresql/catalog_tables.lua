--- PostgreSQL's catalog, tables and what hangs off them: relations,
--- columns, constraints, indexes, triggers, rules and policies. One query
--- per kind of object over every schema of the snapshot (b.nsps), never one
--- per table. `b` is the builder of luamig.dialect.postgresql.catalog.
local M = {}

local SEP = "\31" -- separates list items in aggregated text (not in names)
M.SEP = SEP

local function list(text)
  local out = {}
  if text == nil or text == "" then return out end
  for item in (text .. SEP):gmatch("(.-)" .. SEP) do out[#out + 1] = item end
  return out
end
M.list = list

local ACTIONS = { a = "NO ACTION", r = "RESTRICT", c = "CASCADE", n = "SET NULL", d = "SET DEFAULT" }
local MATCH = { f = "FULL", p = "PARTIAL", s = "SIMPLE" }
local ENABLED = { O = "origin", D = "disabled", R = "replica", A = "always" }
M.ENABLED = ENABLED
local REPLICA = { n = "nothing", f = "full", i = "index" } -- "d" (default) is nil
local CONTYPE = { p = "primary key", u = "unique", c = "check", f = "foreign key", x = "exclusion" }

-- Not a member of an extension, nor an internal part of another object (a
-- partitioned table's key columns make it depend internally on itself).
function M.own(classid, oid)
  return ("NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep WHERE dep.classid = '%s'::regclass " ..
    "AND dep.objid = %s AND dep.deptype IN ('e', 'i') AND NOT (dep.refclassid = dep.classid AND dep.refobjid = dep.objid))")
    :format(classid, oid)
end

local function relations(b)
  for r in b.db:rows([[
SELECT c.oid::text AS oid, n.nspname, c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.relreplident,
  c.relforcerowsecurity, pg_catalog.array_to_string(c.reloptions, ', ') AS options,
  CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partkey,
  CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS bound,
  CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid, true) END AS viewdef,
  (SELECT pg_catalog.string_agg(pn.nspname || '.' || p.relname, ', ' ORDER BY i.inhseqno)
   FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
   JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) AS parents,
  (SELECT pn.nspname FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
   JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid AND c.relispartition) AS pschema,
  (SELECT p.relname FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
   WHERE i.inhrelid = c.oid AND c.relispartition) AS pname,
  pg_catalog.pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS acl
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relnamespace = ANY (?::oid[]) AND c.relkind IN ('r', 'p', 'v', 'm') AND ]] .. M.own("pg_class", "c.oid") ..
    " ORDER BY 1", b.nsps) do
    local key = b.key(r.nspname, r.relname)
    local e
    if r.relkind == "v" or r.relkind == "m" then
      e = { schema = r.nspname, name = r.relname, definition = r.viewdef, materialized = r.relkind == "m" or nil,
        options = r.options, indexes = r.relkind == "m" and {} or nil }
      b.s.views[key] = e
    else
      e = { schema = r.nspname, name = r.relname, kind = r.relkind == "p" and "partitioned table" or "table",
        columns = {}, primary_key = {}, indexes = {}, constraints = {}, uniques = {}, checks = {}, foreign_keys = {},
        partition_key = r.partkey, partition_bound = r.bound, unlogged = r.relpersistence == "u" or nil,
        partition_of = r.pname and b.key(r.pschema, r.pname), inherits = (not r.bound) and r.parents or nil,
        rls = r.relrowsecurity or nil, rls_forced = r.relforcerowsecurity or nil, options = r.options,
        replica_identity = REPLICA[r.relreplident] }
      b.s.tables[key] = e
    end
    b.privileges(e, r)
    b.rel[r.oid] = { key = key, entry = e, cols = {} }
    b.reg["pg_class:" .. r.oid] = e
  end
end

local IDENTITY = { a = "always", d = "by default" }
local STORAGE = { p = "plain", e = "external", m = "main", x = "extended" }

local function columns(b)
  for c in b.db:rows([[
SELECT a.attrelid::text AS rel, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
  a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity, a.attgenerated,
  CASE WHEN a.attcollation <> t.typcollation THEN cn.nspname || '.' || pg_catalog.quote_ident(co.collname) END AS coll,
  a.attacl::text AS acl, CASE WHEN a.attstattarget >= 0 THEN a.attstattarget END AS stat,
  CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage END AS storage
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
WHERE c.relnamespace = ANY (?::oid[]) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum]], b.nsps) do
    local rel = b.rel[c.rel]
    if rel then
      local gen = c.attgenerated ~= "" and c.attgenerated or nil
      local col = { name = c.attname, type = c.type, nullable = not c.attnotnull, default = not gen and c.def or nil,
        generated = gen and c.def or nil, identity = IDENTITY[c.attidentity], collation = c.coll,
        acl = b.opts.privileges and c.acl or nil, statistics = c.stat, storage = STORAGE[c.storage] }
      table.insert(rel.entry.columns, col)
      rel.cols[c.attnum] = col
      b.reg["pg_class:" .. c.rel .. ":" .. c.attnum] = col
    end
  end
end

-- Column names of relation `rel` (oid text) by attnum list text "{1,2}";
-- a referenced table outside the snapshot's schemas is asked for them.
local function names(b, rel, nums)
  local out, known = {}, b.rel[rel]
  for n in tostring(nums or ""):gmatch("%-?%d+") do
    local col = known and known.cols[math.tointeger(tonumber(n))]
    out[#out + 1] = col and col.name or b.db:scalar(
      "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = ?::oid AND attnum = ?", rel, tonumber(n))
  end
  return out
end

local function constraint_entry(b, c)
  local x = { name = c.conname, type = CONTYPE[c.contype], columns = names(b, c.rel, c.conkey), def = c.def,
    deferrable = c.condeferrable or nil, deferred = c.condeferred or nil, validated = c.convalidated }
  if c.contype == "c" then
    x.columns, x.condition = nil, c.def:match("^CHECK %((.*)%)[^)]*$") or c.def
  elseif c.contype == "f" then
    x.references, x.ref_columns = b.key(c.refschema, c.refname), names(b, c.refrel, c.confkey)
    x.on_delete, x.on_update, x.match = ACTIONS[c.confdeltype], ACTIONS[c.confupdtype], MATCH[c.confmatchtype]
  end
  return x
end

local function constraints(b)
  for c in b.db:rows([[
SELECT k.oid::text AS oid, k.conrelid::text AS rel, k.conname, k.contype, pg_catalog.pg_get_constraintdef(k.oid, true) AS def,
  k.condeferrable, k.condeferred, k.convalidated, k.confmatchtype, k.confdeltype, k.confupdtype,
  k.conkey::text AS conkey, k.confkey::text AS confkey, k.confrelid::text AS refrel,
  rn.nspname AS refschema, r.relname AS refname
FROM pg_catalog.pg_constraint k
LEFT JOIN pg_catalog.pg_class r ON r.oid = k.confrelid LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
WHERE k.connamespace = ANY (?::oid[]) AND k.conrelid <> 0 ORDER BY k.conrelid, k.conname]], b.nsps) do
    local rel = b.rel[c.rel]
    if rel then
      local t, x = rel.entry, constraint_entry(b, c)
      t.constraints[c.conname] = x
      b.reg["pg_constraint:" .. c.oid] = x
      if x.type == "primary key" then
        t.primary_key = x.columns
      elseif x.type == "unique" then
        t.uniques[#t.uniques + 1] = { name = x.name, columns = x.columns }
      elseif x.type == "check" then
        t.checks[#t.checks + 1] = { name = x.name, condition = x.condition }
      elseif x.type == "foreign key" then
        t.foreign_keys[#t.foreign_keys + 1] = { name = x.name, columns = x.columns, references = x.references,
          ref_columns = x.ref_columns, on_delete = x.on_delete, on_update = x.on_update }
      end
    end
  end
end

-- An expression as pg_get_indexdef writes it, without its outer parentheses.
local function bare_expr(text)
  while text:match("^%b()$") do text = text:sub(2, -2) end
  return text
end

-- The luamig.IndexKey entries of an index: its key texts and, per key,
-- "c|e" (column or expression), the operator class when not the type's
-- default, and indoption (1: DESC, 2: NULLS FIRST), separated by chr(30).
local function index_keys(keys, info)
  local out = {}
  for i, text in ipairs(keys) do
    local kind, opclass, option = (info[i] or ""):match("^(%a)\30([^\30]*)\30(%d+)$")
    option = tonumber(option) or 0
    local desc, nulls_first = option & 1 ~= 0, option & 2 ~= 0
    out[i] = { column = kind ~= "e" and text or nil, expr = kind == "e" and bare_expr(text) or nil,
      opclass = opclass ~= "" and opclass or nil, order = desc and "desc" or nil,
      nulls = (desc and not nulls_first) and "last" or (not desc and nulls_first) and "first" or nil }
  end
  return out
end

local function indexes(b)
  local nnd = b.version >= 150000 and "x.indnullsnotdistinct" or "false"
  for ix in b.db:rows(([[
SELECT x.indexrelid::text AS oid, x.indrelid::text AS rel, i.relname, x.indisunique, %s AS nnd, am.amname,
  x.indisclustered,
  pg_catalog.pg_get_indexdef(x.indexrelid) AS def, pg_catalog.pg_get_expr(x.indpred, x.indrelid) AS pred,
  (SELECT pg_catalog.string_agg(COALESCE(a.attname::text, pg_catalog.pg_get_indexdef(x.indexrelid, k, true)), chr(31)
     ORDER BY k)
   FROM pg_catalog.generate_series(1, x.indnkeyatts) k
   LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1] AND a.attnum > 0)
   AS keys,
  (SELECT pg_catalog.string_agg(concat_ws(chr(30), CASE WHEN x.indkey[k - 1] = 0 THEN 'e' ELSE 'c' END,
       CASE WHEN NOT oc.opcdefault THEN oc.opcname::text ELSE '' END, x.indoption[k - 1]::text), chr(31) ORDER BY k)
   FROM pg_catalog.generate_series(1, x.indnkeyatts) k
   LEFT JOIN pg_catalog.pg_opclass oc ON oc.oid = x.indclass[k - 1]) AS keyinfo,
  (SELECT pg_catalog.string_agg(a.attname::text, chr(31) ORDER BY k)
   FROM pg_catalog.generate_series(x.indnkeyatts + 1, x.indnatts) k
   JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1]) AS include
FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = i.relam
WHERE i.relnamespace = ANY (?::oid[])
  AND x.indexrelid NOT IN (SELECT k.conindid FROM pg_catalog.pg_constraint k WHERE k.contype IN ('p', 'u', 'x'))
ORDER BY 2, 3]]):format(nnd), b.nsps) do
    local rel = b.rel[ix.rel]
    if rel then
      local e = { name = ix.relname, columns = list(ix.keys), unique = ix.indisunique, where = ix.pred,
        keys = index_keys(list(ix.keys), list(ix.keyinfo)), method = ix.amname,
        include = ix.include and list(ix.include) or nil, nulls_not_distinct = ix.nnd or nil,
        clustered = ix.indisclustered or nil, def = ix.def }
      rel.entry.indexes[ix.relname] = e
      b.reg["pg_class:" .. ix.oid] = e
    end
  end
end

-- Triggers, rules and policies: each a query, each entry keyed "<table key>.<name>"; `parts(r, e)` adds
-- what a kind has besides its definition.
local function attached(b, field, classid, sql, parts)
  for r in b.db:rows(sql, b.nsps) do
    local rel = b.rel[r.rel]
    if rel then
      local e = { schema = rel.entry.schema, table = rel.key, on = rel.entry.schema .. "." .. rel.entry.name, name = r.name,
        sql = r.def, enabled = ENABLED[r.enabled] }
      if parts then parts(r, e) end
      b.s[field][rel.key .. "." .. r.name] = e
      b.reg[classid .. ":" .. r.oid] = e
    end
  end
end

local function triggers(b)
  attached(b, "triggers", "pg_trigger", ([[
SELECT t.oid::text AS oid, t.tgrelid::text AS rel, t.tgname AS name, pg_catalog.pg_get_triggerdef(t.oid, true) AS def,
  t.tgenabled AS enabled
FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = ANY (?::oid[]) AND NOT t.tgisinternal%s]]):format(b.version >= 130000 and
    " AND t.tgparentid = 0" or ""))
  attached(b, "rules", "pg_rewrite", [[
SELECT r.oid::text AS oid, r.ev_class::text AS rel, r.rulename AS name, pg_catalog.pg_get_ruledef(r.oid, true) AS def,
  r.ev_enabled AS enabled
FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
WHERE c.relnamespace = ANY (?::oid[]) AND r.rulename <> '_RETURN']])
  attached(b, "policies", "pg_policy", [[
SELECT oid, rel, name, permissive, cmd, qual, wcheck,
  pg_catalog.array_to_string(roles, chr(31)) AS roles,
  CASE WHEN permissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END || ' FOR ' || cmd || ' TO ' ||
  (SELECT pg_catalog.string_agg(CASE WHEN r = 'public' THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r) END, ', ')
   FROM pg_catalog.unnest(roles) r)
  || COALESCE(' USING (' || qual || ')', '') || COALESCE(' WITH CHECK (' || wcheck || ')', '') AS def
FROM (SELECT p.oid::text AS oid, p.polrelid::text AS rel, p.polname AS name, p.polpermissive AS permissive,
  CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END
    AS cmd,
  pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual, pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS wcheck,
  ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(r)::text END
    FROM pg_catalog.unnest(p.polroles) r ORDER BY 1) AS roles
FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = ANY (?::oid[])) p]], function(r, e)
    e.command, e.as, e.roles = r.cmd:lower(), r.permissive and "permissive" or "restrictive", list(r.roles)
    e.using, e.with_check = r.qual, r.wcheck
  end)
end

---Read relations, columns, constraints, indexes, triggers, rules and policies into b.s.
function M.read(b)
  relations(b)
  columns(b)
  constraints(b)
  indexes(b)
  triggers(b)
end

return M
