--- `heads [--verbose]`: the head revisions of the migration files. With no
--- migration file changed since the last `heads`, the result comes from the
--- script cache's memo without loading the graph.
local cjson = require "cjson"
local json = require "luamig.util.json"
local scripts = require "luamig.revision.scripts"
local graph_mod = require "luamig.revision.graph"
local session = require "luamig.run.session"
local revisions = require "luamig.commands.shared.revisions"
local format = require "luamig.commands.shared.format"

local M = {
  example = "luamig heads --verbose",
  options = { { "-v --verbose", "Show each head's details.", flag = true } },
}

function M.run(ctx, args)
  local memo = scripts.memo(ctx.config.migrations)
  local out = memo and cjson.decode(memo)
  if not out then
    local g = session.graph(ctx)
    local heads = g:heads()
    out = { heads = heads, revisions = {} }
    for _, id in ipairs(heads) do
      out.revisions[#out.revisions + 1] = revisions.describe(g, id, nil, graph_mod.set_of(heads))
    end
    scripts.remember(ctx.loaded, json.encode(out))
  end
  out.verbose = args.verbose or nil
  return out
end

function M.render(log, r)
  for _, x in ipairs(r.revisions) do
    log:result(x.revision .. format.marks(x) .. "  " .. format.visible(x.message))
    if r.verbose then
      log:result("  Parents:  " .. format.parents(x) .. format.depends(x))
      log:result("  Path:     " .. format.visible(x.path))
    end
  end
end

return M
