--- What a command runs with: the config, the --url flag, the log, and what
--- is opened on first use (the revision graph, the session = graph + open
--- database, the plugins and the context plugins get).
local config = require "luamig.project.config"
local scripts = require "luamig.revision.scripts"
local graph_mod = require "luamig.revision.graph"
local lazy = require "luamig.util.lazy"
local plugins = lazy "luamig.project.plugins"
local progress = lazy "luamig.util.progress"
local sandbox = require "luamig.util.sandbox"
local connect = require "luamig.db.connect"
local db_wait = require "luamig.db.wait"
local version = require "luamig.run.version"

local M = {}

---@class luamig.Context
---@field config luamig.Config
---@field url string?                 the --url flag (a fleet job: its target's URL)
---@field url_base string?            what a relative sqlite:/// path of `url` is relative to (default: config.url_base)
---@field readonly boolean?           the command only reads: its session never creates a database
---@field wait_for_db number|string?  retry the first connection this long (luamig.db.wait)
---@field on_step fun(step: table)?   called after each step of upgrade/downgrade (the embedding API)
---@field log luamig.Log
---@field reserved table<string, true> command names plugins may not take
---@field graph luamig.Graph?         loaded on first use
---@field graph_view table?           what plugins see of it (Graph:view)
---@field loaded table?               what scripts.load_dir loaded (for the heads memo)
---@field session luamig.Session?     opened on first use
---@field plugin_list luamig.Plugin[]?

---The revision graph of the migration files, loaded once.
---@param ctx luamig.Context
---@return luamig.Graph
function M.graph(ctx)
  if not ctx.graph then
    local list, loaded = scripts.load_dir(ctx.config.migrations)
    ctx.graph, ctx.loaded = graph_mod.new(list), loaded
  end
  return ctx.graph
end

---The target database's URL, where it came from, and what a relative
---sqlite:/// path of it is relative to.
---@param ctx luamig.Context
---@return string url, string source, string base
function M.target(ctx)
  local url, source = config.resolve_url(ctx.url, ctx.config)
  return url, source, ctx.url_base or config.url_base(source, ctx.config)
end

---The options of a scratch session next to the target (luamig.run.scratch),
---plus `fields` (what, hint, scratch_url, keep, fast, log).
---@param ctx luamig.Context
---@param fields table
---@return luamig.ScratchOptions
function M.scratch_options(ctx, fields)
  local url, _, base = M.target(ctx)
  local o = { target = url, base = base, config = ctx.config, graph = M.graph(ctx), log = ctx.log }
  for k, v in pairs(fields) do o[k] = v end
  return o
end

-- Open the context's session once; with `if_exists`, nil while its SQLite file is missing.
local function open_session(ctx, if_exists)
  if not ctx.session then
    local graph = M.graph(ctx)
    local url, source, base = M.target(ctx)
    local opts = { source = source, base = base, create = not ctx.readonly, if_exists = if_exists }
    local db, dialect
    if ctx.wait_for_db then
      db, dialect = db_wait.open(db_wait.seconds(ctx.wait_for_db, "--wait-for-db"), url, ctx.config, ctx.log, opts)
    else
      db, dialect = connect.open(url, ctx.config, ctx.log, opts)
    end
    if not db then return nil end
    ctx.session = { db = db, dialect = dialect, config = ctx.config, graph = graph, log = ctx.log }
  end
  return ctx.session
end

---The context's session (graph + open database), opened once.
---@param ctx luamig.Context
---@return luamig.Session
function M.session(ctx)
  return open_session(ctx, false)
end

---The session of a read-only command that also works without a database
---(history, show): nil when the SQLite file does not exist, nothing created.
---@param ctx luamig.Context
---@return luamig.Session?
function M.session_if_exists(ctx)
  return open_session(ctx, true)
end

---The revisions a session's database is at (the last revision a baseline
---replaced counts as that baseline).
---@param s luamig.Session
---@return string[]
function M.heads(s)
  return s.graph:stored(version.heads(s.db, version.tables(s.config, s.dialect, s.db)))
end

---Close what the context opened.
---@param ctx luamig.Context
function M.close(ctx)
  if ctx.session then ctx.session.db:close() end
end

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
function M.plugin_ctx(ctx)
  if not ctx.plugin_ctx then
    ctx.plugin_ctx = setmetatable({ config = sandbox.copy_data(ctx.config), log = plugin_log(ctx.log),
      progress = progress.new(ctx.log), heads = function() return M.heads(M.session(ctx)) end }, {
      __index = function(_, k)
        if k == "db" then return M.session(ctx).db:public() end
        if k == "graph" then
          ctx.graph_view = ctx.graph_view or M.graph(ctx):view()
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
  return function(name, info) plugins.run_hook(list, name, M.plugin_ctx(ctx), info) end
end

return M
