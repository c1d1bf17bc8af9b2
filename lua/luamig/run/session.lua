--- What a command runs with (its context): the config, the target database's
--- URL, the log, and what is opened on first use: the revision graph and the
--- session (graph + open database). One constructor (M.new) for every command,
--- the embedding API and each fleet job.
local scripts = require "luamig.revision.scripts"
local graph_mod = require "luamig.revision.graph"
local connect = require "luamig.db.connect"
local db_wait = require "luamig.db.wait"
local version = require "luamig.run.version"
local file_api = require "luamig.run.file_api"

local M = {}

M.DEFAULT_URL = "sqlite:///luamig.db"

---@class luamig.Context
---@field config luamig.Config
---@field url string?                 the --url flag (a fleet job: its target's URL)
---@field url_base string?            what a relative sqlite:/// path of `url` is relative to (default: M.url_base)
---@field readonly boolean?           the command only reads: its session never creates a database
---@field wait_for_db number|string?  retry the first connection this long (luamig.db.wait)
---@field on_step fun(step: table)?   called after each step of upgrade/downgrade (the embedding API)
---@field log luamig.Log
---@field reserved table<string, true>? command names plugins may not take
---@field graph luamig.Graph?         loaded on first use
---@field graph_view table?           what plugins see of it (Graph:view)
---@field loaded table?               what scripts.load_dir loaded (for the heads memo)
---@field session luamig.Session?     opened on first use
---@field plugin_list luamig.Plugin[]?
---@field plugin_ctx table?           what plugins get (luamig.project.plugin_ctx)

---A command's context: `fields` are luamig.Context's (config and log at
---least; graph and loaded to share a graph already loaded, session to run
---on a session already open, which M.close then closes).
---@param fields table
---@return luamig.Context
function M.new(fields)
  assert(fields.config and fields.log, "session.new needs config and log")
  return {
    config = fields.config, url = fields.url, url_base = fields.url_base, log = fields.log,
    readonly = fields.readonly, wait_for_db = fields.wait_for_db, on_step = fields.on_step,
    reserved = fields.reserved, graph = fields.graph, loaded = fields.loaded, session = fields.session,
  }
end

---The revision graph of the migration files, loaded once.
---@param ctx luamig.Context
---@param fields_only boolean? the command runs no migration: keep no file's code (scripts.load_dir)
---@return luamig.Graph
function M.graph(ctx, fields_only)
  if not ctx.graph then
    -- (reading a file leaves 2-4 KiB of garbage: with no code to keep, a new collection
    -- starts at 1.2x the heap the last one left, as in runs, not 2x; `heads` on 10,000
    -- files without the script cache peaks at 11.7 MiB rather than 13.1)
    local pause = fields_only and collectgarbage("setpause", 120)
    -- (the files' `luamig` outside a step: null and progress; backfill refuses)
    local list, loaded = scripts.load_dir(ctx.config.migrations, file_api.api(nil), fields_only)
    ctx.graph, ctx.loaded = graph_mod.new(list), loaded
    if pause then collectgarbage("setpause", pause) end
  end
  return ctx.graph
end

local function env(name)
  local v = os.getenv(name)
  if v and v ~= "" then return v end
end

---The database URL: --url, LUAMIG_URL, DATABASE_URL, config, default.
---@param flag string? the --url value
---@param cfg luamig.Config
---@return string url, string source  where the URL came from
function M.resolve_url(flag, cfg)
  if flag and flag ~= "" then return flag, "--url" end
  local v = env "LUAMIG_URL"
  if v then return v, "LUAMIG_URL" end
  v = env "DATABASE_URL"
  if v then return v, "DATABASE_URL" end
  if cfg.url then return cfg.url, cfg.file end
  return M.DEFAULT_URL, "default"
end

---The directory a relative sqlite:/// path of the URL from `source` (as
---resolve_url returns it) is relative to: the config file's directory for
---the config's `url` and the default, the working directory (".") for
-----url, LUAMIG_URL and DATABASE_URL, which were typed where luamig runs.
---@param source string
---@param cfg luamig.Config
---@return string
function M.url_base(source, cfg)
  if cfg.file and (source == cfg.file or source == "default") then return cfg.dir end
  return "."
end

---The target database's URL, where it came from, and what a relative
---sqlite:/// path of it is relative to.
---@param ctx luamig.Context
---@return string url, string source, string base
function M.target(ctx)
  local url, source = M.resolve_url(ctx.url, ctx.config)
  return url, source, ctx.url_base or M.url_base(source, ctx.config)
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
function M.open(ctx)
  return open_session(ctx, false)
end

---The session of a read-only command that also works without a database
---(history, show): nil when the SQLite file does not exist, nothing created.
---@param ctx luamig.Context
---@return luamig.Session?
function M.open_if_exists(ctx)
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

return M
