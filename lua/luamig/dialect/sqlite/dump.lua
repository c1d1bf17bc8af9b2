--- SQLite's part of `luamig dump` (luamig.schema.dump): tables through
--- op.create_table when the op vocabulary writes them exactly, else their own
--- CREATE TABLE text (STRICT, WITHOUT ROWID, generated or AUTOINCREMENT
--- columns, collations, deferrable foreign keys); indexes, views and
--- triggers with their SQL text. Tables come parents first (their foreign
--- keys), views and triggers in the order sqlite_master holds them.
local M = {}

local RANK = { table = 1, index = 2, view = 3, trigger = 4 }

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

local function table_item(db, t)
  local it = { id = "rel:" .. t.name, rank = RANK.table, what = "table " .. t.name, deps = {} }
  for _, fk in ipairs(t.foreign_keys) do it.deps[#it.deps + 1] = "rel:" .. fk.references end
  if not plain_table(t) then
    it.up, it.down = { { sql = t.create_sql } }, { { op = "drop_table", args = { t.name } } }
    return it
  end
  local cols, cons, pk = {}, {}, {}
  for _, n in ipairs(t.primary_key) do pk[n] = true end
  for i, c in ipairs(t.columns) do
    local not_null = not c.nullable -- (a key column's is implied: the pragma says whether it was written)
    if pk[c.name] then
      not_null = db:scalar('SELECT "notnull" FROM pragma_table_info(?) WHERE name = ?', t.name, c.name) == 1
    end
    cols[i] = { c.name, c.type ~= "" and c.type or { raw = "" }, nullable = not_null and false or nil,
      server_default = c.default }
  end
  if #t.primary_key > 0 then cons[1] = { type = "primary_key", columns = t.primary_key } end
  for _, u in ipairs(t.uniques) do cons[#cons + 1] = { type = "unique", name = u.name, columns = u.columns } end
  for _, c in ipairs(t.checks) do cons[#cons + 1] = { type = "check", name = c.name, condition = c.condition } end
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

---The dump items of snapshot `s` (luamig.schema.dump) and their order
---edges (views and triggers in the order sqlite_master holds them).
---@param db table
---@param s luamig.Snapshot
---@return luamig.DumpItem[] items, string[][] edges
function M.dump_items(db, s)
  local items = {}
  for _, t in pairs(s.tables) do
    local ti = table_item(db, t)
    items[#items + 1] = ti
    local cols = {}
    for _, c in ipairs(t.columns) do cols[c.name] = true end
    for n, ix in pairs(t.indexes) do
      local it = { id = "index:" .. n, rank = RANK.index, what = "index " .. n, deps = { "rel:" .. t.name } }
      if plain_index(ix, cols) then
        local opts = (ix.unique or ix.where) and { unique = ix.unique or nil, where = ix.where } or nil
        it.up = { { op = "create_index", args = { n, t.name, ix.columns, opts } } }
        if ti.declare then it.declare = { "index", n, t.name, ix.columns, opts } else it.declare_sql = ix.sql end
      else
        it.up = { { sql = ix.sql } }
      end
      it.down = { { op = "drop_index", args = { n } } }
      items[#items + 1] = it
    end
  end
  for n, v in pairs(s.views) do
    items[#items + 1] = { id = "rel:" .. n, rank = RANK.view, what = "view " .. n, up = { { sql = v.definition } },
      down = { { sql = "DROP VIEW " .. require("luamig.dialect.sql").quote_ident(n) } } }
  end
  for n, g in pairs(s.triggers) do
    items[#items + 1] = { id = "trigger:" .. n, rank = RANK.trigger, what = "trigger " .. n, up = { { sql = g.sql } },
      deps = { "rel:" .. g.table }, down = { { sql = "DROP TRIGGER " .. require("luamig.dialect.sql").quote_ident(n) } } }
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
