--- Declared vs actual for one table: the comparable forms of tables,
--- indexes and constraints, and the changes taking a table present on both
--- sides from one form to the other (luamig.schema.compare orders tables).
local spelling = require "luamig.schema.compare_columns"
local declare = require "luamig.schema.declare"
local types = require "luamig.schema.widening"

local M = {}

local names = declare.names
local spelled, default_of = spelling.spelled, spelling.default_of

-- "((0))" -> "0": SQLite keeps a default's text as written, and a rebuild adds parentheses.
local function bare(text)
  if text == nil then return nil end
  text = tostring(text):gsub("^%s+", ""):gsub("%s+$", "")
  while text:match("^%b()$") do text = text:sub(2, -2):gsub("^%s+", ""):gsub("%s+$", "") end
  return text
end

local function list(l) return table.concat(l or {}, ",") end

local function unique_text(u) return u and " unique" or "" end

local function action(x) return (x == nil or x == "NO ACTION") and "" or x end

-- The keys of snapshot index `ix` (luamig.IndexKey), columns through `col`.
local function index_keys(ix, col)
  local keys = {}
  for i, c in ipairs(ix.keys or ix.columns) do
    local k = type(c) == "table" and c or { column = c }
    keys[i] = { column = k.column and col(k.column), expr = k.expr, opclass = k.opclass, order = k.order, nulls = k.nulls }
  end
  return keys
end

local function key_text(k)
  return ("%s%s%s%s"):format(k.column or ("(" .. k.expr .. ")"), k.opclass and (" " .. k.opclass) or "",
    k.order and (" " .. k.order) or "", k.nulls and (" nulls " .. k.nulls) or "")
end

---An index as compared: every part of snapshot index `ix` (its columns
---renamed through `col`, when given), and `text` telling two apart.
---@param name string
---@param ix luamig.Index
---@param col (fun(c: string): string)?
---@param where string?  the predicate, when not ix.where
---@return table
function M.index_form(name, ix, col, where)
  col = col or function(c) return c end
  where = where or ix.where
  local keys, texts, include = index_keys(ix, col), {}, {}
  for i, k in ipairs(keys) do texts[i] = key_text(k) end
  for i, c in ipairs(ix.include or {}) do include[i] = col(c) end
  local method = ix.method ~= "btree" and ix.method or nil
  return { name = name, keys = keys, unique = ix.unique or nil, where = where, method = method,
    include = #include > 0 and include or nil, nulls_not_distinct = ix.nulls_not_distinct or nil,
    text = ("%s(%s)%s%s%s %s"):format(method and (method .. " ") or "", list(texts), unique_text(ix.unique),
      #include > 0 and (" include (" .. list(include) .. ")") or "", ix.nulls_not_distinct and " nulls not distinct" or "",
      where or "") }
end

---What makes two constraints the same (their name aside).
---@param c table
---@return string
function M.constraint_key(c)
  if c.type == "unique" then return "unique (" .. list(c.columns) .. ")" end
  if c.type == "check" then return "check (" .. c.condition:gsub("%s+", " ") .. ")" end
  return ("foreign key (%s) -> %s (%s) %s %s"):format(list(c.columns), c.references, list(c.ref_columns),
    action(c.on_delete), action(c.on_update))
end

