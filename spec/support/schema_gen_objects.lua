-- The declared objects beyond tables in spec/support/schema_gen.lua's
-- models: index options and expression indexes, functions (plpgsql, sql,
-- and sql with an SQL-standard body reading a table), triggers, sequences,
-- comments and materialized views (some over another), each kind with its
-- own generator: `init` adds some to schema A, `mutate` adds, changes or
-- drops one in B, `fit` follows B's table changes (a table or column renamed
-- or dropped), `source` writes the declarations. Kinds a backend lacks are
-- left out (`backends`).
local M = {}

local function pick(r, list) return list[r(#list)] end

local function log(m, what)
  if m.log then m.log[#m.log + 1] = what end
end

local function remove_if(list, bad)
  for i = #list, 1, -1 do if bad(list[i]) then table.remove(list, i) end end
end

-- The table named `name` in B, following a rename.
local function table_now(m, name)
  for _, t in ipairs(m.tables) do if t.name == name then return t end end
  for _, t in ipairs(m.tables) do if t.renamed_from == name then return t end end
end

local function column_now(t, name)
  for _, c in ipairs(t.columns) do if c.name == name then return c end end
  for _, c in ipairs(t.columns) do if c.renamed_from == name then return c end end
end

local TEXT = { text = true, ["string(20)"] = true, ["string(80)"] = true }
local NUMBER = { integer = true, bigint = true, smallint = true, ["numeric(10,2)"] = true, float = true }

-- Index options and expressions: index `ix` on column `c` (of table `t`)
-- gets a method, an operator class, an order, INCLUDE... its backend has.
local function decorate(r, m, ix, c)
  local pg = m.backend == "postgresql"
  local ways = { function() ix.key = { order = "desc" } end }
  for _ = 1, pg and 3 or 1 do -- (as often as the methods on PostgreSQL)
    if TEXT[c.type] then ways[#ways + 1] = function() ix.expr = "lower(%s)" end end
    if NUMBER[c.type] then ways[#ways + 1] = function() ix.expr = "abs(%s)" end end
  end
  if pg then
    ways[#ways + 1] = function() ix.include = true end
    ways[#ways + 1] = function() ix.key = { order = pick(r, { "asc", "desc" }), nulls = pick(r, { "first", "last" }) } end
    if ix.unique then
      ways[#ways + 1] = function() ix.nulls_not_distinct = true end
    else
      if c.type ~= "json" then ways[#ways + 1] = function() ix.using = "hash" end end
      if NUMBER[c.type] or c.type == "date" or c.type == "timestamp" then
        ways[#ways + 1] = function() ix.using = "brin" end
      end
      if TEXT[c.type] then ways[#ways + 1] = function() ix.using = "spgist" end end
      if c.type == "json" then
        ways[#ways + 1] = function()
          ix.using = "gin"
          if r(2) == 1 then ix.key = { opclass = "jsonb_path_ops" } end
        end
      end
    end
    if TEXT[c.type] then ways[#ways + 1] = function() ix.key = { opclass = "text_pattern_ops" } end end
  end
  ix.key, ix.expr, ix.using, ix.include, ix.nulls_not_distinct = nil, nil, nil, nil, nil
  pick(r, ways)()
  if r(4) == 1 then ix.using = ix.using or "btree" end -- (the default, spelled out)
end

local function column_of(t, ix)
  for _, c in ipairs(t.columns) do if c.name == ix.columns[1] then return c end end
end

M.index_options = {
  backends = { sqlite = true, postgresql = true },
  init = function(r, m)
    for _, t in ipairs(m.tables) do
      for _, ix in ipairs(t.indexes) do if r(2) == 1 then decorate(r, m, ix, column_of(t, ix)) end end
    end
  end,
  mutate = function(r, m)
    local t = pick(r, m.tables)
    if #t.indexes > 0 and r(2) == 1 then
      local ix = pick(r, t.indexes)
      decorate(r, m, ix, column_of(t, ix))
      log(m, "index options changed")
    else -- an expression or decorated index added
      local c = pick(r, t.columns)
      m.serial = m.serial + 1
      local ix = { name = "ix_" .. t.name .. "_" .. m.serial, columns = { c.name }, unique = r(4) == 1 }
      decorate(r, m, ix, c)
      t.indexes[#t.indexes + 1] = ix
      log(m, ix.expr and "expression index added" or "index with options added")
    end
  end,
}

---schema.index's arguments for index `ix` of table `t`: the key and the options.
function M.index_key(ix)
  local col = ix.columns[1]
  if ix.expr then return ("{ expr = %q }"):format(ix.expr:format(col)) end
  if not ix.key then return ("%q"):format(col) end
  local parts = { ("%q"):format(col) }
  for _, k in ipairs({ "opclass", "order", "nulls" }) do
    if ix.key[k] then parts[#parts + 1] = ("%s = %q"):format(k, ix.key[k]) end
  end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

function M.index_options_source(ix)
  local out = {}
  if ix.using then out[#out + 1] = (", using = %q"):format(ix.using) end
  if ix.include then out[#out + 1] = ', include = { "id" }' end
  if ix.nulls_not_distinct then out[#out + 1] = ", nulls_not_distinct = true" end
  return table.concat(out)
end

-- Functions: plpgsql trigger functions, sql scalar functions, and sql
-- functions with an SQL-standard body reading a table (made after it).
local BODIES = { "RETURN NEW;", "NEW.id := NEW.id; RETURN NEW;",
  "IF NEW.id < 0 THEN RAISE EXCEPTION 'negative id'; END IF; RETURN NEW;" }

-- What thing `x` (an atomic function, a materialized view) reads: a table, and maybe one of its columns.
local function reads(r, m, x)
  local t = pick(r, m.tables)
  x.table = t.name
  x.column = r(2) == 1 and pick(r, t.columns).name or nil
end

-- Thing `x` following its table's and column's renames; false when its table is gone.
local function follow(m, x)
  local t = table_now(m, x.table)
  if not t then return false end
  x.table = t.name
  if x.column then
    local c = column_now(t, x.column)
    x.column = c and c.name
  end
  return true
end

local function new_function(r, m)
  m.serial = m.serial + 1
  local f = { name = "fn" .. m.serial, lang = pick(r, { "plpgsql", "sql", "atomic" }) }
  if f.lang == "plpgsql" then
    f.body = r(#BODIES)
  elseif f.lang == "atomic" then
    reads(r, m, f)
  else
    f.add, f.result = r(9), pick(r, { "integer", "bigint" })
  end
  m.funcs[#m.funcs + 1] = f
  return f
end

local function function_sql(f)
  if f.lang == "plpgsql" then
    return ("CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN %s END $$"):format(f.name, BODIES[f.body])
  end
  if f.lang == "atomic" then
    return ("CREATE FUNCTION %s() RETURNS bigint LANGUAGE sql STABLE BEGIN ATOMIC SELECT count(%s) FROM %s; END")
      :format(f.name, f.column or "*", f.table)
  end
  return ("CREATE FUNCTION %s(x integer) RETURNS %s LANGUAGE sql IMMUTABLE AS $$ SELECT x + %d $$"):format(f.name,
    f.result, f.add)
end

local function function_target(f) return ("function %s(%s)"):format(f.name, f.lang == "sql" and "integer" or "") end

M.functions = {
  backends = { postgresql = true },
  init = function(r, m) for _ = 1, r(3) - 1 do new_function(r, m) end end,
  mutate = function(r, m)
    local k = #m.funcs == 0 and 1 or r(4)
    if k == 1 then
      log(m, new_function(r, m).lang .. " function added")
    elseif k == 2 then -- dropped, with the triggers that call it
      local i = r(#m.funcs)
      local name = m.funcs[i].name
      table.remove(m.funcs, i)
      remove_if(m.triggers, function(g) return g.func == name end)
      log(m, "function dropped")
    else
      local f = pick(r, m.funcs)
      if f.lang == "plpgsql" then
        f.body = f.body % #BODIES + 1
      elseif f.lang == "atomic" then
        reads(r, m, f)
      elseif k == 3 then
        f.add = f.add % 9 + 1
      else -- (a changed result type: dropped and created again)
        f.result = f.result == "integer" and "bigint" or "integer"
      end
      log(m, "function changed")
    end
  end,
  fit = function(m)
    remove_if(m.funcs, function(f) return f.lang == "atomic" and not follow(m, f) end)
  end,
  before = function(m, out) -- (an SQL-standard body is parsed when made: after the tables)
    for _, f in ipairs(m.funcs) do
      if f.lang ~= "atomic" then out[#out + 1] = ("schema.func(%q, %q)"):format(f.name, function_sql(f)) end
    end
  end,
  after = function(m, out)
    for _, f in ipairs(m.funcs) do
      if f.lang == "atomic" then out[#out + 1] = ("schema.func(%q, %q)"):format(f.name, function_sql(f)) end
    end
  end,
}

-- Triggers: on PostgreSQL calling a generated plpgsql function, on SQLite a body of their own.
local function new_trigger(r, m)
  local t = pick(r, m.tables)
  m.serial = m.serial + 1
  local g = { name = "tg" .. m.serial, table = t.name, timing = pick(r, { "BEFORE", "AFTER" }),
    event = pick(r, { "INSERT", "UPDATE", "INSERT OR UPDATE" }) }
  if m.backend == "postgresql" then
    local fns = {}
    for _, f in ipairs(m.funcs) do if f.lang == "plpgsql" then fns[#fns + 1] = f end end
    if #fns == 0 then return end
    g.func = pick(r, fns).name
  else
    g.event = g.event == "INSERT OR UPDATE" and "DELETE" or g.event
    g.limit = r(100)
  end
  m.triggers[#m.triggers + 1] = g
  return g
end

local function trigger_sql(m, g)
  if m.backend == "postgresql" then
    return ("CREATE TRIGGER %s %s %s ON %s FOR EACH ROW EXECUTE FUNCTION %s()"):format(g.name, g.timing, g.event,
      g.table, g.func)
  end
  local row = g.event == "DELETE" and "OLD" or "NEW"
  return ("CREATE TRIGGER %s %s %s ON %s BEGIN SELECT RAISE(ABORT, 'too big') WHERE %s.id > %d; END"):format(g.name,
    g.timing, g.event, g.table, row, g.limit * 1000)
end

M.triggers = {
  backends = { sqlite = true, postgresql = true },
  init = function(r, m) for _ = 1, r(3) - 1 do new_trigger(r, m) end end,
  mutate = function(r, m)
    local k = #m.triggers == 0 and 1 or r(3)
    if k == 1 then
      if new_trigger(r, m) then log(m, "trigger added") end
    elseif k == 2 then
      table.remove(m.triggers, r(#m.triggers))
      log(m, "trigger dropped")
    else
      local g = pick(r, m.triggers)
      g.timing = g.timing == "BEFORE" and "AFTER" or "BEFORE"
      log(m, "trigger changed")
    end
  end,
  fit = function(m)
    remove_if(m.triggers, function(g)
      local t = table_now(m, g.table)
      if t then g.table = t.name end
      return not t
    end)
  end,
  after = function(m, out)
    for _, g in ipairs(m.triggers) do out[#out + 1] = ("schema.trigger(%q, %q)"):format(g.name, trigger_sql(m, g)) end
  end,
}

-- Sequences of their own, with their options (the start, at 11 or more,
-- stays within every minimum and maximum the options can take).
local function sequence_options(r, s)
  s.min = pick(r, { false, 1, 10 })
  s.max = pick(r, { false, 1000, 100000 })
  s.increment = pick(r, { false, 1, 5, -1 })
  s.cache = pick(r, { false, 1, 20 })
  s.cycle = pick(r, { false, true, "no" })
end

-- (a descending sequence's default maximum is -1)
local function settle(s) if s.increment == -1 and not s.max then s.max = 1000 end end

local function new_sequence(r, m)
  m.serial = m.serial + 1
  local s = { name = "sq" .. m.serial, start = 10 + r(50) }
  sequence_options(r, s)
  settle(s)
  m.sequences[#m.sequences + 1] = s
end

-- A new column of a table whose default takes sequence `s`'s next value
-- (s then counts up without bound: lint fills the table with 10000 rows).
local function numbered_column(r, m, s)
  s.numbers, s.max, s.increment = true, false, s.increment == 5 and 5 or 1
  local t = pick(r, m.tables)
  m.serial = m.serial + 1
  t.columns[#t.columns + 1] = { name = "c" .. m.serial, type = "bigint", nullable = true,
    server_default = ("nextval('%s')"):format(s.name), sequence = s.name }
end

M.sequences = {
  backends = { postgresql = true },
  init = function(r, m)
    for _ = 1, r(3) - 1 do
      new_sequence(r, m)
      if r(3) == 1 then numbered_column(r, m, m.sequences[#m.sequences]) end
    end
  end,
  mutate = function(r, m)
    local k = #m.sequences == 0 and 1 or r(6) -- (an option changed half the time: five of them)
    if k == 1 then
      new_sequence(r, m)
      log(m, "sequence added")
    elseif k == 2 then -- (and the defaults that take it)
      local s = table.remove(m.sequences, r(#m.sequences))
      for _, t in ipairs(m.tables) do
        for _, c in ipairs(t.columns) do
          if c.sequence == s.name then c.server_default, c.sequence = nil, nil end
        end
      end
      log(m, "sequence dropped")
    elseif k == 3 then
      numbered_column(r, m, pick(r, m.sequences))
      log(m, "sequence default added")
    else -- one option changed
      local s = pick(r, m.sequences)
      local field = pick(r, s.numbers and { "min", "cache", "cycle" } or { "increment", "min", "max", "cache", "cycle" })
      local was, o = s[field], {}
      while s[field] == was do
        sequence_options(r, o)
        s[field] = o[field]
      end
      settle(s)
      log(m, "sequence " .. field .. " changed")
    end
  end,
  before = function(m, out)
    for _, s in ipairs(m.sequences) do
      local o = {}
      for _, k in ipairs({ "start", "increment", "min", "max", "cache" }) do
        if s[k] then o[#o + 1] = ("%s = %d"):format(k, s[k]) end
      end
      if s.cycle then o[#o + 1] = "cycle = " .. tostring(s.cycle == true) end
      out[#out + 1] = ("schema.sequence(%q, { %s })"):format(s.name, table.concat(o, ", "))
    end
  end,
}

-- Materialized views over generated tables (a count, or the id and one
-- column), or a count of one made before them (a view over a view).
local function view_form(r, m, v)
  local before = {}
  for _, o in ipairs(m.matviews) do
    if o == v then break end
    before[#before + 1] = o
  end
  v.over = #before > 0 and r(2) == 1 and pick(r, before).name or nil
  if not v.over then reads(r, m, v) end
end

-- Those over a view no longer there go too.
local function without_orphans(m)
  local there = {}
  for _, v in ipairs(m.matviews) do there[v.name] = true end
  for _, v in ipairs(m.matviews) do
    if v.over and not there[v.over] then there[v.name] = nil end
  end
  remove_if(m.matviews, function(v) return not there[v.name] end)
end

M.materialized_views = {
  backends = { postgresql = true },
  init = function(r, m)
    for _ = 1, r(3) - 1 do
      m.serial = m.serial + 1
      local v = { name = "mv" .. m.serial }
      view_form(r, m, v)
      m.matviews[#m.matviews + 1] = v
    end
  end,
  mutate = function(r, m)
    local k = #m.matviews == 0 and 1 or r(3)
    if k == 1 then
      m.serial = m.serial + 1
      local v = { name = "mv" .. m.serial }
      view_form(r, m, v)
      m.matviews[#m.matviews + 1] = v
      log(m, "materialized view added")
    elseif k == 2 then
      table.remove(m.matviews, r(#m.matviews))
      without_orphans(m)
      log(m, "materialized view dropped")
    else
      view_form(r, m, pick(r, m.matviews))
      log(m, "materialized view changed")
    end
  end,
  fit = function(m)
    remove_if(m.matviews, function(v) return not v.over and not follow(m, v) end)
    without_orphans(m)
  end,
  after = function(m, out)
    for _, v in ipairs(m.matviews) do
      out[#out + 1] = ("schema.materialized_view(%q, %q)"):format(v.name, v.column
        and ("SELECT id, %s FROM %s"):format(v.column, v.table) or ("SELECT count(*) AS n FROM %s"):format(v.over or v.table))
    end
  end,
}

-- Comments on the functions, sequences and triggers.
local function commentable(m)
  local out = {}
  for _, list in ipairs({ m.funcs, m.sequences, m.triggers }) do
    for _, x in ipairs(list) do out[#out + 1] = x end
  end
  return out
end

M.comments = {
  backends = { postgresql = true },
  init = function(r, m)
    for _, x in ipairs(commentable(m)) do if r(3) == 1 then x.comment = "about " .. x.name end end
  end,
  mutate = function(r, m)
    local all = commentable(m)
    if #all == 0 then return end
    local x = pick(r, all)
    if x.comment and r(2) == 1 then
      x.comment = nil
      log(m, "comment dropped")
    else
      log(m, x.comment and "comment changed" or "comment added")
      x.comment = ("%s, %d"):format(x.name, r(1000))
    end
  end,
  after = function(m, out)
    for _, f in ipairs(m.funcs) do
      if f.comment then out[#out + 1] = ("schema.comment(%q, %q)"):format(function_target(f), f.comment) end
    end
    for _, s in ipairs(m.sequences) do
      if s.comment then out[#out + 1] = ("schema.comment(%q, %q)"):format("sequence " .. s.name, s.comment) end
    end
    for _, g in ipairs(m.triggers) do
      if g.comment then
        out[#out + 1] = ("schema.comment(%q, %q)"):format(("trigger %s on %s"):format(g.name, g.table), g.comment)
      end
    end
  end,
}

-- In the order objects are made (functions before the triggers that call them; comments last).
M.KINDS = { M.index_options, M.functions, M.sequences, M.triggers, M.materialized_views, M.comments }

return M
