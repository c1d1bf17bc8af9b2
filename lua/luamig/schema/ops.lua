--- Schema operations (`op` in migrations): portable DDL for SQLite and
--- PostgreSQL, written for the connection the running migration has. On
--- SQLite, what ALTER TABLE cannot do goes through the table rebuild
--- (luamig.dialect.sqlite_batch). Each op that has an obvious inverse names
--- it (INVERSE), so a migration may define change(op) instead of
--- upgrade/downgrade.
local ddl = require "luamig.schema.ddl"
local common = require "luamig.dialect.sql"
local batch = require "luamig.dialect.sqlite.rebuild"

local M = {}

local q = common.quote_ident

-- Enum types on SQLite: a TEXT column with a CHECK (col IN (...)); the values
-- live in this table so later migrations can use and extend the type.
local SQLITE_ENUMS = "luamig_enums"

local function sqlite_enum_values(db, name)
  if db.offline_enums then return db.offline_enums[name] end -- `--sql`: the enums created so far
  if not db:has_table(SQLITE_ENUMS) then return nil end
  local text = db:scalar("SELECT vals FROM " .. SQLITE_ENUMS .. " WHERE name = ?", name)
  if not text then return nil end
  local out = {}
  for v in (text .. "\n"):gmatch("(.-)\n") do out[#out + 1] = v end
  return out
end

local function in_list(values)
  local parts = {}
  for i, v in ipairs(values) do parts[i] = common.quote_literal(v) end
  return table.concat(parts, ", ")
end

---Bind the ops to a connection. Returns a table of functions (called as
---`op.create_table(...)`, like Alembic's).
---@param db table
---@return table op
function M.new(db)
  local dialect = db.dialect
  local op = {}
  local pg = dialect == "postgresql"

  local function exec(sql, ...) return db:exec(sql, ...) end

  -- SQLite: an enum-typed column becomes `name TYPE CHECK (name IN (...))`.
  local function column_spec(spec)
    if pg then return spec end
    local values = sqlite_enum_values(db, spec[2] or spec.type)
    if not values then return spec end
    local copy = {}
    for k, v in pairs(spec) do copy[k] = v end
    local cond = ("%s IN (%s)"):format(q(spec[1] or spec.name), in_list(values))
    copy.check = copy.check and ("(" .. copy.check .. ") AND " .. cond) or cond
    return copy
  end

  local function with_batch(table_name, fn)
    local b = batch.start(db, table_name)
    fn(b)
    batch.finish(db, b)
  end

  ---CREATE TABLE: columns are luamig.ColumnSpec, opts.constraints table
  ---constraints, opts.if_not_exists.
  function op.create_table(name, columns, opts)
    opts = opts or {}
    local specs = {}
    for i, c in ipairs(columns) do specs[i] = column_spec(c) end
    exec(ddl.create_table(dialect, name, specs, opts.constraints, opts.if_not_exists))
  end

  function op.drop_table(name, opts)
    exec(("DROP TABLE %s%s"):format(opts and opts.if_exists and "IF EXISTS " or "", ddl.qualified(name)))
  end

  function op.rename_table(old, new)
    exec(("ALTER TABLE %s RENAME TO %s"):format(ddl.qualified(old), q(new)))
  end

  function op.add_column(table_name, spec)
    spec = column_spec(spec)
    if not pg and (spec.primary_key or spec.unique) then
      return with_batch(table_name, function(b) b:add_column(spec) end) -- ADD COLUMN refuses these on SQLite
    end
    exec(("ALTER TABLE %s ADD COLUMN %s"):format(ddl.qualified(table_name), ddl.column(dialect, spec, false)))
  end

  function op.drop_column(table_name, column)
    if pg then
      return exec(("ALTER TABLE %s DROP COLUMN %s"):format(ddl.qualified(table_name), q(column)))
    end
    with_batch(table_name, function(b) b:drop_column(column) end)
  end

  ---Change a column: opts.type (opts.using on PostgreSQL), opts.nullable,
  ---opts.server_default / opts.default (false drops it), opts.new_name.
  function op.alter_column(table_name, column, opts)
    local t = ddl.qualified(table_name)
    if pg then
      if opts.type then
        exec(("ALTER TABLE %s ALTER COLUMN %s TYPE %s%s"):format(t, q(column), ddl.type(dialect, opts.type),
          opts.using and (" USING " .. opts.using) or ""))
      end
      if opts.nullable ~= nil then
        exec(("ALTER TABLE %s ALTER COLUMN %s %s NOT NULL"):format(t, q(column), opts.nullable and "DROP" or "SET"))
      end
      if opts.server_default == false or opts.default == false then
        exec(("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT"):format(t, q(column)))
      elseif opts.server_default ~= nil or opts.default ~= nil then
        exec(("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s"):format(t, q(column), ddl.default(opts)))
      end
      if opts.new_name then exec(("ALTER TABLE %s RENAME COLUMN %s TO %s"):format(t, q(column), q(opts.new_name))) end
      return
    end
    local rest = {}
    for k, v in pairs(opts) do rest[k] = v end
    if opts.new_name then
      exec(("ALTER TABLE %s RENAME COLUMN %s TO %s"):format(t, q(column), q(opts.new_name)))
      column, rest.new_name = opts.new_name, nil
    end
    if next(rest) then with_batch(table_name, function(b) b:alter_column(column, rest) end) end
  end

  ---CREATE INDEX: opts.unique, opts.where (partial), opts.concurrently
  ---(PostgreSQL; needs a migration outside a transaction), opts.if_not_exists.
  function op.create_index(name, table_name, columns, opts)
    opts = opts or {}
    exec(("CREATE %sINDEX %s%s%s ON %s (%s)%s"):format(opts.unique and "UNIQUE " or "",
      pg and opts.concurrently and "CONCURRENTLY " or "", opts.if_not_exists and "IF NOT EXISTS " or "", q(name),
      ddl.qualified(table_name), ddl.names(columns), opts.where and (" WHERE " .. opts.where) or ""))
  end

  function op.drop_index(name, opts)
    opts = opts or {}
    exec(("DROP INDEX %s%s%s"):format(pg and opts.concurrently and "CONCURRENTLY " or "",
      opts.if_exists and "IF EXISTS " or "", q(name)))
  end

  local function add_constraint(table_name, spec, batch_call)
    if pg then
      return exec(("ALTER TABLE %s ADD %s"):format(ddl.qualified(table_name), ddl.constraint(spec)))
    end
    with_batch(table_name, batch_call)
  end

  function op.create_unique_constraint(name, table_name, columns)
    add_constraint(table_name, { type = "unique", name = name, columns = columns },
      function(b) b:create_unique_constraint(name, columns) end)
  end

  function op.create_check_constraint(name, table_name, condition)
    add_constraint(table_name, { type = "check", name = name, condition = condition },
      function(b) b:create_check_constraint(name, condition) end)
  end

  ---FOREIGN KEY (local_cols) REFERENCES referent (remote_cols); opts.on_delete, opts.on_update.
  function op.create_foreign_key(name, source, referent, local_cols, remote_cols, opts)
    opts = opts or {}
    add_constraint(source, { type = "foreign_key", name = name, columns = local_cols, references = referent,
      ref_columns = remote_cols, on_delete = opts.on_delete, on_update = opts.on_update },
      function(b) b:create_foreign_key(name, referent, local_cols, remote_cols, opts) end)
  end

  function op.drop_constraint(name, table_name)
    if pg then
      return exec(("ALTER TABLE %s DROP CONSTRAINT %s"):format(ddl.qualified(table_name), q(name)))
    end
    with_batch(table_name, function(b) b:drop_constraint(name) end)
  end

  ---Several changes to one table at once (one rebuild on SQLite; plain
  ---ALTER TABLE statements on PostgreSQL). `fn(batch)` gets add_column,
  ---drop_column, alter_column, create_*_constraint, drop_constraint,
  ---create_index, drop_index with the table left out.
  function op.batch_alter_table(table_name, fn)
    if not pg then return with_batch(table_name, fn) end
    local b = {}
    for _, name in ipairs({ "add_column", "drop_column", "alter_column" }) do -- op.x(table, ...)
      b[name] = function(_, ...) return op[name](table_name, ...) end
    end
    for _, name in ipairs({ "drop_constraint", "create_unique_constraint", "create_check_constraint",
      "create_foreign_key" }) do -- op.x(name, table, ...)
      b[name] = function(_, cname, ...) return op[name](cname, table_name, ...) end
    end
    function b.create_index(_, name, columns, opts) return op.create_index(name, table_name, columns, opts) end
    function b.drop_index(_, name) return op.drop_index(name) end
    fn(b)
  end

  -- ------------------------------------------------------------ enums

  ---An enum type. PostgreSQL: CREATE TYPE ... AS ENUM. SQLite: columns of
  ---this type are TEXT with a CHECK (col IN (...)).
  function op.create_enum(name, values)
    if pg then return exec(("CREATE TYPE %s AS ENUM (%s)"):format(ddl.qualified(name), in_list(values))) end
    if db.offline_enums then db.offline_enums[name] = values end
    exec("CREATE TABLE IF NOT EXISTS " .. SQLITE_ENUMS .. " (name TEXT PRIMARY KEY, vals TEXT NOT NULL)")
    exec("INSERT INTO " .. SQLITE_ENUMS .. " (name, vals) VALUES (?, ?)", name, table.concat(values, "\n"))
  end

  function op.drop_enum(name, opts)
    if pg then
      return exec(("DROP TYPE %s%s"):format(opts and opts.if_exists and "IF EXISTS " or "", ddl.qualified(name)))
    end
    if db.offline_enums or db:has_table(SQLITE_ENUMS) then
      exec("DELETE FROM " .. SQLITE_ENUMS .. " WHERE name = ?", name)
    end
  end

  -- SQLite: rewrite the CHECK of every column declared with enum `name`.
  local function sqlite_recheck(name, values)
    exec("UPDATE " .. SQLITE_ENUMS .. " SET vals = ? WHERE name = ?", table.concat(values, "\n"), name)
    -- (the list first: a table cannot be rebuilt while a query reads the schema)
    for _, t in ipairs(db:query "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") do
      local cols = {}
      for _, c in ipairs(db:query("SELECT name FROM pragma_table_info(?) WHERE type = ? COLLATE NOCASE", t.name, name)) do
        cols[#cols + 1] = c.name
      end
      if #cols > 0 then
        with_batch(t.name, function(b)
          for _, c in ipairs(cols) do
            b:alter_column(c, { check_replace = ("CHECK (%s IN (%s))"):format(q(c), in_list(values)) })
          end
        end)
      end
    end
  end

  ---Add a value: opts.before / opts.after (PostgreSQL), opts.if_not_exists.
  ---On PostgreSQL >= 12 this runs inside a transaction, but the value cannot
  ---be used before that transaction commits (use db:autocommit or a later
  ---migration).
  function op.add_enum_value(name, value, opts)
    opts = opts or {}
    if pg then
      local where = opts.before and (" BEFORE " .. common.quote_literal(opts.before))
          or opts.after and (" AFTER " .. common.quote_literal(opts.after)) or ""
      return exec(("ALTER TYPE %s ADD VALUE %s%s%s"):format(ddl.qualified(name),
        opts.if_not_exists and "IF NOT EXISTS " or "", common.quote_literal(value), where))
    end
    local values = sqlite_enum_values(db, name)
    if not values then error(("no enum %s (create it with op.create_enum)"):format(name), 0) end
    for _, v in ipairs(values) do
      if v == value then
        if opts.if_not_exists then return end
        error(("enum %s already has the value %s"):format(name, value), 0)
      end
    end
    local at = #values + 1
    for i, v in ipairs(values) do
      if v == opts.before then at = i elseif v == opts.after then at = i + 1 end
    end
    table.insert(values, at, value)
    sqlite_recheck(name, values)
  end

  function op.rename_enum_value(name, old, new)
    if pg then
      return exec(("ALTER TYPE %s RENAME VALUE %s TO %s"):format(ddl.qualified(name), common.quote_literal(old),
        common.quote_literal(new)))
    end
    local values = sqlite_enum_values(db, name)
    if not values then error(("no enum %s"):format(name), 0) end
    local cols = {}
    for _, t in ipairs(db:query "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") do
      for _, c in ipairs(db:query("SELECT name FROM pragma_table_info(?) WHERE type = ? COLLATE NOCASE", t.name, name)) do
        cols[#cols + 1] = { t.name, c.name }
      end
    end
    local both = {}
    for i, v in ipairs(values) do
      both[#both + 1] = v
      if v == old then values[i] = new end
    end
    both[#both + 1] = new
    sqlite_recheck(name, both) -- allow both while rows change
    for _, tc in ipairs(cols) do
      exec(("UPDATE %s SET %s = ? WHERE %s = ?"):format(q(tc[1]), q(tc[2]), q(tc[2])), new, old)
    end
    sqlite_recheck(name, values)
  end

  ---Remove a value: PostgreSQL cannot drop one in place, so the type is
  ---renamed aside, created anew without it, every column of it recast, and
  ---the old type dropped (rows holding the value make the recast fail).
  function op.drop_enum_value(name, value)
    if pg then
      local values, cols = {}, {}
      for _, r in ipairs(db:query([[
SELECT e.enumlabel FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
WHERE t.typname = ? ORDER BY e.enumsortorder]], name)) do
        if r.enumlabel ~= value then values[#values + 1] = r.enumlabel end
      end
      for _, r in ipairs(db:query([[
SELECT c.table_schema, c.table_name, c.column_name, c.column_default FROM information_schema.columns c
WHERE c.udt_name = ? AND c.table_schema = ANY (pg_catalog.current_schemas(false))]], name)) do
        cols[#cols + 1] = r
      end
      local aside = name .. "_luamig_old"
      exec(("ALTER TYPE %s RENAME TO %s"):format(q(name), q(aside)))
      exec(("CREATE TYPE %s AS ENUM (%s)"):format(q(name), in_list(values)))
      for _, c in ipairs(cols) do
        local t = q(c.table_schema) .. "." .. q(c.table_name)
        -- a default is cast to the old type: drop it, recast the column, set it again
        local default = c.column_default and c.column_default:match("^('.*')::")
        if c.column_default then exec(("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT"):format(t, q(c.column_name))) end
        exec(("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::text::%s"):format(t, q(c.column_name), q(name),
          q(c.column_name), q(name)))
        if default then
          exec(("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s::%s"):format(t, q(c.column_name), default, q(name)))
        end
      end
      return exec(("DROP TYPE %s"):format(q(aside)))
    end
    local values = sqlite_enum_values(db, name)
    if not values then error(("no enum %s"):format(name), 0) end
    local kept = {}
    for _, v in ipairs(values) do
      if v ~= value then kept[#kept + 1] = v end
    end
    sqlite_recheck(name, kept)
  end

  function op.create_extension(name, opts)
    if not pg then return end -- nothing to install on SQLite
    exec(("CREATE EXTENSION %s%s"):format((opts == nil or opts.if_not_exists ~= false) and "IF NOT EXISTS " or "",
      q(name)))
  end

  function op.drop_extension(name)
    if pg then exec(("DROP EXTENSION IF EXISTS %s"):format(q(name))) end
  end

  -- ------------------------------------------------------------ data

  ---Run SQL (with bound parameters).
  function op.execute(sql, ...) return exec(sql, ...) end

  ---Insert rows (tables keyed by column name; luamig.null or a missing key
  ---for NULL) through db:copy_in: COPY on PostgreSQL, multi-row INSERTs on
  ---SQLite (and in --sql output).
  function op.bulk_insert(table_name, rows)
    if #rows == 0 then return 0 end
    return db:copy_in(table_name, require("luamig.db.handle").columns_of(rows), rows)
  end

  return op
end

-- ------------------------------------------------------------ change()

-- The inverse of each reversible op, given its arguments.
local INVERSE = {
  create_table = function(name) return "drop_table", { name } end,
  rename_table = function(old, new) return "rename_table", { new, old } end,
  add_column = function(t, spec) return "drop_column", { t, spec[1] or spec.name } end,
  create_index = function(name, t) return "drop_index", { name, { table = t } } end,
  create_unique_constraint = function(name, t) return "drop_constraint", { name, t } end,
  create_check_constraint = function(name, t) return "drop_constraint", { name, t } end,
  create_foreign_key = function(name, t) return "drop_constraint", { name, t } end,
  create_enum = function(name) return "drop_enum", { name } end,
  create_extension = function(name) return "drop_extension", { name } end,
  alter_column = function(t, col, opts)
    local only_rename = opts.new_name ~= nil
    for k in pairs(opts) do
      if k ~= "new_name" then only_rename = false end
    end
    if only_rename then return "alter_column", { t, opts.new_name, { new_name = col } } end
  end,
}

---Run `change(op)` forwards (upgrade) with the real ops.
---@param change fun(op: table)
---@param db table
function M.change_up(change, db)
  change(M.new(db))
end

---Run `change(op)` backwards (downgrade): record its ops, then run their
---inverses in reverse order. An op without an inverse is an error naming it.
---@param change fun(op: table)
---@param db table
---@param path string  the migration file, for messages
function M.change_down(change, db, path)
  local recorded = {}
  local recorder = setmetatable({}, { __index = function(_, name)
    return function(...)
      local inverse = INVERSE[name]
      local inv_name, inv_args
      if inverse then inv_name, inv_args = inverse(...) end
      if not inv_name then
        error(("%s: change() uses op.%s, which cannot be reversed; write upgrade(db) and downgrade(db) instead")
          :format(path, name), 0)
      end
      recorded[#recorded + 1] = { inv_name, inv_args }
    end
  end })
  change(recorder)
  local op = M.new(db)
  for i = #recorded, 1, -1 do
    local name, args = recorded[i][1], recorded[i][2]
    op[name](table.unpack(args))
  end
end

---Whether change() can be reversed, checked before anything runs.
function M.reversible(change, path)
  local ok, err = pcall(change, setmetatable({}, { __index = function(_, name)
    return function(...)
      local inverse = INVERSE[name]
      if not (inverse and inverse(...)) then
        error(("%s: change() uses op.%s, which cannot be reversed; write upgrade(db) and downgrade(db) instead")
          :format(path, name), 0)
      end
    end
  end }))
  return ok, err
end

-- ------------------------------------------------------------ the global `op`

M.current = nil -- the ops of the migration that is running (set by the runner)

---The `op` global of migration files: forwards to the running migration's ops.
M.proxy = setmetatable({}, { __index = function(_, name)
  local current = M.current
  if not current then error("op." .. name .. " is only available while a migration runs", 2) end
  return current[name]
end })

return M
