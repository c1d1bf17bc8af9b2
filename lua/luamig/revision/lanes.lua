--- The revision graph drawn in lanes, newest first, as `git log --graph`
--- does: one column per line of descent, "/" where branches meet (a branch
--- point), "\" where a merge's parents part. A depends_on edge runs in a
--- lane of its own drawn with ":" instead of "|". Pure: no I/O, no colour.
local M = {}

-- Draw the lines that move each edge {from, to, dep} one column per line
-- until every one is at its target; `out` gets the lines.
local function moves(edges, out)
  local pos = {}
  for i, e in ipairs(edges) do pos[i] = e.from end
  while true do
    local moving = false
    for i, e in ipairs(edges) do
      if pos[i] ~= e.to then moving = true end
    end
    if not moving then return end
    local row = {}
    for i, e in ipairs(edges) do
      local p = pos[i]
      if e.to > p then
        row[2 * p + 2] = "\\"
        pos[i] = p + 1
      elseif e.to < p then
        row[2 * p] = "/"
        pos[i] = p - 1
      elseif not row[2 * p + 1] then
        row[2 * p + 1] = e.dep and ":" or "|"
      end
    end
    local width = 0
    for k in pairs(row) do width = math.max(width, k) end
    for k = 1, width do row[k] = row[k] or " " end
    out[#out + 1] = { graph = table.concat(row) }
  end
end

-- The lane waiting for `id` along a parent edge (along a dependency with
-- `dep`): a dependency never shares a parent's lane, so it stays visible.
local function index_of(lanes, id, dep)
  for i, l in ipairs(lanes) do
    if l.id == id and (l.dep or false) == (dep or false) then return i end
  end
end

-- Lanes (0-based columns) as a line of glyphs, `mark` at column `col`.
local function lane_line(lanes, col, mark)
  local parts = {}
  for i, l in ipairs(lanes) do parts[i] = (i - 1 == col) and mark or (l.dep and ":" or "|") end
  return table.concat(parts, " ")
end

-- Collapse every lane waiting for `id` into the first one; returns the
-- column of `id` (a new lane at the right for a head).
local function gather(lanes, id, out)
  local first
  for i, l in ipairs(lanes) do
    if l.id == id then first = first or i end
  end
  if not first then
    lanes[#lanes + 1] = { id = id }
    return #lanes - 1
  end
  local kept, edges = {}, {}
  for i, l in ipairs(lanes) do
    if i == first or l.id ~= id then
      kept[#kept + 1] = l
      if l.id == id then l.dep = false end
    end
    local to = (l.id == id) and first or #kept
    edges[#edges + 1] = { from = i - 1, to = to - 1, dep = l.dep }
  end
  if #kept < #lanes then
    moves(edges, out)
    for i = #lanes, 1, -1 do lanes[i] = nil end
    for i, l in ipairs(kept) do lanes[i] = l end
  end
  return first - 1
end

-- Replace lane `col` (the node just drawn) by its parents, then its
-- dependencies; an edge to a revision another lane already waits for
-- joins that lane.
local function spread(lanes, col, node, out)
  local targets = {}
  for _, p in ipairs(node.parents) do targets[#targets + 1] = { id = p } end
  for _, d in ipairs(node.deps) do targets[#targets + 1] = { id = d, dep = true } end
  local new, inserted = {}, {}
  for i, l in ipairs(lanes) do
    if i - 1 == col then
      for _, t in ipairs(targets) do
        if not index_of(lanes, t.id, t.dep) and not index_of(inserted, t.id, t.dep) then
          inserted[#inserted + 1] = t
          new[#new + 1] = t
        end
      end
    else
      new[#new + 1] = l
    end
  end
  local edges = {}
  for i, l in ipairs(lanes) do
    if i - 1 ~= col then edges[#edges + 1] = { from = i - 1, to = index_of(new, l.id, l.dep) - 1, dep = l.dep } end
  end
  for _, t in ipairs(targets) do
    edges[#edges + 1] = { from = col, to = index_of(new, t.id, t.dep) - 1, dep = t.dep }
  end
  moves(edges, out)
  for i = #lanes, 1, -1 do lanes[i] = nil end
  for i, l in ipairs(new) do lanes[i] = l end
end

---The rows of the picture, newest first: node rows {graph, id} and the
---connector rows between them {graph}. `applied` revisions are drawn "*",
---the others "o".
---@param g luamig.Graph
---@param applied table<string, true>
---@return {graph: string, id: string?}[]
function M.draw(g, applied)
  local out, lanes = {}, {}
  for k = #g.order, 1, -1 do
    local id = g.order[k]
    local col = gather(lanes, id, out)
    out[#out + 1] = { graph = lane_line(lanes, col, applied[id] and "*" or "o"), id = id }
    spread(lanes, col, g.nodes[id], out)
  end
  return out
end

return M
