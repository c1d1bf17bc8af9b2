--- Changes (luamig.schema.compare) as the body of upgrade or downgrade: op
--- calls a reviewer can read, destructive ones under a WARNING comment. On
--- a dialect that rebuilds tables (SQLite), each table's changes go through
--- one op.batch_alter_table. Every name and SQL text reaches the file
--- through luamig.util.lua_source, and every identifier in SQL written here
--- through the dialect's quoting.
local ddl = require "luamig.model.ddl"
local lua_source = require "luamig.util.lua_source"

local M = {}

-- Keys written first, in this order (a constraint reads "type, name, columns ...").
local RANK = { type = 1, name = 2, columns = 3, condition = 4, references = 5, ref_columns = 6 }

---A Lua literal of `v` (strings, numbers, booleans, nested tables).
---@param v any
---@return string
function M.literal(v) return lua_source.literal(v, RANK) end

-- A name for a constraint the database left unnamed (SQLite's column
-- constraints), the same for the upgrade that creates it and the downgrade
-- that drops it, whatever the table is called then.
local function constraint_name(_, c)
  local prefix = ({ unique = "uq", check = "ck", foreign_key = "fk" })[c.type]
  local text = c.columns and table.concat(c.columns, "_") or (c.condition or "")
  local h = 5381
  for i = 1, #text do h = (h * 33 + text:byte(i)) % 16777216 end
  return ("%s_%s_%06x"):format(prefix, (text:match("[%a_][%w_]*") or "x"):sub(1, 30), h)
end

