--- Declared vs actual for the objects around the tables: what changes
--- before the tables do (drops of what changed, creations of what tables
--- will use) and after them (drops of what is gone, views, triggers and
--- policies made anew), for luamig.schema.compare. Objects that name one
--- another come in the order of what each names (luamig.schema.compare_names).
local ddl = require "luamig.model.ddl"
local declare = require "luamig.schema.declare"
local naming = require "luamig.schema.compare_names"
local objects = require "luamig.schema.compare_objects"
local sqltext = require "luamig.model.sql"
local q = sqltext.quote_ident

local M = {}

local names = declare.names

local view_text = naming.view_text

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

-- Sequences created or altered before the tables, whose defaults use them.
local function sequences_before(out, a, b)
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
end

-- Sequences no longer declared, dropped once nothing uses them.
local function sequences_after(out, a, b)
  local as, bs = a.sequences or {}, b.sequences or {}
  for _, n in ipairs(names(as)) do
    if own_sequence(as[n]) and not bs[n] then
      out[#out + 1] = { call = "execute", args = { "DROP SEQUENCE " .. ddl.qualified(n) },
        destructive = "drops sequence " .. n .. " and its current value" }
    end
  end
end

-- Function `n` created, or replaced from `was` (as PostgreSQL normalizes it: pg_get_functiondef), and its comment.
-- `unchecked`: its body is not parsed (render.body): it may name tables made after it.
local function function_change(out, n, f, was, unchecked)
  if not was or was.definition ~= f.definition then
    -- (CREATE OR REPLACE cannot change a result type; it keeps the comment)
    if was and was.result ~= f.result then
      out[#out + 1] = drop_function(n, was)
      was = nil
    end
    out[#out + 1] = { call = "execute", args = { f.definition }, function_body = unchecked or nil }
  end
  comment_change(out, function_ref(n, f), f, was)
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
        into[n:match("[^.]+$")] = true
        break
      end
    end
  end
end

-- The late objects of `a` (luamig.schema.compare_names.late) dropped before
-- the tables change: those gone or changed, those naming a table whose
-- column changes type (`touched`; dropping an enum value of `enums` recasts
-- its columns), which PostgreSQL refuses to change under them, and those
-- naming any of these (a view over such a view).
local function remade(a, la, lb, touched, enums)
  local retyped = {}
  for t, cols in pairs(touched) do
    for _, why in pairs(cols) do if why == "retyped" then retyped[t:match("[^.]+$")] = true end end
  end
  for _, ch in ipairs(enums) do
    if ch.call == "drop_enum_value" then enum_tables(a, ch.args[1], retyped) end
  end
  local out = {}
  for id, x in pairs(la) do
    if not lb[id] or lb[id].same ~= x.same then out[id] = true end
    for t in pairs(retyped) do
      if naming.mentions(x.text, t) then out[id] = true end
    end
  end
  repeat
    local more = false
    for id, x in pairs(la) do
      if not out[id] then
        for _, d in ipairs(x.deps) do
          if out[d] then
            out[id], more = true, true
            break
          end
        end
      end
    end
  until not more
  return out
end

---@class luamig.AroundTables  what M.before_tables did that M.after_tables finishes
---@field policies table<string, true>  the policies dropped to be created again
---@field late_a table  the late objects of the head's schema (luamig.schema.compare_names.late)
---@field late_b table  the declared schema's
---@field remade table<string, true>  the late objects of `a` dropped

---Views, functions, triggers, policies, extensions, enums, domains and
---sequences before the tables change: drops of what changed (the late
---objects, dependents first), creations of what the tables will use
---(domains and the functions made before the tables, each after what it
---names). `touched`: table key -> column -> "retyped" or "dropped".
---@param out table[]
---@param a luamig.Snapshot
---@param b luamig.Snapshot
---@param touched table<string, table<string, string>>
---@return luamig.AroundTables
function M.before_tables(out, a, b, touched)
  local enums = {} -- (first: a dropped value recasts the enum's columns, under the views naming them)
  local ae, be = a.enums or {}, b.enums or {}
  for _, n in ipairs(names(be)) do
    if not ae[n] then
      enums[#enums + 1] = { call = "create_enum", args = { n, be[n].values } }
    else
      enum_changes(enums, n, ae[n].values, be[n].values)
    end
  end
  local la, lb = naming.late(a), naming.late(b)
  local again = remade(a, la, lb, touched, enums)
  local order = naming.ordered(la)
  for i = #order, 1, -1 do
    local x = la[order[i]]
    if again[order[i]] then out[#out + 1] = x.view and drop_view(x.key, x.view) or drop_function(x.key, x.fn) end
  end
  local ta, tb = a.triggers or {}, b.triggers or {}
  for _, n in ipairs(names(ta)) do
    if not tb[n] or view_text(ta[n].sql) ~= view_text(tb[n].sql) then
      out[#out + 1] = { call = "drop_trigger", args = { ta[n].name or n, ta[n].table } }
    end
  end
  local policies = objects.policies_before(out, a, b, touched)
  for _, n in ipairs(names(b.extensions or {})) do
    if not (a.extensions or {})[n] then out[#out + 1] = { call = "create_extension", args = { n } } end
  end
  table.move(enums, 1, #enums, #out + 1, out)
  sequences_before(out, a, b)
  local af, ad = a.functions or {}, objects.domains(a)
  local early = naming.early(b, lb)
  for _, id in ipairs(naming.ordered(early)) do
    local x = early[id]
    if x.domain then
      objects.domain_change(out, x.key, x.domain, ad[x.key])
    else
      -- (a late function of `a` was dropped above)
      local was = not la["function:" .. x.key] and af[x.key] or nil
      function_change(out, x.key, x.fn, was, true)
    end
  end
  return { policies = policies, late_a = la, late_b = lb, remade = again }
end

---Domains, functions, enums, extensions and sequences dropped after the
---tables changed (what names another first); views, late functions,
---triggers and policies made anew (`around`: what M.before_tables did),
---each after what it names.
---@param out table[]
---@param a luamig.Snapshot
---@param b luamig.Snapshot
---@param around luamig.AroundTables
function M.after_tables(out, a, b, around)
  local la, lb = around.late_a, around.late_b
  local bd, bf = objects.domains(b), b.functions or {}
  local early = naming.early(a, la)
  local order = naming.ordered(early)
  for i = #order, 1, -1 do
    local x = early[order[i]]
    if x.domain and not bd[x.key] then out[#out + 1] = objects.drop_domain(x.key) end
    if x.fn and not bf[x.key] then out[#out + 1] = drop_function(x.key, x.fn) end
  end
  local ae, be = a.enums or {}, b.enums or {}
  for _, n in ipairs(names(ae)) do
    if not be[n] then out[#out + 1] = { call = "drop_enum", args = { n }, destructive = "drops enum " .. n } end
  end
  for _, n in ipairs(names(a.extensions or {})) do
    if not (b.extensions or {})[n] then out[#out + 1] = { call = "drop_extension", args = { n } } end
  end
  sequences_after(out, a, b)
  local af = a.functions or {}
  for _, id in ipairs(naming.ordered(lb)) do
    local x, was = lb[id], not around.remade[id] and la[id] or nil
    if x.view then
      if not was then out[#out + 1] = create_view(x.key, x.view) end
      if type(x.view) == "table" then
        comment_change(out, (x.view.materialized and "MATERIALIZED VIEW " or "VIEW ") .. ddl.qualified(x.key), x.view,
          was and was.view)
      end
    else
      -- (a function made before the tables in `a` is replaced now)
      function_change(out, x.key, x.fn, was and was.fn or (not la[id] and af[x.key] or nil))
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
  objects.policies_after(out, a, b, around.policies)
end

return M
