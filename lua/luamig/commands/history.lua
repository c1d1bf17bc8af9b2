--- `history [-r A:B]`: revisions newest first, marking applied ones.
local errors = require "luamig.util.errors"
local graph_mod = require "luamig.revision.graph"
local plan = require "luamig.revision.plan"
local context = require "luamig.cli.context"
local revisions = require "luamig.commands.shared.revisions"
local format = require "luamig.commands.shared.format"

local M = {
  readonly = true,
  example = "luamig history -r current:",
  options = {
    { "-r --rev-range", "Only revisions in A:B (either side may be empty; `current` allowed).", "A:B" },
  },
}

-- `-r A:B` -> lower, upper (nil when absent); "current" is the database's heads.
local function range_sides(spec, heads)
  if not spec then return nil, nil end
  local a, b = spec:match("^%s*([^:]*):([^:]*)%s*$")
  if not a then errors.raise("usage", ("bad range %q: use -r A:B, -r A: or -r :B"):format(spec)) end
  local function side(x)
    if x == "" then return nil end
    if x == "current" then return heads end
    return x
  end
  return side(a), side(b)
end

function M.run(ctx, args)
  local s = context.session(ctx)
  local g = s.graph
  local heads = context.heads(s)
  local applied, heads_set = g:ancestors(heads), graph_mod.set_of(g:heads())
  local lower, upper = range_sides(args.rev_range, heads)
  local out = { revisions = {}, current = heads }
  for _, id in ipairs(plan.range(g, lower, upper)) do
    out.revisions[#out.revisions + 1] = revisions.describe(g, id, applied, heads_set)
  end
  return out
end

function M.render(log, r)
  local current = graph_mod.set_of(r.current)
  for _, x in ipairs(r.revisions) do
    local mark = x.applied and log:out_paint("green", "*") or " "
    local cur = current[x.revision] and log:out_paint("bold", " (current)") or ""
    log:result(("%s %s -> %s%s%s  %s%s"):format(mark, format.parents(x), x.revision, format.marks(x), cur,
      format.visible(x.message), format.depends(x)))
  end
  if #r.revisions == 0 then log:result("(no revisions)") end
end

return M
