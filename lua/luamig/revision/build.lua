--- Building the revision graph (luamig.revision.graph) from loaded scripts:
--- nodes, branch labels, dependencies, the edges both ways, the
--- topological order, and Alembic's normalization of dependencies.
---
--- The graph is stored as columns (one array per edge, indexed by load
--- order: 10,000 revisions as tables held 6 MiB); an edge list is stored as
--- nil when empty and as the id itself when it has one, and the edges that
--- mostly equal another (next_and_dependents = next, parents_and_deps =
--- requires = parents) only where they differ.
local errors = require "luamig.util.errors"

local M = {}

---@alias luamig.Packed string|string[]|nil  a list of ids as a column stores it

---@class luamig.GraphColumns
---@field index table<string, integer>  revision id -> load index
---@field parents luamig.Packed[]       down_revision, as declared
---@field next luamig.Packed[]          children along down_revision, in load order
---@field next_and_dependents table<integer, luamig.Packed>  where it differs from next
---@field deps table<integer, luamig.Packed>             depends_on, resolved to ids (where any)
---@field unimplied_deps table<integer, luamig.Packed>   deps no ancestor already has (where any)
---@field parents_and_deps table<integer, luamig.Packed> where it differs from parents
---@field requires table<integer, luamig.Packed>         where it differs from parents
---@field labels table<integer, table<string, true>>    branch labels, own and inherited (where any)
---@field label_of table<string, string>  branch label -> revision id
---@field pos integer[]                 index in g.order

---The ids of a packed list as a list (a new one unless it was stored as one).
---@param v luamig.Packed
---@return string[]
function M.unpacked(v)
  if v == nil then return {} end
  if type(v) == "string" then return { v } end
  return v
end
local unpacked = M.unpacked

---Number of ids in a packed list.
---@param v luamig.Packed
function M.count(v)
  if v == nil then return 0 end
  if type(v) == "string" then return 1 end
  return #v
end
local count = M.count

---A list as a column stores it: nil for {}, the id itself for {id}.
---@param list string[]
---@return luamig.Packed
function M.packed(list)
  if #list == 0 then return nil end
  if #list == 1 then return list[1] end
  return list
end
local packed = M.packed

