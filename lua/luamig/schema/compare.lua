--- Declared vs actual: the changes that take snapshot `a` (the schema at
--- head) to snapshot `b` (the declared schema, as a database built it), in
--- the order they must run: extensions and enums first, parents before
--- children, children's foreign keys and columns dropped before their
--- parents, views last. Each change is close to one op call
--- (luamig.schema.render writes it); a destructive one says why.
local ddl = require "luamig.model.ddl"
local declare = require "luamig.schema.declare"
local objects = require "luamig.schema.compare_objects"
local introspect = require "luamig.schema.introspect"
local sqltext = require "luamig.model.sql"
local q = sqltext.quote_ident
local types = require "luamig.schema.widening"

local M = {}

local names = declare.names

-- "((0))" -> "0": SQLite keeps a default's text as written, and a rebuild adds parentheses.
local function bare(text)
  if text == nil then return nil end
  text = tostring(text):gsub("^%s+", ""):gsub("%s+$", "")
  while text:match("^%b()$") do text = text:sub(2, -2):gsub("^%s+", ""):gsub("%s+$", "") end
  return text
end

local function list(l) return table.concat(l or {}, ",") end

-- A default's text without a cast to its own literal's type
-- ("'beginner'::course_level" -> "'beginner'"), which another backend
-- cannot parse and the column's type makes anyway.
local function uncast(text)
  text = tostring(text)
  return text:match("^('[^']*')::[%w_%.\" ]+$") or text:match("^%(('[^']*')::[%w_%.\" ]+%)$") or text
end

-- The default of column `c` as a column spec key and value.
local function default_of(c)
  local dc = c.declared
  if dc and dc.default ~= nil then return "default", dc.default end
  if dc and dc.server_default ~= nil then return "server_default", dc.server_default end
  if c.raw_default ~= nil then return "server_default", uncast(c.raw_default) end
end

-- A database's spelling of a type (PostgreSQL's format_type, SQLite's
-- declared type) -> its portable name; with arguments, the patterns after.
local PORTABLE = { integer = "integer", int = "integer", int4 = "integer", bigint = "bigint", int8 = "bigint",
  smallint = "smallint", int2 = "smallint", text = "text", boolean = "boolean", bool = "boolean",
  ["double precision"] = "float", float8 = "float", real = "float", date = "date",
  ["timestamp without time zone"] = "timestamp", timestamp = "timestamp", datetime = "timestamp",
  ["timestamp with time zone"] = "timestamptz", timestamptz = "timestamptz", jsonb = "json", json = "json",
  uuid = "uuid", bytea = "bytes", blob = "bytes" }
local PORTABLE_ARGS = { ["character varying"] = "string", varchar = "string", numeric = "numeric", decimal = "numeric" }
-- PostgreSQL's long names, as the short ones the portable types map to.
local SHORT = { ["character varying"] = "varchar", ["timestamp with time zone"] = "timestamptz",
  ["timestamp without time zone"] = "timestamp" }

local function canonical(t)
  t = t:lower():gsub("^%s+", ""):gsub("%s+$", ""):gsub("%s*%(%s*", "("):gsub("%s*,%s*", ","):gsub("%s*%)", ")")
  local base, args = t:match("^([^(]-)(%(.*%))$")
  base = base or t
  return (SHORT[base] or base) .. (args or "")
end

---The portable name of type `t` as dialect `d`'s database spells it
---("character varying(80)" -> "string(80)"), when that name makes the same
---type there; else nil.
---@param t string?
---@param d table
---@return string?
function M.portable_type(t, d)
  if type(t) ~= "string" then return nil end
  local lower = canonical(t)
  local p = PORTABLE[t:lower()] or PORTABLE[lower]
  if not p then
    local base, args = t:lower():match("^%s*([%a ]-)%s*(%(%s*%d+%s*,?%s*%d*%s*%))%s*$")
    p = base and PORTABLE_ARGS[base] and (PORTABLE_ARGS[base] .. args:gsub("%s", "")) or nil
  end
  local sql = p and ddl.portable(d, p)
  return sql and canonical(sql) == lower and p or nil
end

-- The type of column `c` as the migration writes it: as declared, else
-- portable where the database's type has a portable name (a column a
-- downgrade adds back: M.snapshot marks it), else the database's.
local function spelled(c) return c.declared and c.declared.type or c.portable or c.type end

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

