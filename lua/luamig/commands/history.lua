--- `history [-r A:B]`: revisions newest first, marking applied ones (none
--- while the SQLite database does not exist).
local errors = require "luamig.util.errors"
local graph_mod = require "luamig.revision.graph"
local plan = require "luamig.revision.plan"
local session = require "luamig.run.session"
local revisions = require "luamig.commands.shared.revisions"
local format = require "luamig.commands.shared.format"
local lanes = require "luamig.revision.lanes"
local version = require "luamig.run.version"

local M = {
  readonly = true,
  example = { "luamig history -r current:", "luamig history --graph" },
  options = {
    { "-r --rev-range", "Only revisions in A:B (either side may be empty; `current` allowed).", "A:B" },
    { "--graph", "Draw the revision graph (like git log --graph): * applied, o pending, : depends_on.",
      flag = true },
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
  local s = session.open_if_exists(ctx) -- no database yet: nothing applied
  local g = session.graph(ctx)
  local heads = s and session.heads(s) or {}
  local applied, heads_set = g:ancestors(heads), graph_mod.set_of(g:heads())
  local out = { revisions = {}, current = heads }
  local expanded = s and version.expanded(s.db, version.tables(s.config, s.dialect, s.db)) or {}
  local function describe(id)
    local x = revisions.describe(g, id, applied, heads_set)
    if x.applied then x.phase = expanded[id] and "expanded" or "complete" end
    return x
  end
  if args.graph then
    if args.rev_range then errors.raise("usage", "--graph draws the whole graph: drop -r") end
    out.graph = lanes.draw(g, applied)
    for _, row in ipairs(out.graph) do
      if row.id then out.revisions[#out.revisions + 1] = describe(row.id) end
    end
    return out
  end
  local lower, upper = range_sides(args.rev_range, heads)
  for _, id in ipairs(plan.range(g, lower, upper)) do
    out.revisions[#out.revisions + 1] = describe(id)
  end
  return out
end

-- --graph: the lanes, then each revision's id, marks and message.
local function render_graph(log, r, current)
  local by_id = {}
  for _, x in ipairs(r.revisions) do by_id[x.revision] = x end
  for _, row in ipairs(r.graph) do
    local x = row.id and by_id[row.id]
    if x then
      local cur = current[x.revision] and log:out_paint("bold", " (current)") or ""
      log:result(("%s  %s%s%s  %s%s"):format(row.graph, x.revision, format.marks(x), cur, format.visible(x.message),
        format.depends(x)))
    else
      log:result(row.graph)
    end
  end
end

function M.render(log, r)
  local current = graph_mod.set_of(r.current)
  if r.graph then return render_graph(log, r, current) end
  for _, x in ipairs(r.revisions) do
    local mark = x.applied and log:out_paint("green", "*") or " "
    local cur = current[x.revision] and log:out_paint("bold", " (current)") or ""
    log:result(("%s %s -> %s%s%s  %s%s"):format(mark, format.parents(x), x.revision, format.marks(x), cur,
      format.visible(x.message), format.depends(x)))
  end
  if #r.revisions == 0 then log:result("(no revisions)") end
end

return M
