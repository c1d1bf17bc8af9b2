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
  create_unique_constraint = 2, create_check_constraint = 2, create_foreign_key = 2 }

-- The statements of a primary-key change of table `t` from `old` to `new`
-- columns (either may be empty; `name` is the old one's).
local function primary_key_sql(q, t, old, new, name)
  local out = {}
  if #old > 0 then
    out[#out + 1] = ("ALTER TABLE %s DROP CONSTRAINT %s"):format(ddl.qualified(t), q(name or (t:match("[^.]+$") .. "_pkey")))
  end
  if #new > 0 then
    local cols = {}
    for i, c in ipairs(new) do cols[i] = q(c) end
    out[#out + 1] = ("ALTER TABLE %s ADD PRIMARY KEY (%s)"):format(ddl.qualified(t), table.concat(cols, ", "))
  end
  return table.concat(out, "; ")
end

-- One change as op-name and arguments; `q` quotes an SQL identifier.
local function call_of(ch, style, column_spec, q, d)
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
  elseif ch.call == "primary_key" then
    return "execute", { primary_key_sql(q, a[1], a[2], a[3], a[4]) }
  end
  if ch.call == "drop_constraint" and a[1] == nil then return ch.call, { constraint_name(a[2], ch.con), a[2] } end
  return ch.call, a
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

-- Why change `ch` cannot be written as an op call, or nil.
local function by_hand_text(ch, style, named)
  if ch.call == "primary_key" and style.pk_by_hand then
    return ("the primary key of %s changes from (%s) to (%s): SQLite cannot alter it; rebuild the table by hand")
      :format(ch.args[1], table.concat(ch.args[2], ", "), table.concat(ch.args[3], ", "))
  end
  if ch.call == "drop_constraint" and ch.args[1] == nil and not named then
    local c = ch.con
    return ("table %s: the unnamed %s constraint (%s) cannot be dropped by name; drop it by hand"):format(ch.table,
      c.type, c.columns and table.concat(c.columns, ", ") or c.condition)
  end
end

---The body lines of one direction; `warn(text)` is told of each destructive
---change. Returns the lines and whether the migration must run outside a
---transaction (a PostgreSQL enum value that later statements may use).
---@param changes table[]
---@param d luamig.Dialect  its render_style says how it wants some changes written
---@param warn fun(text: string)
---@param column_spec fun(f: table, c: table, single_pk: boolean): table
---@param named boolean?  unnamed constraints to drop were created by the upgrade, under the names it gave them
---@return string[] lines, boolean outside_tx
function M.body(changes, d, warn, column_spec, named)
  local style = d.render_style
  local q = d.quote_ident
  local lines, outside = {}, false
  -- A remark on one comment line, also told to `warn` in the same words.
  local function remark(indent, label, text)
    text = lua_source.comment_text(text)
    warn(text)
    lines[#lines + 1] = indent .. "-- " .. label .. ": " .. text
  end
  local batch -- the table of the open batch_alter_table
  local function close()
    if batch then lines[#lines + 1] = "  end)" end
    batch = nil
  end
  for _, ch in ipairs(changes) do
    local in_batch = style.batch and ch.table ~= nil and not ch.index and not ch.in_place
      and not by_hand_text(ch, style, named)
    if batch and batch ~= (in_batch and ch.table) then close() end
    local indent = in_batch and "    " or "  "
    if ch.destructive then remark(indent, "WARNING: destructive", ch.destructive) end
    if ch.note then lines[#lines + 1] = indent .. "-- NOTE: " .. lua_source.comment_text(ch.note) end
    if ch.enum_value and style.enum_outside_tx then outside = true end
    local by_hand = by_hand_text(ch, style, named)
    if by_hand then
      remark(indent, "TODO", by_hand)
    else
      if in_batch and not batch then
        lines[#lines + 1] = ("  op.batch_alter_table(%s, function(b)"):format(M.literal(ch.table))
        batch = ch.table
      end
      local name, args = call_of(ch, style, column_spec, q, d)
      local text = name == "create_table" and table_text(args, indent) or text_of(name, args, in_batch)
      lines[#lines + 1] = in_batch and ("%sb:%s(%s)"):format(indent, name, text) or ("%sop.%s(%s)"):format(indent, name, text)
    end
  end
  close()
  return lines, outside
end

return M
