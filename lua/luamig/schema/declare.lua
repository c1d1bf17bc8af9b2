--- The declared schema: `schema.lua` or `schema/*.lua`, written in the op
--- vocabulary (`schema.table` takes op.create_table's arguments,
--- `schema.index` op.create_index's ...). Loading records each declaration
--- with the file:line that made it; `realize` builds the declared schema on
--- an empty database, so that it can be snapshotted and compared with the
--- schema at head (luamig.schema.compare) exactly as the database sees it.
local check = require "luamig.schema.check"
local ddl = require "luamig.model.ddl"
local ddl_objects = require "luamig.model.ddl_objects"
local errors = require "luamig.util.errors"
local fs = require "luamig.util.fs"
local host = require "luamig.host"
local ops = require "luamig.schema.ops"
local sqltext = require "luamig.model.sql"
local sandbox = require "luamig.util.sandbox"
local toposort = require "luamig.util.toposort"

local M = {}

-- What runs in file order before the tables when written before the first schema.table.
local EARLY = { enum = true, extension = true, sql = true, func = true, sequence = true, domain = true }
local TABLE_KEYS = { "constraints", "renamed_from", "comment", "row_security" }
-- The kinds a backend may not build (luamig.DeclaredObjects), as its refusal names them.
local WHAT = { func = "functions", trigger = "triggers", sequence = "sequences", comment = "comments",
  materialized_view = "materialized views", policy = "row-level security policies", domain = "domains" }
local INDEX_KEYS = ddl.INDEX_OPTIONS

---@class luamig.Declared
---@field files string[]
---@field items table[]   every declaration in file order: {what, name, args, where}
---@field tables table<string, table>  name -> {name, columns, opts, where, renamed_from, column_renames}
---@field enums table<string, table>
---@field extensions table<string, table>
---@field views table<string, table>
---@field indexes table<string, table>

---The declared-schema files of a project whose config file is in `dir`:
---`schema.lua`, else every `schema/*.lua` in name order; nil when neither exists.
---@param dir string
---@return string[]?
function M.files(dir)
  local single = (dir == "." and "" or (dir .. "/")) .. "schema.lua"
  if fs.exists(single) then return { single } end
  local _, paths = fs.list_lua((dir == "." and "" or (dir .. "/")) .. "schema")
  if paths and #paths > 0 then return paths end
  return nil
end

local function known(k, list)
  for _, x in ipairs(list) do
    if x == k then return true end
  end
  return false
end

local function bad(where, fmt, ...)
  local e = errors.new("config", fmt:format(...))
  e.where = where
  error(e, 0)
end

-- Options `opts` of schema.`what` `name`, each one of `keys`.
local function check_keys(where, what, name, opts, keys)
  if type(opts) ~= "table" then bad(where, "schema.%s %s: options must be a table", what, name) end
  for k in pairs(opts) do
    if not known(k, keys) then
      bad(where, "schema.%s %s: unknown option %q%s", what, name, tostring(k), check.did_you_mean(tostring(k), keys))
    end
  end
end

-- The file:line of the declaration being made (the innermost frame of `path`).
local function caller(path)
  return host.where(path) or path
end

local function need_name(where, what, name)
  if type(name) ~= "string" or name == "" then bad(where, "schema.%s needs a name as its first argument", what) end
end

-- Table `name`'s declaration: its columns (without renamed_from, which no op takes) and options.
local function declare_table(decl, where, name, columns, opts)
  need_name(where, "table", name)
  if decl.tables[name] then bad(where, "table %s is declared twice (first at %s)", name, decl.tables[name].where) end
  if type(columns) ~= "table" then bad(where, "schema.table %s: columns must be a list of column specs", name) end
  opts = opts or {}
  check_keys(where, "table", name, opts, TABLE_KEYS)
  local cols, renames = {}, {}
  for i, c in ipairs(columns) do
    if type(c) ~= "table" then bad(where, "schema.table %s: column %d is not a table", name, i) end
    local copy = {}
    for k, v in pairs(c) do copy[k] = v end
    if copy.renamed_from ~= nil then renames[copy[1] or copy.name] = copy.renamed_from end
    copy.renamed_from = nil
    cols[i] = copy
  end
  local rs = opts.row_security
  if rs ~= nil and rs ~= true and rs ~= false and rs ~= "force" then
    bad(where, "schema.table %s: row_security must be true, false or \"force\"", name)
  end
  local t = { name = name, columns = cols, where = where, renamed_from = opts.renamed_from, column_renames = renames,
    opts = { constraints = opts.constraints }, row_security = rs or nil }
  decl.tables[name] = t
  return t
end

-- The `schema` API a declaration file sees, recording into `decl`.
local function api(decl, path)
  local S = {}
  local function add(what, name, args, where)
    local item = { what = what, name = name, args = args, where = where }
    decl.items[#decl.items + 1] = item
    return item
  end
  ---@diagnostic disable-next-line: redefined-local
  function S.table(name, columns, opts)
    local where = caller(path)
    add("table", name, declare_table(decl, where, name, columns, opts), where)
  end
  function S.index(name, table_name, columns, opts)
    local where = caller(path)
    need_name(where, "index", name)
    if type(table_name) ~= "string" then bad(where, "schema.index %s: needs the table's name", name) end
    if type(columns) ~= "table" or #columns == 0 then bad(where, "schema.index %s: needs a list of columns", name) end
    for k in pairs(opts or {}) do
      if not known(k, INDEX_KEYS) then
        bad(where, "schema.index %s: unknown option %q%s", name, tostring(k), check.did_you_mean(tostring(k), INDEX_KEYS))
      end
    end
    decl.indexes[name] = add("index", name, { table_name, columns, opts or {} }, where)
  end
  function S.enum(name, values)
    local where = caller(path)
    need_name(where, "enum", name)
    if type(values) ~= "table" or #values == 0 then bad(where, "schema.enum %s: needs a list of values", name) end
    decl.enums[name] = add("enum", name, { values }, where)
  end
  function S.extension(name)
    local where = caller(path)
    need_name(where, "extension", name)
    decl.extensions[name] = add("extension", name, {}, where)
  end
  local function view(what, materialized)
    return function(name, sql)
      local where = caller(path)
      need_name(where, what, name)
      if type(sql) ~= "string" then bad(where, "schema.%s %s: needs its SELECT as a string", what, name) end
      decl.views[name] = add("view", name, { sql, materialized = materialized }, where)
    end
  end
  S.view, S.materialized_view = view("view"), view("materialized_view", true)
  -- schema.func / schema.trigger: a named CREATE statement, compared as the catalog normalizes it
  local function named_sql(what)
    return function(name, create_sql)
      local where = caller(path)
      need_name(where, what, name)
      if type(create_sql) ~= "string" then bad(where, "schema.%s %s: needs the SQL that creates it", what, name) end
      add(what, name, { create_sql }, where)
    end
  end
  S.func, S.trigger = named_sql("func"), named_sql("trigger")
  function S.sequence(name, opts)
    local where = caller(path)
    need_name(where, "sequence", name)
    opts = opts or {}
    check_keys(where, "sequence", name, opts, ddl.SEQUENCE_OPTIONS)
    add("sequence", name, { opts }, where)
  end
  function S.policy(name, table_name, opts)
    local where = caller(path)
    need_name(where, "policy", name)
    if type(table_name) ~= "string" then bad(where, "schema.policy %s: needs the table's name", name) end
    opts = opts or {}
    check_keys(where, "policy", name, opts, ddl_objects.POLICY_OPTIONS)
    for k, v in pairs(opts) do
      local problem = ddl_objects.policy_problem(k, v)
      if problem then bad(where, "schema.policy %s: %s", name, problem) end
    end
    add("policy", name, { table_name, opts }, where)
  end
  function S.domain(name, opts)
    local where = caller(path)
    need_name(where, "domain", name)
    opts = opts or {}
    check_keys(where, "domain", name, opts, ddl_objects.DOMAIN_OPTIONS)
    if type(opts.type) ~= "string" then bad(where, "schema.domain %s: needs its base type (type = ...)", name) end
    for i, c in ipairs(opts.checks or {}) do
      if type(c) ~= "string" and not (type(c) == "table" and type(c.condition) == "string") then
        bad(where, "schema.domain %s: check %d must be a condition, or { name = ..., condition = ... }", name, i)
      end
    end
    add("domain", name, { opts }, where)
  end
  function S.comment(target, text)
    local where = caller(path)
    need_name(where, "comment", target)
    if type(text) ~= "string" then bad(where, "schema.comment %s: needs the comment's text", target) end
    add("comment", target, { ("COMMENT ON %s IS %s"):format(target, sqltext.quote_literal(text)) }, where)
  end
  function S.sql(name, create_sql)
    local where = caller(path)
    need_name(where, "sql", name)
    if type(create_sql) ~= "string" then bad(where, "schema.sql %s: needs the SQL that creates it", name) end
    add("sql", name, { create_sql }, where)
  end
  return setmetatable(S, { __index = function(_, k)
    local e = check.unknown("schema.", k, { "table", "index", "enum", "extension", "view", "func",
      "trigger", "sequence", "comment", "materialized_view", "policy", "domain", "sql" })
    bad(caller(path), "%s", e.message)
  end })
end

-- Every reference of table `t` to another table must be declared.
local function check_references(decl, t)
  local function need(ref, column)
    local parent = type(ref) == "string" and ref:match("^([^.]+)") or ref
    if parent and not decl.tables[parent] then
      bad(t.where, "table %s: %sforeign key references table %s, which is not declared%s", t.name,
        column and ("column " .. column .. ": ") or "", parent, check.did_you_mean(parent, M.names(decl.tables)))
    end
  end
  for _, c in ipairs(t.columns) do
    if c.references then need(c.references, c[1] or c.name) end
  end
  for _, c in ipairs(t.opts.constraints or {}) do
    if type(c) == "table" and c.type == "foreign_key" then need(c.references) end
  end
end

---The sorted keys of `t`.
---@param t table
---@return string[]
function M.names(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

---Load the declaration files `paths` (in order).
---@param paths string[]
---@return luamig.Declared
function M.load(paths)
  local decl = { files = paths, items = {}, tables = {}, enums = {}, extensions = {}, views = {}, indexes = {} }
  for _, path in ipairs(paths) do
    local chunk = sandbox.compile(path, sandbox.env({ schema = api(decl, path) }), "config")
    sandbox.call(path, "config", chunk)
  end
  for _, name in ipairs(M.names(decl.tables)) do check_references(decl, decl.tables[name]) end
  for _, item in ipairs(decl.items) do
    if item.what == "policy" and not decl.tables[item.args[1]] then
      bad(item.where, "policy %s is on table %s, which is not declared%s", item.name, item.args[1],
        check.did_you_mean(item.args[1], M.names(decl.tables)))
    end
  end
  for name, ix in pairs(decl.indexes) do
    if not decl.tables[ix.args[1]] then
      bad(ix.where, "index %s is on table %s, which is not declared%s", name, ix.args[1],
        check.did_you_mean(ix.args[1], M.names(decl.tables)))
    end
  end
  return decl
end

-- The declared table a reference names ("b", "b.id"; nil for another schema's).
local function referenced(decl, ref)
  local parent = type(ref) == "string" and ref:match("^([^.]+)") or nil
  return parent and decl.tables[parent] and parent or nil
end

-- Tables in an order where each one's parents come first, else in file order (a cycle is cut where it closes).
local function table_order(decl)
  local pos = {}
  for i, item in ipairs(decl.items) do
    if item.what == "table" then pos[item.name] = pos[item.name] or i end
  end
  local names = toposort.order(pos, function(name)
    local t, parents = decl.tables[name], {}
    for _, c in ipairs(t.columns) do parents[#parents + 1] = referenced(decl, c.references) end
    for _, c in ipairs(t.opts.constraints or {}) do
      if type(c) == "table" and c.type == "foreign_key" then parents[#parents + 1] = referenced(decl, c.references) end
    end
    return parents
  end, function(x, y) return pos[x] < pos[y] end)
  local order = {}
  for i, name in ipairs(names) do order[i] = decl.tables[name] end
  return order
end

-- The primary key columns of declared table `t`.
local function pk_of(t)
  local out = {}
  for _, c in ipairs(t.columns) do
    if c.primary_key then out[#out + 1] = c[1] or c.name end
  end
  for _, c in ipairs(t.opts.constraints or {}) do
    if type(c) == "table" and c.type == "primary_key" then out = c.columns end
  end
  return out
end

-- Table `t`'s columns and options without the foreign keys to a declared
-- table not made yet (not in `made`: a cycle), and those foreign keys as
-- constraint specs, to add once every table exists.
local function split_forward(decl, t, made)
  local function forward(ref)
    local parent = referenced(decl, ref)
    return parent and parent ~= t.name and not made[parent] and parent
  end
  local columns, later = {}, {}
  for i, c in ipairs(t.columns) do
    local parent = forward(c.references)
    if parent then
      local copy = {}
      for k, v in pairs(c) do copy[k] = v end
      copy.references, copy.on_delete, copy.on_update = nil, nil, nil
      local col = c.references:match("^[^.]+%.(.+)$")
      later[#later + 1] = { type = "foreign_key", columns = { c[1] or c.name }, references = parent,
        ref_columns = col and { col } or pk_of(decl.tables[parent]), on_delete = c.on_delete, on_update = c.on_update }
      c = copy
    end
    columns[i] = c
  end
  local constraints
  for _, c in ipairs(t.opts.constraints or {}) do
    if type(c) == "table" and c.type == "foreign_key" and forward(c.references) then
      later[#later + 1] = c
    else
      constraints = constraints or {}
      constraints[#constraints + 1] = c
    end
  end
  return columns, { constraints = constraints or (#later == 0 and t.opts.constraints or nil) }, later
end

-- Run fn(); an error without a place is blamed on `where`.
local function at(where, fn, label)
  local ok, err = pcall(fn)
  if ok then return end
  if errors.is(err) then
    if not err.where or err.where == "" then err.where = where end -- (a driver's error may carry an empty one)
    if label then err.message = err.message:gsub("^op%.create_table", label) end
    err.kind = "config"
    error(err, 0)
  end
  bad(where, "%s", errors.text(err))
end

-- Refuse, naming the declaration, what backend `d` does not build (luamig.DeclaredObjects).
local function refuse_unbuildable(decl, d)
  local objects = d.declared_objects
  for _, item in ipairs(decl.items) do
    if WHAT[item.what] and not objects.kinds[item.what] then
      bad(item.where, "schema.%s %s: %s has no %s", item.what, item.name, objects.backend, WHAT[item.what])
    elseif item.what == "table" and item.args.row_security and not objects.kinds.row_security then
      bad(item.where, "schema.table %s: %s has no row-level security (row_security)", item.name, objects.backend)
    end
  end
end

---Build the declared schema on the empty database `db` (of dialect `d`):
---what is written before the first table (extensions, enums, domains,
---sequences, functions, raw SQL) in file order, the other extensions, enums,
---domains and sequences, tables (parents first; the foreign keys of a cycle
---once its tables exist) and their row-level security, indexes, functions,
---views, triggers, policies, the rest of the raw SQL, comments. What the
---backend does not build (luamig.DeclaredObjects) is refused first. An
---error (an unknown key or type, SQL the database refuses) names the
---declaration's file:line.
---@param decl luamig.Declared
---@param db luamig.Db
---@param d luamig.Dialect
function M.realize(decl, db, d)
  refuse_unbuildable(decl, d)
  local op = ops.new({ db = db, dialect = d })
  -- set up as for a migration using op (SQLite: a cycle's foreign key is
  -- added by a table rebuild, with foreign keys unenforced until checked)
  local setup = d.step_setup({}, { { uses_op = true } })
  d.apply_setup(db, setup)
  db:exec "BEGIN"
  -- (functions come before the tables their bodies may name)
  local defer = d.declared_objects.defer_function_bodies
  local ok, err = pcall(function()
    if defer then db:exec(defer[1]) end
    local function run(item)
      at(item.where, function()
        if item.what == "enum" then
          op.create_enum(item.name, item.args[1])
        elseif item.what == "domain" then
          db:exec(ddl_objects.create_domain(item.name, ddl.type(d, item.args[1].type), item.args[1]))
        elseif item.what == "policy" then
          db:exec(ddl_objects.create_policy(item.name, item.args[1], item.args[2]))
        elseif item.what == "extension" then
          op.create_extension(item.name)
        elseif item.what == "sequence" then
          db:exec(ddl.create_sequence(item.name, item.args[1]))
        else
          db:exec(item.args[1])
        end
      end)
    end
    -- what is written before the first schema.table runs first, in file order (a schema, a domain, a
    -- sequence, a function a default calls); then the other extensions and enums
    local first_table = math.huge
    for i, item in ipairs(decl.items) do
      if item.what == "table" then
        first_table = math.min(first_table, i)
      elseif i < first_table and EARLY[item.what] then
        run(item)
      end
    end
    for _, kind in ipairs({ "extension", "enum", "domain", "sequence" }) do
      for i, item in ipairs(decl.items) do
        if item.what == kind and i > first_table then run(item) end
      end
    end
    -- foreign keys in a cycle are added once both tables exist
    local made, later = {}, {}
    for _, t in ipairs(table_order(decl)) do
      local columns, opts, fks = split_forward(decl, t, made)
      at(t.where, function() op.create_table(t.name, columns, opts) end, "schema.table " .. t.name)
      made[t.name] = true
      for _, fk in ipairs(fks) do later[#later + 1] = { t = t, fk = fk } end
    end
    for _, l in ipairs(later) do
      at(l.t.where, function()
        op.create_foreign_key(l.fk.name, l.t.name, l.fk.references, l.fk.columns, l.fk.ref_columns,
          { on_delete = l.fk.on_delete, on_update = l.fk.on_update })
      end, "schema.table " .. l.t.name)
    end
    for _, t in ipairs(table_order(decl)) do
      if t.row_security then
        at(t.where, function()
          db:exec(ddl_objects.row_security(t.name, true))
          if t.row_security == "force" then db:exec(ddl_objects.row_security(t.name, true, true)) end
        end)
      end
    end
    d.check_step(db, setup)
    for _, kind in ipairs({ "index", "func", "view", "trigger", "policy", "sql", "comment" }) do
      for i, item in ipairs(decl.items) do
        if item.what == kind and not (EARLY[kind] and i < first_table) then
          at(item.where, function()
            if kind == "index" then
              local opts = {}
              for k, v in pairs(item.args[3]) do opts[k] = v end
              opts.concurrently = nil -- (the declared schema is built in one transaction)
              op.create_index(item.name, item.args[1], item.args[2], opts)
            elseif kind == "func" or kind == "trigger" or kind == "comment" or kind == "policy" then
              run(item)
            elseif kind == "view" then
              db:exec(("CREATE %sVIEW %s AS %s"):format(item.args.materialized and "MATERIALIZED " or "",
                ddl.qualified(item.name), item.args[1]))
            else
              db:exec(item.args[1])
            end
          end)
        end
      end
    end
    if defer then db:exec(defer[2]) end
  end)
  db:exec(ok and "COMMIT" or "ROLLBACK")
  d.apply_setup(db, d.step_setup({}, {}))
  if not ok then error(err, 0) end
end

return M
