--- `plugins`: the plugins (shipped and the project's), their commands and hooks.
local plugin_ctx = require "luamig.project.plugin_ctx"
local format = require "luamig.commands.shared.format"

local M = { example = "luamig plugins --json" }

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

function M.run(ctx)
  local out = { plugins = {} }
  for _, p in ipairs(plugin_ctx.plugin_list(ctx)) do
    out.plugins[#out.plugins + 1] = { name = p.name, path = p.path, shipped = p.shipped or false,
      commands = sorted_keys(p.commands), hooks = sorted_keys(p.hooks) }
  end
  return out
end

function M.render(log, r)
  for _, p in ipairs(r.plugins) do
    log:result(("%s  (%s)"):format(format.visible(p.name), p.shipped and "shipped" or format.visible(p.path)))
    if #p.commands > 0 then log:result("  commands: " .. format.list(p.commands)) end
    if #p.hooks > 0 then log:result("  hooks:    " .. format.list(p.hooks)) end
  end
end

return M
