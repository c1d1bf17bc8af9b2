--- Plans over the revision graph, as Alembic makes them: which revisions an
--- upgrade, downgrade or history range covers and in which order, and how
--- the stored heads change with each step or stamp (Alembic's
--- _collect_*_revisions, _topological_sort, _stamp_revs and HeadMaintainer).
local errors = require "luamig.util.errors"
local graph = require "luamig.revision.graph"
local stored_heads = require "luamig.revision.heads"
local heads_text = require("luamig.util.text").heads

local M = {}

local set_of = graph.set_of

local function raise(fmt, ...)
  errors.raise("revision", select("#", ...) > 0 and fmt:format(...) or fmt)
end

local function contains(list, v)
  for _, x in ipairs(list) do
    if x == v then return true end
  end
  return false
end

local function ids_of(nodes)
  local out = {}
  for _, n in ipairs(nodes) do
    if type(n) == "table" then out[#out + 1] = n.id end
  end
  return out
end

-- For each revision, the revisions whose `requires` names it (built once per graph).
local function required_by(g)
  if not g.required_by then
    local by = {}
    for _, id in ipairs(g.load) do by[id] = {} end
    for _, id in ipairs(g.load) do
      for _, d in ipairs(g.nodes[id].requires) do table.insert(by[d], id) end
    end
    g.required_by = by
  end
  return g.required_by
end

-- The first index i ~= at whose head current[i] needs `candidate` (has it
-- among its ancestors), or nil: a walk up from the candidate over revisions
-- not yet emitted, no higher in the topological order than those heads.
local function waiting_head(g, done, current, at, candidate)
  local index, top = {}, 0
  for i, h in ipairs(current) do
    if i ~= at then
      index[h] = i
      top = math.max(top, g.position[h])
    end
  end
  local up, position = required_by(g), g.position
  local first
  local seen, stack = { [candidate] = true }, { candidate }
  while #stack > 0 do
    local ups = up[table.remove(stack)]
    for k = 1, #ups do
      local y = ups[k]
      if not seen[y] and not done[y] and position[y] <= top then
        seen[y] = true
        local i = index[y]
        if i and (not first or i < first) then first = i end
        stack[#stack + 1] = y
      end
    end
  end
  return first
end

---Alembic's topological order of the set `todo`, walking down from `heads`:
---a branch is followed down until another head still needs its next node.
---(Alembic keeps each head's ancestor set; asking whether a head is above
---the candidate gives the same answers without building those sets.)
---@param g luamig.Graph
---@param todo table<string, true>
---@param heads string[]
---@return string[] ids, descendants first
function M.sort(g, todo, heads)
  local copy = {}
  for id in pairs(todo) do copy[id] = true end
  todo = copy
  local current, seen = {}, {}
  for _, h in ipairs(heads) do
    if todo[h] and not seen[h] then
      seen[h] = true
      current[#current + 1] = h
    end
  end
  table.sort(current, function(a, b) return g.nodes[a].idx < g.nodes[b].idx end)
  local out, done, at = {}, {}, 1
  while #current > 0 do
    local candidate = current[at]
    local wait = #current > 1 and waiting_head(g, done, current, at, candidate)
    if wait then
      at = wait -- another head needs `candidate`: walk that one first
    else
      if todo[candidate] then
        out[#out + 1] = candidate
        todo[candidate] = nil
        done[candidate] = true
      end
      local add = {}
      for _, r in ipairs(g.nodes[candidate].requires) do
        if todo[r] and not contains(current, r) then add[#add + 1] = r end
      end
      if #add == 0 then
        table.remove(current, at)
        at = math.max(at - 1, 1)
      else
        current[at] = add[1]
        for k = 2, #add do current[#current + 1] = add[k] end
      end
    end
  end
  local left = g:in_load_order(todo)
  if #left > 0 then -- (Alembic fails the same way, on an assertion)
    raise("cannot order %s below %s: nothing between them runs along down_revision", table.concat(left, ", "),
      heads_text(heads))
  end
  return out
end

-- How many single steps (of n's sign, at most |n|) a walk from `start` takes.
local function reachable(g, start, n, label)
  local at, k = start, 0
  while k < math.abs(n) do
    local ok, nxt = pcall(g.walk, g, at, n < 0 and -1 or 1, label)
    if not ok or nxt == nil then break end
    at, k = nxt, k + 1
  end
  return k
end

-- A walk of `spec` from `start` that goes past base or head: say how far it can go.
local function past(g, spec, start, n, label)
  local k = reachable(g, start, n, label)
  local up = n > 0
  if k == 0 then raise("%s goes past %s: the database is already at %s", spec, up and "head" or "base",
    up and "head" or "base") end
  raise("%s goes past %s: only %d step%s lie%s %s the starting point; `luamig %s %s` goes all the way", spec,
    up and "head" or "base", k, k == 1 and "" or "s", k == 1 and "s" or "", up and "above" or "below",
    up and "upgrade" or "downgrade", up and "heads" or "base")
end

-- Alembic's _parse_upgrade_target: the nodes `target` names, relative to
-- `current` for +N.
local function upgrade_targets(g, current, target, no_overwalk)
  local rel = graph.relative(target)
  if not rel then return g:get_revisions(target) end
  if rel.n > 0 then
    if rel.symbol then
      local from = g:get_revision(rel.symbol)
      local rev = g:walk(from, rel.n, rel.label, no_overwalk == false)
      if rev == nil and no_overwalk ~= false then past(g, target, from, rel.n, rel.label) end
      return { rev or false }
    end
    local starts = #current > 0 and current or { false }
    if rel.label then
      local from = ids_of(g:get_revisions(current))
      starts = g:filter_for_lineage(from, rel.label)
      if #starts == 0 then
        -- not on that branch yet: start from the branch's tips below us
        local active = g:filter_for_lineage(g:related(from, "requires"), rel.label)
        local below = {}
        for _, id in ipairs(active) do
          for _, d in ipairs(g.nodes[id].requires) do below[d] = true end
        end
        starts = {}
        for _, id in ipairs(active) do
          if not below[id] then starts[#starts + 1] = id end
        end
        if #starts == 0 then starts = { false } end
      end
    end
    if #starts > 1 then
      raise("%s is ambiguous: the database has several heads (%s); use REV%s or LABEL@%s", target,
        heads_text(starts), ("%+d"):format(rel.n), ("%+d"):format(rel.n))
    end
    local rev = g:walk(starts[1] or nil, rel.n, rel.label, no_overwalk == false)
    if rev == nil and no_overwalk ~= false then past(g, target, starts[1] or nil, rel.n, rel.label) end
    return { rev or false }
  end
  if not rel.symbol then
    raise("upgrade %s goes down: use `luamig downgrade %s`", target, target)
  end
  local start = g:get_revision(rel.label and (rel.label .. "@" .. rel.symbol) or rel.symbol)
  local rev = g:walk(start, rel.n, nil, no_overwalk == false)
  if rev == nil and no_overwalk ~= false then past(g, target, start, rel.n) end
  return { rev or false }
end

-- Alembic's _get_all_current: the branch tips of everything applied.
local function all_current(g, current)
  local set = set_of(g:related(current, "requires"))
  local out = {}
  for _, id in ipairs(g:in_load_order(set)) do
    local tip = true
    for _, d in ipairs(g:related({ id }, "next")) do
      if d ~= id and set[d] then
        tip = false
        break
      end
    end
    if tip then out[#out + 1] = id end
  end
  return out
end

-- Alembic's _parse_downgrade_target: the branch label and node (nil for
-- base) `target` names, relative to `current` for -N.
local function downgrade_target(g, current, target)
  local rel = graph.relative(target)
  if rel then
    local label, symbol = rel.label, rel.symbol
    if rel.n >= 0 then
      if not symbol then raise("downgrade %s goes up: use `luamig upgrade %s`", target, target) end
      local rev = g:walk(symbol, rel.n, label)
      if rev == nil then past(g, target, symbol, rel.n, label) end
      return label, rev
    end
    if not symbol then
      if label then
        local list = g:filter_for_lineage(current, label)
        if #list == 0 then list = g:filter_for_lineage(all_current(g, current), label) end
        if #list ~= 1 then
          raise("%s is ambiguous: %s of branch %s are applied", target, heads_text(list), label)
        end
        symbol = list[1]
      else
        if #current == 0 then past(g, target, graph.BASE, rel.n) end
        if #current > 1 then
          -- Alembic warns and picks a head by version-table row order; refuse instead
          raise("%s is ambiguous: the database has several heads (%s); use REV%d or LABEL@%d", target,
            heads_text(current), rel.n, rel.n)
        end
        symbol = current[1]
        label = symbol
      end
    end
    local start = g:get_revision(label and (label .. "@" .. symbol) or symbol)
    local rev = g:walk(start, rel.n)
    if rev == nil then past(g, target, start, rel.n) end
    return label, rev ~= graph.BASE and rev or nil
  end
  local label, symbol = target:match("^(.*)@(.-)$")
  if not label then symbol = target end
  if label == "" then label = nil end
  return label, g:get_revision(symbol)
end

-- M.upgrade over the graph as it is (no baseline stand-ins).
local function upgrade(g, current, target)
  g:stored_nodes(current)
  local targets = {}
  for _, t in ipairs(upgrade_targets(g, current, target)) do
    if type(t) ~= "table" then raise("%s goes past base or head: it names no revision to upgrade to", target) end
    targets[#targets + 1] = t.id
  end
  local needs = set_of(g:related(targets, "requires", true))
  for _, id in ipairs(g:related(current, "requires", true)) do needs[id] = nil end
  local order = M.sort(g, needs, targets)
  local up = {}
  for i = #order, 1, -1 do up[#up + 1] = order[i] end
  return up, targets
end

---Revisions to apply, in order, to bring `current` up to `target` (Alembic's
---upgrade: targets an ancestor of `current` are a no-op). A database at a
---revision a baseline replaced goes on through the old files to the
---baseline's place, then on from the baseline. Also returns the target
---resolved to revision ids, to plan again from other heads.
---@param g luamig.Graph
---@param current string[] stored heads
---@param target string|string[]
---@return string[] plan, string[] targets
function M.upgrade(g, current, target)
  current = g:stored(current)
  local named = type(target) == "string" and g.map[target]
  if named and g.replaced[named.id] then return upgrade(g, current, target) end -- along the old files
  for i, h in ipairs(current) do
    local baseline = g.replaced[h]
    if baseline then
      local old = upgrade(g, { h }, g.last_replaced[baseline])
      local rest = table.move(current, 1, #current, 1, {})
      rest[i] = baseline
      local up, targets = M.upgrade(g, rest, target)
      return table.move(up, 1, #up, #old + 1, old), targets
    end
  end
  return upgrade(g, current, target)
end

---Revisions to revert, in order, to bring `current` down to `target`. Also
---returns the target without relative steps, to plan again from other heads.
---@param g luamig.Graph
---@param current string[]
---@param target string
---@return string[] plan, string target
function M.downgrade(g, current, target)
  current = g:stored(current)
  g:stored_nodes(current)
  local label, rev = downgrade_target(g, current, target)
  local roots
  if rev == nil then
    roots = g:roots(true) -- (a database may still be on revisions a baseline replaced)
  else
    roots = rev.next
  end
  if label and #roots > 1 then
    local on_branch = set_of(g:related({ g:branch(label).id }, "parents"))
    local kept = {}
    for _, r in ipairs(roots) do
      if on_branch[r] then kept[#kept + 1] = r end
    end
    if #kept == 0 then raise("%s is not a downgrade target from the current heads (%s)", target, heads_text(current)) end
    roots = kept
  end
  local active = set_of(g:related(current, "requires"))
  local drop = {}
  for _, id in ipairs(g:related(roots, "next_and_dependents")) do
    if active[id] then drop[id] = true end
  end
  if rev and next(drop) == nil and not contains(current, rev.id) then
    raise("cannot downgrade to %s: it is not below the current heads (%s); `luamig upgrade %s` goes up",
      rev.id, heads_text(current), target)
  end
  local absolute = (rev and rev.id or "base")
  if label then absolute = label .. "@" .. absolute end
  return M.sort(g, drop, current), absolute
end

---History range (Alembic's walk_revisions(lower, upper)): the revisions
---from `lower` (base, an id, -N, a list of heads) up to `upper` (heads, an
---id, a list), newest first.
---@param g luamig.Graph
---@param lower string|string[]|nil
---@param upper string|string[]|nil
---@return string[]
function M.range(g, lower, upper)
  lower = (lower == nil or lower == "" or (type(lower) == "table" and #lower == 0)) and "base" or lower
  upper = (upper == nil or upper == "" or (type(upper) == "table" and #upper == 0)) and "heads" or upper
  local from = type(lower) == "table" and lower or (lower == "base" and {} or { lower })
  local targets = upgrade_targets(g, from, upper, false)
  if type(lower) == "string" and lower:find("@", 1, true) then
    local branch = lower:match("^(.-)@")
    local node = g:get_revision(branch)
    if node and node.id == branch then -- a revision standing for its branch
      local labels = {}
      for l in pairs(node.labels) do labels[#labels + 1] = l end
      if #labels ~= 1 then raise("%s does not name one branch", branch) end
      branch = labels[1]
    end
    local kept = {}
    for _, t in ipairs(targets) do
      if type(t) == "table" and t.labels[branch] then kept[#kept + 1] = t end
    end
    targets = kept
  end
  local target_ids = ids_of(targets)
  local required = set_of(g:related(target_ids, "requires", true))
  local low = g:get_revisions(lower)
  if low[1] == false then
    local _, rev = downgrade_target(g, target_ids, lower)
    low = rev and { rev } or {}
    lower = rev and rev.id or "base"
  end
  local low_ids = ids_of(low)
  for _, node in ipairs(low) do
    if node ~= false and (type(node) ~= "table" or not required[node.id]) then
      raise("history range %s:%s does not run along one line of history (ancestor to descendant)",
        type(lower) == "table" and heads_text(lower) or lower, type(upper) == "table" and heads_text(upper) or upper)
    end
  end
  local needs = {}
  for id in pairs(required) do needs[id] = true end
  for _, id in ipairs(g:related(low_ids, "requires", true)) do needs[id] = nil end
  for _, id in ipairs(ids_of(g:get_revisions(lower))) do needs[id] = true end
  if #low_ids > 0 then
    local above = set_of(g:related(low_ids, "next", true))
    for id in pairs(needs) do
      if not above[id] then needs[id] = nil end
    end
  end
  return M.sort(g, needs, target_ids)
end

-- The stored heads after a step or a stamp (luamig.revision.heads), here
-- too for the callers that plan with this module.
---The stored heads after applying or reverting `id` (luamig.revision.heads).
function M.step_heads(g, heads, id, direction)
  return stored_heads.step(g, g:stored(heads), id, direction)
end
M.stamp = stored_heads.stamp

---A planner for runner.run: each call plans from the stored heads it is given,
---with a relative target ("+1", "-2") resolved once, from the heads of the
---first call (where the database was when the run began).
---@param g luamig.Graph
---@param direction "up"|"down"
---@param target string
---@return fun(heads: string[]): string[]
function M.planner(g, direction, target)
  local walk = direction == "up" and M.upgrade or M.downgrade
  return function(heads)
    local ids, resolved = walk(g, heads, target)
    target = resolved
    return ids
  end
end

return M
