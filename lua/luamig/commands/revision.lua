--- `revision -m MSG [--head REV] [--splice] [--branch-label L] [--depends-on R]`:
--- write a new migration file chained to the head (or to --head).
local revision_file = require "luamig.commands.shared.revision_file"

local M = {
  example = { 'luamig revision -m "add users.email"', 'luamig revision -m "create orders" --template change' },
  options = {
    { "-m --message", "What the migration does.", "<message>", count = 1 },
    { "--head", "Parent revision: a head, LABEL@head, base for a new root (default: the single head).", "REV" },
    { "--splice", "Allow --head to name a revision that is not a head (starts a new branch).", flag = true },
    { "--rev-id", "Use this revision id instead of a random one.", "ID" },
    { "--depends-on", "A revision or branch label that must be applied first.", "REV", count = "*" },
    { "--branch-label", "Label for a new branch.", "LABEL", count = "*" },
    { "--template", "upgrade (default), change (op calls, downgrade derived), sql (raw SQL), " ..
      "or NAME for the project's templates/NAME.lua.", "NAME" },
  },
  render = revision_file.render,
}

function M.run(ctx, args)
  return revision_file.new_revision(ctx, args, { args.head or "head" }, args.splice)
end

return M
