--- `check`: whether the database is at head (exit 0) or not (exit 3).
local errors = require "luamig.util.errors"
local context = require "luamig.cli.context"
local status = require "luamig.commands.status"
local format = require "luamig.commands.shared.format"

local M = { example = "luamig check || luamig upgrade head", readonly = true }

function M.run(ctx)
  local st = status.run(ctx)
  st.at_head = #st.pending == 0 and #st.unknown == 0
  st.expected = context.graph(ctx):heads()
  return st
end

function M.render(log, r)
  if r.at_head then
    log:result("At head: " .. format.heads(r.heads))
  else
    log:result(("Not at head: the database is at %s; %d pending (%s)."):format(format.heads(r.heads), #r.pending,
      table.concat(r.pending, ", ")))
  end
end

function M.exit(r)
  return r.at_head and errors.EXIT.ok or errors.EXIT.not_at_head
end

return M
