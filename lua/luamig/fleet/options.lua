--- The fleet options (--all, --target NAME..., --jobs, ...) of the commands
--- that run on many targets, and the dispatch that turns such a command
--- into a fleet run. Kept apart from fleet/run.lua so the parser loads only this.
local errors = require "luamig.util.errors"

local M = {}

---The commands that take --all and --target.
M.COMMANDS = { upgrade = true, downgrade = true, contract = true, current = true, check = true, status = true,
  seed = true, drill = true }

---The fleet options those commands get (parser.lua declares them).
M.OPTIONS = {
  { "--all", "Run on every target (`targets` in luamig.lua, or --targets FILE).", flag = true },
  { "--target", "Run on the targets named NAME...", "NAME", args = "+", dest = "fleet_target" },
  { "--targets", "Read the targets from FILE (URL, NAME URL or NAME URL SCHEMA per line).", "FILE",
    dest = "targets_file" },
  { "--jobs", "With --all/--target: run at most N targets at once (default 1).", "N" },
  { "--canary", "With --all/--target: run the first K targets alone first; stop if one fails.", "K" },
  { "--waves", "With --all/--target: run in waves of cumulative sizes (e.g. 1,10%,100%); stop after a failed wave.",
    "LIST" },
  { "--shard", "With --all/--target: run only shard K of N of the targets (a stable hash of each name).", "K/N" },
  { "--ledger", "With --all/--target: record each finished target in FILE; a rerun skips those.", "FILE" },
  { "--continue-on-error", "With --all/--target: go on with the other targets after one fails.", flag = true },
}

---The command to run: `cmd` itself, or its fleet run with --all or --target.
---@param cmd luamig.Command
---@param args table
---@return luamig.Command
function M.dispatch(cmd, args)
  if not M.COMMANDS[cmd.name] then return cmd end
  if args.all or args.fleet_target then
    if args.url then errors.raise("usage", "--url names one database; with --all or --target the targets do") end
    return require("luamig.fleet.run").command(cmd) -- (here: one database never loads the fleet)
  end
  for _, o in ipairs({ "jobs", "canary", "waves", "shard", "ledger", "continue_on_error", "targets_file" }) do
    if args[o] then
      errors.raise("usage", ("--%s needs --all or --target NAME"):format(o == "targets_file" and "targets" or
        o:gsub("_", "-")))
    end
  end
  return cmd
end

return M
