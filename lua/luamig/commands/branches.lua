--- `branches`: revisions with several children, and those children.
local graph_mod = require "luamig.revision.graph"
local session = require "luamig.run.session"
local revisions = require "luamig.commands.shared.revisions"
local format = require "luamig.commands.shared.format"

local M = { example = "luamig branches" }

function M.run(ctx)
  local g = session.graph(ctx)
  local out = { branch_points = {} }
  for _, id in ipairs(g:branch_points()) do
    out.branch_points[#out.branch_points + 1] = revisions.describe(g, id, nil, graph_mod.set_of(g:heads()))
  end
  return out
end

function M.render(log, r)
  for _, x in ipairs(r.branch_points) do
    log:result(x.revision .. format.marks(x) .. "  " .. format.visible(x.message))
    for _, c in ipairs(x.children) do log:result("  -> " .. c) end
  end
  if #r.branch_points == 0 then log:result("(no branch points)") end
end

return M
