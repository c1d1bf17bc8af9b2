--- One function per command (SPEC §4). Each takes the context and parsed
--- arguments and returns a result table (also the --json document); none
--- prints results or exits. Progress goes through ctx.on_step.
local lfs = require "lfs"
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local config = require "luamig.project.config"
local scripts = require "luamig.revision.scripts"
local graph_mod = require "luamig.revision.graph"
local plan = require "luamig.revision.plan"
local plugins = require "luamig.project.plugins"
local progress = require "luamig.util.progress"
local connect = require "luamig.db.connect"
local runner = require "luamig.run.runner"
local version = require "luamig.run.version"
local templates = require "luamig.revision.templates"
local json = require "luamig.util.json"
local cjson = require "cjson"

local M = {}

---@class luamig.Context
---@field config luamig.Config
---@field url string?          the --url flag
---@field log luamig.Log
---@field on_step fun(step: luamig.Step)?
---@field session luamig.Session?  opened on first use

local function load_graph(ctx)
  if not ctx.graph then
    local list, loaded = scripts.load_dir(ctx.config.migrations)
    ctx.graph, ctx.loaded = graph_mod.new(list), loaded
  end
  return ctx.graph
end

---The context's session (graph + open database), opened once.
---@param ctx luamig.Context
---@return luamig.Session
function M.session(ctx)
  if not ctx.session then
    local graph = load_graph(ctx)
    local url = config.resolve_url(ctx.url, ctx.config)
    local db, dialect = connect.open(url, ctx.config, ctx.log)
    ctx.session = { db = db, dialect = dialect, config = ctx.config, graph = graph, log = ctx.log }
  end
  return ctx.session
end

local function current_heads(s)
  return version.heads(s.db, version.tables(s.config, s.dialect))
end

local function require_target(args, command)
  if not args.target then errors.raise("usage", command .. " needs a TARGET (a revision, -1, base)") end
  return args.target
end

-- ------------------------------------------------------------ plugins

