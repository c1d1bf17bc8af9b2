--- Building the revision graph (luamig.revision.graph) from loaded scripts:
--- nodes, branch labels, dependencies, the edges both ways, the
--- topological order, and Alembic's normalization of dependencies.
local errors = require "luamig.util.errors"

local M = {}

-- A node of a revision without dependencies (most of them) stores no deps
-- and unimplied_deps: it reads this one shared, read-only, empty list
-- (10,000 nodes hold 2.5 MiB less).
local NONE = setmetatable({}, { __newindex = function() error("read-only list", 2) end, __metatable = false })
local NODE = { __index = { deps = NONE, unimplied_deps = NONE } }

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

-- Kahn's algorithm over parents and dependencies, ties by load order; the
-- leftovers of a cycle are reported with the first file involved.
local function topo_order(g)
  local pending, ready, order = {}, {}, {}
  for _, id in ipairs(g.load) do
    pending[id] = #g.nodes[id].parents_and_deps
    if pending[id] == 0 then ready[#ready + 1] = id end
  end
  local by_load = function(a, b) return g.nodes[a].idx > g.nodes[b].idx end
  table.sort(ready, by_load)
  while #ready > 0 do
    local id = table.remove(ready)
    order[#order + 1] = id
    for _, c in ipairs(g.nodes[id].next_and_dependents) do
      pending[c] = pending[c] - 1
      if pending[c] == 0 then ready[#ready + 1] = c end
    end
    table.sort(ready, by_load)
  end
  if #order < #g.load then
    local stuck = {}
    for _, id in ipairs(g.load) do
      if pending[id] > 0 then stuck[#stuck + 1] = id end
    end
    local s = g.revs[stuck[1]]
    errors.raise("script", ("revision %s is part of a cycle (%s); fix down_revision or depends_on"):format(
      s.id, table.concat(stuck, ", ")), { where = where(s) })
  end
  return order
end

-- Alembic's _add_branches: a label covers its revision's descendants, and
-- the line below the last of them down to a branch or merge point.
local function spread_labels(g)
  for _, id in ipairs(g.load) do
    local node = g.nodes[id]
    local own = g.revs[id].branch_labels
    if #own > 0 then
      local last
      for _, d in ipairs(g:related({ id }, "next")) do
        for _, l in ipairs(own) do g.nodes[d].labels[l] = true end
        last = d
      end
      local p = g.nodes[last or node.id]
      while p and #p.next_and_dependents <= 1 and #p.parents <= 1 do
        for _, l in ipairs(own) do p.labels[l] = true end
        p = p.parents[1] and g.nodes[p.parents[1]]
      end
    end
  end
end

-- One node per script; ids that cannot be told apart from the identifier
-- syntax, or that point at themselves, are refused.
local function add_nodes(g, scripts)
  local function refuse(s, fmt) errors.raise("script", fmt:format(s.id), { where = where(s) }) end
  for i, s in ipairs(scripts) do
    if s.id:find("[@+%-]") then refuse(s, "revision id %s must not contain @, + or -") end
    for _, p in ipairs(s.parents) do
      if p == s.id then refuse(s, "revision %s names itself as down_revision") end
    end
    for _, d in ipairs(s.depends_on) do
      if d == s.id then refuse(s, "revision %s depends on itself") end
    end
    local node = setmetatable({ id = s.id, idx = i, parents = s.parents, next = {}, next_and_dependents = {},
      labels = {} }, NODE)
    g.revs[s.id], g.nodes[s.id], g.map[s.id], g.load[i] = s, node, node, s.id
  end
end

-- Branch labels name their revision in g.map, next to the ids.
local function add_labels(g)
  for _, id in ipairs(g.load) do
    for _, l in ipairs(g.revs[id].branch_labels) do
      local other = g.map[l]
      if other then
        errors.raise("script", ("branch label %s is already used by revision %s"):format(l, other.id),
          { where = where(g.revs[id]) })
      end
      g.map[l] = g.nodes[id]
    end
  end
end

-- depends_on entries (ids or labels) resolved to revision ids; then each
-- node's parents_and_deps.
local function resolve_deps(g)
  for _, id in ipairs(g.load) do
    local node, s = g.nodes[id], g.revs[id]
    if #s.depends_on > 0 then node.deps = {} end
    for _, d in ipairs(s.depends_on) do
      local target = g.map[d]
      if not target then
        errors.raise("script", ("depends_on %s does not exist (no revision id or branch label)"):format(d),
          { where = where(s) })
      end
      node.deps[#node.deps + 1] = target.id
    end
    node.parents_and_deps = (#node.deps == 0 and #node.parents <= 1) and node.parents
      or dedupe(concat(node.parents, node.deps))
  end
end

-- The edges upwards: next (children along down_revision) and
-- next_and_dependents (children and revisions depending on the node).
local function link_children(g)
  for _, id in ipairs(g.load) do
    local node = g.nodes[id]
    for _, p in ipairs(node.parents) do
      if not g.nodes[p] then
        errors.raise("script", ("down_revision %s does not exist (no migration file declares it)"):format(p),
          { where = where(g.revs[id]) })
      end
    end
    for _, d in ipairs(node.parents_and_deps) do
      local parent = g.nodes[d]
      parent.next_and_dependents[#parent.next_and_dependents + 1] = id
    end
    for _, p in ipairs(#node.parents <= 1 and node.parents or dedupe(node.parents)) do
      local parent = g.nodes[p]
      parent.next[#parent.next + 1] = id
    end
  end
end

-- Dependencies an ancestor already has are implied (Alembic's
-- normalization): unimplied_deps drops them, requires is what is left.
local function normalize_deps(g)
  for _, id in ipairs(g.load) do
    local node = g.nodes[id]
    if #node.deps > 0 then
      local implied = {}
      for _, a in ipairs(g:related({ id }, "parents")) do
        if a ~= id then
          for _, d in ipairs(g.nodes[a].deps) do implied[d] = true end
        end
      end
      node.unimplied_deps = {}
      for _, d in ipairs(dedupe(node.deps)) do
        if not implied[d] then node.unimplied_deps[#node.unimplied_deps + 1] = d end
      end
    end
    node.requires = (#node.unimplied_deps == 0 and #node.parents <= 1) and node.parents
      or dedupe(concat(node.parents, node.unimplied_deps))
  end
end

-- A baseline (a root listing `replaces`) stands in for the revisions it
-- squashed: they leave heads and roots, and the last one listed is where
-- the baseline is (g.alias). One revision replaced twice is an error.
local function link_replaces(g)
  g.replaced, g.alias, g.last_replaced = {}, {}, {}
  for _, id in ipairs(g.load) do
    local s = g.revs[id]
    if s.replaces and #s.replaces > 0 then
      if #s.parents > 0 then
        errors.raise("script", ("revision %s lists replaces but has a down_revision: a baseline is a root"):format(id),
          { where = where(s) })
      end
      for _, r in ipairs(s.replaces) do
        if g.replaced[r] or g.revs[r] and #(g.revs[r].replaces or {}) > 0 then
          errors.raise("script", ("revision %s replaces %s, which another baseline replaces or which is a baseline")
            :format(id, r), { where = where(s) })
        end
        g.replaced[r] = id
      end
      local last = s.replaces[#s.replaces]
      g.alias[last], g.last_replaced[id] = id, last
    end
  end
end

---Fill `g` (a new graph: empty revs, nodes, map and load) from `scripts`.
---Raises a "script" error naming the file for a bad id, a repeated branch
---label, a dangling down_revision or depends_on, or a cycle.
---@param g luamig.Graph
---@param scripts luamig.Script[]
function M.fill(g, scripts)
  add_nodes(g, scripts)
  link_replaces(g)
  add_labels(g)
  resolve_deps(g)
  link_children(g)
  g.order = topo_order(g)
  g.position = {}
  for i, id in ipairs(g.order) do g.position[id] = i end
  normalize_deps(g)
  spread_labels(g)
end

return M
