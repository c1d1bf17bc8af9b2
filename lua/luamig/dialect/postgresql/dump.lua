--- PostgreSQL's part of `luamig dump` (luamig.schema.dump): each object of
--- a snapshot as an item with the steps that create and drop it (op calls
--- where the op vocabulary says it exactly, its DDL otherwise), and the
--- dependency edges between items (luamig.dialect.postgresql.dump_catalog).
local catalog = require "luamig.dialect.postgresql.dump_catalog"
local errors = require "luamig.util.errors"
local model = require "luamig.model.schema"
local session = require "luamig.dialect.postgresql.session"
local types = require "luamig.dialect.postgresql.types"
local common = require "luamig.model.sql"
local ddl = require "luamig.model.ddl"

local M = {}

local q, lit = common.quote_ident, common.quote_literal

-- Ranks: the order of kinds when no dependency says otherwise.
local RANK = { schema = 0, ext = 1, type = 2, seq = 3, table = 5, partition = 5.5, fn = 6, index = 7, fk = 8,
  owned = 8, view = 9, trigger = 10 }

local function qn(schema, name) return q(schema) .. "." .. q(name) end

local PLAIN = "^[a-z_][a-z0-9_]*$"

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- A COMMENT ON step, and the same as schema.comment (luamig.schema.dump writes it for an item it declares).
local function comment(kind, name, text)
  return { sql = ("COMMENT ON %s %s IS %s"):format(kind, name, lit(text)), declare = { "comment", kind .. " " .. name, text } }
end

-- Whether the op vocabulary writes table `t` exactly (op.create_table).
local function plain_table(t, x)
  if t.kind ~= "table" or t.partition_of or t.partition_key or t.inherits or t.unlogged or t.options then
    return false
  end
  for _, c in ipairs(t.columns) do
    if c.identity or c.generated or c.collation or c.statistics or c.storage
      or x.nonlocal[t.schema .. "\0" .. t.name .. "\0" .. c.name] then return false end
  end
  for _, c in pairs(t.constraints) do
    if c.type == "exclusion" or c.deferrable or c.validated == false then return false end
    if c.type == "check" and c.def ~= "CHECK (" .. c.condition .. ")" then return false end
    if (c.type == "unique" or c.type == "primary key") and c.def ~= ("%s (%s)"):format(c.type:upper(),
      table.concat(c.columns, ", ")) then return false end
    if c.type == "foreign key" and c.match and c.match ~= "SIMPLE" then return false end
  end
  return true
end

local function plain_fk(c)
  return not c.deferrable and c.validated ~= false and (c.match == nil or c.match == "SIMPLE")
end