---The comparable form of a snapshot table: columns by name, constraints by
---their content (SQLite does not keep every name), indexes by name. The
---CHECK an enum column carries on SQLite belongs to its type, not here.
---@param t table  a snapshot table
---@param enums table  the snapshot's enums
---@param sequences table?  the snapshot's sequences: a `nextval` default is a serial's only when its sequence is the column's
---@return table
function M.table_form(name, t, enums, sequences)
  local owned = {}
  for _, sq in pairs(sequences or {}) do
    if sq.owned_by then owned[sq.owned_by] = true end
  end
  local f = { name = name, columns = {}, order = {}, pk = t.primary_key or {}, indexes = {}, cons = {} }
  for k, c in pairs(t.constraints or {}) do
    if c.type == "primary key" then f.pk_name = c.name or k end
  end
  for _, c in ipairs(t.columns) do
    f.columns[c.name] = { name = c.name, type = c.type, nullable = c.nullable, default = bare(c.default),
      raw_default = c.default, identity = c.identity, declared = c.declared, portable = c.portable,
      serial = c.default ~= nil and tostring(c.default):match("^nextval%(") ~= nil
        and (sequences == nil or owned[(t.schema or "") .. "." .. t.name .. "." .. c.name]) or nil }
    f.order[#f.order + 1] = c.name
  end
  for k, ix in pairs(t.indexes or {}) do f.indexes[k] = M.index_form(k, ix) end
  local function add(c)
    c.key = M.constraint_key(c)
    f.cons[#f.cons + 1] = c
  end
  for _, u in ipairs(t.uniques or {}) do add({ type = "unique", name = u.name, columns = u.columns }) end
  for _, c in ipairs(t.checks or {}) do
    local col = c.column and f.columns[c.column]
    if not (col and enums[col.type]) then add({ type = "check", name = c.name, condition = c.condition }) end
  end
  for _, fk in ipairs(t.foreign_keys or {}) do
    add({ type = "foreign_key", name = fk.name, columns = fk.columns, references = fk.references,
      ref_columns = fk.ref_columns, on_delete = action(fk.on_delete) ~= "" and fk.on_delete or nil,
      on_update = action(fk.on_update) ~= "" and fk.on_update or nil })
  end
  return f
end

---Whether constraint `c` is in `list`: the same content, and the same name
---unless one of them has none (SQLite forgets some names).
---@param cons table[]
---@param c table
---@return boolean
function M.find(cons, c)
  for _, x in ipairs(cons) do
    if x.key == c.key and (x.name == c.name or x.name == nil or c.name == nil) then return true end
  end
  return false
end

-- The changes of one column of table `t`, from `ac` to `bc`.
local function column_changes(out, t, ac, bc)
  local opts, pre = {}, nil
  local destructive
  if ac.type ~= bc.type then
    opts.type = spelled(bc)
    opts.using = true -- the renderer writes the cast where the dialect needs one
    if not types.widens(ac.type, bc.type) then
      destructive = ("changes %s.%s from %s to %s, which can lose data"):format(t, bc.name, ac.type, bc.type)
    end
    if ac.default then pre = { call = "alter_column", table = t, args = { t, bc.name, { server_default = false } } } end
  end
  if ac.nullable ~= bc.nullable then opts.nullable = bc.nullable end
  if ac.default ~= bc.default or (pre and bc.default) then
    if bc.default == nil then
      opts.server_default = false
    else
      local key, v = default_of(bc)
      opts[key] = v
    end
  end
  if pre and opts.server_default == false then opts.server_default = nil end
  if next(opts) then
    if pre then out[#out + 1] = pre end
    out[#out + 1] = { call = "alter_column", table = t, args = { t, bc.name, opts }, destructive = destructive,
      note = opts.type and spelling.own_type_note(t, bc) or nil, retyped = opts.type and { ac.type, bc.type } or nil }
  end
end

-- An index key as op.create_index takes it: a bare name when it is only that.
local function key_spec(k)
  if k.column and not (k.opclass or k.order or k.nulls) then return k.column end
  return { k.column, expr = k.expr, opclass = k.opclass, order = k.order, nulls = k.nulls }
end

local function index_change(t, k, ix)
  local columns = {}
  for i, key in ipairs(ix.keys) do columns[i] = key_spec(key) end
  local opts = { unique = ix.unique, using = ix.method, include = ix.include,
    nulls_not_distinct = ix.nulls_not_distinct, where = bare(ix.where) }
  return { call = "create_index", table = t, index = true, args = { k, t, columns, next(opts) and opts or nil } }
end

---The change creating index `k` (form `ix`) on table `t`.
M.index_change = index_change

-- Form `a` after its columns were renamed (back: new -> old): what the
-- database does to the indexes and constraints naming them.
local function renamed(a, back)
  local fwd = {}
  for new, old in pairs(back) do fwd[old] = new end
  local function col(n) return fwd[n] or n end
  local function cols(l)
    local out = {}
    for i, n in ipairs(l or {}) do out[i] = col(n) end
    return out
  end
  -- A predicate naming a renamed column is rewritten by the database in its
  -- own words (SQLite quotes the name): recreate it as declared.
  local function mentions(t)
    for old in pairs(fwd) do
      if t and t:find(old, 1, true) then return true end
    end
    return false
  end
  local function text(t) return mentions(t) and (t .. " -- renamed") or t end
  local t = { name = a.name, columns = a.columns, order = a.order, pk = cols(a.pk), pk_name = a.pk_name, indexes = {} }
  for k, ix in pairs(a.indexes) do t.indexes[k] = M.index_form(k, ix, col, text(ix.where)) end
  t.cons = {}
  for _, c in ipairs(a.cons) do
    local f = { type = c.type, name = c.name, columns = c.columns and cols(c.columns), condition = c.condition,
      references = c.references, ref_columns = c.ref_columns, on_delete = c.on_delete, on_update = c.on_update }
    -- (the condition stays as it is: an unnamed CHECK is dropped by the name its text gives)
    f.key = M.constraint_key(f) .. (mentions(c.condition) and " -- renamed" or "")
    t.cons[#t.cons + 1] = f
  end
  return t
end

-- The changes to table `name`, present in both (a: renamed from `old`).
function M.table_changes(out, name, a, b, renames)
  local back = {}
  for _, new in ipairs(names(renames or {})) do -- (in name order, as below: the same file every run)
    local old = renames[new]
    if a.columns[old] and not a.columns[new] and b.columns[new] and not b.columns[old] then
      out[#out + 1] = { call = "alter_column", table = name, args = { name, old, { new_name = new } }, in_place = true }
      back[new] = old
    end
  end
  local function acol(n) return a.columns[back[n] or n] end
  local renamed_away = {}
  for _, old in pairs(back) do renamed_away[old] = true end
  if next(back) then a = renamed(a, back) end
  for _, k in ipairs(names(a.indexes)) do
    local ix = a.indexes[k]
    if not b.indexes[k] or b.indexes[k].text ~= ix.text then
      out[#out + 1] = { call = "drop_index", table = name, args = { k }, index = true }
    end
  end
  for _, c in ipairs(a.cons) do
    if not M.find(b.cons, c) then out[#out + 1] = { call = "drop_constraint", table = name, args = { c.name, name }, con = c } end
  end
  -- (the old primary key goes before its columns change: PostgreSQL keeps a key's columns NOT NULL)
  if list(a.pk) ~= list(b.pk) and #a.pk > 0 then out[#out + 1] = { call = "drop_primary_key", table = name, args = { name } } end
  for _, n in ipairs(b.order) do
    if not acol(n) then
      local spec = spelling.column_spec(b, b.columns[n])
      -- (SQLite adds such a column in place, without a rebuild)
      local simple = spec.nullable ~= false or spec.server_default ~= nil
      out[#out + 1] = { call = "add_column", table = name, args = { name, spec }, in_place = simple,
        note = spelling.own_type_note(name, b.columns[n]), caution = not simple and not spec.autoincrement and
          ("adds %s.%s NOT NULL without a default, which fails on a table with rows: declare a default, or add it " ..
            "nullable, backfill it, then set NOT NULL"):format(name, n) or nil }
    end
  end
  for _, n in ipairs(b.order) do
    if acol(n) then column_changes(out, name, acol(n), b.columns[n]) end
  end
  for _, n in ipairs(a.order) do
    if not b.columns[n] and not renamed_away[n] then
      out[#out + 1] = { call = "drop_column", table = name, args = { name, n },
        destructive = ("drops column %s.%s and its data"):format(name, n) }
    end
  end
  if list(a.pk) ~= list(b.pk) then
    if #b.pk > 0 then out[#out + 1] = { call = "create_primary_key", table = name, args = { nil, name, b.pk } } end
  elseif a.pk_name and b.pk_name and a.pk_name ~= b.pk_name
      and not (a.pk_name == a.name .. "_pkey" and b.pk_name == name .. "_pkey") then
    -- (PostgreSQL keeps a primary key's name across a rename; rename_table's primary_key renames one of the
    -- default name)
    out[#out + 1] = { call = "rename_constraint", table = name, args = { name, a.pk_name, b.pk_name }, in_place = true }
  end
  local function repeats(what) return ("%s on %s fails where rows already repeat a value"):format(what, name) end
  for _, c in ipairs(b.cons) do
    if not M.find(a.cons, c) then
      out[#out + 1] = { call = "constraint", table = name, args = { name, c },
        caution = c.type == "unique" and repeats("a unique constraint") or nil }
    end
  end
  for _, k in ipairs(names(b.indexes)) do
    if not a.indexes[k] or a.indexes[k].text ~= b.indexes[k].text then
      local ch = index_change(name, k, b.indexes[k])
      ch.caution = b.indexes[k].unique and repeats("unique index " .. k) or nil
      out[#out + 1] = ch
    end
  end
end

return M
