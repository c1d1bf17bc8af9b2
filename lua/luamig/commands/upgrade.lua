--- `upgrade [TARGET]`: apply up to TARGET (default head); `--sql [FROM:]TO` prints it.
local migrate = require "luamig.commands.shared.migrate"

local M = {
  example = "luamig upgrade head --dry-run",
  args = { { "target", "Where to go ([FROM:]TO with --sql).", "?" } },
  options = {
    migrate.SQL_FLAG,
    migrate.WAIT_FLAG,
    { "--dry-run", "Run in one transaction that is rolled back; backfills only count their rows.", flag = true },
    { "--contract", "Run each expand's contract phase right after it (development and CI: no old application " ..
      "to keep working).", flag = true },
  },
  render = migrate.render,
}

function M.run(ctx, args)
  if args.sql then return migrate.offline_sql(ctx, "up", args.target or "head") end
  return migrate.run(ctx, "up", args.target or "head", args.dry_run, { contract = args.contract })
end

return M
