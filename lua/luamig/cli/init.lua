--- Command line: options, dispatch, printing and exit codes (only here).
local argparse = require "argparse"
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local config = require "luamig.project.config"
local log_mod = require "luamig.util.log"
local json = require "luamig.util.json"
local command = require "luamig.command"
local plugins = require "luamig.project.plugins"
local render = require "luamig.render"

local M = {}

M.EXIT_NOT_AT_HEAD = 3 -- `luamig check` when the database is behind (or off) head

local help_wanted -- the parser whose --help was given

local function help_flag(p)
  p:add_help(false)
  p:flag("-h --help", "Show this help and exit."):action(function() help_wanted = help_wanted or p end)
end

local COMMON = { "config", "url", "json", "quiet", "debug" }

-- The options every command takes. Given before the command they land in
-- "global_<name>" (argparse would reset a shared target when the command
-- starts); main() merges the two.
local function common(p, global)
  local t = global and "global_" or ""
  help_flag(p)
  p:option("-c --config", "Config file (default: ./luamig.lua if present)."):argname("FILE"):target(t .. "config")
  p:option("--url", "Database URL; overrides $LUAMIG_URL, $DATABASE_URL and the config."):argname("URL")
    :target(t .. "url")
  p:flag("--json", "Print one JSON document on stdout."):target(t .. "json")
  p:flag("-q --quiet", "Print only results and errors."):target(t .. "quiet")
  p:flag("--debug", "Show Lua tracebacks with errors."):target(t .. "debug")
  return p
end

-- Commands: name, summary, and their own arguments and options.
local COMMANDS = {
  { "init", "Scaffold a project (luamig.lua, migrations/, plugins/, seeds/, drills/).", function(c)
    c:argument("dir", "Directory (default: .)."):args("?")
  end },
  { "revision", "Write a new migration file chained to the current head.", function(c)
    c:option("-m --message", "What the migration does."):count(1)
    c:option("--head", "Parent revision: a head, LABEL@head, base for a new root (default: the single head).")
      :argname("REV")
    c:flag("--splice", "Allow --head to name a revision that is not a head (starts a new branch).")
    c:option("--rev-id", "Use this revision id instead of a random one."):argname("ID")
    c:option("--depends-on", "A revision or branch label that must be applied first."):argname("REV"):count("*")
    c:option("--branch-label", "Label for a new branch."):argname("LABEL"):count("*")
  end },
  { "merge", "Write a merge revision joining REV... (e.g. heads).", function(c)
    c:option("-m --message", "What the merge is for."):count(1)
    c:option("--rev-id", "Use this revision id instead of a random one."):argname("ID")
    c:option("--branch-label", "Label for the merged branch."):argname("LABEL"):count("*")
    c:argument("revisions", "Revisions to merge (heads, LABEL@head, ids)."):args("+")
  end },
  { "upgrade", "Apply migrations up to TARGET (default: head).", function(c)
    c:argument("target", "Where to go ([FROM:]TO with --sql)."):args("?")
    c:flag("--sql", "Print the SQL instead of running it (offline: no connection).")
    c:flag("--dry-run", "Run in one transaction that is rolled back; backfills only count their rows.")
  end },
  { "downgrade", "Revert migrations down to TARGET (-1, a revision, base).", function(c)
    c:argument("target", "Where to go (FROM:TO with --sql)."):args("?")
    c:flag("--sql", "Print the SQL instead of running it (offline: no connection).")
  end },
  { "current", "Show the database's current revision(s)." },
  { "history", "List revisions, newest first; * marks applied ones.", function(c)
    c:option("-r --rev-range", "Only revisions in A:B (either side may be empty; `current` allowed)."):argname("A:B")
  end },
  { "heads", "Show the head revision(s) of the migration files.", function(c)
    c:flag("-v --verbose", "Show each head's details.")
  end },
  { "branches", "Show branch points (revisions with several children)." },
  { "show", "Show one revision.", function(c)
    c:argument("target", "Revision."):args("?")
  end },
  { "stamp", "Set the version table to TARGET(s) without running migrations.", function(c)
    c:argument("target", "Revision(s), head, heads or base."):args("*")
  end },
  { "status", "Applied and pending revisions, drift and failures." },
  { "drill", "Rehearse every downgrade on a scratch database (or run a drill script).", function(c)
    c:argument("script", "A drill script (drills/*.lua) instead of the built-in walk."):args("?")
    c:option("--from", "Start after this revision (default: base)."):argname("REV")
    c:option("--to", "Stop at this revision (default: heads)."):argname("REV")
    c:option("--scratch-url", "Drill on this (empty) database instead of a temporary one."):argname("URL")
    c:flag("--keep", "Keep the scratch database and print where it is.")
    c:flag("--with-seeds", "Run the seeds (seeds/*.lua) before each step; rows lost across a round trip fail it.")
  end },
  { "check", "Exit 0 when the database is at head, 3 when not." },
  { "plugins", "List the plugins (shipped and the project's) and their commands." },
}

local BUILTIN = {}
for _, spec in ipairs(COMMANDS) do BUILTIN[spec[1]] = true end
BUILTIN.help = true

-- A plugin command's arguments and options, from its declarative spec:
--   args = { { "names", "help", "*" } }, options = { { "--env", "help", "ENV" }, { "--yes", "help", flag = true } }
local function plugin_options(c, spec)
  for _, a in ipairs(spec.args or {}) do c:argument(a[1], a[2] or ""):args(a[3] or 1) end
  for _, o in ipairs(spec.options or {}) do
    if o.flag then
      c:flag(o[1], o[2] or "")
    else
      c:option(o[1], o[2] or ""):argname(o[3] or "VALUE")
    end
  end
end

