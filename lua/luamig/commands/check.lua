--- `check`: whether the database is at head (exit 0) or not (exit 3); with
--- --fail-on-drift, an applied migration whose file changed exits 4.
local errors = require "luamig.util.errors"
local context = require "luamig.cli.context"
local status = require "luamig.commands.status"
local format = require "luamig.commands.shared.format"

local M = {
  example = "luamig check || luamig upgrade head",
  readonly = true,
  options = {
    { "--fail-on-drift", "Exit 4 when an applied migration's file changed after it was applied " ..
      "(`luamig stamp --refresh-checksums REV` accepts the change).", flag = true },
  },
}

function M.run(ctx, args)
  local st = status.run(ctx)
  st.at_head = #st.pending == 0 and #st.unknown == 0
  st.expected = context.graph(ctx):heads()
  st.fail_on_drift = args.fail_on_drift or nil
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
end

function M.exit(r)
  if r.fail_on_drift and #r.drifted > 0 then return errors.EXIT.drifted end
  return r.at_head and errors.EXIT.ok or errors.EXIT.not_at_head
end

return M
