--- Revisions for output: one described (heads, branches, history, show and
--- their --json documents), and the TARGET argument.
local errors = require "luamig.util.errors"

local M = {}

---The TARGET argument, or a usage error naming the command.
---@param args {target: string?}
---@param command string
---@return string
function M.require_target(args, command)
  if not args.target then errors.raise("usage", command .. " needs a TARGET (a revision, -1, base)") end
  return args.target
end

---One revision described: ids, labels, message, path, head/branch/merge point.
---@param g luamig.Graph
---@param id string
---@param applied table<string, true>?  the database's applied revisions (nil: not asked)
---@param heads_set table<string, true> the graph's heads
---@return table
function M.describe(g, id, applied, heads_set)
  local sc, node = g.revs[id], g.nodes[id]
  local labels = {}
  for l in pairs(node.labels) do labels[#labels + 1] = l end
  table.sort(labels)
  return {
    revision = id,
    down_revisions = sc.parents,
    depends_on = sc.depends_on,
    branch_labels = labels,
    message = sc.message,
    path = sc.path,
    transactional = sc.transactional,
    applied = applied and (applied[id] == true),
    is_head = heads_set[id] or false,
    is_branch_point = #node.next > 1,
    is_merge_point = #sc.parents > 1,
    children = node.next,
  }
end

return M
