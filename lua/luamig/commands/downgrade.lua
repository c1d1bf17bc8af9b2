--- `downgrade TARGET`: revert down to TARGET; `--sql FROM:TO` prints it.
local migrate = require "luamig.commands.shared.migrate"
local revisions = require "luamig.commands.shared.revisions"

local M = {
  example = "luamig downgrade -1",
  args = { { "target", "Where to go (FROM:TO with --sql).", "?" } },
  options = { migrate.SQL_FLAG, migrate.WAIT_FLAG },
  render = migrate.render,
}

function M.run(ctx, args)
  if args.sql then return migrate.offline_sql(ctx, "down", revisions.require_target(args, "downgrade --sql")) end
  return migrate.run(ctx, "down", revisions.require_target(args, "downgrade"))
end

return M
