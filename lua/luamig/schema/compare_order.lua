--- Declared vs actual for the objects around the tables: what changes
--- before the tables do (drops of what changed, creations of what tables
--- will use) and after them (drops of what is gone, views, triggers and
--- policies made anew), for luamig.schema.compare.
local ddl = require "luamig.model.ddl"
local declare = require "luamig.schema.declare"
local objects = require "luamig.schema.compare_objects"
local sqltext = require "luamig.model.sql"
local q = sqltext.quote_ident

local M = {}

local names = declare.names

local function view_text(v)
  local text = tostring(type(v) == "table" and v.definition or v):gsub("%s+", " ")
  return (type(v) == "table" and v.materialized and "materialized " or "") .. text
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
function M.around_retyped(out, a, b)
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
function M.before_tables(out, a, b, touched)
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
function M.after_tables(out, a, b, again)
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

return M
