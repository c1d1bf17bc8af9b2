--- `stamp TARGET...`: set the version table without running migrations.
local errors = require "luamig.util.errors"
local plan = require "luamig.revision.plan"
local runner = require "luamig.run.runner"
local context = require "luamig.cli.context"
local format = require "luamig.commands.shared.format"

local M = {
  example = "luamig stamp head",
  args = { { "target", "Revision(s), head, heads or base.", "*" } },
}

function M.run(ctx, args)
  local s = context.session(ctx)
  if #args.target == 0 then errors.raise("usage", "stamp needs a TARGET (a revision, head, heads or base)") end
  local old, new = runner.stamp(s, function(heads) return plan.stamp(s.graph, heads, args.target) end)
  return { previous = old, heads = new }
end

function M.render(log, r)
  log:info(("Stamped %s -> %s (no migration ran)."):format(format.heads(r.previous), format.heads(r.heads)))
end

return M