-- An index op.create_index writes exactly.
local function plain_index(ix, cols)
  if ix.method ~= "btree" or (ix.include and #ix.include > 0) or ix.nulls_not_distinct then return false end
  for _, c in ipairs(ix.columns) do
    if not (c:match(PLAIN) and cols[c]) then return false end
  end
  return true
end

local function column_sql(t, c, seqs)
  local parts = { q(c.name), c.type }
  if c.collation then parts[#parts + 1] = "COLLATE " .. c.collation end
  if c.generated then parts[#parts + 1] = ("GENERATED ALWAYS AS (%s) STORED"):format(c.generated) end
  if c.default then parts[#parts + 1] = "DEFAULT " .. c.default end
  if not c.nullable then parts[#parts + 1] = "NOT NULL" end
  if c.identity then
    local s = seqs[t.schema .. "." .. t.name .. "." .. c.name]
    local opts = s and ("SEQUENCE NAME %s START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s%s")
      :format(qn(s.schema, s.name), s.start, s.increment, s.min, s.max, s.cache, s.cycle and " CYCLE" or "")
    parts[#parts + 1] = ("GENERATED %s AS IDENTITY%s"):format(c.identity:upper(), opts and (" (" .. opts .. ")") or "")
  end
  return table.concat(parts, " ")
end

-- The steps after a table's CREATE: column settings, comments, row security.
local function table_extras(t, name, up)
  for _, c in ipairs(t.columns) do
    local col = name .. " ALTER COLUMN " .. q(c.name)
    if c.statistics then up[#up + 1] = { sql = ("ALTER TABLE %s SET STATISTICS %s"):format(col, c.statistics) } end
    if c.storage then up[#up + 1] = { sql = ("ALTER TABLE %s SET STORAGE %s"):format(col, c.storage:upper()) } end
    if c.comment then up[#up + 1] = comment("COLUMN", name .. "." .. q(c.name), c.comment) end
  end
  if t.comment then up[#up + 1] = comment("TABLE", name, t.comment) end
  -- (a declared table says these with its row_security option)
  if t.rls then up[#up + 1] = { sql = ("ALTER TABLE %s ENABLE ROW LEVEL SECURITY"):format(name), declared = true } end
  if t.rls_forced then
    up[#up + 1] = { sql = ("ALTER TABLE %s FORCE ROW LEVEL SECURITY"):format(name), declared = t.rls or nil }
  end
  if t.replica_identity == "full" or t.replica_identity == "nothing" then
    up[#up + 1] = { sql = ("ALTER TABLE %s REPLICA IDENTITY %s"):format(name, t.replica_identity:upper()) }
  end
end

-- Schemas, extensions, enums, domains, composite and range types.
local function types_items(b)
  local s, x, add, home = b.s, b.x, b.add, b.home
  for _, n in ipairs(b.schemas) do
    local e = s.schemas[n]
    if n ~= "public" then
      local up = { { sql = "CREATE SCHEMA " .. q(n) } }
      if e.comment then up[#up + 1] = comment("SCHEMA", q(n), e.comment) end
      add({ id = "schema:" .. n, what = "schema " .. n, up = up, down = { { sql = "DROP SCHEMA " .. q(n) } } })
    end
  end
  for name, e in pairs(s.extensions) do
    local it = { id = "ext:" .. name, what = "extension " .. name, deps = { "schema:" .. e.schema_name } }
    if e.schema_name == home then
      it.up, it.down, it.declare = { { op = "create_extension", args = { name } } },
        { { op = "drop_extension", args = { name } } }, { "extension", name }
    else
      it.up = { { sql = ("CREATE EXTENSION %s WITH SCHEMA %s"):format(q(name), q(e.schema_name)) } }
      it.down = { { sql = "DROP EXTENSION " .. q(name) } }
    end
    add(it)
  end
  for k, e in pairs(s.enums) do
    local it = { id = "type:" .. k, what = "enum " .. e.schema .. "." .. e.name, deps = { "schema:" .. e.schema } }
    it.up, it.down = { { op = "create_enum", args = { k, e.values } } }, { { op = "drop_enum", args = { k } } }
    it.declare = { "enum", k, e.values }
    if e.comment then it.up[2] = comment("TYPE", qn(e.schema, e.name), e.comment) end
    add(it)
  end
  for k, e in pairs(s.types) do
    local name = qn(e.schema, e.name)
    local up, kind = {}, e.kind == "domain" and "DOMAIN" or "TYPE"
    if e.kind == "domain" then
      up[1] = { sql = ("CREATE DOMAIN %s AS %s%s%s%s"):format(name, e.base, e.default and (" DEFAULT " .. e.default) or "",
        e.not_null and " NOT NULL" or "", x.domain_cons[e.schema .. "\0" .. e.name] and
        (" " .. x.domain_cons[e.schema .. "\0" .. e.name]) or "") }
    elseif e.kind == "composite type" then
      up[1] = { sql = ("CREATE TYPE %s AS (%s)"):format(name, e.attributes or "") }
    else
      up[1] = { sql = ("CREATE TYPE %s AS RANGE (SUBTYPE = %s)"):format(name, e.base:match("^(.-) %S+$") or e.base) }
    end
    if e.comment then up[#up + 1] = comment(kind, name, e.comment) end
    local declares
    if e.kind == "domain" then
      local checks = {}
      for i, c in ipairs(e.checks or {}) do checks[i] = { name = c.name, condition = c.def:match("^CHECK %((.*)%)$") } end
      declares = { { "domain", k, { type = e.base, default = e.default, not_null = e.not_null,
        checks = #checks > 0 and checks or nil } } }
      if e.comment then declares[2] = up[#up].declare end
    end
    add({ id = "type:" .. k, what = e.kind .. " " .. e.schema .. "." .. e.name, up = up, declares = declares,
      down = { { sql = ("DROP %s %s"):format(kind, name) } }, deps = { "schema:" .. e.schema } })
  end
end

-- Sequences (an identity column's belongs to its table: kept in b.identity_seq) and their ownership.
local function sequence_items(b)
  local s, key, add = b.s, b.key, b.add
  for k, e in pairs(s.sequences) do
    if e.identity then
      b.identity_seq[e.owned_by or k] = e
    else
      local name = qn(e.schema, e.name)
      local up = { { sql = ("CREATE SEQUENCE %s AS %s START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s%s")
        :format(name, e.type, e.start, e.increment, e.min, e.max, e.cache, e.cycle and " CYCLE" or "") } }
      if e.comment then up[2] = comment("SEQUENCE", name, e.comment) end
      local declares = { { "sequence", k, { type = e.type, start = tonumber(e.start), increment = tonumber(e.increment),
        min = tonumber(e.min), max = tonumber(e.max), cache = tonumber(e.cache), cycle = e.cycle } } }
      if e.comment then declares[2] = { "comment", "SEQUENCE " .. name, e.comment } end
      add({ id = "rel:" .. k, rank = RANK.seq, what = "sequence " .. e.schema .. "." .. e.name, up = up,
        down = { { sql = "DROP SEQUENCE " .. name } }, deps = { "schema:" .. e.schema }, declares = declares })
      if e.owned_by then
        local ts, tn, col = e.owned_by:match("^(.-)%.(.-)%.([^.]+)$")
        add({ id = "owned:" .. k, what = "sequence " .. e.schema .. "." .. e.name .. " ownership",
          deps = { "rel:" .. k, "rel:" .. key(ts, tn) },
          up = { { sql = ("ALTER SEQUENCE %s OWNED BY %s.%s"):format(name, qn(ts, tn), q(col)) } },
          down = { { sql = ("ALTER SEQUENCE %s OWNED BY NONE"):format(name) } } })
      end
    end
  end
end

-- Functions, procedures and aggregates; raises naming each whose definition cannot be read back.
local function function_items(b)
  local s, x, add = b.s, b.x, b.add
  for k, e in pairs(s.functions) do
    local def = x.defs[e.schema .. "\0" .. e.name]
    local fname = qn(e.schema, e.name:match("^(.-)%(")) .. "(" .. (e.arguments or "") .. ")"
    local kind = e.kind == "procedure" and "PROCEDURE" or e.kind == "aggregate" and "AGGREGATE" or "FUNCTION"
    if not def then
      x.unreadable[#x.unreadable + 1] = ("%s %s.%s (%s)"):format(e.kind, e.schema, e.name,
        def == false and "an ordered-set aggregate" or "its definition cannot be read back")
      def = ""
    end
    local up = { { sql = e.kind == "aggregate" and ("CREATE AGGREGATE %s (%s)"):format(fname, def)
      or (def:gsub("%s+$", "")) } }
    if e.comment then up[2] = comment(kind, fname, e.comment) end
    local declares
    if e.kind ~= "aggregate" then
      declares = { { "func", k, up[1].sql } }
      if e.comment then declares[2] = { "comment", kind .. " " .. fname, e.comment } end
    end
    add({ id = "fn:" .. k, what = e.kind .. " " .. e.schema .. "." .. e.name, up = up,
      down = { { sql = ("DROP %s %s"):format(kind, fname) } }, deps = { "schema:" .. e.schema }, declares = declares })
  end
  if #x.unreadable > 0 then
    table.sort(x.unreadable)
    errors.raise("db", ("cannot dump what cannot be read back: %s"):format(table.concat(x.unreadable, "; ")))
  end
end

-- Table `k`'s item: op.create_table when the op vocabulary says it exactly, else its DDL.
local function table_item(b, k, t)
  local s, x, key, add = b.s, b.x, b.key, b.add
  local name = qn(t.schema, t.name)
  local it = { id = "rel:" .. k, rank = t.partition_of and RANK.partition or RANK.table,
    what = "table " .. t.schema .. "." .. t.name, deps = { "schema:" .. t.schema }, up = {} }
  local cons = {}
  for cname, c in pairs(t.constraints) do
    if c.type ~= "foreign key" and not x.inherited[t.schema .. "\0" .. t.name .. "\0" .. cname] then
      cons[#cons + 1] = c
    end
  end
  table.sort(cons, function(c1, c2) return c1.name < c2.name end)
  if plain_table(t, x) and not (t.name .. t.schema):find(".", 1, true) then
    local cols = {}
    for i, c in ipairs(t.columns) do
      cols[i] = { c.name, ddl.spec_type(types, c.type), nullable = ddl.nullable(c.nullable), server_default = c.default }
    end
    local specs = {}
    for i, c in ipairs(cons) do
      local kind = c.type:gsub(" ", "_")
      specs[i] = { type = kind, name = c.name, columns = c.type ~= "check" and c.columns or nil,
        condition = c.condition }
    end
    local opts = #specs > 0 and { constraints = specs } or nil
    it.up[1] = { op = "create_table", args = { k, cols, opts } }
    it.declare = { "table", k, cols, opts }
    it.down = { { op = "drop_table", args = { k } } }
  else
    local head
    if t.partition_of then
      local p = s.tables[t.partition_of]
      head = ("CREATE TABLE %s PARTITION OF %s %s"):format(name, qn(p.schema, p.name), t.partition_bound)
      it.deps[#it.deps + 1] = "rel:" .. t.partition_of
    else
      local cols = {}
      for _, c in ipairs(t.columns) do
        if not x.nonlocal[t.schema .. "\0" .. t.name .. "\0" .. c.name] then
          cols[#cols + 1] = "  " .. column_sql(t, c, b.identity_seq)
        end
      end
      head = ("CREATE %sTABLE %s (\n%s\n)"):format(t.unlogged and "UNLOGGED " or "", name, table.concat(cols, ",\n"))
      if t.inherits then
        local parents = {}
        for p in (t.inherits .. ", "):gmatch("(.-), ") do
          local ps, pn = p:match("^(.-)%.(.+)$")
          parents[#parents + 1] = qn(ps, pn)
          it.deps[#it.deps + 1] = "rel:" .. key(ps, pn)
        end
        head = head .. " INHERITS (" .. table.concat(parents, ", ") .. ")"
      end
    end
    if t.partition_key then head = head .. " PARTITION BY " .. t.partition_key end
    if t.options then head = head .. " WITH (" .. t.options .. ")" end
    it.up[1] = { sql = head }
    for _, c in ipairs(cons) do
      it.up[#it.up + 1] = { sql = ("ALTER TABLE %s ADD CONSTRAINT %s %s"):format(name, q(c.name), c.def) }
    end
    it.down = { { sql = "DROP TABLE " .. name } }
  end
  for _, c in ipairs(cons) do
    if c.comment then it.up[#it.up + 1] = comment("CONSTRAINT", q(c.name) .. " ON " .. name, c.comment) end
  end
  table_extras(t, name, it.up)
  if it.declare and t.rls then
    local opts = {} -- (a copy: op.create_table's has no row_security)
    for o, v in pairs(it.declare[4] or {}) do opts[o] = v end
    opts.row_security = t.rls_forced and "force" or true
    it.declare[4] = opts
  end
  add(it)
  return it
end

-- The indexes of table `k` (item `it`) not attached to a parent's.
local function index_items(b, k, t, it)
  local x, key, add, home = b.x, b.key, b.add, b.home
  local name = qn(t.schema, t.name)
  local colset = {}
  for _, c in ipairs(t.columns) do colset[c.name] = true end
  for _, n in ipairs(sorted_keys(t.indexes)) do
    local ix = t.indexes[n]
    if not x.attached[t.schema .. "\0" .. n] then
      local ixname = qn(t.schema, n)
      local ii = { id = "index:" .. key(t.schema, n), what = "index " .. t.schema .. "." .. n, deps = { it.id } }
      if plain_index(ix, colset) and t.schema == home and t.kind == "table" then
        local opts = (ix.unique or ix.where) and { unique = ix.unique or nil, where = ix.where } or nil
        ii.up = { { op = "create_index", args = { n, k, ix.columns, opts } } }
        if it.declare then ii.declare = { "index", n, k, ix.columns, opts } else ii.declare_sql = ix.def end
        ii.down = { { op = "drop_index", args = { n } } }
      else
        ii.up = { { sql = (ix.def:gsub(" ON ONLY ", " ON ", 1)) } }
        ii.down = { { sql = "DROP INDEX " .. ixname } }
      end
      if ix.clustered then ii.up[#ii.up + 1] = { sql = ("ALTER TABLE %s CLUSTER ON %s"):format(name, q(n)) } end
      if ix.comment then ii.up[#ii.up + 1] = comment("INDEX", ixname, ix.comment) end
      if t.replica_identity == "index" and ix.unique then
        ii.up[#ii.up + 1] = { sql = ("ALTER TABLE %s REPLICA IDENTITY USING INDEX %s"):format(name, q(n)) }
      end
      add(ii)
    end
  end
end

-- The foreign keys of table `k` (item `it`), each its own item after the tables.
local function fk_items(b, k, t, it)
  local x, add = b.x, b.add
  local name = qn(t.schema, t.name)
  for cname, c in pairs(t.constraints) do
    if c.type == "foreign key" and not x.inherited[t.schema .. "\0" .. t.name .. "\0" .. cname] then
      local fi = { id = "fk:" .. k .. "." .. cname, what = ("foreign key %s on %s.%s"):format(cname, t.schema, t.name),
        deps = { it.id, "rel:" .. c.references } }
      local sql = ("ALTER TABLE %s ADD CONSTRAINT %s %s"):format(name, q(cname), c.def)
      if plain_fk(c) and it.declare then
        local opts = (c.on_delete ~= "NO ACTION" or c.on_update ~= "NO ACTION") and {
          on_delete = c.on_delete ~= "NO ACTION" and c.on_delete or nil,
          on_update = c.on_update ~= "NO ACTION" and c.on_update or nil } or nil
        fi.up = { { op = "create_foreign_key", args = { cname, k, c.references, c.columns, c.ref_columns, opts } } }
        fi.declare_sql = sql
      else
        fi.up = { { sql = sql } }
      end
      if c.comment then fi.up[#fi.up + 1] = comment("CONSTRAINT", q(cname) .. " ON " .. name, c.comment) end
      fi.down = { fi.up[1].op and { op = "drop_constraint", args = { cname, k } }
        or { sql = ("ALTER TABLE %s DROP CONSTRAINT %s"):format(name, q(cname)) } }
      add(fi)
    end
  end
end

-- Views and materialized views (with their indexes).
local function view_items(b)
  local s, add = b.s, b.add
  for _, k in ipairs(sorted_keys(s.views)) do
    local v = s.views[k]
    local name, kind = qn(v.schema, v.name), v.materialized and "MATERIALIZED VIEW" or "VIEW"
    local up = { { sql = ("CREATE %s %s%s AS\n%s"):format(kind, name, v.options and (" WITH (" .. v.options .. ")") or "",
      (v.definition:gsub(";%s*$", ""))) } }
    if v.comment then up[2] = comment(kind, name, v.comment) end
    local declares -- (one with storage options or indexes stays SQL)
    if not v.options and next(v.indexes or {}) == nil then
      declares = { { v.materialized and "materialized_view" or "view", k, (v.definition:gsub(";%s*$", "")) },
        up[2] and up[2].declare }
    end
    for _, n in ipairs(sorted_keys(v.indexes or {})) do
      up[#up + 1] = { sql = v.indexes[n].def }
      if v.indexes[n].comment then up[#up + 1] = comment("INDEX", qn(v.schema, n), v.indexes[n].comment) end
    end
    add({ id = "rel:" .. k, rank = RANK.view, what = (v.materialized and "materialized view " or "view ") .. v.schema ..
      "." .. v.name, up = up, down = { { sql = ("DROP %s %s"):format(kind, name) } }, deps = { "schema:" .. v.schema },
      declares = declares })
  end
end

-- Triggers, rules and policies.
local function attached_items(b)
  local s, add = b.s, b.add
  local ENABLE = { disabled = "DISABLE", replica = "ENABLE REPLICA", always = "ENABLE ALWAYS" }
  for field, kind in pairs({ triggers = "trigger", rules = "rule", policies = "policy" }) do
    for k, e in pairs(s[field]) do
      local t = s.tables[e.table] or s.views[e.table]
      local tname = qn(t.schema, t.name)
      local up = { { sql = kind == "policy" and ("CREATE POLICY %s ON %s AS %s"):format(q(e.name), tname, e.sql)
        or (e.sql:gsub(";%s*$", "")) } }
      if ENABLE[e.enabled] then
        up[2] = { sql = ("ALTER TABLE %s %s %s %s"):format(tname, ENABLE[e.enabled], kind:upper(), q(e.name)) }
      end
      if e.comment then up[#up + 1] = comment(kind:upper(), q(e.name) .. " ON " .. tname, e.comment) end
      local declares
      if kind == "trigger" and not ENABLE[e.enabled] then
        declares = { { "trigger", e.name, up[1].sql }, e.comment and up[#up].declare }
      elseif kind == "policy" and b.declared["rel:" .. e.table] then -- (schema.policy needs its schema.table)
        declares = { { "policy", e.name, e.table, { command = e.command ~= "all" and e.command or nil,
          as = e.as ~= "permissive" and e.as or nil, roles = not (#e.roles == 1 and e.roles[1] == "public") and e.roles or nil,
          using = e.using, with_check = e.with_check } }, e.comment and up[#up].declare }
      end
      add({ id = kind .. ":" .. k, rank = RANK.trigger, what = ("%s %s on %s.%s"):format(kind, e.name, t.schema, t.name),
        deps = { "rel:" .. e.table }, up = up, declares = declares,
        down = { { sql = ("DROP %s %s ON %s"):format(kind:upper(), q(e.name), tname) } } })
    end
  end
end

---The dump items of snapshot `s` (luamig.schema.dump) and the catalog's
---dependency edges between them.
---@param db luamig.Db
---@param s luamig.Snapshot
---@return luamig.DumpItem[] items, string[][] edges
function M.dump_items(db, s)
  local home = session.home(db)
  local items, by_id = {}, {}
  local b = { s = s, home = home, schemas = sorted_keys(s.schemas), identity_seq = {} }
  function b.key(schema, name) return model.key(home, schema, name) end
  b.declared = {} -- the ids of items declared with schema.table
  function b.add(it)
    it.rank = it.rank or RANK[it.id:match("^[^:]+")]
    items[#items + 1] = it
    by_id[it.id] = it
    if it.declare and it.declare[1] == "table" then b.declared[it.id] = true end
    return it
  end
  b.x = catalog.extras(db, b.schemas)
  types_items(b)
  sequence_items(b)
  function_items(b)
  for _, k in ipairs(sorted_keys(s.tables)) do
    local t = s.tables[k]
    local it = table_item(b, k, t)
    index_items(b, k, t, it)
    fk_items(b, k, t, it)
  end
  view_items(b)
  attached_items(b)
  local function id_of(kind, schema, name, sub)
    local id = kind .. ":" .. (schema and b.key(schema, name) or name) .. (sub and ("." .. sub) or "")
    if by_id[id] then return id end
  end
  return items, catalog.edges(db, b.schemas, id_of)
end

return M
