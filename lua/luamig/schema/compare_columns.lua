--- How a migration spells a column: its type by its portable name where
--- it has one (luamig.schema.compare), its default without a backend's cast,
--- the column spec op.add_column and op.create_table take.
local ddl = require "luamig.model.ddl"

local M = {}

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

---The type of column `c` as the migration writes it.
M.spelled = spelled

---The default of column `c` as a column spec key and value.
M.default_of = default_of

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
return M
