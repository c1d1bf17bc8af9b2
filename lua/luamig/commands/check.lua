--- `check`: whether the database is at head (exit 0) or not (exit 3); with
--- --fail-on-drift, an applied migration whose file changed exits 4; when the
--- project declares its schema (schema.lua), a declared schema that the
--- migrations at head do not produce exits 5 and lists the differences.
local errors = require "luamig.util.errors"
local text = require "luamig.util.text"
local session = require "luamig.run.session"
local status = require "luamig.commands.status"
local format = require "luamig.commands.shared.format"
local migrate = require "luamig.commands.shared.migrate"

local M = {
  example = "luamig check || luamig upgrade head",
  exit_codes = true,
  readonly = true,
  options = {
    migrate.WAIT_FLAG,
    { "--heads-only", "Answer from the version table alone (a readiness probe: no scratch database, no history, " ..
      "no lock): exit 0 at head, 3 when not.", flag = true },
    { "--fail-on-drift", "Exit 4 when an applied migration's file changed after it was applied " ..
      "(`luamig stamp --refresh-checksums REV` accepts the change).", flag = true },
  },
}

-- --heads-only: the heads in the version table against the files' heads.
local function heads_only(ctx)
  local s = session.open(ctx)
  local heads = session.heads(s)
  local applied, pending, unknown = s.graph:ancestors(heads), {}, {}
  for _, id in ipairs(s.graph.order) do
    if not applied[id] then pending[#pending + 1] = id end
  end
  for _, h in ipairs(heads) do
    if not s.graph.revs[h] then unknown[#unknown + 1] = h end
  end
  return { heads = heads, pending = pending, unknown = unknown, drifted = {}, expected = s.graph:heads(),
    at_head = #pending == 0 and #unknown == 0, heads_only = true }
end

function M.run(ctx, args)
  if args.heads_only then
    if args.fail_on_drift then errors.raise("usage", "--fail-on-drift reads the history: leave out --heads-only") end
    return heads_only(ctx)
  end
  local st = status.run(ctx)
  st.at_head = #st.pending == 0 and #st.unknown == 0
  st.expected = session.graph(ctx):heads()
  st.fail_on_drift = args.fail_on_drift or nil
  local autogen = require "luamig.tools.autogen" -- (here: --heads-only never loads autogenerate)
  local decl = autogen.declared(ctx)
  if decl then st.schema_differences = autogen.lines(autogen.compare(ctx, { decl = decl })) end
  return st
end

function M.render(log, r)
  if r.at_head then
    log:result("At head: " .. format.heads(r.heads))
  else
    log:result(("Not at head: the database is at %s; %d pending (%s)."):format(format.heads(r.heads), #r.pending,
      table.concat(r.pending, ", ")))
  end
  for _, d in ipairs(r.drifted) do
    log:result(("Drift: %s (%s) changed after it was applied; `luamig stamp --refresh-checksums %s` accepts it.")
      :format(format.visible(d.path), d.revision, d.revision))
  end
  local diffs = r.schema_differences
  if diffs and #diffs > 0 then
    log:result(("The declared schema differs from the migrations at head (%s; " ..
      "`luamig revision --autogenerate -m MSG` writes them):"):format(text.count(#diffs, "change")))
    for _, l in ipairs(diffs) do log:result("  " .. l) end
  elseif diffs then
    log:result("The declared schema matches the migrations at head.")
  end
end

function M.exit(r)
  if r.fail_on_drift and #r.drifted > 0 then return errors.EXIT.drifted end
  if not r.at_head then return errors.EXIT.not_at_head end
  if r.schema_differences and #r.schema_differences > 0 then return errors.EXIT.schema_differs end
  return errors.EXIT.ok
end

return M
