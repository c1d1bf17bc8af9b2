-- Seeded random declared schemas and pairs (A, B = a mutation of A) in the
-- op vocabulary, for the autogenerate property spec and its Alembic
-- comparison. A model is plain data; M.source writes it as schema.lua.
-- Given a backend, a model also holds what that backend declares beyond
-- portable tables (spec/support/schema_gen_objects.lua), drawn from a stream
-- of its own: without one, pairs stay as they were.
local objects = require "spec.support.schema_gen_objects"

local M = {}

local GROUPS = {
  { "integer", "bigint", "smallint", "numeric(10,2)", "float" },
  { "text", "string(20)", "string(80)" },
  { "date", "timestamp", "timestamptz" },
  { "boolean" }, { "json" }, { "uuid" }, { "bytes" },
}
local DEFAULTS = { integer = { 0, 7 }, bigint = { 0, 1 }, smallint = { 3 }, text = { "x", "y" }, ["string(20)"] = { "a" },
  ["string(80)"] = { "b" }, boolean = { true, false } }
local NUMERIC = { integer = true, bigint = true, smallint = true }

local function rng(seed)
  local state = seed * 7919 + 17
  return function(n)
    state = (state * 1103515245 + 12345) % 2147483648
    return state % n + 1
  end
end

-- The objects' streams: splitmix64 (rng's low bits repeat with a short
-- period, and its first draws for neighbouring seeds are alike).
local function mixed_rng(seed)
  local state = seed
  return function(n)
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return ((z ~ (z >> 31)) >> 1) % n + 1
  end
end

