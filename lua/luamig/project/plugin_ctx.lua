--- What plugins get from a command's context (luamig.run.session): the
--- loaded plugins, the context their commands and hooks are called with,
--- and the hook caller.
local lazy = require "luamig.util.lazy"
local plugins = lazy "luamig.project.plugins" -- (lazy for start-up: most commands run no plugin)
local progress = lazy "luamig.util.progress"
local sandbox = require "luamig.util.sandbox"
local session = require "luamig.run.session"

local M = {}

---The loaded plugins (shipped and the project's), once per command.
---@param ctx luamig.Context
---@return luamig.Plugin[]
function M.plugin_list(ctx)
  if not ctx.plugin_list then ctx.plugin_list = plugins.load(ctx.config, ctx.reserved or {}) end
  return ctx.plugin_list
end

-- The log as plugins get it: its fields and methods in a table of its own
-- (a plugin cannot change the runner's), callable as ctx.log(s) = ctx.log:info(s).
local function plugin_log(log)
  local l = {}
  for k, v in pairs(log) do l[k] = v end
  for k, v in pairs(debug.getmetatable(log).__index) do
    if type(v) == "function" then l[k] = v end
  end
  return setmetatable(l, { __call = function(self, s) return self:info(tostring(s)) end, __metatable = false })
end

---What plugin commands and hooks get: config (a copy), log (callable: an
---informational line), progress, db (the connected handle, opened on
---first use), heads() (the database's heads), graph (the revision graph).
---@param ctx luamig.Context
function M.of(ctx)
  if not ctx.plugin_ctx then
    ctx.plugin_ctx = setmetatable({ config = sandbox.copy_data(ctx.config), log = plugin_log(ctx.log),
      progress = progress.new(ctx.log), heads = function() return session.heads(session.open(ctx)) end }, {
      __index = function(_, k)
        if k == "db" then return session.open(ctx).db:public() end
        if k == "graph" then
          ctx.graph_view = ctx.graph_view or session.graph(ctx):view()
          return ctx.graph_view
        end
      end,
      __metatable = false,
    })
  end
  return ctx.plugin_ctx
end

---A function calling hook `name` of every plugin with (plugin ctx, info).
---@param ctx luamig.Context
---@return fun(name: string, info: table)
function M.hooks(ctx)
  local list = M.plugin_list(ctx)
  return function(name, info) plugins.run_hook(list, name, M.of(ctx), info) end
end

return M