---The loaded plugins (shipped and the project's), once per command.
function M.plugin_list(ctx)
  if not ctx.plugin_list then ctx.plugin_list = plugins.load(ctx.config, ctx.builtin or {}) end
  return ctx.plugin_list
end

---What plugin commands and hooks get: config, log, progress, and db (the
---connected handle, opened on first use), heads() (the database's heads),
---graph (the revision graph).
function M.plugin_ctx(ctx)
  if not ctx.plugin_ctx then
    ctx.plugin_ctx = setmetatable({ config = ctx.config, log = ctx.log, progress = progress.new(ctx.log),
      heads = function() return current_heads(M.session(ctx)) end }, {
      __index = function(_, k)
        if k == "db" then return M.session(ctx).db end
        if k == "graph" then return load_graph(ctx) end
      end,
    })
  end
  return ctx.plugin_ctx
end

local function hooks(ctx)
  local list = M.plugin_list(ctx)
  return function(name, info) plugins.run_hook(list, name, M.plugin_ctx(ctx), info) end
end

---Run plugin command `name` with the parsed args.
function M.run_plugin_command(ctx, name, args)
  local spec, plugin = plugins.command(M.plugin_list(ctx), name)
  if not spec then errors.raise("usage", ("unknown command '%s'"):format(name)) end
  local ok, res = xpcall(spec.run, function(e)
    if errors.is(e) then return e end
    return errors.new("migration", ("plugin %s: command %s failed: %s"):format(plugin.name, name, errors.text(e)))
  end, M.plugin_ctx(ctx), args)
  if not ok then error(res, 0) end
  return res or {}
end

---`plugins`: the plugins and their commands and hooks.
function M.plugins(ctx)
  local out = { plugins = {} }
  for _, p in ipairs(M.plugin_list(ctx)) do
    local cmds, hooks_ = {}, {}
    for c in pairs(p.commands) do cmds[#cmds + 1] = c end
    for h in pairs(p.hooks) do hooks_[#hooks_ + 1] = h end
    table.sort(cmds)
    table.sort(hooks_)
    out.plugins[#out.plugins + 1] = { name = p.name, path = p.path, shipped = p.shipped or false, commands = cmds,
      hooks = hooks_ }
  end
  return out
end

-- upgrade / downgrade share everything but the plan.
local function migrate(ctx, direction, target, dry_run)
  local s = M.session(ctx)
  s.dry_run = dry_run or nil
  local steps = {}
  local heads = runner.run(s, {
    hook = hooks(ctx),
    direction = direction,
    plan = function(heads)
      -- "+1" means one step from where the database was when the run began
      local ids, resolved = (direction == "up" and plan.upgrade or plan.downgrade)(s.graph, heads, target)
      target = resolved
      return ids
    end,
    on_plan = ctx.on_plan,
    on_step = function(step)
      steps[#steps + 1] = { revision = step.revision, direction = step.direction, ms = step.ms }
      if ctx.on_step then ctx.on_step(step) end
    end,
  })
  if dry_run then return { steps = steps, heads = current_heads(s), dry_run = true } end
  return { steps = steps, heads = heads }
end

-- `--sql`: the SQL a range would run, without connecting (luamig.offline).
local function offline_sql(ctx, direction, range)
  local url = config.resolve_url(ctx.url, ctx.config)
  local target = connect.parse(url)
  local dialect = require("luamig.dialect").load(target.backend)
  return { sql = require("luamig.run.offline").sql({ graph = load_graph(ctx), config = ctx.config, dialect = dialect },
    direction, range) }
end

---`upgrade [TARGET]`: apply up to TARGET (default head); `--sql [FROM:]TO` prints it.
function M.upgrade(ctx, args)
  if args.sql then return offline_sql(ctx, "up", args.target or "head") end
  return migrate(ctx, "up", args.target or "head", args.dry_run)
end

---`downgrade TARGET`: revert down to TARGET; `--sql FROM:TO` prints it.
function M.downgrade(ctx, args)
  if args.sql then return offline_sql(ctx, "down", require_target(args, "downgrade --sql")) end
  return migrate(ctx, "down", require_target(args, "downgrade"))
end

---`current`: the database's heads.
function M.current(ctx)
  local s = M.session(ctx)
  local heads = current_heads(s)
  local out = { heads = heads, revisions = {} }
  for _, id in ipairs(heads) do
    local script = s.graph.revs[id]
    out.revisions[#out.revisions + 1] = { revision = id, message = script and script.message or "",
      known = script ~= nil }
  end
  return out
end

local set_of = graph_mod.set_of

local function describe(g, id, applied, heads_set)
  local sc, node = g.revs[id], g.nodes[id]
  local labels = {}
  for l in pairs(node.labels) do labels[#labels + 1] = l end
  table.sort(labels)
  return {
    revision = id,
    down_revisions = sc.parents,
    depends_on = sc.depends_on,
    branch_labels = labels,
    message = sc.message,
    path = sc.path,
    transactional = sc.transactional,
    applied = applied and (applied[id] == true),
    is_head = heads_set[id] or false,
    is_branch_point = #node.next > 1,
    is_merge_point = #sc.parents > 1,
    children = node.next,
  }
end

---`heads [--verbose]`: head revisions of the migration files.
---With no migration file changed since the last `heads`, its result comes
---from the script cache's memo without loading the graph.
function M.heads(ctx, args)
  local memo = scripts.memo(ctx.config.migrations)
  local out = memo and cjson.decode(memo)
  if not out then
    local g = load_graph(ctx)
    local heads = g:heads()
    out = { heads = heads, revisions = {} }
    for _, id in ipairs(heads) do out.revisions[#out.revisions + 1] = describe(g, id, nil, set_of(heads)) end
    scripts.remember(ctx.loaded, json.encode(out))
  end
  out.verbose = args.verbose or nil
  return out
end

---`branches`: revisions with several children, and those children.
function M.branches(ctx)
  local g = load_graph(ctx)
  local out = { branch_points = {} }
  for _, id in ipairs(g:branch_points()) do
    out.branch_points[#out.branch_points + 1] = describe(g, id, nil, set_of(g:heads()))
  end
  return out
end

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

---`history [-r A:B]`: revisions newest first, marking applied ones.
function M.history(ctx, args)
  local s = M.session(ctx)
  local g = s.graph
  local heads = current_heads(s)
  local applied, heads_set = g:ancestors(heads), set_of(g:heads())
  local lower, upper = range_sides(args.rev_range, heads)
  local out = { revisions = {}, current = heads }
  for _, id in ipairs(plan.range(g, lower, upper)) do
    out.revisions[#out.revisions + 1] = describe(g, id, applied, heads_set)
  end
  return out
end

---`show REV`: one revision's details.
function M.show(ctx, args)
  local s = M.session(ctx)
  local g = s.graph
  local heads = current_heads(s)
  local ids = g:ids(require_target(args, "show"))
  if #ids == 0 then errors.raise("usage", "show needs a revision, not base") end
  if #ids > 1 then errors.raise("usage", ("show needs one revision; %s names %s"):format(args.target,
    table.concat(ids, ", "))) end
  local out = describe(g, ids[1], g:ancestors(heads), set_of(g:heads()))
  out.checksum = g.revs[ids[1]].checksum
  local last = version.last_applied(version.history(s.db, version.tables(s.config, s.dialect)))[ids[1]]
  if last then out.applied_at, out.ms = last.applied_at, last.ms end
  return out
end

---`stamp REV`: set the version table without running migrations.
function M.stamp(ctx, args)
  local s = M.session(ctx)
  if #args.target == 0 then errors.raise("usage", "stamp needs a TARGET (a revision, head, heads or base)") end
  local old, new = runner.stamp(s, function(heads) return plan.stamp(s.graph, heads, args.target) end)
  return { previous = old, heads = new }
end

---`status`: applied and pending revisions, drift and the last failure.
function M.status(ctx)
  local s = M.session(ctx)
  local g = s.graph
  local t = version.tables(s.config, s.dialect)
  local heads = current_heads(s)
  local rows = version.history(s.db, t)
  local last = version.last_applied(rows)
  local applied_set = g:ancestors(heads)
  local out = { heads = heads, applied = {}, pending = {}, drifted = {}, unknown = {} }
  for _, id in ipairs(g:ordered(applied_set)) do
    local rec = last[id] or {}
    out.applied[#out.applied + 1] = { revision = id, message = g.revs[id].message,
      applied_at = rec.applied_at, ms = rec.ms, stamped = rec.direction == "stamp" or nil }
    if rec.checksum and rec.checksum ~= g.revs[id].checksum then
      out.drifted[#out.drifted + 1] = { revision = id, path = g.revs[id].path, applied_at = rec.applied_at }
    end
  end
  for _, h in ipairs(heads) do
    if not g.revs[h] then out.unknown[#out.unknown + 1] = h end
  end
  for _, id in ipairs(g.order) do
    if not applied_set[id] then out.pending[#out.pending + 1] = id end
  end
  local final = rows[#rows]
  if final and final.status == "failed" then
    out.failed = { revision = final.revision, direction = final.direction, at = final.applied_at,
      error = final.error, transactional = final.transactional }
  end
  return out
end

---`check`: whether the database is at head (result.at_head).
function M.check(ctx)
  local st = M.status(ctx)
  local g = ctx.graph
  st.at_head = #st.pending == 0 and #st.unknown == 0
  st.expected = g:heads()
  return st
end

local function slug(msg)
  local s = msg:lower():gsub("[^%w]+", "_"):gsub("^_+", ""):gsub("_+$", "")
  return s:sub(1, 40)
end

local function write_new(path, text)
  if lfs.attributes(path) then errors.raise("usage", path .. " already exists") end
  local f, err = io.open(path, "wb")
  if not f then errors.raise("config", "cannot write " .. err) end
  f:write(text)
  f:close()
end

-- Write a new migration whose parents are what `heads_specs` name (Alembic's
-- generate_revision): each must be a head unless `splice`.
local function new_revision(ctx, args, heads_specs, splice)
  local g = load_graph(ctx)
  local id = args.rev_id or host.random_hex(12)
  if not id:match("^[%w_]+$") then errors.raise("usage", "--rev-id must be letters, digits and _") end
  if g.revs[id] then errors.raise("usage", ("revision %s already exists (%s)"):format(id, g.revs[id].path)) end
  local parents, seen, heads = {}, {}, set_of(g:heads())
  for _, spec in ipairs(heads_specs) do
    local ok, nodes = pcall(g.get_revisions, g, spec)
    if not ok then
      if spec == "head" and errors.is(nodes) and nodes.message:find("several heads", 1, true) then
        errors.raise("revision", ("there are several heads (%s): pass --head REV or LABEL@head, " ..
          "or `luamig merge -m MSG heads` first"):format(table.concat(g:heads(), ", ")))
      end
      error(nodes, 0)
    end
    for _, n in ipairs(nodes) do
      if type(n) ~= "table" then errors.raise("revision", spec .. " does not name a revision") end
      if seen[n.id] then errors.raise("usage", ("%s is named twice"):format(n.id)) end
      if not splice and not heads[n.id] then
        errors.raise("revision", ("%s is not a head revision; pass --splice to start a new branch from it")
          :format(n.id))
      end
      seen[n.id] = true
      parents[#parents + 1] = n.id
    end
  end
  local deps = {}
  for _, d in ipairs(args.depends_on or {}) do
    local node = g:get_revision(d)
    if not node then errors.raise("revision", "--depends-on " .. d .. " names no revision") end
    deps[#deps + 1] = node.labels[d] and d or node.id -- keep branch labels as written
  end
  local labels = args.branch_label or {}
  for _, l in ipairs(labels) do
    if g.map[l] then errors.raise("usage", ("branch label %s is already used by revision %s"):format(l, g.map[l].id)) end
  end
  local path = ("%s/%s_%s.lua"):format(ctx.config.migrations, id, slug(args.message))
  write_new(path, templates.migration({ id = id, parents = parents, message = args.message,
    depends_on = deps, branch_label = labels, date = os.date("!%Y-%m-%d %H:%M UTC") }))
  return { revision = id, down_revisions = parents, path = path, message = args.message,
    branch_labels = labels, depends_on = deps }
end

---`revision -m MSG [--head REV] [--splice] [--branch-label L] [--depends-on R]`:
---write a new migration file chained to the head (or to --head).
function M.revision(ctx, args)
  return new_revision(ctx, args, { args.head or "head" }, args.splice)
end

---`merge -m MSG REV...`: write a migration whose parents are REV... .
function M.merge(ctx, args)
  return new_revision(ctx, args, args.revisions, false)
end

-- drill --with-seeds: runs the seed plugin, quietly, on the scratch session.
local function drill_seeder(ctx, s)
  local _, plugin = plugins.command(M.plugin_list(ctx), "seed")
  if not plugin or not plugin.api then errors.raise("usage", "--with-seeds needs the seed plugin") end
  local quiet = require("luamig.util.log").new({ quiet = true })
  local pctx = { db = s.db, config = ctx.config, graph = s.graph, log = quiet, progress = progress.new(quiet),
    heads = function() return current_heads(s) end }
  return function() plugin.api.run(pctx, { force = true, quiet = true }) end
end

---`drill [FILE]`: rehearse downgrades on a scratch database (luamig.drill);
---result.ok is false when a step does not round-trip.
function M.drill(ctx, args)
  local drill = require "luamig.tools.drill"
  local g = load_graph(ctx)
  local url = config.resolve_url(ctx.url, ctx.config)
  local scratch = drill.scratch(url, ctx.config, { keep = args.keep, scratch_url = args.scratch_url })
  local out = { scratch = (args.keep or args.scratch_url) and scratch.shown or nil }
  local s = { config = ctx.config, graph = g, log = ctx.log }
  local ok, err = pcall(function()
    s.db, s.dialect = connect.open(scratch.url, ctx.config)
    if args.script then
      out.script = args.script
      out.steps, out.ok = drill.script(s, args.script, ctx.log)
    else
      out.steps, out.ok = drill.walk(s, { from = args.from, to = args.to,
        seed = args.with_seeds and drill_seeder(ctx, s) or nil })
    end
  end)
  if s.db then s.db:close() end
  if scratch.drop then scratch.drop() end
  if not ok then error(err, 0) end
  return out
end

---`init [DIR]`: scaffold a project.
function M.init(_, args)
  local dir = args.dir or "."
  local created = {}
  local function mkdir(p)
    if not lfs.attributes(p) then
      local ok, err = lfs.mkdir(p)
      if not ok then errors.raise("config", ("cannot create %s: %s"):format(p, err)) end
      created[#created + 1] = p .. "/"
    end
  end
  mkdir(dir)
  local cfg = config.join(dir, config.DEFAULT_FILE)
  if lfs.attributes(cfg) then errors.raise("usage", cfg .. " already exists: the project is initialised") end
  for _, sub in ipairs({ "migrations", "plugins", "seeds", "drills" }) do mkdir(config.join(dir, sub)) end
  write_new(cfg, templates.config())
  created[#created + 1] = cfg
  return { dir = dir, created = created }
end

return M
