--- `contract [TARGET]`: run the pending contract phases (up to TARGET), in
--- graph order, once the old application is gone.
local migrate = require "luamig.commands.shared.migrate"

local M = {
  example = "luamig contract",
  args = { { "target", "Contract only the expanded revisions up to this one (default: all).", "?" } },
  options = {
    migrate.WAIT_FLAG,
    { "--force", "Contract even when a column it drops was written through its old name within still_written " ..
      "seconds (the old application may still run).", flag = true },
  },
  render = migrate.render,
}

function M.run(ctx, args)
  local r = migrate.run(ctx, "contract", args.target, nil, { force = args.force })
  r.contract = true
  return r
end

return M
