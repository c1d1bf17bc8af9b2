--- A fleet's no-op check, in the parent before anything is forked: the
--- heads of many targets read in bulk, so that those already at head are
--- skipped without a process of their own. Targets sharing a database URL
--- (PostgreSQL schema-per-tenant) share one read-only connection and their
--- version tables are read together (dialect.read_heads: one query per
--- batch of schemas); a SQLite file is opened read-only (nothing created,
--- no run lock). A target that cannot be read here (a missing file, a
--- server down) is left to its child, which reports why.
local connect = require "luamig.db.connect"
local targets = require "luamig.fleet.targets"

local M = {}

-- The targets of `list` grouped by database (URL and the directory a
-- relative SQLite path is relative to), in first-seen order.
local function by_database(list)
  local groups, index = {}, {}
  for _, t in ipairs(list) do
    local key = targets.database(t)
    local g = index[key]
    if not g then
      g = { url = t.url, base = t.base }
      index[key], groups[#groups + 1] = g, g
    end
    g[#g + 1] = t
  end
  return groups
end

-- Read group `g`'s heads into `out` (by target name); nothing on failure.
local function read_group(cfg, g, out)
  local ok, db, dialect = pcall(connect.open, g.url, cfg, nil, { base = g.base, readonly = true, if_exists = true })
  if not ok or not db then return end
  local tables = {}
  for i, t in ipairs(g) do tables[i] = { schema = t.schema or cfg.schema, name = cfg.version_table } end
  local read, heads = pcall(dialect.read_heads, db, tables)
  db:close()
  if not read then return end
  for i, t in ipairs(g) do out[t.name] = heads[i] end
end

---The heads of every target of `list` that could be read, by target name.
---@param cfg luamig.Config
---@param list luamig.Target[]
---@return table<string, string[]>
function M.heads(cfg, list)
  local out = {}
  for _, g in ipairs(by_database(list)) do read_group(cfg, g, out) end
  return out
end

return M
