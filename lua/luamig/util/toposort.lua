--- Dependencies first: the one topological sort, for tables parents first
--- (autogenerate, lint --rows) and objects after those they name (autogenerate,
--- dump).
local M = {}

---The keys of `nodes`, each after the keys `deps(key)` lists: a depth-first
---walk from each key in `less` order (default `<`, so the result never
---depends on `pairs`) places a key's deps, in their list's order, just before
---it unless placed already. A dep not in `nodes` (or the key itself) is
---ignored. A cycle is cut where it closes: of two keys naming each other,
---the one the walk reaches second comes first.
---@generic K
---@param nodes table<K, any>
---@param deps fun(key: K): K[]
---@param less (fun(a: K, b: K): boolean)?
---@return K[]
function M.order(nodes, deps, less)
  local keys, out, seen = {}, {}, {}
  for k in pairs(nodes) do keys[#keys + 1] = k end
  table.sort(keys, less)
  local function visit(k)
    if seen[k] or nodes[k] == nil then return end
    seen[k] = true
    for _, d in ipairs(deps(k)) do visit(d) end
    out[#out + 1] = k
  end
  for _, k in ipairs(keys) do visit(k) end
  return out
end

return M
