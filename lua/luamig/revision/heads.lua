--- The stored heads (the version table's rows) as Alembic keeps them: how
--- they change when a revision is applied or reverted (its HeadMaintainer)
--- and when the database is stamped (_stamp_revs and StampStep).
local errors = require "luamig.util.errors"
local graph = require "luamig.revision.graph"
local heads_text = require("luamig.util.text").heads

local M = {}

local set_of = graph.set_of

local function raise(fmt, ...)
  errors.raise("revision", fmt:format(...))
end

-- `requires` of `node` minus what the other heads already imply.
local function unmerge_to(g, heads, node)
  local others = {}
  for h in pairs(heads) do
    if h ~= node.id then others[#others + 1] = h end
  end
  if #others == 0 then return node.requires end
  local implied = set_of(g:related(others, "requires"))
  local out = {}
  for _, d in ipairs(node.requires) do
    if not implied[d] then out[#out + 1] = d end
  end
  return out
end

---The stored heads after applying (`up`) or reverting (`down`) revision
---`id`: Alembic's HeadMaintainer (a merge collapses rows, an unmerge splits
---them, a dependency already implied is dropped).
---@param g luamig.Graph
---@param heads string[]
---@param id string
---@param direction "up"|"down"
---@return string[]
function M.step(g, heads, id, direction)
  local set = set_of(heads)
  local node = g.nodes[id]
  local requires = node.requires
  local in_heads = {}
  for _, d in ipairs(requires) do
    if set[d] then in_heads[#in_heads + 1] = d end
  end
  if direction == "up" then
    if #requires == 0 or #in_heads == 0 then
      set[id] = true -- a new branch
    elseif #requires > 1 and #in_heads > 1 then
      local required, others = set_of(requires), {}
      for h in pairs(set) do
        if not required[h] then others[#others + 1] = h end
      end
      local implied = #others > 0 and set_of(g:related(others, "requires")) or {}
      for _, d in ipairs(requires) do
        if not implied[d] then set[d] = nil end -- merge
      end
      set[id] = true
    else
      set[#requires == 1 and requires[1] or in_heads[1]] = nil
      set[id] = true
    end
  else
    if set[id] then
      set[id] = nil
      for _, d in ipairs(#requires == 0 and {} or unmerge_to(g, set_of(heads), node)) do set[d] = true end
    else
      raise("cannot revert %s: it is not a current head (%s)", id, heads_text(heads))
    end
  end
  return g:in_load_order(set)
end

---The stored heads after `luamig stamp targets` from `current` (Alembic's
---_stamp_revs and StampStep).
---@param g luamig.Graph
---@param current string[]
---@param targets string[]
---@return string[]
function M.stamp(g, current, targets)
  g:stored_nodes(current)
  if #targets == 0 then targets = { "base" } end
  local filtered, seen = {}, {}
  for _, t in ipairs(targets) do
    for _, h in ipairs(g:filter_for_lineage(current, t, true)) do
      if not seen[h] then
        seen[h] = true
        filtered[#filtered + 1] = h
      end
    end
  end
  local dests = g:get_revisions(targets)
  if #dests == 0 then dests = { false } end
  local set = set_of(current)
  for _, dest in ipairs(dests) do
    if dest == false or dest == graph.BASE then
      for _, h in ipairs(filtered) do set[h] = nil end
    elseif not seen[dest.id] then
      local descendants = set_of(g:related({ dest.id }, "next_and_dependents"))
      local ancestors = set_of(g:related({ dest.id }, "requires"))
      local moves, ups, downs = false, {}, {}
      for _, h in ipairs(filtered) do
        if descendants[h] then downs[#downs + 1] = h end -- stamping moves it down
        if ancestors[h] then ups[#ups + 1] = h end
        moves = moves or descendants[h] or ancestors[h]
      end
      if #downs > 0 and #ups > 0 then -- (Alembic fails the same way, on an assertion)
        raise("cannot stamp %s: the current heads %s are above it and %s below; stamp base first", dest.id,
          table.concat(downs, ", "), table.concat(ups, ", "))
      end
      if moves then
        for _, h in ipairs(filtered) do set[h] = nil end -- the heads on that line move to dest
      end
      set[dest.id] = true
    end
  end
  return g:in_load_order(set)
end

return M
