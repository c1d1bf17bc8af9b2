--- The revision graph, with Alembic's semantics: several roots, branches,
--- merge points, depends_on, branch labels; identifier resolution (ids,
--- partial ids, head/heads/base, LABEL@...), walks and Alembic's topological
--- order. Pure Lua, no I/O; luamig.revision.build fills a new graph in, and
--- the plans built on it are in luamig.revision.plan.
---
--- Alembic's RevisionMap is the reference: names below follow its concepts
--- (down revisions "versioned" = down_revision only; "normalized" = plus the
--- dependencies no ancestor already has). Where Alembic's order comes from
--- the directory listing, ours is the file-name order the loader uses.
local errors = require "luamig.util.errors"
local sandbox = require "luamig.util.sandbox"
local build = require "luamig.revision.build"
local text = require "luamig.util.text"

local M = {}

---@class luamig.Node
---@field id string
---@field idx integer          load order (file-name order)
---@field parents string[]     down_revision, as declared
---@field deps string[]        depends_on, resolved to revision ids
---@field unimplied_deps string[]  deps that no ancestor (along parents) already has
---@field requires string[]    parents then unimplied_deps: what must be applied first
---@field parents_and_deps string[]  parents then deps
---@field next string[]        children along down_revision, in load order
---@field next_and_dependents string[]  children along down_revision or depends_on
---@field labels table<string, true>  branch labels, own and inherited

---@class luamig.Graph
---@field revs table<string, luamig.Script>  scripts by revision id (read-only; pairs in load order)
---@field nodes table<string, luamig.Node>   each made from the columns when read (read-only)
---@field map table<string, luamig.Node>     ids and branch labels (read-only; pairs: ids, then labels)
---@field load string[]        ids in load order
---@field scripts luamig.Script[]  in load order
---@field cols luamig.GraphColumns  the edges, by load index (luamig.revision.build)
---@field order string[]       ids in a topological order, parents first
---@field position table<string, integer>  index in `order`
---@field replaced table<string, string>   revision -> the baseline that squashed it
---@field alias table<string, string>      the last revision a baseline replaced -> that baseline
---@field last_replaced table<string, string>  baseline -> the last revision it replaced
local Graph = {}
Graph.__index = Graph
sandbox.protect_class(Graph) -- (plugins get one: ctx.graph)

M.BASE = "base" -- a walk that ended below the roots

-- What a plugin reads of a revision (README: ctx.graph).
local VIEW_FIELDS = { "id", "parents", "depends_on", "branch_labels", "message", "path", "transactional" }
local VIEW_METHODS = { "heads", "roots", "branch_points", "ancestors", "ids" }

---What a plugin sees (ctx.graph): copies of `order` and of each revision's
---documented fields, and the reading methods (their results copied).
---Nothing in it reaches a script's functions: a plugin cannot change what runs.
---@return table
function Graph:view()
  local revs = {}
  for id, script in pairs(self.revs) do
    local r = {}
    for _, k in ipairs(VIEW_FIELDS) do r[k] = sandbox.copy_data(script[k]) end
    revs[id] = r
  end
  local v = { order = sandbox.copy_data(self.order), revs = revs }
  for _, name in ipairs(VIEW_METHODS) do
    v[name] = function(_, ...) return sandbox.copy_data(self[name](self, ...)) end
  end
  return setmetatable(v, { __metatable = false })
end

local function raise(fmt, ...)
  errors.raise("revision", select("#", ...) > 0 and fmt:format(...) or fmt)
end

local unpacked, count = build.unpacked, build.count
local NONE = setmetatable({}, { __newindex = function() error("read-only list", 2) end, __metatable = false })

