--- What `lint --rows` needs to fill PostgreSQL's tables (the policy is
--- luamig.tools.lint.rows): each column's value for row g, distinct per g
--- as far as its type allows (timestamps a second apart, dates a day apart,
--- uuids and bytes derived from g, enums cycling through their labels,
--- text within its length, numerics within their precision), its default
--- and whether the server fills it (identity, generated, a sequence), its
--- NULL typed (CHECKs compare it); the CHECKs (the table's, its columns'
--- domains'), the unique keys, the foreign keys.

local M = {}

local SEP = "\31"

local function split(s)
  local out = {}
  for part in ((s or "") .. SEP):gmatch("(.-)" .. SEP) do
    if part ~= "" then out[#out + 1] = part end
  end
  return out
end

-- Values cycling through 1..cap: the distinct count is cap.
local function cycle(cap)
  return ("((g - 1) %% %d + 1)"):format(cap), cap
end

-- The expression of g for base type `r.typname` (its length, precision and
-- scale, enum labels and SQL type `r.sqltype`), and how many distinct
-- values it takes (nil: as many as rows); nil for a type it cannot fill.
local function value(r)
  local t = r.typname
  if t == "int2" then return cycle(32767) end
  if t == "int4" or t == "int8" then return "g" end
  if t == "numeric" then
    local digits = r.prec and (r.prec - (r.scale or 0))
    if not digits or digits >= 10 then return "g" end
    if digits < 1 then return "0", 1 end
    return cycle(10 ^ digits // 1 - 1)
  end
  if t == "float4" or t == "float8" then return "(g * 1.5)" end
  if t == "text" or t == "varchar" or t == "bpchar" or t == "citext" or t == "name" then
    if not r.len or r.len >= 12 then return "('r' || g)" end
    local e, cap = cycle(10 ^ r.len // 1 - 1)
    return e .. "::text", cap
  end
  if t == "bool" then return "(g % 2 = 0)", 2 end
  if t == "date" then return "(DATE '2000-01-01' + g::int)" end
  if t == "timestamp" then return "(TIMESTAMP '2000-01-01' + g * INTERVAL '1 second')" end
  if t == "timestamptz" then return "(TIMESTAMPTZ '2000-01-01 00:00:00+00' + g * INTERVAL '1 second')" end
  if t == "time" or t == "timetz" then
    return ("(TIME '00:00' + (g %% 86400000) * INTERVAL '1 millisecond')::%s"):format(r.sqltype), 86400000
  end
  if t == "interval" then return "(g * INTERVAL '1 second')" end
  if t == "uuid" then return "md5(g::text)::uuid" end
  if t == "json" or t == "jsonb" then return ("json_build_object('g', g)::%s"):format(t) end
  if t == "bytea" then return "int8send(g::int8)" end
  if t == "inet" then return "('10.0.0.0'::inet + (g % 16777216))", 16777216 end
  if r.enum_n then
    local e, cap = cycle(r.enum_n)
    return ("(enum_range(NULL::%s))[%s]"):format(r.sqltype, e), cap
  end
end

---The tables of the current schema (but `skip`'s), their columns, unique
---keys and foreign keys, for luamig.tools.lint.rows.
---@param db luamig.Db
---@param skip table<string, true>
---@return luamig.FillInfo
function M.fill_info(db, skip)
  local tables, deps = {}, {}
  local function tbl(name)
    if skip[name] then return nil end
    tables[name] = tables[name] or { columns = {}, keys = {}, fks = {}, checks = {} }
    return tables[name]
  end
  -- the column's type, or its domain's base type (and an array's element type)
  for _, r in ipairs(db:query([[
SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
  a.attnotnull OR COALESCE(d.typnotnull, false) AS notnull, a.attidentity <> '' OR a.attgenerated <> '' AS auto,
  pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS default_expr, d.typdefault AS domain_default,
  COALESCE(e.typname, b.typname) AS typname, b.typcategory = 'A' AS is_array,
  pg_catalog.format_type(COALESCE(e.oid, b.oid), NULL) AS sqltype, pg_catalog.format_type(x.base, x.typmod) AS base,
  information_schema._pg_char_max_length(COALESCE(e.oid, b.oid), x.typmod) AS len,
  information_schema._pg_numeric_precision(COALESCE(e.oid, b.oid), x.typmod) AS prec,
  information_schema._pg_numeric_scale(COALESCE(e.oid, b.oid), x.typmod) AS scale,
  (SELECT NULLIF(count(*), 0) FROM pg_catalog.pg_enum l WHERE l.enumtypid = COALESCE(e.oid, b.oid)) AS enum_n
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p')
  AND c.relnamespace = pg_catalog.to_regnamespace(pg_catalog.current_schema())
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_type d ON d.oid = t.oid AND t.typtype = 'd'
CROSS JOIN LATERAL (SELECT COALESCE(d.typbasetype, t.oid) AS base, CASE WHEN d.oid IS NULL THEN a.atttypmod
  ELSE d.typtypmod END AS typmod) x
JOIN pg_catalog.pg_type b ON b.oid = x.base
LEFT JOIN pg_catalog.pg_type e ON e.oid = b.typelem AND b.typcategory = 'A'
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum]])) do
    local t = tbl(r.relname)
    if t then
      local expr, distinct = value(r)
      if expr and r.is_array then expr = ("ARRAY[%s]::%s"):format(expr, r.type) end
      t.columns[#t.columns + 1] = { name = r.attname, type = r.type, nullable = not r.notnull,
        default = (r.default_expr or r.domain_default) ~= nil, default_sql = r.default_expr or r.domain_default,
        auto = r.auto or (r.default_expr or ""):match("^nextval%(") ~= nil,
        value = expr, distinct = distinct, null_sql = ("CAST(NULL AS %s)"):format(r.base) }
    end
  end
  -- the CHECKs: a table's on the columns it names, a domain's on each column of it (VALUE: the column)
  for _, r in ipairs(db:query([[
SELECT c.relname, pg_catalog.pg_get_constraintdef(k.oid, true) AS def, k.contypid <> 0 AS domain, a.attname,
  (SELECT pg_catalog.string_agg(b.attname::text, chr(31) ORDER BY b.attnum) FROM pg_catalog.pg_attribute b
   WHERE k.contypid = 0 AND b.attrelid = k.conrelid AND b.attnum = ANY (k.conkey)) AS cols
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_attribute a ON (k.conrelid <> 0 AND a.attrelid = k.conrelid AND a.attnum = k.conkey[1])
  OR (k.contypid <> 0 AND a.atttypid = k.contypid AND a.attnum > 0 AND NOT a.attisdropped)
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p')
  AND c.relnamespace = pg_catalog.to_regnamespace(pg_catalog.current_schema())
WHERE k.contype = 'c' ORDER BY c.relname, k.conname, a.attnum]])) do
    local cond, t = r.def:match("^CHECK (%(.*%))"), tables[r.relname]
    if cond and t then
      if r.domain then cond = cond:gsub("%f[%w_]VALUE%f[^%w_]", (db:quote_ident(r.attname):gsub("%%", "%%%%"))) end
      t.checks[#t.checks + 1] = { sql = cond, columns = r.domain and { r.attname } or split(r.cols) }
    end
  end
  -- unique keys: the columns each key position names (a column, or those an expression uses)
  for _, r in ipairs(db:query([[
SELECT c.relname, COALESCE((pg_catalog.to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS nnd,
  (SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid, k, true), chr(31))
   FROM pg_catalog.generate_series(1, i.indnkeyatts) k) AS keys
FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
WHERE i.indisunique AND c.relnamespace = pg_catalog.to_regnamespace(pg_catalog.current_schema())]])) do
    local t = tables[r.relname]
    if t then
      local text, cols = table.concat(split(r.keys), " "), {}
      for _, c in ipairs(t.columns) do
        local quoted = db:quote_ident(c.name)
        if text:find("%f[%w_]" .. c.name:gsub("%W", "%%%0") .. "%f[^%w_]") or text:find(quoted, 1, true) then
          cols[#cols + 1] = c.name
        end
      end
      t.keys[#t.keys + 1] = { columns = cols, nulls_distinct = not r.nnd }
    end
  end
  for _, r in ipairs(db:query([[
SELECT ch.relname AS child, p.relname AS parent,
  (SELECT pg_catalog.string_agg(a.attname::text, chr(31) ORDER BY u.i) FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
   JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n) AS cols,
  (SELECT pg_catalog.string_agg(a.attname::text, chr(31) ORDER BY u.i) FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
   JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n) AS pcols
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class ch ON ch.oid = k.conrelid JOIN pg_catalog.pg_class p ON p.oid = k.confrelid
WHERE k.contype = 'f' AND ch.relnamespace = pg_catalog.to_regnamespace(pg_catalog.current_schema())
ORDER BY k.conname]])) do
    local t = tables[r.child]
    if t then
      deps[r.child] = deps[r.child] or {}
      table.insert(deps[r.child], r.parent)
      t.fks[#t.fks + 1] = { columns = split(r.cols), parent = r.parent, parent_columns = split(r.pcols) }
    end
  end
  return { tables = tables, deps = deps,
    series = function(n, sql) return ("WITH series(g) AS (SELECT generate_series(1, %d)) %s"):format(n, sql) end }
end

return M
