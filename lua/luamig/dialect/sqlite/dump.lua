--- SQLite's part of `luamig dump` (luamig.schema.dump): tables through
--- op.create_table when the op vocabulary writes them exactly, else their own
--- CREATE TABLE text (STRICT, WITHOUT ROWID, generated or AUTOINCREMENT
--- columns, collations, deferrable foreign keys); indexes, views and
--- triggers with their SQL text. Tables come parents first (their foreign
--- keys), views and triggers in the order sqlite_master holds them.
local ddl = require "luamig.model.ddl"
local types = require "luamig.dialect.sqlite.types"
local q = require("luamig.model.sql").quote_ident

local M = {}

local RANK = { enum = 0, table = 1, index = 2, view = 3, trigger = 4 }

-- Whether op.create_table writes table `t` exactly.
local function plain_table(t)
  if t.kind ~= "table" or t.strict or t.without_rowid then return false end
  for _, c in ipairs(t.columns) do
    if c.generated or c.autoincrement or c.collation or c.hidden then return false end
  end
  for _, c in pairs(t.constraints) do
    if c.deferrable or c.deferred then return false end
  end
  return true
end

local function table_item(db, t, enums)
  local it = { id = "rel:" .. t.name, rank = RANK.table, what = "table " .. t.name, deps = {} }
  for _, c in ipairs(t.columns) do
    if enums[c.type] then it.deps[#it.deps + 1] = "enum:" .. c.type end
  end
  for _, fk in ipairs(t.foreign_keys) do it.deps[#it.deps + 1] = "rel:" .. fk.references end
  if not plain_table(t) then
    it.up, it.down = { { sql = t.create_sql } }, { { op = "drop_table", args = { t.name } } }
    return it
  end
  -- the types as written (the snapshot's are lower case), NOT NULL as written (a key column's is implied)
  local written = {}
  for r in db:rows('SELECT name, type, "notnull" AS nn FROM pragma_table_info(?)', t.name) do written[r.name] = r end
  local cols, cons = {}, {}
  for i, c in ipairs(t.columns) do
    local w = written[c.name]
    cols[i] = { c.name, w.type ~= "" and ddl.spec_type(types, w.type) or { raw = "" },
      nullable = ddl.nullable(w.nn == 0), server_default = c.default }
  end
  if #t.primary_key > 0 then cons[1] = { type = "primary_key", columns = t.primary_key } end
  for _, u in ipairs(t.uniques) do cons[#cons + 1] = { type = "unique", name = u.name, columns = u.columns } end
  local type_of = {}
  for _, c in ipairs(t.columns) do type_of[c.name] = c.type end
  for _, c in ipairs(t.checks) do
    if not (c.column and enums[type_of[c.column]]) then -- (an enum column's check comes with its type)
      cons[#cons + 1] = { type = "check", name = c.name, condition = c.condition }
    end
  end
  for _, fk in ipairs(t.foreign_keys) do
    cons[#cons + 1] = { type = "foreign_key", name = fk.name, columns = fk.columns, references = fk.references,
      ref_columns = fk.ref_columns, on_delete = fk.on_delete ~= "NO ACTION" and fk.on_delete or nil,
      on_update = fk.on_update ~= "NO ACTION" and fk.on_update or nil }
  end
  local opts = #cons > 0 and { constraints = cons } or nil
  it.up, it.down = { { op = "create_table", args = { t.name, cols, opts } } }, { { op = "drop_table", args = { t.name } } }
  it.declare = { "table", t.name, cols, opts }
  return it
end

-- An index op.create_index writes exactly: plain columns, nothing else said.
local function plain_index(ix, cols)
  for _, c in ipairs(ix.columns) do
    if not cols[c] then return false end
  end
  local text = (ix.sql or ""):gsub("%b''", "")
  return not (text:find("[Cc][Oo][Ll][Ll][Aa][Tt][Ee]") or text:find("[Dd][Ee][Ss][Cc]") or text:find("[Aa][Ss][Cc]%s*[,)]"))
end

-- The text op.create_index gives SQLite.
local function op_index_sql(name, table_name, columns, opts)
  local cols = {}
  for i, c in ipairs(columns) do cols[i] = q(c) end
  return ("CREATE %sINDEX %s ON %s (%s)%s"):format(opts and opts.unique and "UNIQUE " or "", q(name), q(table_name),
    table.concat(cols, ", "), opts and opts.where and (" WHERE " .. opts.where) or "")
end

---The dump items of snapshot `s` (luamig.schema.dump) and their order
---edges (views and triggers in the order sqlite_master holds them).
---@param db luamig.Db
---@param s luamig.Snapshot
---@return luamig.DumpItem[] items, string[][] edges
function M.dump_items(db, s)
  local items = {}
  for _, t in pairs(s.tables) do
    local ti = table_item(db, t, s.enums)
    items[#items + 1] = ti
    local cols = {}
    for _, c in ipairs(t.columns) do cols[c.name] = true end
    for n, ix in pairs(t.indexes) do
      local it = { id = "index:" .. n, rank = RANK.index, what = "index " .. n, deps = { "rel:" .. t.name } }
      it.up = { { sql = ix.sql } }
      if plain_index(ix, cols) then
        local opts = (ix.unique or ix.where) and { unique = ix.unique or nil, where = ix.where } or nil
        -- the op only where it writes the same text (SQLite keeps it, and so does the snapshot)
        if ix.sql == op_index_sql(n, t.name, ix.columns, opts) then
          it.up = { { op = "create_index", args = { n, t.name, ix.columns, opts } } }
        end
        if ti.declare then it.declare = { "index", n, t.name, ix.columns, opts } else it.declare_sql = ix.sql end
      end
      it.down = { { op = "drop_index", args = { n } } }
      items[#items + 1] = it
    end
  end
  for n, e in pairs(s.enums) do
    items[#items + 1] = { id = "enum:" .. n, rank = RANK.enum, what = "enum " .. n, declare = { "enum", n, e.values },
      up = { { op = "create_enum", args = { n, e.values } } }, down = { { op = "drop_enum", args = { n } } } }
  end
  for n, v in pairs(s.views) do
    items[#items + 1] = { id = "rel:" .. n, rank = RANK.view, what = "view " .. n, up = { { sql = v.definition } },
      down = { { sql = "DROP VIEW " .. q(n) } } }
  end
  for n, g in pairs(s.triggers) do
    items[#items + 1] = { id = "trigger:" .. n, rank = RANK.trigger, what = "trigger " .. n, up = { { sql = g.sql } },
      deps = { "rel:" .. g.table }, down = { { sql = "DROP TRIGGER " .. q(n) } } }
  end
  -- views and triggers after what was created before them
  local edges, prev = {}, nil
  for r in db:rows "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger') ORDER BY rowid" do
    local id = (r.type == "view" and "rel:" or "trigger:") .. r.name
    if prev then edges[#edges + 1] = { id, prev } end
    prev = id
  end
  return items, edges
end

return M