-- A node's fields, from the columns: each list made when first read.
local NODE_FIELDS = {
  parents = function(c, i) return unpacked(c.parents[i]) end,
  next = function(c, i) return unpacked(c.next[i]) end,
  next_and_dependents = function(c, i) return unpacked(c.next_and_dependents[i] or c.next[i]) end,
  deps = function(c, i) return unpacked(c.deps[i]) end,
  unimplied_deps = function(c, i) return unpacked(c.unimplied_deps[i]) end,
  parents_and_deps = function(c, i) return unpacked(c.parents_and_deps[i] or c.parents[i]) end,
  requires = function(c, i) return unpacked(c.requires[i] or c.parents[i]) end,
  labels = function(c, i) return c.labels[i] or NONE end,
}

-- A packed edge list of node `i` (nil: none), by the edge's name.
local EDGES = {
  parents = function(c, i) return c.parents[i] end,
  next = function(c, i) return c.next[i] end,
  next_and_dependents = function(c, i) return c.next_and_dependents[i] or c.next[i] end,
  requires = function(c, i) return c.requires[i] or c.parents[i] end,
}

local function read_only() error("the revision graph is read-only", 2) end

-- g.nodes, g.revs, g.map and g.position: tables that read the columns.
local function views(g)
  local c, load = g.cols, g.load
  local node_mt = { __index = function(n, k)
    local field = NODE_FIELDS[k]
    if not field then return nil end
    local v = field(c, n.idx)
    rawset(n, k, v)
    return v
  end }
  -- (weak: a node is made again once no reader holds it)
  g.nodes = setmetatable({}, { __mode = "v", __newindex = read_only, __index = function(t, id)
    local i = c.index[id]
    if not i then return nil end
    local n = setmetatable({ id = id, idx = i }, node_mt)
    rawset(t, id, n)
    return n
  end })
  local function in_load_order(t)
    local i = 0
    return function()
      i = i + 1
      local id = load[i]
      if id then return id, t[id] end
    end, t, nil
  end
  g.revs = setmetatable({}, { __newindex = read_only, __pairs = in_load_order, __index = function(_, id)
    local i = c.index[id]
    return i and g.scripts[i]
  end })
  local nodes = g.nodes
  g.map = setmetatable({}, { __newindex = read_only, __index = function(_, name)
    return nodes[name] or (c.label_of[name] and nodes[c.label_of[name]])
  end, __pairs = function(t)
    local ids, label = in_load_order(t), nil
    return function()
      local k, v = ids()
      if k then return k, v end
      label = next(c.label_of, label)
      if label then return label, nodes[c.label_of[label]] end
    end, t, nil
  end })
  g.position = setmetatable({}, { __newindex = read_only, __index = function(_, id)
    local i = c.index[id]
    return i and c.pos[i]
  end })
end