local function pick(r, list) return list[r(#list)] end

local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end

local function group_of(t)
  for _, g in ipairs(GROUPS) do
    for _, x in ipairs(g) do if x == t then return g end end
  end
end

local function all_types(m)
  local out = {}
  for _, g in ipairs(GROUPS) do for _, t in ipairs(g) do out[#out + 1] = t end end
  for _, e in ipairs(m.enums) do out[#out + 1] = e.name end
  return out
end

local function new_column(r, m, t)
  m.serial = m.serial + 1
  local c = { name = "c" .. m.serial, type = pick(r, all_types(m)), nullable = r(3) > 1 }
  if DEFAULTS[c.type] and r(2) == 1 then c.default = pick(r, DEFAULTS[c.type]) end
  if not c.nullable and not c.default and r(2) == 1 then c.nullable = true end
  t.columns[#t.columns + 1] = c
  return c
end

local function new_table(r, m)
  m.serial = m.serial + 1
  local t = { name = "t" .. m.serial, columns = {}, uniques = {}, checks = {}, fks = {}, indexes = {} }
  for _ = 1, r(3) do new_column(r, m, t) end
  m.tables[#m.tables + 1] = t
  return t
end

local function numeric_columns(t)
  local out = {}
  for _, c in ipairs(t.columns) do if NUMERIC[c.type] then out[#out + 1] = c end end
  return out
end

-- Constraint and index additions on table t.
local ADDS = {
  function(r, m, t) -- index
    local c = pick(r, t.columns)
    m.serial = m.serial + 1
    t.indexes[#t.indexes + 1] = { name = "ix_" .. t.name .. "_" .. m.serial, columns = { c.name }, unique = r(3) == 1,
      where = r(3) == 1 and (c.name .. " IS NOT NULL") or nil }
  end,
  function(r, m, t) -- unique (SQLite keeps one of two on the same column)
    local c = pick(r, t.columns)
    for _, u in ipairs(t.uniques) do if u.columns[1] == c.name then return end end
    m.serial = m.serial + 1
    t.uniques[#t.uniques + 1] = { name = "uq_" .. t.name .. "_" .. m.serial, columns = { c.name } }
  end,
  function(r, m, t) -- check
    local nums = numeric_columns(t)
    if #nums == 0 then return end
    m.serial = m.serial + 1
    t.checks[#t.checks + 1] = { name = "ck_" .. t.name .. "_" .. m.serial, condition = pick(r, nums).name .. " >= 0" }
  end,
  function(r, m, t) -- foreign key to another table's id
    local parent = pick(r, m.tables)
    if parent.pk_extra then return end -- (its id alone is not unique)
    local ints = {}
    for _, c in ipairs(t.columns) do if c.type == "integer" then ints[#ints + 1] = c end end
    if #ints == 0 then return end
    local col = pick(r, ints).name
    for _, fk in ipairs(t.fks) do if fk.column == col and fk.parent == parent.name then return end end
    m.serial = m.serial + 1
    t.fks[#t.fks + 1] = { name = "fk_" .. t.name .. "_" .. m.serial, column = col, parent = parent.name,
      on_delete = pick(r, { nil, "CASCADE", "SET NULL" }) }
  end,
}

local function uses(t, col)
  local function keep(list, field)
    for i = #list, 1, -1 do
      local x = list[i]
      local hit = x.column == col or (x.columns and x.columns[1] == col) or (x.condition and x.condition:match("^" .. col .. " "))
      if hit and field then table.remove(list, i) end
    end
  end
  keep(t.indexes, true)
  keep(t.uniques, true)
  keep(t.checks, true)
  keep(t.fks, true)
  if t.pk_extra == col then t.pk_extra = nil end
end

local function drop_fks_to(m, name)
  for _, t in ipairs(m.tables) do
    for i = #t.fks, 1, -1 do if t.fks[i].parent == name then table.remove(t.fks, i) end end
  end
end

-- Table t's primary key becomes (id, an integer column) or id alone again;
-- foreign keys to its id go (id alone is no longer unique).
local function toggle_pk(r, m, t)
  if t.pk_extra then
    t.pk_extra = nil
    return
  end
  local ints = numeric_columns(t)
  if #ints == 0 then return end
  t.pk_extra = pick(r, ints).name
  drop_fks_to(m, t.name)
end

local function enum_used(m, name)
  for _, t in ipairs(m.tables) do
    for _, c in ipairs(t.columns) do if c.type == name then return true end end
  end
end

-- The object kinds of `backend` (none without one).
local function kinds(backend)
  local out = {}
  for _, k in ipairs(objects.KINDS) do if backend and k.backends[backend] then out[#out + 1] = k end end
  return out
end

---A random schema model for `seed`; with `backend`, its objects beyond portable tables too.
---@param seed integer
---@param backend string?  "sqlite" or "postgresql"
function M.schema(seed, backend)
  local r = rng(seed)
  local m = { serial = 0, enums = {}, tables = {}, backend = backend, funcs = {}, triggers = {}, sequences = {},
    matviews = {} }
  for i = 1, r(3) - 1 do m.enums[i] = { name = "e" .. i .. "_" .. seed, values = { "a", "b", "c" } } end
  for _ = 1, r(4) do new_table(r, m) end
  for _, t in ipairs(m.tables) do
    if r(8) == 1 then toggle_pk(r, m, t) end
    for _ = 1, r(4) - 1 do pick(r, ADDS)(r, m, t) end
  end
  if backend then
    local ro = mixed_rng(seed + 300000)
    m.serial = m.serial + 1000 -- (names of their own, should the tables' stream grow)
    for _, k in ipairs(kinds(backend)) do k.init(ro, m) end
  end
  return m
end

local MUTATIONS = {
  function(r, m) new_table(r, m) end,
  function(r, m)
    if #m.tables < 2 then return end
    local i = r(#m.tables)
    local name = m.tables[i].name
    table.remove(m.tables, i)
    drop_fks_to(m, name)
  end,
  function(r, m) new_column(r, m, pick(r, m.tables)) end,
  function(r, m)
    local t = pick(r, m.tables)
    if #t.columns < 2 then return end
    local i = r(#t.columns)
    uses(t, t.columns[i].name)
    table.remove(t.columns, i)
  end,
  function(r, m) -- type change within a group
    local t = pick(r, m.tables)
    local c = pick(r, t.columns)
    local g = group_of(c.type)
    if not g or #g < 2 then return end
    uses(t, c.name)
    c.type = pick(r, g)
    if c.default ~= nil and not (DEFAULTS[c.type] and group_of(c.type) == g and type(c.default) == type(DEFAULTS[c.type][1])) then
      c.default = nil
      c.nullable = true
    end
  end,
  function(r, m)
    local c = pick(r, pick(r, m.tables).columns)
    c.nullable = not c.nullable
  end,
  function(r, m)
    local c = pick(r, pick(r, m.tables).columns)
    if DEFAULTS[c.type] then c.default = (c.default == nil or r(2) == 1) and pick(r, DEFAULTS[c.type]) or nil end
  end,
  function(r, m) local t = pick(r, m.tables); pick(r, ADDS)(r, m, t) end,
  function(r, m) -- drop a constraint or index
    local t = pick(r, m.tables)
    local list = pick(r, { t.indexes, t.uniques, t.checks, t.fks })
    if #list > 0 then table.remove(list, r(#list)) end
  end,
  function(r, m) -- enum value added, renamed or dropped; enum added or dropped
    local e = m.enums[1]
    local k = r(5)
    if not e or k == 4 then
      m.serial = m.serial + 1
      m.enums[#m.enums + 1] = { name = "en" .. m.serial, values = { "x", "y" } }
    elseif k == 1 then
      m.serial = m.serial + 1
      table.insert(e.values, r(#e.values + 1), "v" .. m.serial)
    elseif k == 2 then
      m.serial = m.serial + 1
      e.values[r(#e.values)] = "w" .. m.serial
    elseif k == 3 and #e.values > 1 then
      table.remove(e.values, r(#e.values))
    elseif k == 5 and not enum_used(m, e.name) then
      table.remove(m.enums, 1)
    end
  end,
  function(r, m) toggle_pk(r, m, pick(r, m.tables)) end,
  function(r, m) -- rename a table
    local t = pick(r, m.tables)
    if t.renamed_from then return end
    local old = t.name
    t.renamed_from, t.name = old, old .. "r"
    for _, x in ipairs(m.tables) do
      for _, fk in ipairs(x.fks) do if fk.parent == old then fk.parent = t.name end end
    end
  end,
  function(r, m) -- rename a column
    local t = pick(r, m.tables)
    local c = pick(r, t.columns)
    if c.renamed_from or t.renamed_from then return end
    local old = c.name
    c.renamed_from, c.name = old, old .. "r"
    for _, list in ipairs({ t.indexes, t.uniques }) do
      for _, x in ipairs(list) do
        if x.columns[1] == old then x.columns[1] = c.name end
        if x.where then x.where = x.where:gsub("^" .. old .. " ", c.name .. " ") end
      end
    end
    for _, x in ipairs(t.checks) do x.condition = x.condition:gsub("^" .. old .. " ", c.name .. " ") end
    for _, x in ipairs(t.fks) do if x.column == old then x.column = c.name end end
    if t.pk_extra == old then t.pk_extra = c.name end
  end,
}

-- Row-level security and policies (PostgreSQL): each kind of object has its
-- own generator and mutations, drawing from its own random stream, so that
-- adding one changes neither the tables nor the other kinds of a seed.
-- Policies name only `id` (never dropped nor retyped); clauses fit the command.
local function policy_clauses(r, p)
  local using = pick(r, { "id > 0", "id >= 10", "id <> 7" })
  local check = pick(r, { "id < 1000000", "id > 0" })
  p.using = (p.command ~= "insert") and using or nil
  p.with_check = (p.command == "insert" or ((p.command == "all" or p.command == "update") and r(2) == 1)) and check or nil
end

local function new_policy(r, m, t)
  m.serial = m.serial + 1
  local p = { name = "p" .. m.serial, command = pick(r, { "all", "select", "insert", "update", "delete" }),
    as = r(3) == 1 and "restrictive" or nil }
  policy_clauses(r, p)
  t.policies = t.policies or {}
  t.policies[#t.policies + 1] = p
end

-- A policy of table `t`, else of the first table that has one.
local function some_policy(m, t)
  if t.policies and t.policies[1] then return t.policies[1] end
  for _, x in ipairs(m.tables) do
    if x.policies and x.policies[1] then return x.policies[1] end
  end
end

local POLICY_MUTATIONS = {
  function(_, _, t) t.rls = not t.rls or nil end,
  function(r, m, t) new_policy(r, m, t) end,
  function(r, _, t) if t.policies and #t.policies > 0 then table.remove(t.policies, r(#t.policies)) end end,
  function(_, m, t) -- a changed clause (ALTER POLICY)
    local p = some_policy(m, t)
    if p and p.using then
      p.using = p.using == "id <> 7" and "id > 0" or "id <> 7"
    elseif p then
      p.with_check = p.with_check == "id > 0" and "id < 1000000" or "id > 0"
    end
  end,
  function(r, m, t) -- a changed command (drop and create)
    local p = some_policy(m, t)
    if p then
      p.command = pick(r, { "all", "select", "insert", "update", "delete" })
      policy_clauses(r, p)
    end
  end,
}

local function policies(r, m)
  for _, t in ipairs(m.tables) do
    if r(3) == 1 then
      t.rls = true
      for _ = 1, r(3) - 1 do new_policy(r, m, t) end
    end
  end
end

-- Domains (PostgreSQL), and columns typed with them (t.domain_columns). A
-- check may call a function (made before the domain, dropped after it).
local DOMAIN_CHECKS = { "VALUE >= 0", "VALUE >= 0 AND VALUE < 1000", "VALUE <> 13", "not_thirteen(VALUE)" }
local CHECK_FUNCTION = [[CREATE FUNCTION not_thirteen(x numeric) RETURNS boolean LANGUAGE sql IMMUTABLE
  RETURN x <> 13]]

local function new_domain(r, m)
  m.serial = m.serial + 1
  local d = { name = "d" .. m.serial, type = pick(r, { "integer", "bigint", "numeric(10,2)" }),
    default = r(2) == 1 and pick(r, { "0", "1" }) or nil, not_null = r(4) == 1 or nil,
    checks = r(2) == 1 and { pick(r, DOMAIN_CHECKS) } or {} }
  m.domains[#m.domains + 1] = d
  return d
end

local function domain_used(m, name)
  for _, t in ipairs(m.tables) do
    for _, c in ipairs(t.domain_columns or {}) do if c.domain == name then return true end end
  end
end

local function new_domain_column(r, m)
  if #m.domains == 0 then return end
  local t = pick(r, m.tables)
  m.serial = m.serial + 1
  t.domain_columns = t.domain_columns or {}
  t.domain_columns[#t.domain_columns + 1] = { name = "dc" .. m.serial, domain = pick(r, m.domains).name }
end

local DOMAIN_MUTATIONS = {
  function(r, m) new_domain(r, m) end,
  function(r, m) new_domain_column(r, m) end,
  function(r, m)
    local t = pick(r, m.tables)
    if t.domain_columns and #t.domain_columns > 0 then table.remove(t.domain_columns, r(#t.domain_columns)) end
  end,
  function(_, m) -- an unused domain dropped
    for i = #m.domains, 1, -1 do
      if not domain_used(m, m.domains[i].name) then
        table.remove(m.domains, i)
        return
      end
    end
  end,
  function(r, m) -- default, NOT NULL or checks changed (ALTER DOMAIN)
    local d = m.domains[1]
    if not d then return end
    local k = r(3)
    if k == 1 then
      d.default = d.default == nil and pick(r, { "0", "1" }) or nil
    elseif k == 2 then
      d.not_null = not d.not_null or nil
    else
      d.checks = #d.checks > 0 and r(2) == 1 and {} or { pick(r, DOMAIN_CHECKS) }
    end
  end,
}

local function domains(r, m)
  m.domains = {}
  for _ = 1, r(3) - 1 do new_domain(r, m) end
  for _ = 1, r(3) - 1 do new_domain_column(r, m) end
end

-- Policies and domains, each a generator and its mutations on its own stream.
local POLICY_DOMAIN = { { make = policies, mutations = POLICY_MUTATIONS, per_table = true },
  { make = domains, mutations = DOMAIN_MUTATIONS } }

local function make_policy_domain(seed, m)
  for i, kind in ipairs(POLICY_DOMAIN) do kind.make(mixed_rng(seed + 200000 + i), m) end
end

local function mutate_policy_domain(seed, m)
  for i, kind in ipairs(POLICY_DOMAIN) do
    local r = mixed_rng(seed + 300000 + i)
    for _ = 1, r(3) - 1 do pick(r, kind.mutations)(r, m, kind.per_table and pick(r, m.tables) or nil) end
  end
end

---Schema B for pair `seed`: A mutated 1 to 4 times (renames recorded as
---renamed_from); with `backend`, its objects then mutated 1 to 4 times.
---b.log says what changed in them ("trigger added", ...).
---@param seed integer
---@param backend string?
function M.pair(seed, backend)
  local a = M.schema(seed, backend)
  make_policy_domain(seed, a)
  local b = copy(a)
  b.log = {}
  local r = rng(seed + 100000)
  for _ = 1, r(4) do pick(r, MUTATIONS)(r, b) end
  mutate_policy_domain(seed, b)
  local ks, ro = kinds(backend), mixed_rng(seed + 400000)
  for _, k in ipairs(ks) do if k.fit then k.fit(b) end end
  if #ks > 0 then
    for _ = 1, ro(4) do pick(ro, ks).mutate(ro, b) end
  end
  return a, b
end

---How many of each object model `m` declares beyond tables ("sql function", "trigger", ...).
---@return table<string, integer>
function M.census(m)
  local out = {}
  local function add(what) out[what] = (out[what] or 0) + 1 end
  for _, t in ipairs(m.tables) do
    for _, ix in ipairs(t.indexes) do
      if ix.expr then add("expression index") end
      if ix.using then add("index using " .. ix.using) end
      if ix.include then add("index with include") end
      if ix.nulls_not_distinct then add("index nulls not distinct") end
      if ix.key and ix.key.opclass then add("index opclass") end
      if ix.key and ix.key.order then add("index order") end
    end
  end
  for _, f in ipairs(m.funcs or {}) do add(f.lang .. " function") end
  for _, list in ipairs({ m.funcs, m.sequences, m.triggers }) do
    for _, x in ipairs(list or {}) do if x.comment then add("comment") end end
  end
  for what, list in pairs({ trigger = m.triggers, sequence = m.sequences, ["materialized view"] = m.matviews }) do
    for _ = 1, #list do add(what) end
  end
  for _, v in ipairs(m.matviews or {}) do if v.over then add("materialized view over a view") end end
  for _, d in ipairs(m.backend == "postgresql" and m.domains or {}) do
    for _, c in ipairs(d.checks) do if c:find("(", 1, true) then add("domain check calling a function") end end
  end
  return out
end

local function lit(v)
  if type(v) == "string" then return ("%q"):format(v) end
  return tostring(v)
end

-- The declarations of model `m`'s domains, and of table `t`'s policies and row-level security option,
-- where the backend builds them (`declared`: luamig.DeclaredObjects.kinds).
local function domain_source(m, declared, out)
  if not declared.domain then return end
  if M.census(m)["domain check calling a function"] then
    out[#out + 1] = ("schema.func(%q, %q)"):format("not_thirteen", CHECK_FUNCTION)
  end
  for _, d in ipairs(m.domains or {}) do
    local checks = {}
    for i, c in ipairs(d.checks) do checks[i] = lit(c) end
    out[#out + 1] = ("schema.domain(%q, { type = %q%s%s, checks = { %s } })"):format(d.name, d.type,
      d.default and (", default = " .. lit(d.default)) or "", d.not_null and ", not_null = true" or "",
      table.concat(checks, ", "))
  end
end

local function policy_source(t, declared, out)
  if not declared.policy then return end
  for _, p in ipairs(t.policies or {}) do
    out[#out + 1] = ("schema.policy(%q, %q, { command = %q%s%s%s })"):format(p.name, t.name, p.command,
      p.as and (", as = " .. lit(p.as)) or "", p.using and (", using = " .. lit(p.using)) or "",
      p.with_check and (", with_check = " .. lit(p.with_check)) or "")
  end
end

---The declaration (schema.lua text) of model `m`; `renames` keeps renamed_from; `declared`
---(luamig.DeclaredObjects.kinds) the policies, row security and domains to write (none when nil).
function M.source(m, renames, declared)
  declared = declared or {}
  local out = {}
  domain_source(m, declared, out)
  for _, k in ipairs(kinds(m.backend)) do if k.before then k.before(m, out) end end
  for _, e in ipairs(m.enums) do
    local vals = {}
    for i, v in ipairs(e.values) do vals[i] = lit(v) end
    out[#out + 1] = ("schema.enum(%q, { %s })"):format(e.name, table.concat(vals, ", "))
  end
  for _, t in ipairs(m.tables) do
    local cols = { '  { "id", "integer", primary_key = true },' }
    for _, c in ipairs(t.columns) do
      cols[#cols + 1] = ("  { %q, %q%s%s%s%s },"):format(c.name, c.type, c.nullable and "" or ", nullable = false",
        t.pk_extra == c.name and ", primary_key = true" or "",
        c.server_default and (", server_default = " .. lit(c.server_default))
          or c.default ~= nil and (", default = " .. lit(c.default)) or "",
        renames and c.renamed_from and (", renamed_from = " .. lit(c.renamed_from)) or "")
    end
    for _, c in ipairs(declared.domain and t.domain_columns or {}) do
      cols[#cols + 1] = ("  { %q, %q },"):format(c.name, c.domain)
    end
    local cons = {}
    for _, u in ipairs(t.uniques) do
      cons[#cons + 1] = ("{ type = \"unique\", name = %q, columns = { %q } }"):format(u.name, u.columns[1])
    end
    for _, k in ipairs(t.checks) do
      cons[#cons + 1] = ("{ type = \"check\", name = %q, condition = %q }"):format(k.name, k.condition)
    end
    for _, f in ipairs(t.fks) do
      cons[#cons + 1] = ("{ type = \"foreign_key\", name = %q, columns = { %q }, references = %q, ref_columns = { \"id\" }%s }")
        :format(f.name, f.column, f.parent, f.on_delete and (", on_delete = " .. lit(f.on_delete)) or "")
    end
    out[#out + 1] = ("schema.table(%q, {\n%s\n}, { constraints = { %s }%s%s })"):format(t.name, table.concat(cols, "\n"),
      table.concat(cons, ", "), renames and t.renamed_from and (", renamed_from = " .. lit(t.renamed_from)) or "",
      declared.row_security and t.rls and ", row_security = true" or "")
    policy_source(t, declared, out)
    for _, ix in ipairs(t.indexes) do
      out[#out + 1] = ("schema.index(%q, %q, { %s }, { unique = %s%s%s })"):format(ix.name, t.name, objects.index_key(ix),
        tostring(ix.unique), ix.where and (", where = " .. lit(ix.where)) or "", objects.index_options_source(ix))
    end
  end
  for _, k in ipairs(kinds(m.backend)) do if k.after then k.after(m, out) end end
  return table.concat(out, "\n") .. "\n"
end

return M
