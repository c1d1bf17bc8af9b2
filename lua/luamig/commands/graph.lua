--- `graph [--format dot|mermaid]`: the revision graph of the migration files
--- as a document (no database needed).
local session = require "luamig.run.session"
local picture = require "luamig.revision.picture"

local M = {
  example = { "luamig graph | dot -Tsvg -o revisions.svg", "luamig graph --format mermaid > docs/revisions.mmd" },
  options = {
    { "--format", "dot (Graphviz, the default) or mermaid.", "FORMAT", choices = { "dot", "mermaid" } },
  },
}

function M.run(ctx, args)
  local fmt = args.format or "dot" -- (argparse checked the choice)
  return { format = fmt, text = picture[fmt](session.graph(ctx)) }
end

function M.render(_, r)
  io.stdout:write(r.text)
end

return M
