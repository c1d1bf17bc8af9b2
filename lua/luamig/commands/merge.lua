--- `merge -m MSG REV...`: write a migration whose parents are REV... .
local revision_file = require "luamig.revision.write"
local session = require "luamig.run.session"
local format = require "luamig.commands.shared.format"

local M = {
  example = 'luamig merge -m "join the branches" heads',
  args = { { "revisions", "Revisions to merge (heads, LABEL@head, ids).", "+" } },
  options = {
    { "-m --message", "What the merge is for.", "<message>", count = 1 },
    { "--rev-id", "Use this revision id instead of a random one.", "ID" },
    { "--branch-label", "Label for the merged branch.", "LABEL", count = "*" },
  },
  render = format.created,
}

function M.run(ctx, args)
  return revision_file.new_revision(session.graph(ctx), ctx.config, args, args.revisions, false, true)
end

return M