---Build the graph from loaded scripts (in load order). Raises a "script"
---error naming the file for a bad id, a repeated branch label, a dangling
---down_revision or depends_on, or a cycle.
---@param scripts luamig.Script[]
---@return luamig.Graph
function M.new(scripts)
  -- (the ids and parents of loaded scripts are the graph's first columns as they are)
  local mt = getmetatable(scripts)
  local store = mt and mt.store -- (a list luamig.revision.scripts.load_dir returned)
  local g = setmetatable({ load = store and store.id or {}, scripts = scripts }, Graph)
  build.fill(g, scripts, store)
  views(g)
  return g
end

-- ------------------------------------------------------------ traversal

---Every node reachable from `targets` along `edge` ("requires": ancestors
---with dependencies, "parents" without; "next_and_dependents": descendants
---with dependents, "next" without), targets included, in Alembic's
---visiting order. With `check`, two targets where one reaches the other
---are an error.
---@param targets string[]
---@param edge "requires"|"parents"|"next_and_dependents"|"next"
---@param check boolean?
---@return string[]
function Graph:related(targets, edge, check)
  local seen, out, c, get = {}, {}, self.cols, EDGES[edge]
  for _, target in ipairs(targets) do
    local stack, touched = { target }, check and {} or nil
    while #stack > 0 do
      local id = table.remove(stack)
      if touched then touched[id] = true end
      if not seen[id] then
        seen[id] = true
        local v = get(c, c.index[id])
        if type(v) == "string" then
          stack[#stack + 1] = v
        elseif v then
          for _, n in ipairs(v) do stack[#stack + 1] = n end
        end
        out[#out + 1] = id
      end
    end
    if touched then
      local overlaps = {}
      for _, other in ipairs(targets) do
        if other ~= target and touched[other] then overlaps[#overlaps + 1] = other end
      end
      if #overlaps > 0 then
        raise("revision %s and %s are on one line of history (one is an ancestor of the other); name only the later one",
          target, table.concat(overlaps, ", "))
      end
    end
  end
  return out
end

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end
M.set_of = set_of

---The set of `ids` and everything they need (parents and dependencies).
---@param ids string[]
---@return table<string, true>
function Graph:ancestors(ids)
  local known = {}
  for _, id in ipairs(ids) do
    if self.nodes[id] then known[#known + 1] = id end
  end
  return set_of(self:related(known, "requires"))
end

---Ids of `set` in topological order.
function Graph:ordered(set)
  local out = {}
  for _, id in ipairs(self.order) do
    if set[id] then out[#out + 1] = id end
  end
  return out
end

---Ids of `set` in load order.
---@param set table<string, true>
---@return string[]
function Graph:in_load_order(set)
  local out = {}
  for id in pairs(set) do out[#out + 1] = id end
  local index = self.cols.index
  table.sort(out, function(a, b) return index[a] < index[b] end)
  return out
end

---The nodes of stored heads `ids`; an id no file declares is an error.
---@param ids string[]
---@return luamig.Node[]
function Graph:stored_nodes(ids)
  local out = {}
  for _, id in ipairs(ids) do
    local node = self.nodes[id]
    if not node then
      raise("the database is at %s, which no migration file declares; restore the file, or `luamig stamp REV` " ..
        "a revision the files declare (`stamp --purge REV` replaces every stored head)", id)
    end
    out[#out + 1] = node
  end
  return out
end

---Stored heads as the graph sees them: the last revision a baseline
---replaced stands for the baseline (sorted, without repeats).
---@param heads string[]
---@return string[]
function Graph:stored(heads)
  local set, out = {}, {}
  for _, h in ipairs(heads) do set[self.alias[h] or h] = true end
  for h in pairs(set) do out[#out + 1] = h end
  table.sort(out)
  return out
end

---Head revisions (no child along down_revision; not replaced by a
---baseline), in load order.
---@return string[]
function Graph:heads()
  if not self._heads then
    self._heads, self._real_heads = {}, {}
    local c = self.cols
    for i, id in ipairs(self.load) do
      local squashed = self.replaced[id] ~= nil
      if c.next[i] == nil and not squashed then self._heads[#self._heads + 1] = id end
      if (c.next_and_dependents[i] or c.next[i]) == nil and not squashed then
        self._real_heads[#self._real_heads + 1] = id
      end
    end
  end
  return self._heads
end

---Heads that nothing depends on either ("heads" as a target).
function Graph:real_heads()
  self:heads()
  return self._real_heads
end

---Revisions without a down_revision (not replaced by a baseline unless
---`with_replaced`), in load order.
---@param with_replaced boolean?
---@return string[]
function Graph:roots(with_replaced)
  local out = {}
  for i, id in ipairs(self.load) do
    if self.cols.parents[i] == nil and (with_replaced or not self.replaced[id]) then out[#out + 1] = id end
  end
  return out
end

---Revisions with several children along down_revision.
---@return string[]
function Graph:branch_points()
  local out = {}
  for i, id in ipairs(self.load) do
    if count(self.cols.next[i]) > 1 then out[#out + 1] = id end
  end
  return out
end

-- ------------------------------------------------------------ identifiers

-- The node a branch label (or a revision id standing for one) names.
function Graph:branch(label)
  local node = self.map[label]
  if node then return node end
  local ok, found = pcall(self.ident, self, label)
  if not ok then raise("no branch or revision named %s; `luamig branches` and `luamig heads` list them", label) end
  return found
end

---True when `id` is an ancestor or descendant of (or is) one of `others`.
function Graph:shares_lineage(id, others, with_deps)
  if #others == 0 then return true end
  local node = self:ident(id)
  local against = {}
  for _, o in ipairs(others) do
    local n = self:ident(o)
    if n then against[n.id] = true end
  end
  for _, e in ipairs(with_deps and { "next_and_dependents", "requires" } or { "next", "parents" }) do
    for _, r in ipairs(self:related({ node.id }, e)) do
      if against[r] then return true end
    end
  end
  return false
end

---The members of `ids` on the line of `spec` (a label, LABEL@..., a revision).
function Graph:filter_for_lineage(ids, spec, with_deps)
  local resolved, label = self:expand_symbolic(spec)
  local shares = {}
  if label then shares[#shares + 1] = label end
  for _, r in ipairs(resolved) do shares[#shares + 1] = r end
  local out = {}
  for _, id in ipairs(ids) do
    if self:shares_lineage(id, shares, with_deps) then out[#out + 1] = id end
  end
  return out
end

---The node for a full id, a label, or an unambiguous prefix of at least four
---characters; nil for base. With `label`, the revision must be on that branch.
---@return luamig.Node?
function Graph:ident(name, label)
  if name == nil or name == "" or name == M.BASE then return nil end
  local branch = label and self:branch(label)
  local node = self.map[name]
  if not node then
    local found = {}
    local function consider(key)
      if #key > 3 and key:sub(1, #name) == name then found[#found + 1] = key end
    end
    for _, id in ipairs(self.load) do consider(id) end
    for l in pairs(self.cols.label_of) do consider(l) end
    table.sort(found)
    if branch then found = self:filter_for_lineage(found, label) end
    if #found == 0 then
      local near = #name >= 4 and text.closest(self.map, name, true) or {} -- (ids and labels)
      raise("unknown revision %s%s; `luamig history` lists the revisions", name,
        #name < 4 and " (a partial id needs at least four characters)"
        or (#near > 0 and (" (did you mean " .. table.concat(near, " or ") .. "?)") or ""))
    elseif #found > 1 then
      raise("revision %s is ambiguous: it starts %s; type more characters", name, table.concat(found, ", "))
    end
    node = self.map[found[1]]
  end
  if branch and not self:shares_lineage(node.id, { branch.id }) then
    raise("revision %s is not on branch %s", node.id, label)
  end
  return node
end

-- Several heads where one was wanted: say what to type instead.
local function multiple_heads(heads, arg)
  raise("%s is ambiguous: there are several heads (%s); name one revision, use LABEL@head for one branch, " ..
    "or heads for all of them; to join them: `luamig merge -m MSG heads`", arg, table.concat(heads, ", "))
end

---The single head (of branch `label` when given), or nil when there is none.
function Graph:current_head(label)
  local heads = self:heads()
  if label then heads = self:filter_for_lineage(heads, label) end
  if #heads > 1 then multiple_heads(heads, label and (label .. "@head") or "head") end
  return heads[1]
end

---Split "LABEL@rest" and expand head/heads/base (Alembic's
---_resolve_revision_number). Returns the ids (or raw names) and the label.
---@return string[] ids, string? label
function Graph:expand_symbolic(spec)
  local label
  if type(spec) == "string" and spec:find("@", 1, true) then
    label, spec = spec:match("^(.-)@(.*)$")
    if label == "" then label = nil end
  end
  if spec == "heads" then
    if label then return self:filter_for_lineage(self:heads(), label), label end
    return self:real_heads(), label
  elseif spec == "head" then
    local h = self:current_head(label)
    return h and { h } or {}, label
  elseif spec == nil or spec == "base" then
    return {}, label
  end
  return { spec }, label
end

---Alembic's get_revisions: nodes for an identifier or a list of them
---(false for a walk that went past an end).
---@param spec string|string[]|nil
---@return (luamig.Node|string|false)[]
function Graph:get_revisions(spec)
  if type(spec) == "table" then
    local out = {}
    for _, s in ipairs(spec) do
      for _, r in ipairs(self:get_revisions(s)) do out[#out + 1] = r end
    end
    return out
  end
  local ids, label = self:expand_symbolic(spec)
  if #ids == 1 then
    local n = ids[1]:match("^%s*([+-]?%d+)%s*$")
    if n and tonumber(n) < 0 then -- LABEL@-n: walk down from the heads
      local out = {}
      for _, h in ipairs(self:get_revisions("heads")) do
        if not label or h.labels[label] then out[#out + 1] = self:walk(h, tonumber(n)) or false end
      end
      return out
    end
  end
  local out = {}
  for _, id in ipairs(ids) do out[#out + 1] = self:ident(id, label) end
  return out
end

---One node (nil for base); several heads is an error.
function Graph:get_revision(spec)
  local ids, label = self:expand_symbolic(spec)
  if #ids > 1 then multiple_heads(ids, spec) end
  return self:ident(ids[1], label)
end

---Walk `steps` up (> 0) or down (< 0) from `start` (a node, an identifier,
---or nil for below the roots). Returns the node reached, M.BASE below the
---roots, or nil when the walk ran past an end (with `stay`: where it got
---to); more than one way is an error.
function Graph:walk(start, steps, label, stay)
  local at = start
  if type(start) == "string" and start ~= M.BASE then at = self:get_revision(start) end
  for _ = 1, math.abs(steps) do
    local options
    if steps > 0 then
      local ups = self:get_revisions(at == nil and self:roots() or at.next)
      if label then
        local ids = {}
        for _, r in ipairs(ups) do ids[#ids + 1] = r.id end
        options = {}
        for _, id in ipairs(self:filter_for_lineage(ids, label)) do options[#options + 1] = self.nodes[id] end
      else
        options = ups
      end
    elseif at == M.BASE then
      options = {}
    else
      options = self:get_revisions(at == nil and self:heads() or at.parents)
      if #options == 0 then options = { M.BASE } end
    end
    if #options == 0 then
      if stay then return at end
      return nil
    end
    if #options > 1 then
      local names = {}
      for _, o in ipairs(options) do names[#names + 1] = type(o) == "table" and o.id or tostring(o) end
      raise("the walk is ambiguous: %s %s into %s; name the revision (or LABEL@...) instead",
        at == nil and "base" or (type(at) == "table" and at.id or tostring(at)),
        steps > 0 and "branches" or "merges", table.concat(names, ", "))
    end
    at = options[1]
  end
  return at
end

---The resolved ids of `spec` (head, heads, base, ids, LABEL@...), for show,
---merge and revision --head; relative forms are not accepted here.
---@return string[]
function Graph:ids(spec)
  local out = {}
  for _, r in ipairs(self:get_revisions(spec)) do
    if type(r) ~= "table" then raise("%s does not name a revision", spec) end
    out[#out + 1] = r.id
  end
  return out
end

---@class luamig.Relative
---@field label string?
---@field symbol string?
---@field n integer

---Alembic's relative destinations, [LABEL@][SYMBOL]+N or -N, matched at the
---start of `spec` (its regex, with the label as short as possible).
---@return luamig.Relative?
function M.relative(spec)
  if type(spec) ~= "string" then return nil end
  local function tail(label, s)
    local sym, n = s:match("^([%w_]*)([+-]%d+)")
    if n then return { label = label, symbol = sym ~= "" and sym or nil, n = math.tointeger(tonumber(n)) } end
  end
  local from = 1
  while true do
    local at = spec:find("@", from, true)
    if not at then break end
    local r = at > 1 and tail(spec:sub(1, at - 1), spec:sub(at + 1))
    if r then return r end
    from = at + 1
  end
  return tail(nil, spec)
end

return M
