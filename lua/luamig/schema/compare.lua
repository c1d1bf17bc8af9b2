--- Declared vs actual: the changes that take snapshot `a` (the schema at
--- head) to snapshot `b` (the declared schema, as a database built it), in
--- the order they must run: extensions and enums first, parents before
--- children, children's foreign keys and columns dropped before their
--- parents, views last. Each change is close to one op call
--- (luamig.schema.render writes it); a destructive one says why.
local declare = require "luamig.schema.declare"
local objects = require "luamig.schema.compare_objects"
local columns = require "luamig.schema.compare_columns"
local tables = require "luamig.schema.compare_tables"
local order_of = require "luamig.schema.compare_order"
local introspect = require "luamig.schema.introspect"
local sqltext = require "luamig.model.sql"
local toposort = require "luamig.util.toposort"

local M = {}

local names = declare.names
local index_change, table_changes = tables.index_change, tables.table_changes
local before_tables, after_tables = order_of.before_tables, order_of.after_tables

local function list(l) return table.concat(l or {}, ",") end

M.spell, M.column_spec, M.own_type_note = columns.spell, columns.column_spec, columns.own_type_note
M.table_form, M.constraint_key = tables.table_form, tables.constraint_key

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
    for _, c in ipairs(t.columns) do c.portable = columns.portable_type(c.type, d) end
  end
  return s
end

-- Tables `set` (name -> form) in an order where referenced tables come first.
local function parents_first(set)
  return toposort.order(set, function(n)
    local refs = {}
    for _, c in ipairs(set[n].cons) do
      if c.type == "foreign_key" then refs[#refs + 1] = c.references end
    end
    return refs
  end)
end

-- Form `f` without its foreign keys that `pick(referenced table, constraint)`
-- picks, and those foreign keys.
local function without_fks(f, pick)
  local kept, picked = {}, {}
  for _, c in ipairs(f.cons) do
    if c.type == "foreign_key" and pick(c.references, c) then picked[#picked + 1] = c else kept[#kept + 1] = c end
  end
  if #picked == 0 then return f, picked end
  local copy = {}
  for k, v in pairs(f) do copy[k] = v end
  copy.cons = kept
  return copy, picked
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


-- Table key -> the columns the changes of the tables in both `at` and `bt`
-- (forms; `renames`: new -> old tables, `col_hints`: table -> new -> old
-- columns) drop or retype ("dropped", "retyped"): what a policy or a view
-- naming them must let go of first.
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
          out[old][c] = now and "retyped" or "dropped"
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
  for _, new in ipairs(names(renames)) do -- (in name order: the same file every run)
    local old = renames[new]
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
  -- (so are those of tables kept that the declared schema lets go of: the old key's index holds them)
  for _, n in ipairs(order) do
    local old = renames[n] or n
    if at[old] then
      local fks
      at[old], fks = without_fks(at[old], function(ref, c)
        return rekeyed_a[ref] and c.name ~= nil and not tables.find(bt[n].cons, c)
      end)
      for _, c in ipairs(fks) do out[#out + 1] = { call = "drop_constraint", table = n, args = { c.name, n }, con = c } end
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
      -- (the one-column primary key both sides share: what a backfill walks)
      local key = #bt[n].pk == 1 and #at[old].pk == 1 and at[old].pk[1] == bt[n].pk[1] and bt[n].pk[1] or nil
      -- (changes to a table with rows: the renderer may write them online-safe)
      for i = first, #out do
        local ch = out[i]
        ch.existing = true
        local default = ch.call == "add_column" and ch.args[2].server_default
        local call = type(default) == "string" and sqltext.volatile_call(default)
        if ch.retyped then ch.fill_key = key end -- (online: op.online.retype_column walks it)
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
