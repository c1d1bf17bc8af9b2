--- Revision graph built from loaded scripts: heads, ancestry, plans, target
--- resolution. No I/O; errors are raised as luamig errors.
local errors = require "luamig.errors"

local M = {}

---@class luamig.Graph
---@field revs table<string, luamig.Script>
---@field children table<string, string[]>
---@field order string[]   topological order, parents first
local Graph = {}
Graph.__index = Graph

local function sorted_keys(set)
  local out = {}
  for k in pairs(set) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function where(s)
  return ("%s:%d"):format(s.path, s.line)
end

---Build and validate the graph: every down_revision/depends_on must exist,
---and there must be no cycle. Raises a "script" error naming the file.
---@param scripts luamig.Script[]
---@return luamig.Graph
function M.new(scripts)
  local revs, children = {}, {}
  for _, s in ipairs(scripts) do
    revs[s.id] = s
    children[s.id] = {}
  end
  for _, s in ipairs(scripts) do
    for _, p in ipairs(s.parents) do
      if not revs[p] then
        errors.raise("script", ("%s: down_revision %s does not exist (no migration file declares it)")
          :format(where(s), p))
      end
      table.insert(children[p], s.id)
    end
    for _, d in ipairs(s.depends_on) do
      if not revs[d] then
        errors.raise("script", ("%s: depends_on %s does not exist"):format(where(s), d))
      end
    end
  end
  for _, c in pairs(children) do table.sort(c) end

  -- Kahn's algorithm over parents and dependencies; ties broken by id so
  -- the order is stable.
  local pending, ready, order = {}, {}, {}
  local dependents = {}
  for id, s in pairs(revs) do
    pending[id] = #s.parents + #s.depends_on
    if pending[id] == 0 then ready[#ready + 1] = id end
    for _, d in ipairs(s.depends_on) do
      dependents[d] = dependents[d] or {}
      table.insert(dependents[d], id)
    end
  end
  table.sort(ready, function(a, b) return a > b end)
  while #ready > 0 do
    local id = table.remove(ready)
    order[#order + 1] = id
    local next_ready = {}
    for _, list in ipairs({ children[id], dependents[id] or {} }) do
      for _, c in ipairs(list) do
        pending[c] = pending[c] - 1
        if pending[c] == 0 then next_ready[#next_ready + 1] = c end
      end
    end
    for _, c in ipairs(next_ready) do ready[#ready + 1] = c end
    table.sort(ready, function(a, b) return a > b end)
  end
  if #order < #scripts then
    local stuck = {}
    for id, n in pairs(pending) do if n > 0 then stuck[#stuck + 1] = id end end
    table.sort(stuck)
    local s = revs[stuck[1]]
    errors.raise("script", ("%s: revision %s is part of a cycle (%s); fix down_revision"):format(
      where(s), s.id, table.concat(stuck, ", ")))
  end
  local position = {}
  for i, id in ipairs(order) do position[id] = i end
  return setmetatable({ revs = revs, children = children, order = order, position = position }, Graph)
end

---Revisions without children, sorted.
---@return string[]
function Graph:heads()
  local out = {}
  for id, c in pairs(self.children) do
    if #c == 0 then out[#out + 1] = id end
  end
  table.sort(out)
  return out
end

---The set of `ids` and everything they need (parents and depends_on).
---@param ids string[]
---@return table<string, true>
function Graph:ancestors(ids)
  local seen, stack = {}, {}
  for _, id in ipairs(ids) do stack[#stack + 1] = id end
  while #stack > 0 do
    local id = table.remove(stack)
    if not seen[id] then
      seen[id] = true
      local s = self.revs[id]
      if s then
        for _, p in ipairs(s.parents) do stack[#stack + 1] = p end
        for _, d in ipairs(s.depends_on) do stack[#stack + 1] = d end
      end
    end
  end
  return seen
end

---Ids of `set` in topological order (reversed when `down`).
function Graph:ordered(set, down)
  local out = {}
  for _, id in ipairs(self.order) do
    if set[id] then out[#out + 1] = id end
  end
  if down then
    for i = 1, #out // 2 do out[i], out[#out + 1 - i] = out[#out + 1 - i], out[i] end
  end
  return out
end

---Revisions to apply, in order, to go from `heads` up to `targets`.
---@param heads string[] current heads
---@param targets string[]
---@return string[]
function Graph:upgrade_plan(heads, targets)
  local applied, wanted = self:ancestors(heads), self:ancestors(targets)
  local set = {}
  for id in pairs(wanted) do
    if not applied[id] then set[id] = true end
  end
  return self:ordered(set)
end

---Revisions to revert, in order, to go from `heads` down to `targets`
---(an empty list means base).
---@param heads string[]
---@param targets string[]
---@return string[]
function Graph:downgrade_plan(heads, targets)
  local applied, keep = self:ancestors(heads), self:ancestors(targets)
  local set = {}
  for id in pairs(applied) do
    if not keep[id] then set[id] = true end
  end
  return self:ordered(set, true)
end

---The heads after applying (`up`) or reverting (`down`) revision `id`.
---@param heads string[]
---@param id string
---@param direction "up"|"down"
---@return string[]
function Graph:step_heads(heads, id, direction)
  local set = {}
  if direction == "up" then
    local below = self:ancestors({ id })
    for _, h in ipairs(heads) do
      if not below[h] then set[h] = true end
    end
    set[id] = true
  else
    for _, h in ipairs(heads) do
      if h ~= id then set[h] = true end
    end
    local others = self:ancestors(sorted_keys(set))
    for _, p in ipairs(self.revs[id].parents) do
      if not others[p] then set[p] = true end
    end
  end
  return sorted_keys(set)
end

---Resolve a full or partial id. Returns nil and a message when unknown or
---ambiguous.
---@param name string
---@return string? id, string? err
function Graph:lookup(name)
  if self.revs[name] then return name end
  local found = {}
  for id in pairs(self.revs) do
    if id:sub(1, #name) == name then found[#found + 1] = id end
  end
  table.sort(found)
  if #found == 1 then return found[1] end
  if #found > 1 then
    return nil, ("revision %s is ambiguous: it starts %s; type more characters"):format(
      name, table.concat(found, ", "))
  end
  return nil, ("unknown revision %s; `luamig history` lists the revisions"):format(name)
end

---The single head, or an error listing the heads.
---@return string? id, string? err
function Graph:single_head()
  local heads = self:heads()
  if #heads == 1 then return heads[1] end
  if #heads == 0 then return nil, "there are no migrations yet; create one with `luamig revision -m MSG`" end
  return nil, ("there are several heads (%s): name one revision, or use `heads` to upgrade them all")
      :format(table.concat(heads, ", "))
end

local function raise(fmt, ...)
  errors.raise("revision", fmt:format(...))
end

local function plural(n, word)
  return ("%d %s%s"):format(n, word, n == 1 and "" or "s")
end

-- Walk n steps from `start` (nil = base) along children (n > 0) or parents
-- (n < 0); returns the id reached, or nil for base.
function Graph:walk(start, n, spec)
  local id = start
  for i = 1, math.abs(n) do
    local next_ids
    if n > 0 then
      next_ids = id and self.children[id] or self:roots()
    else
      if not id then raise("%s goes past base: only %s below the starting point", spec, plural(i - 1, "revision")) end
      next_ids = self.revs[id].parents
      if #next_ids == 0 then
        if i == -n then return nil end
        raise("%s goes past base: only %s below the starting point", spec, plural(i, "revision"))
      end
    end
    if #next_ids == 0 then
      raise("%s goes past head: only %s above the starting point", spec, plural(i - 1, "revision"))
    end
    if #next_ids > 1 then
      raise("%s is ambiguous: %s branches into %s; name the revision instead", spec, id or "base",
        table.concat(next_ids, ", "))
    end
    id = next_ids[1]
  end
  return id
end

---Revisions without parents, sorted.
---@return string[]
function Graph:roots()
  local out = {}
  for id, s in pairs(self.revs) do
    if #s.parents == 0 then out[#out + 1] = id end
  end
  table.sort(out)
  return out
end

---Resolve a target (SPEC §4: head, heads, base, id, partial id, +N, -N,
---REV+N, REV-N) against the current heads. Returns the target heads; {}
---means base. Raises a "revision" error saying what to type instead.
---@param spec string
---@param current string[]
---@return string[]
function Graph:resolve(spec, current)
  if spec == "base" then return {} end
  if spec == "heads" then return self:heads() end
  if spec == "head" then
    local h, err = self:single_head()
    if not h then raise("%s", err) end
    return { h }
  end
  local rev, rel = spec:match("^(.-)([+-]%d+)$")
  if not rel then
    local id, err = self:lookup(spec)
    if not id then raise("%s", err) end
    return { id }
  end
  local start
  if rev ~= "" then
    local err
    start, err = self:lookup(rev)
    if not start then raise("%s", err) end
  else
    if #current > 1 then
      raise("%s is ambiguous: the database has several heads (%s); use REV%s", spec,
        table.concat(current, ", "), rel)
    end
    start = current[1]
  end
  local id = self:walk(start, tonumber(rel), spec)
  return { id }
end

return M