---The snapshot of `db` to compare: luamig.schema.introspect's, with every
---constraint named where the database keeps its name (SQLite's pragmas
---leave some out: luamig.dialect.sqlite.named), and each column's portable
---type name marked where it has one (column.portable).
---@param db luamig.Db
---@param dialect luamig.Dialect?  (default: db.dialect)
---@return luamig.Snapshot
function M.snapshot(db, dialect)
  local d = dialect or db.dialect
  local s = introspect.snapshot(db, d, { named = true })
  for _, t in pairs(s.tables) do
    for _, c in ipairs(t.columns) do c.portable = M.portable_type(c.type, d) end
  end
  return s
end

local function view_text(v)
  local text = tostring(type(v) == "table" and v.definition or v):gsub("%s+", " ")
  return (type(v) == "table" and v.materialized and "materialized " or "") .. text
end

-- Tables `set` (name -> form) in an order where referenced tables come first.
local function parents_first(set)
  local order, seen = {}, {}
  local function visit(n)
    if seen[n] then return end
    seen[n] = true
    for _, c in ipairs(set[n].cons) do
      if c.type == "foreign_key" and set[c.references] and c.references ~= n then visit(c.references) end
    end
    order[#order + 1] = n
  end
  for _, n in ipairs(names(set)) do visit(n) end
  return order
end

-- Form `f` without its foreign keys whose referenced table `pick(name)`
-- picks, and those foreign keys.
local function without_fks(f, pick)
  local kept, picked = {}, {}
  for _, c in ipairs(f.cons) do
    if c.type == "foreign_key" and pick(c.references) then picked[#picked + 1] = c else kept[#kept + 1] = c end
  end
  if #picked == 0 then return f, picked end
  local copy = {}
  for k, v in pairs(f) do copy[k] = v end
  copy.cons = kept
  return copy, picked
end

-- The changes to enum `name` from values `av` to `bv`.
local function enum_changes(out, name, av, bv)
  local ina, inb = {}, {}
  for i, v in ipairs(av) do ina[v] = i end
  for i, v in ipairs(bv) do inb[v] = i end
  local gone, new = {}, {}
  for _, v in ipairs(av) do if not inb[v] then gone[#gone + 1] = v end end
  for _, v in ipairs(bv) do if not ina[v] then new[#new + 1] = v end end
  if #gone == 1 and #new == 1 and #av == #bv and ina[gone[1]] == inb[new[1]] then
    out[#out + 1] = { call = "rename_enum_value", args = { name, gone[1], new[1] } }
    return
  end
  local first_old
  for _, v in ipairs(bv) do if ina[v] then first_old = first_old or v end end
  for i, v in ipairs(bv) do
    if not ina[v] then
      local pos = i > 1 and { after = bv[i - 1] } or { before = first_old }
      out[#out + 1] = { call = "add_enum_value", args = { name, v, pos }, enum_value = true }
    end
  end
  for _, v in ipairs(gone) do
    out[#out + 1] = { call = "drop_enum_value", args = { name, v },
      destructive = ("drops value %s of enum %s (rows holding it make the migration fail)"):format(v, name) }
  end
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
      note = opts.type and M.own_type_note(t, bc) or nil }
  end
end

---@class luamig.DeclaredColumn  how schema.lua spells a column (M.spell)
---@field type string?         the declared type, as written
---@field own boolean?         that type is neither portable nor a declared enum
---@field default any?         a literal default
---@field server_default string?
---@field autoincrement boolean?

---Mark the columns of snapshot `s` (the declared schema, as built) with
---how declaration `decl` spells them (column.declared), so that the
---migration says `string(255)` and `'beginner'`, not the backend's
---`character varying(255)` and `'beginner'::course_level`. `d`: the
---dialect (its portable types).
---@param s luamig.Snapshot
---@param decl luamig.Declared
---@param d luamig.Dialect
function M.spell(s, decl, d)
  for name, t in pairs(decl.tables) do
    local built = s.tables[name]
    local by = {}
    for _, c in ipairs(built and built.columns or {}) do by[c.name] = c end
    for _, spec in ipairs(t.columns) do
      local c = by[spec[1] or spec.name]
      local typ = spec[2] or spec.type
      if c then
        c.declared = { type = type(typ) == "string" and typ or nil, default = spec.default,
          server_default = spec.server_default, autoincrement = spec.autoincrement }
        c.declared.own = c.declared.type and not (ddl.portable(d, typ) or decl.enums[typ]) or nil
      end
    end
  end
end

---A column spec of column `c` of form `f` (for add_column, create_table).
---@return table
function M.column_spec(_, c, single_pk)
  local spec = { c.name, spelled(c) }
  if c.nullable == false and not single_pk then spec.nullable = false end
  if single_pk then spec.primary_key = true end
  local d = c.raw_default
  if c.identity or (c.declared and c.declared.autoincrement)
      or c.serial or (d and tostring(d):match("^identity")) then
    spec.autoincrement = true
  else
    local key, v = default_of(c)
    if key then spec[key] = v end
  end
  return spec
end

---The note a change creating or changing column `c` of table `t` carries
---when its declared type is one backend's own.
---@return string?
function M.own_type_note(t, c)
  if c.declared and c.declared.own then
    return ("column %s.%s: type %s is not portable: this migration runs only where the database has it")
      :format(t, c.name, c.declared.type)
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
local function table_changes(out, name, a, b, renames)
  local back = {}
  for new, old in pairs(renames or {}) do
    if a.columns[old] and not a.columns[new] and b.columns[new] and not b.columns[old] then
      out[#out + 1] = { call = "alter_column", table = name, args = { name, old, { new_name = new } }, in_place = true }
      back[new] = old
    end
  end
  local function acol(n) return a.columns[back[n] or n] end
  local renamed_away = {}
  for _, old in pairs(back) do renamed_away[old] = true end
  if next(back) then a = renamed(a, back) end
  for k, ix in pairs(a.indexes) do
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
      local spec = M.column_spec(b, b.columns[n])
      -- (SQLite adds such a column in place, without a rebuild)
      local simple = spec.nullable ~= false or spec.server_default ~= nil
      out[#out + 1] = { call = "add_column", table = name, args = { name, spec }, in_place = simple,
        note = M.own_type_note(name, b.columns[n]), caution = not simple and not spec.autoincrement and
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

-- Which tables of `b` are renames of tables of `a` (hints: new -> old).
local function matched(a, b, hints)
  local from = {}
  for _, n in ipairs(names(b)) do
    local old = hints[n]
    if not a[n] and old and a[old] and not b[old] then from[n] = old end
  end
  return from
end

-- Function `f` (snapshot key `key`) as DROP and COMMENT name it: "FUNCTION "s"."f"(integer)".
local function function_ref(key, f)
  local schema = #key > #f.name and (q(f.schema) .. ".") or ""
  return ("%s %s%s(%s)"):format(f.kind == "procedure" and "PROCEDURE" or "FUNCTION", schema, q(f.base_name),
    f.arguments or "")
end

local function drop_function(key, f) return { call = "execute", args = { "DROP " .. function_ref(key, f) } } end

local comment_change = objects.comment_change

-- A sequence of its own (not a serial's or an identity's) and its options.
local function own_sequence(s) return s and not (s.identity or s.owned_by) end
local function sequence_text(s)
  return ddl.sequence_clauses({ type = s.type, increment = s.increment, min = s.min, max = s.max, start = s.start,
    cache = s.cache, cycle = s.cycle })
end

-- Sequences and functions (as PostgreSQL normalizes them: pg_get_functiondef)
-- created, altered or replaced before the tables, whose defaults and triggers use them.
local function standalone_before(out, a, b)
  local as, bs = a.sequences or {}, b.sequences or {}
  for _, n in ipairs(names(bs)) do
    if own_sequence(bs[n]) and not as[n] then
      out[#out + 1] = { call = "execute", args = { "CREATE SEQUENCE " .. ddl.qualified(n) .. " " .. sequence_text(bs[n]) } }
      comment_change(out, "SEQUENCE " .. ddl.qualified(n), bs[n])
    elseif own_sequence(bs[n]) and own_sequence(as[n]) then
      if sequence_text(as[n]) ~= sequence_text(bs[n]) then
        out[#out + 1] = { call = "execute", args = { "ALTER SEQUENCE " .. ddl.qualified(n) .. " " .. sequence_text(bs[n]) } }
      end
      if as[n].start ~= bs[n].start then
        -- (a new start is the next value of a sequence no one has used yet; a used one goes on where it is)
        out[#out + 1] = { call = "execute", args = { ("SELECT pg_catalog.setval(%s, %s, false) FROM %s WHERE NOT is_called")
          :format(sqltext.quote_literal(ddl.qualified(n)), bs[n].start, ddl.qualified(n)) } }
      end
      comment_change(out, "SEQUENCE " .. ddl.qualified(n), bs[n], as[n])
    end
  end
  local af, bf = a.functions or {}, b.functions or {}
  for _, n in ipairs(names(bf)) do
    local f, was = bf[n], af[n]
    if f.definition and (not was or was.definition ~= f.definition) then
      -- (CREATE OR REPLACE cannot change a result type; it keeps the comment)
      if was and was.result ~= f.result then
        out[#out + 1] = drop_function(n, was)
        was = nil
      end
      -- (created with their bodies unchecked: they may name tables made after them, render.body)
      out[#out + 1] = { call = "execute", args = { f.definition }, function_body = true }
    end
    if f.definition then comment_change(out, function_ref(n, f), f, was) end
  end
end


-- Functions and sequences no longer declared, dropped once nothing uses them.
local function standalone_after(out, a, b)
  local af, bf = a.functions or {}, b.functions or {}
  for _, n in ipairs(names(af)) do
    if af[n].definition and not bf[n] then out[#out + 1] = drop_function(n, af[n]) end
  end
  local as, bs = a.sequences or {}, b.sequences or {}
  for _, n in ipairs(names(as)) do
    if own_sequence(as[n]) and not bs[n] then
      out[#out + 1] = { call = "execute", args = { "DROP SEQUENCE " .. ddl.qualified(n) },
        destructive = "drops sequence " .. n .. " and its current value" }
    end
  end
end

local function drop_view(n, v)
  return type(v) == "table" and v.materialized
    and { call = "execute", args = { "DROP MATERIALIZED VIEW " .. ddl.qualified(n) } }
    or { call = "drop_view", args = { n } }
end

local function create_view(n, v)
  return type(v) == "table" and v.materialized
    and { call = "execute", args = { ("CREATE MATERIALIZED VIEW %s AS %s"):format(ddl.qualified(n),
      (v.definition:gsub(";%s*$", ""))) } }
    or { call = "create_view", args = { n, type(v) == "table" and v.definition or v } }
end

-- The tables of snapshot `a` with a column of enum `name`.
local function enum_tables(a, name, into)
  for n, t in pairs(a.tables) do
    for _, c in ipairs(t.columns) do
      if c.type == name or c.type:match("[^.]+$") == name:match("[^.]+$") then
        into[#into + 1] = n:match("[^.]+$")
        break
      end
    end
  end
end

-- A view kept as it is over a table whose column changes type (dropping an
-- enum value recasts the enum's columns): the database refuses the change
-- under it, so it is dropped first and made anew last.
local function around_retyped(out, a, b)
  local retyped = {}
  for _, ch in ipairs(out) do
    if ch.call == "alter_column" and ch.args[3].type then retyped[#retyped + 1] = ch.args[1]:match("[^.]+$") end
    if ch.call == "drop_enum_value" then enum_tables(a, ch.args[1], retyped) end
  end
  if #retyped == 0 then return end
  local drops = {}
  for _, n in ipairs(names(b.views or {})) do
    local was = (a.views or {})[n]
    if was and view_text(was) == view_text(b.views[n]) then
      local text = view_text(was)
      for _, t in ipairs(retyped) do
        if text:find("%f[%w_]" .. t:gsub("%p", "%%%0") .. "%f[^%w_]") then
          drops[#drops + 1] = drop_view(n, was)
          out[#out + 1] = create_view(n, b.views[n])
          break
        end
      end
    end
  end
  for i, d in ipairs(drops) do table.insert(out, i, d) end
end

-- Views, triggers, policies, extensions, enums and domains before the tables
-- change (drops of what changed, creations of what tables will use).
-- Returns the policies dropped to be created again.
local function before_tables(out, a, b, touched)
  for _, n in ipairs(names(a.views or {})) do
    if not (b.views or {})[n] or view_text(b.views[n]) ~= view_text(a.views[n]) then
      out[#out + 1] = drop_view(n, a.views[n])
    end
  end
  local ta, tb = a.triggers or {}, b.triggers or {}
  for _, n in ipairs(names(ta)) do
    if not tb[n] or view_text(ta[n].sql) ~= view_text(tb[n].sql) then
      out[#out + 1] = { call = "drop_trigger", args = { ta[n].name or n, ta[n].table } }
    end
  end
  local again = objects.policies_before(out, a, b, touched)
  for _, n in ipairs(names(b.extensions or {})) do
    if not (a.extensions or {})[n] then out[#out + 1] = { call = "create_extension", args = { n } } end
  end
  local ae, be = a.enums or {}, b.enums or {}
  for _, n in ipairs(names(be)) do
    if not ae[n] then
      out[#out + 1] = { call = "create_enum", args = { n, be[n].values } }
    else
      enum_changes(out, n, ae[n].values, be[n].values)
    end
  end
  objects.domains_before(out, a, b)
  standalone_before(out, a, b)
  return again
end

-- Domains, enums, extensions and views after the tables changed (drops of
-- what is gone; views, triggers and policies made anew: `again`).
local function after_tables(out, a, b, again)
  objects.domains_after(out, a, b)
  local ae, be = a.enums or {}, b.enums or {}
  for _, n in ipairs(names(ae)) do
    if not be[n] then out[#out + 1] = { call = "drop_enum", args = { n }, destructive = "drops enum " .. n } end
  end
  for _, n in ipairs(names(a.extensions or {})) do
    if not (b.extensions or {})[n] then out[#out + 1] = { call = "drop_extension", args = { n } } end
  end
  standalone_after(out, a, b)
  for _, n in ipairs(names(b.views or {})) do
    local v, was = b.views[n], (a.views or {})[n]
    if not was or view_text(v) ~= view_text(was) then
      out[#out + 1] = create_view(n, v)
      was = nil
    end
    if type(v) == "table" then
      comment_change(out, (v.materialized and "MATERIALIZED VIEW " or "VIEW ") .. ddl.qualified(n), v, was)
    end
  end
  local ta, tb = a.triggers or {}, b.triggers or {}
  for _, n in ipairs(names(tb)) do
    local was = ta[n]
    if not was or view_text(was.sql) ~= view_text(tb[n].sql) then
      out[#out + 1] = { call = "create_trigger", args = { n, tb[n].sql } }
      was = nil
    end
    comment_change(out, ("TRIGGER %s ON %s"):format(q(tb[n].name), ddl.qualified(tb[n].table)), tb[n], was)
  end
  objects.policies_after(out, a, b, again)
end

-- Table key -> the columns the changes of the tables in both `at` and `bt`
-- (forms; `renames`: new -> old tables, `col_hints`: table -> new -> old
-- columns) drop or retype: what a policy naming them must let go of first.
local function touched_columns(at, bt, renames, col_hints)
  local out = {}
  for n, f in pairs(bt) do
    local old = renames[n] or n
    local was = at[old]
    if was then
      local new_of = {}
      for new, o in pairs(col_hints[n] or {}) do new_of[o] = new end
      for c, col in pairs(was.columns) do
        local now = f.columns[new_of[c] or c]
        if not now or now.type ~= col.type then
          out[old] = out[old] or {}
          out[old][c] = true
        end
      end
    end
  end
  return out
end

---The changes taking snapshot `a` to snapshot `b`. `hints` = {tables = {new
---= old}, columns = {[table] = {new = old}}} (renamed_from), read in the
---direction a -> b.
---@param a table snapshot
---@param b table snapshot
---@param hints table?
---@return table[] changes
function M.changes(a, b, hints)
  hints = hints or { tables = {}, columns = {} }
  local out = {}
  local at, bt = {}, {}
  for n, t in pairs(a.tables) do at[n] = M.table_form(n, t, a.enums or {}, a.sequences) end
  for n, t in pairs(b.tables) do bt[n] = M.table_form(n, t, b.enums or {}, b.sequences) end
  local renames = matched(at, bt, hints.tables or {})
  local again = before_tables(out, a, b, touched_columns(at, bt, renames, hints.columns or {}))
  local old_of = {}
  for new, old in pairs(renames) do
    out[#out + 1] = { call = "rename_table", args = { old, new, { primary_key = true } } }
    old_of[old] = new
  end
  local order = parents_first(bt)
  -- the tables whose primary key changes (by their name in a and in b): the
  -- foreign keys to them of tables dropped go before, of tables made after
  local rekeyed_a, rekeyed_b = {}, {}
  for n, f in pairs(bt) do
    local old = renames[n] or n
    if at[old] and list(at[old].pk) ~= list(f.pk) then rekeyed_a[old], rekeyed_b[n] = true, true end
  end
  local gone = {}
  for n in pairs(at) do
    if not bt[n] and not old_of[n] then gone[n] = at[n] end
  end
  for _, n in ipairs(names(gone)) do
    local _, fks = without_fks(gone[n], function(ref) return rekeyed_a[ref] end)
    for _, c in ipairs(fks) do
      if c.name then out[#out + 1] = { call = "drop_constraint", table = n, args = { c.name, n }, con = c } end
    end
  end
  -- a new table's foreign key to a new table made after it (a cycle) is
  -- added once both exist
  local made, later, rekeyed_fks = {}, {}, {}
  for _, n in ipairs(order) do
    if not at[renames[n] or n] then
      local form, fks = without_fks(bt[n], function(ref)
        return ref ~= n and bt[ref] ~= nil and not at[renames[ref] or ref] and not made[ref]
      end)
      local keyed
      form, keyed = without_fks(form, function(ref) return rekeyed_b[ref] end)
      for _, c in ipairs(keyed) do rekeyed_fks[#rekeyed_fks + 1] = { call = "constraint", table = n, args = { n, c } } end
      local notes = {}
      for _, c in ipairs(form.order) do notes[#notes + 1] = M.own_type_note(n, form.columns[c]) end
      out[#out + 1] = { call = "create_table", args = { n, form }, note = #notes > 0 and table.concat(notes, "; ") or nil }
      made[n] = true
      for _, c in ipairs(fks) do later[#later + 1] = { call = "constraint", table = n, args = { n, c } } end
      for _, k in ipairs(names(bt[n].indexes)) do out[#out + 1] = index_change(n, k, bt[n].indexes[k]) end
    end
  end
  for _, c in ipairs(later) do out[#out + 1] = c end
  for _, n in ipairs(order) do
    local old = renames[n] or n
    if at[old] then
      local first = #out + 1
      table_changes(out, n, at[old], bt[n], (hints.columns or {})[n])
      -- (changes to a table with rows: the renderer may write them online-safe)
      for i = first, #out do
        local ch = out[i]
        ch.existing = true
        local default = ch.call == "add_column" and ch.args[2].server_default
        local call = type(default) == "string" and sqltext.volatile_call(default)
        if call then -- (online, the renderer writes that by the key, fill_key, when there is one column in it)
          ch.fill_key = #bt[n].pk == 1 and bt[n].pk[1] or nil
          ch.caution = ch.caution or ("adds %s.%s with a volatile default (%s), which makes PostgreSQL rewrite the " ..
            "table under ACCESS EXCLUSIVE: on a big table add it without the default, set the default, then fill " ..
            "the rows in batches (luamig.backfill)%s"):format(n, ch.args[2][1], call,
            ch.fill_key and "" or ("; %s has no one-column key to fill it by, so autogenerate cannot"):format(n))
        end
      end
    end
  end
  for _, c in ipairs(rekeyed_fks) do out[#out + 1] = c end
  local drop_order = parents_first(gone)
  -- children first; in a cycle, a named foreign key to a table dropped
  -- before its own is dropped first (SQLite keeps unnamed ones unenforced)
  local dropped_at = {}
  for i = #drop_order, 1, -1 do dropped_at[drop_order[i]] = #drop_order - i + 1 end
  for i = #drop_order, 1, -1 do
    local n = drop_order[i]
    local _, fks = without_fks(gone[n], function(ref)
      return ref ~= n and dropped_at[ref] ~= nil and dropped_at[ref] < dropped_at[n]
    end)
    for _, c in ipairs(fks) do
      if c.name then out[#out + 1] = { call = "drop_constraint", table = n, args = { c.name, n }, con = c } end
    end
  end
  for i = #drop_order, 1, -1 do
    local n = drop_order[i]
    out[#out + 1] = { call = "drop_table", args = { n }, destructive = ("drops table %s and its rows"):format(n) }
  end
  for _, n in ipairs(order) do
    objects.table_extras(out, n, b.tables[n], a.tables[renames[n] or n], (hints.columns or {})[n])
  end
  objects.domain_cautions(out, b)
  after_tables(out, a, b, again)
  around_retyped(out, a, b)
  return out
end

---The hints of declared schema `decl` (renamed_from), and their reverse
---(for the downgrade).
---@param decl luamig.Declared
---@return table up, table down
function M.hints(decl)
  local up, down = { tables = {}, columns = {} }, { tables = {}, columns = {} }
  for name, t in pairs(decl.tables) do
    local old = t.renamed_from
    if old then
      up.tables[name] = old
      down.tables[old] = name
    end
    for new, oldc in pairs(t.column_renames) do
      up.columns[name] = up.columns[name] or {}
      up.columns[name][new] = oldc
      down.columns[old or name] = down.columns[old or name] or {}
      down.columns[old or name][oldc] = new
    end
  end
  return up, down
end

return M