-- Append `id` to the packed list col[i].
local function push(col, i, id)
  local v = col[i]
  if v == nil then col[i] = id
  elseif type(v) == "string" then col[i] = { v, id }
  else v[#v + 1] = id end
end

local function where(s)
  return ("%s:%d"):format(s.path, s.line)
end

local function dedupe(list)
  local seen, out = {}, {}
  for _, v in ipairs(list) do
    if not seen[v] then
      seen[v] = true
      out[#out + 1] = v
    end
  end
  return out
end

local function concat(a, b)
  local out = {}
  for _, v in ipairs(a) do out[#out + 1] = v end
  for _, v in ipairs(b) do out[#out + 1] = v end
  return out
end

-- The node a name (revision id or branch label) stands for, as an id.
local function named(c, name)
  if c.index[name] then return name end
  return c.label_of[name]
end

-- Kahn's algorithm over parents and dependencies, ties by load order; the
-- leftovers of a cycle are reported with the first file involved.
local function topo_order(g)
  local c, load = g.cols, g.load
  local pending, ready, order = {}, {}, {}
  for i = 1, #load do
    pending[i] = count(c.parents_and_deps[i] or c.parents[i])
    if pending[i] == 0 then ready[#ready + 1] = i end
  end
  local by_load = function(a, b) return a > b end
  table.sort(ready, by_load)
  local index = c.index
  while #ready > 0 do
    local i = table.remove(ready)
    order[#order + 1] = load[i]
    for _, child in ipairs(unpacked(c.next_and_dependents[i] or c.next[i])) do
      local j = index[child]
      pending[j] = pending[j] - 1
      if pending[j] == 0 then ready[#ready + 1] = j end
    end
    if #ready > 1 then table.sort(ready, by_load) end
  end
  if #order < #load then
    local stuck = {}
    for i = 1, #load do
      if pending[i] > 0 then stuck[#stuck + 1] = load[i] end
    end
    local s = g.scripts[index[stuck[1]]]
    errors.raise("script", ("revision %s is part of a cycle (%s); fix down_revision or depends_on"):format(
      s.id, table.concat(stuck, ", ")), { where = where(s) })
  end
  return order
end

local function label(c, i, own)
  local set = c.labels[i]
  if not set then
    set = {}
    c.labels[i] = set
  end
  for _, l in ipairs(own) do set[l] = true end
end

-- Alembic's _add_branches: a label covers its revision's descendants, and
-- the line below the last of them down to a branch or merge point.
local function spread_labels(g, own_labels)
  local c = g.cols
  for i = 1, #g.load do
    local own = own_labels[i]
    if own then
      local last
      for _, d in ipairs(g:related({ g.load[i] }, "next")) do
        label(c, c.index[d], own)
        last = d
      end
      local p = last and c.index[last] or i
      while p and count(c.next_and_dependents[p] or c.next[p]) <= 1 and count(c.parents[p]) <= 1 do
        label(c, p, own)
        local up = c.parents[p]
        p = up and c.index[up]
      end
    end
  end
end

-- Whether the packed list `v` holds `x`.
local function has(v, x)
  if type(v) ~= "table" then return v == x end
  for _, y in ipairs(v) do
    if y == x then return true end
  end
  return false
end

-- One node per script; ids that cannot be told apart from the identifier
-- syntax, or that point at themselves, are refused. Returns each script's
-- depends_on, branch_labels and replaces (by index, where not empty). With
-- `store` (luamig.ScriptStore), reads its columns rather than make each script.
local function add_nodes(g, scripts, store)
  local c = g.cols
  local depends, own_labels, replaces = {}, {}, {}
  local function refuse(i, fmt) errors.raise("script", fmt:format(g.load[i]), { where = where(scripts[i]) }) end
  for i = 1, store and store.n or #scripts do
    local id, parents, deps, labels, repl
    if store then
      id, parents, deps, labels, repl = store.id[i], store.parents[i], store.depends_on[i], store.branch_labels[i],
        store.replaces[i]
    else
      local s = scripts[i]
      id, parents, deps, labels, repl = s.id, packed(s.parents), packed(s.depends_on), packed(s.branch_labels),
        s.replaces and packed(s.replaces)
    end
    g.load[i], c.index[id], c.parents[i] = id, i, parents
    if id:find("[@+%-]") then refuse(i, "revision id %s must not contain @, + or -") end
    if has(parents, id) then refuse(i, "revision %s names itself as down_revision") end
    if has(deps, id) then refuse(i, "revision %s depends on itself") end
    depends[i], own_labels[i], replaces[i] = deps and unpacked(deps), labels and unpacked(labels), repl and unpacked(repl)
  end
  return depends, own_labels, replaces
end

-- Branch labels name their revision (g.map), next to the ids.
local function add_labels(g, own_labels)
  local c = g.cols
  for i = 1, #g.load do
    for _, l in ipairs(own_labels[i] or {}) do
      local other = named(c, l)
      if other then
        errors.raise("script", ("branch label %s is already used by revision %s"):format(l, other),
          { where = where(g.scripts[i]) })
      end
      c.label_of[l] = g.load[i]
    end
  end
end

-- depends_on entries (ids or labels) resolved to revision ids; then each
-- node's parents_and_deps.
local function resolve_deps(g, depends)
  local c = g.cols
  for i, declared in pairs(depends) do
    local deps = {}
    for _, d in ipairs(declared) do
      local target = named(c, d)
      if not target then
        errors.raise("script", ("depends_on %s does not exist (no revision id or branch label)"):format(d),
          { where = where(g.scripts[i]) })
      end
      deps[#deps + 1] = target
    end
    c.deps[i] = packed(deps)
  end
  for i = 1, #g.load do
    local deps = c.deps[i]
    if deps or count(c.parents[i]) > 1 then
      c.parents_and_deps[i] = packed(dedupe(concat(unpacked(c.parents[i]), unpacked(deps))))
    end
  end
end

-- The edges upwards: next (children along down_revision) and
-- next_and_dependents (children and revisions depending on the node).
local function link_children(g)
  local c = g.cols
  local index, nd = c.index, c.next_and_dependents
  for i = 1, #g.load do
    local id, parents, pad = g.load[i], c.parents[i], c.parents_and_deps[i]
    for _, p in ipairs(unpacked(parents)) do
      if not index[p] then
        errors.raise("script", ("down_revision %s does not exist (no migration file declares it)"):format(p),
          { where = where(g.scripts[i]) })
      end
    end
    if pad == nil then -- (most revisions: one parent or none, no dependency)
      local j = parents and index[parents]
      if j then
        push(c.next, j, id)
        if nd[j] then push(nd, j, id) end
      end
    else
      local is_parent = {}
      for _, p in ipairs(unpacked(parents)) do is_parent[p] = true end
      for _, d in ipairs(unpacked(pad)) do
        local j = index[d]
        if is_parent[d] then
          push(c.next, j, id)
          if nd[j] then push(nd, j, id) end
        else -- a dependent: from now on next_and_dependents differs from next
          if not nd[j] then nd[j] = packed(concat(unpacked(c.next[j]), {})) end
          push(nd, j, id)
        end
      end
    end
  end
end

-- Dependencies an ancestor already has are implied (Alembic's
-- normalization): unimplied_deps drops them, requires is what is left.
local function normalize_deps(g)
  local c = g.cols
  for i = 1, #g.load do
    local id, unimplied = g.load[i], {}
    if c.deps[i] then
      local implied = {}
      for _, a in ipairs(g:related({ id }, "parents")) do
        if a ~= id then
          for _, d in ipairs(unpacked(c.deps[c.index[a]])) do implied[d] = true end
        end
      end
      for _, d in ipairs(dedupe(unpacked(c.deps[i]))) do
        if not implied[d] then unimplied[#unimplied + 1] = d end
      end
      c.unimplied_deps[i] = packed(unimplied)
    end
    if #unimplied > 0 or count(c.parents[i]) > 1 then
      c.requires[i] = packed(dedupe(concat(unpacked(c.parents[i]), unimplied)))
    end
  end
end

-- A baseline (a root listing `replaces`) stands in for the revisions it
-- squashed: they leave heads and roots, and the last one listed is where
-- the baseline is (g.alias). One revision replaced twice is an error.
local function link_replaces(g, replaces)
  g.replaced, g.alias, g.last_replaced = {}, {}, {}
  local c = g.cols
  for i = 1, #g.load do
    local list = replaces[i]
    if list then
      local id, s = g.load[i], g.scripts[i]
      if c.parents[i] then
        errors.raise("script", ("revision %s lists replaces but has a down_revision: a baseline is a root"):format(id),
          { where = where(s) })
      end
      for _, r in ipairs(list) do
        if g.replaced[r] or c.index[r] and replaces[c.index[r]] then
          errors.raise("script", ("revision %s replaces %s, which another baseline replaces or which is a baseline")
            :format(id, r), { where = where(s) })
        end
        g.replaced[r] = id
      end
      local last = list[#list]
      g.alias[last], g.last_replaced[id] = id, last
    end
  end
end

---Fill `g` (a new graph: empty load, scripts set) from `scripts`.
---Raises a "script" error naming the file for a bad id, a repeated branch
---label, a dangling down_revision or depends_on, or a cycle.
---@param g luamig.Graph
---@param scripts luamig.Script[]
---@param store luamig.ScriptStore?  where `scripts` come from (its id and parents are the first columns)
function M.fill(g, scripts, store)
  g.cols = { index = {}, parents = store and store.parents or {}, next = {}, next_and_dependents = {}, deps = {},
    unimplied_deps = {}, parents_and_deps = {}, requires = {}, labels = {}, label_of = {}, pos = {} }
  local depends, own_labels, replaces = add_nodes(g, scripts, store)
  link_replaces(g, replaces)
  add_labels(g, own_labels)
  resolve_deps(g, depends)
  link_children(g)
  g.order = topo_order(g)
  for k, id in ipairs(g.order) do g.cols.pos[g.cols.index[id]] = k end
  normalize_deps(g)
  spread_labels(g, own_labels)
end

return M
