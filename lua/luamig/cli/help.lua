--- `help [CMD] [--man]`: a command's help page (the same as `CMD --help`),
--- or the manual page.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local text = require "luamig.util.text"
local registry = require "luamig.cli.registry"
local parser = require "luamig.cli.parser"
local plugin_ctx = require "luamig.project.plugin_ctx"

local M = {
  example = { "luamig help upgrade", "luamig help --man | man -l -" },
  args = { { "cmd", "The command (default: the command list).", "?", complete = "commands" } },
  options = {
    { "--man", "Print the manual page (roff) of every command instead.", flag = true },
  },
}

-- The command list, with the project's plugin commands when there is a
-- project (the man page is built without one: built-in commands only).
local function command_list(ctx)
  return registry.list(plugin_ctx.plugin_list(ctx))
end

function M.run(ctx, args)
  local list = command_list(ctx)
  if args.man then
    return { man = require("luamig.cli.man").page( -- (here: only --man loads the man page writer)
      parser.commands(list), host.version) }
  end
  local name = args.cmd
  if name and not registry.find(list, name) then
    local names = {}
    for _, e in ipairs(list) do names[e.name] = true end
    local near = text.closest(names, name)
    errors.raise("usage", ("unknown command %q%s; `luamig help` lists them"):format(name,
      #near > 0 and (" (did you mean " .. table.concat(near, ", ") .. "?)") or ""))
  end
  local argv = name and { name, "--help" } or { "--help" }
  local p, state = parser.build(argv, list)
  parser.parse(p, argv)
  return { command = name, help = state.help:get_help() }
end

function M.render(_, r)
  -- the page as is: it is the output asked for, also under --quiet
  io.stdout:write(r.man or (r.help .. "\n"))
end

return M