-- The command word of argv (skipping global options and their values).
local function command_word(argv)
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-c" or a == "--config" or a == "--url" then
      i = i + 2
    elseif a:match("^%-") then
      i = i + 1
    else
      return a
    end
  end
end

local function config_flag(argv)
  for i, a in ipairs(argv) do
    if (a == "-c" or a == "--config") and argv[i + 1] then return argv[i + 1] end
    local v = a:match("^%-%-config=(.*)$")
    if v then return v end
  end
end

-- The parser. Only commands named in argv get their options (building all
-- of them costs more start-up time than the rest of `luamig current`).
local function build_parser(argv, plugin_list)
  local named = {}
  for _, a in ipairs(argv) do named[a] = true end
  local p = argparse("luamig", "Database migrations written in Lua, for SQLite and PostgreSQL.")
    :command_target("command")
    :require_command(false)
    :epilog("Targets: head, heads, base, a revision id or unique prefix, +N, -N, REV+N, REV-N, " ..
      "LABEL@head, LABEL@base, LABEL@REV, LABEL@+N.\n" ..
      "Exit codes: 0 ok, 1 migration or database failure, 2 bad usage/config/migration files, " ..
      "3 `check`: not at head.")
  common(p, true)
  p:flag("--version", "Print the version and exit.")
  for _, spec in ipairs(COMMANDS) do
    local c = p:command(spec[1], spec[2])
    if named[spec[1]] then
      common(c)
      if spec[3] then spec[3](c) end
    end
  end
  for _, plugin in ipairs(plugin_list or {}) do
    local names = {}
    for name in pairs(plugin.commands) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local spec = plugin.commands[name]
      local c = p:command(name, (spec.help or "") .. " [plugin " .. plugin.name .. "]")
      if named[name] then
        common(c)
        plugin_options(c, spec)
      end
    end
  end
  return p
end

local function print_json(doc)
  io.stdout:write(json.encode(doc), "\n")
end

-- Report an error: one message on stderr (and a JSON error document with
-- --json), a traceback with --debug. Returns the exit code.
local function report(e, log, opts)
  local text = errors.text(e)
  if log then log:error(text) else io.stderr:write("luamig: ", text, "\n") end
  if opts.debug and type(e) == "table" and e.traceback then io.stderr:write(e.traceback, "\n") end
  if opts.json then
    print_json({ error = { kind = errors.is(e) and e.kind or "internal", message = text } })
  end
  return errors.exit_code(e)
end

---Entry point called by the host with argv (without the program name).
---@param argv string[]
---@return integer exit code
function M.main(argv)
  help_wanted = nil
  -- Plugins are loaded only when argv names no built-in command (or asks
  -- for help): a plugin command, or a mistake to explain.
  local word = command_word(argv)
  local plugin_list, plugin_err
  if not word or not BUILTIN[word] then
    local ok, res = pcall(function()
      return plugins.load(config.load(config_flag(argv)), BUILTIN)
    end)
    if ok then plugin_list = res else plugin_err = res end
  end
  if word and not BUILTIN[word] and plugin_err then
    io.stderr:write("luamig: ", errors.text(plugin_err), "\n")
    return errors.exit_code(plugin_err)
  end
  local parser = build_parser(argv, plugin_list)
  -- argparse reads "-1" as an option; relative targets are never options,
  -- so mark them and unmark after parsing.
  local marked = {}
  for i, a in ipairs(argv) do marked[i] = a:match("^%-%d") and ("\1" .. a) or a end
  local parsed_ok, args = parser:pparse(marked)
  if parsed_ok then
    for _, k in ipairs(COMMON) do
      if args[k] == nil then args[k] = args["global_" .. k] end
    end
    local function unmark(v) return (v:gsub("^\1", "")) end
    for _, k in ipairs({ "target", "rev_range", "revisions" }) do
      if type(args[k]) == "string" then
        args[k] = unmark(args[k])
      elseif type(args[k]) == "table" then
        for i, v in ipairs(args[k]) do args[k][i] = unmark(v) end
      end
    end
  end
  if help_wanted then
    io.stdout:write(help_wanted:get_help(), "\n")
    return 0
  end
  if not parsed_ok then
    io.stderr:write("luamig: ", args, "\n", "Run `luamig --help` for the commands and their options.\n")
    return 2
  end
  if args.version then
    io.stdout:write("luamig ", host.version, " (", _VERSION, ")\n")
    return 0
  end
  if not args.command then
    io.stdout:write(parser:get_help(), "\n")
    return 2
  end
  if os.getenv("LUAMIG_DEBUG") and os.getenv("LUAMIG_DEBUG") ~= "" then args.debug = true end

  local log = log_mod.new({ quiet = args.quiet, json = args.json, debug = args.debug })
  local ctx
  local ok, result = xpcall(function()
    ctx = {
      config = config.load(args.config),
      url = args.url,
      log = log,
      builtin = BUILTIN,
      on_step = function(step) render.step(log, step) end,
    }
    if BUILTIN[args.command] then return command[args.command](ctx, args) end
    return command.run_plugin_command(ctx, args.command, args)
  end, function(e)
    if type(e) == "table" then
      e.traceback = e.traceback or debug.traceback(errors.text(e), 2)
      return e
    end
    -- an unexpected Lua error inside the runner: keep the traceback
    return errors.new("internal", tostring(e), { traceback = debug.traceback(tostring(e), 2) })
  end)
  if ctx and ctx.session then ctx.session.db:close() end
  if not ok then return report(result, log, args) end

  if args.json then
    print_json(result)
  elseif render[args.command] then
    render[args.command](log, result)
  end
  if args.command == "check" and not result.at_head then return M.EXIT_NOT_AT_HEAD end
  if args.command == "drill" and not result.ok then return 1 end
  return 0
end

return M