-- The constraint specs and columns of a compare.table_form for create_table.
local function create_table_args(f, column_spec)
  local cols, cons = {}, {}
  local single = #f.pk == 1 and f.pk[1] or nil
  for i, n in ipairs(f.order) do cols[i] = column_spec(f, f.columns[n], n == single) end
  if #f.pk > 1 then cons[#cons + 1] = { type = "primary_key", columns = f.pk } end
  for _, con in ipairs(f.cons) do
    local c = {}
    for key, v in pairs(con) do c[key] = v end
    c.key = nil
    c.name = c.name or constraint_name(f.name, c)
    cons[#cons + 1] = c
  end
  return cols, #cons > 0 and { constraints = cons } or nil
end

-- Where the table is among the arguments of an op that takes one.
local TABLE_AT = { add_column = 1, drop_column = 1, alter_column = 1, drop_constraint = 2,
  create_unique_constraint = 2, create_check_constraint = 2, create_foreign_key = 2, create_primary_key = 2,
  drop_primary_key = 1 }

-- Unnamed constraint `c` as drop_constraint takes it (SQLite): by its content.
local function unnamed_spec(c)
  return { type = c.type, columns = c.type ~= "check" and c.columns or nil, condition = c.condition,
    references = c.references }
end

-- One change as op-name and arguments; `q` quotes an SQL identifier.
local function call_of(ch, style, column_spec, q, d, named)
  local a = ch.args
  if ch.call == "create_table" then
    local cols, opts = create_table_args(a[2], column_spec)
    return "create_table", { a[1], cols, opts }
  elseif ch.call == "constraint" then
    local c = a[2]
    local name = c.name or constraint_name(a[1], c)
    if c.type == "unique" then return "create_unique_constraint", { name, a[1], c.columns } end
    if c.type == "check" then return "create_check_constraint", { name, a[1], c.condition } end
    local opts = (c.on_delete or c.on_update) and { on_delete = c.on_delete, on_update = c.on_update } or nil
    return "create_foreign_key", { name, a[1], c.references, c.columns, c.ref_columns, opts }
  elseif ch.call == "alter_column" and a[3].using ~= nil then
    local opts = {}
    for k, v in pairs(a[3]) do opts[k] = v end
    opts.using = style.using and ("%s::%s"):format(q(a[2]), ddl.type(d, opts.type)) or nil
    return "alter_column", { a[1], a[2], opts }
  elseif ch.call == "create_view" then
    local sql = tostring(a[2])
    if not sql:match("^%s*[Cc][Rr][Ee][Aa][Tt][Ee]") then sql = ("CREATE VIEW %s AS %s"):format(ddl.qualified(a[1]), sql) end
    return "execute", { sql }
  elseif ch.call == "drop_view" then
    return "execute", { "DROP VIEW " .. ddl.qualified(a[1]) }
  elseif ch.call == "rename_constraint" then
    return "execute", { ("ALTER TABLE %s RENAME CONSTRAINT %s TO %s"):format(ddl.qualified(a[1]), q(a[2]), q(a[3])) }
  elseif ch.call == "create_trigger" then
    return "execute", { a[2] }
  elseif ch.call == "drop_trigger" then
    return "execute", { ("DROP TRIGGER %s%s"):format(q(a[1]), style.trigger_on and (" ON " .. ddl.qualified(a[2])) or "") }
  end
  if ch.call == "drop_constraint" and a[1] == nil then
    return ch.call, { named and constraint_name(a[2], ch.con) or unnamed_spec(ch.con), a[2] }
  end
  return ch.call, a
end

local function with(opts, extra)
  local out = {}
  for k, v in pairs(opts or {}) do out[k] = v end
  for k, v in pairs(extra) do out[k] = v end
  return out
end

-- NOT NULL on t.col with rows: a CHECK added NOT VALID, validated after a
-- commit, then SET NOT NULL (no scan) and the check dropped.
local function not_null_calls(t, col, q)
  local ck = constraint_name(t, { type = "check", condition = col .. " IS NOT NULL" })
  return {
    { "create_check_constraint", { ck, t, q(col) .. " IS NOT NULL", { not_valid = true } } },
    { "validate_constraint", { ck, t }, section = true },
    { "alter_column", { t, col, { nullable = false } } },
    { "drop_constraint", { ck, t } },
  }
end

-- add_column(`args`) of a column whose default is volatile (compare's
-- fill_key: the table's one-column key): added bare (with the default,
-- PostgreSQL rewrites the table), the default set for the rows to come,
-- the rows there filled in batches that each commit (luamig.backfill's
-- server form; a rerun after a kill finds the column and resumes), then NOT
-- NULL as above. The result says it met the change's caution.
local function filled_column(ch, args, q)
  local t, spec = args[1], with(args[2], {})
  local col, default, not_null = spec[1] or spec.name, spec.server_default, spec.nullable == false
  spec.server_default, spec.nullable = nil, nil
  local out = {
    { "add_column", { t, spec, { if_not_exists = true } } },
    { "alter_column", { t, col, { server_default = default } } },
    { "luamig.backfill", { { table = t, key = ch.fill_key, set = { [col] = default }, where = q(col) .. " IS NULL" } },
      section = true },
  }
  if not_null then table.move(not_null_calls(t, col, q), 1, 4, #out + 1, out) end
  out.caution_met = true
  return out
end

-- alter_column(t, col, opts) of a column with rows: NOT NULL as
-- not_null_calls says, the rest of opts (if any) one alter_column first.
local function altered(t, col, opts, q)
  if opts.nullable ~= false then return next(opts) and { { "alter_column", { t, col, opts } } } or {} end
  local rest = with(opts, {})
  rest.nullable = nil
  local out = next(rest) and { { "alter_column", { t, col, rest } } } or {}
  return table.move(not_null_calls(t, col, q), 1, 4, #out + 1, out)
end

-- A type change that rewrites the table (the dialect's online.rewrites_type),
-- by the table's one-column key (compare's fill_key): op.online.retype_column
-- in a section, then the change's other parts. Without a key: nil.
local function retyped_column(ch, args, q, d)
  local t, col, opts = args[1], args[2], args[3]
  if not (ch.retyped and d.online.rewrites_type(ch.retyped[1], ch.retyped[2])) then return nil end
  if not ch.fill_key then
    return { { "alter_column", args }, caution = ("changes %s.%s from %s to %s, which makes PostgreSQL rewrite the " ..
      "table under ACCESS EXCLUSIVE; %s has no one-column primary key for op.online.retype_column to fill the new " ..
      "column by"):format(t, col, ch.retyped[1], ch.retyped[2], t) }
  end
  local rest = with(opts, {})
  rest.type, rest.using = nil, nil
  local out = altered(t, col, rest, q)
  table.insert(out, 1, { "online.retype_column", { t, col, opts.type, { key = ch.fill_key } }, section = true })
  return out
end

-- Op call `name`(`args`) of change `ch` to a table with rows, as calls that
-- block no writes for long: { name, args, section = run in db:autocommit }.
-- Indexes built CONCURRENTLY; checks and foreign keys added NOT VALID and
-- validated after a commit; unique and primary keys USING a concurrently
-- built index; NOT NULL proved by a validated CHECK first; enum values
-- committed before they are used; a column with a volatile default filled
-- in batches; a type change through a shadow column (retyped_column).
local function online_calls(ch, name, args, q, d)
  if ch.call == "add_enum_value" then return { { name, args, section = true } } end
  if not ch.existing then return { { name, args } } end
  if name == "add_column" and ch.fill_key then return filled_column(ch, args, q) end
  local retyped = name == "alter_column" and retyped_column(ch, args, q, d)
  if retyped then return retyped end
  if name == "create_index" then
    return { { name, { args[1], args[2], args[3], with(args[4], { concurrently = true }) }, section = true } }
  elseif name == "drop_index" then
    return { { name, { args[1], with(args[2], { concurrently = true }) }, section = true } }
  elseif name == "create_unique_constraint" or name == "create_primary_key" then
    return { { name, { args[1], args[2], args[3], { concurrently = true } }, section = true } }
  elseif name == "create_check_constraint" or name == "create_foreign_key" then
    local at = name == "create_check_constraint" and 4 or 6
    local a = table.move(args, 1, at - 1, 1, {})
    a[at] = with(args[at], { not_valid = true })
    return { { name, a }, { "validate_constraint", { args[1], args[2] }, section = true } }
  elseif name == "alter_column" and args[3].nullable == false then
    return altered(args[1], args[2], args[3], q)
  end
  return { { name, args } }
end

-- The text of `args` of op `name`, without the table in a batch.
local function text_of(name, args, in_batch)
  local pos = in_batch and TABLE_AT[name]
  local out = {}
  for i = 1, #args do
    if i ~= pos then out[#out + 1] = args[i] == nil and "nil" or M.literal(args[i]) end
  end
  while out[#out] == "nil" do out[#out] = nil end
  return table.concat(out, ", ")
end

-- create_table's arguments, one column a line.
local function table_text(args, indent)
  local cols = {}
  for i, c in ipairs(args[2]) do cols[i] = indent .. "  " .. M.literal(c) .. "," end
  local opts = ""
  if args[3] then
    local cons = {}
    for i, c in ipairs(args[3].constraints) do cons[i] = indent .. "  " .. M.literal(c) .. "," end
    opts = (", { constraints = {\n%s\n%s} }"):format(table.concat(cons, "\n"), indent)
  end
  return ("%s, {\n%s\n%s}%s"):format(M.literal(args[1]), table.concat(cols, "\n"), indent, opts)
end

---The body lines of one direction; `warn(text)` is told of each destructive
---change. Returns the lines and whether the migration must run outside a
---transaction (a PostgreSQL enum value that later statements may use).
---@param changes table[]
---@param d luamig.Dialect  its render_style says how it wants some changes written
---@param warn fun(text: string)
---@param column_spec fun(f: table, c: table, single_pk: boolean): table
---@param named boolean?  unnamed constraints to drop were created by the upgrade, under the names it gave them
---@param online boolean?  changes to tables with rows written online-safe where the dialect can
---  (render_style.online; online_calls)
---@return string[] lines, boolean outside_tx
function M.body(changes, d, warn, column_spec, named, online)
  local style = d.render_style
  online = online and style.online
  local q = d.quote_ident
  local lines, outside = {}, false
  -- A remark on one comment line, also told to `warn` in the same words.
  local function remark(indent, label, text)
    text = lua_source.comment_text(text)
    warn(text)
    lines[#lines + 1] = indent .. "-- " .. label .. ": " .. text
  end
  local batch -- the table of the open batch_alter_table
  local section -- an open db:autocommit section
  local function close()
    if batch or section then lines[#lines + 1] = "  end)" end
    batch, section = nil, nil
  end
  -- functions created in a row, their bodies unchecked (the dialect's statements before and after)
  local defer, deferring = d.declared_objects.defer_function_bodies, false
  local function deferred(on)
    if not defer or deferring == on then return end
    close()
    lines[#lines + 1] = "  op.execute(" .. M.literal(defer[on and 1 or 2]) .. ")"
    deferring = on
  end
  for _, ch in ipairs(changes) do
    deferred(ch.function_body == true)
    local in_batch = style.batch and ch.table ~= nil and not ch.index and not ch.in_place
    if batch and batch ~= (in_batch and ch.table) then close() end
    local indent = in_batch and "    " or "  "
    local name, args = call_of(ch, style, column_spec, q, d, named)
    local calls = online and online_calls(ch, name, args, q, d) or { { name, args } }
    if section and not calls[1].section then close() end
    local said = section and "    " or indent -- (inside the open section, the remarks too)
    if ch.destructive then remark(said, "WARNING: destructive", ch.destructive) end
    if ch.caution and not calls.caution_met then remark(said, "WARNING", ch.caution) end
    if calls.caution then remark(said, "WARNING", calls.caution) end
    if ch.note then lines[#lines + 1] = said .. "-- NOTE: " .. lua_source.comment_text(ch.note) end
    if ch.enum_value and style.enum_outside_tx and not online then outside = true end
    if in_batch and not batch then
      lines[#lines + 1] = ("  op.batch_alter_table(%s, function(b)"):format(M.literal(ch.table))
      batch = ch.table
    end
    for _, c in ipairs(calls) do
      name, args = c[1], c[2]
      if section and not c.section then close() end
      if c.section and not section then
        lines[#lines + 1] = "  db:autocommit(function()"
        section = true
      end
      local at = section and "    " or indent
      local text = name == "create_table" and table_text(args, at) or text_of(name, args, in_batch)
      if name == "luamig.backfill" then
        lines[#lines + 1] = ("%s%s %s"):format(at, name, text)
      else
        lines[#lines + 1] = in_batch and ("%sb:%s(%s)"):format(at, name, text) or ("%sop.%s(%s)"):format(at, name, text)
      end
    end
  end
  deferred(false)
  close()
  return lines, outside
end

return M
