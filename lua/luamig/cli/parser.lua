--- The argparse parser built from the command registry: the options every
--- command takes, each command's declared arguments and options, and the
--- parsing quirks (global options before the command, "-1" targets).
local argparse = require "argparse"
local registry = require "luamig.cli.registry"
local fleet = require "luamig.fleet.options"

local M = {}

local COMMON = { "config", "url", "json", "quiet", "debug" }

-- Arguments whose values may look like options ("-1"; --jobs -1 is then refused as a count).
local TARGETS = { "target", "rev_range", "revisions", "jobs", "canary" }

local function help_flag(p, state)
  p:add_help(false)
  p:flag("-h --help", "Show this help and exit."):action(function() state.help = state.help or p end)
end

-- The options every command takes. Given before the command they land in
-- "global_<name>" (argparse would reset a shared target when the command
-- starts); M.parse merges the two.
local function common(p, state, global)
  local t = global and "global_" or ""
  help_flag(p, state)
  p:option("-c --config", "Config file (default: ./luamig.lua if present)."):argname("FILE"):target(t .. "config")
  p:option("--url", "Database URL; overrides $LUAMIG_URL, $DATABASE_URL and the config."):argname("URL")
    :target(t .. "url")
  p:flag("--json", "Print one JSON document on stdout."):target(t .. "json")
  p:flag("-q --quiet", "Print only results and errors."):target(t .. "quiet")
  p:flag("--debug", "Show Lua tracebacks with errors."):target(t .. "debug")
end

-- A command's declared arguments and options (luamig.Command's args, options).
local function declare_options(c, options)
  for _, o in ipairs(options) do
    local opt = o.flag and c:flag(o[1], o[2] or "") or c:option(o[1], o[2] or ""):argname(o[3] or "VALUE")
    if o.count then opt:count(o.count) end
    if o.args then opt:args(o.args) end
    if o.dest then opt:target(o.dest) end
  end
end

local function declare(c, cmd)
  for _, a in ipairs(cmd.args or {}) do c:argument(a[1], a[2] or ""):args(a[3] or 1) end
  declare_options(c, cmd.options or {})
  if fleet.COMMANDS[cmd.name] then declare_options(c, fleet.OPTIONS) end
  if cmd.example then c:epilog("Example: " .. cmd.example) end
end

---The parser for `argv` over the registry's `list`. Only commands named in
---argv get their options (loading every command module and building all
---options costs more start-up time than the rest of `luamig current`).
---@param argv string[]
---@param list luamig.Command[]  registry.list()
---@return table parser, table state  state.help: the parser whose --help was given
function M.build(argv, list)
  local named, state = {}, {}
  for _, a in ipairs(argv) do named[a] = true end
  local p = argparse("luamig", "Database migrations written in Lua, for SQLite and PostgreSQL.")
    :command_target("command")
    :require_command(false)
    :epilog("Targets: head, heads, base, a revision id or unique prefix, +N, -N, REV+N, REV-N, " ..
      "LABEL@head, LABEL@base, LABEL@REV, LABEL@+N.\n" ..
      "Exit codes: 0 ok, 1 migration or database failure, 2 bad usage/config/migration files, " ..
      "3 `check`: not at head, 4 `check --fail-on-drift`: an applied migration's file changed.")
  common(p, state, true)
  p:flag("--version", "Print the version and exit.")
  for _, entry in ipairs(list) do
    local c = p:command(entry.name, entry.help)
    if named[entry.name] then
      common(c, state)
      declare(c, registry.load(entry))
    end
  end
  return p, state
end

---Parse `argv`: ok and the arguments (common options merged, targets as
---given), or false and the message.
---@param p table  M.build's parser
---@param argv string[]
---@return boolean ok, table|string args
function M.parse(p, argv)
  -- argparse reads "-1" as an option; relative targets are never options,
  -- so mark them and unmark after parsing.
  local marked = {}
  for i, a in ipairs(argv) do marked[i] = a:match("^%-%d") and ("\1" .. a) or a end
  local ok, args = p:pparse(marked)
  if not ok then return false, args end
  for _, k in ipairs(COMMON) do
    if args[k] == nil then args[k] = args["global_" .. k] end
  end
  local function unmark(v) return (v:gsub("^\1", "")) end
  for _, k in ipairs(TARGETS) do
    if type(args[k]) == "string" then
      args[k] = unmark(args[k])
    elseif type(args[k]) == "table" then
      for i, v in ipairs(args[k]) do args[k][i] = unmark(v) end
    end
  end
  return true, args
end

---The command word of argv (skipping global options and their values).
---@param argv string[]
---@return string?
function M.command_word(argv)
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

---The value of -c/--config in argv, if any.
---@param argv string[]
---@return string?
function M.config_flag(argv)
  for i, a in ipairs(argv) do
    if (a == "-c" or a == "--config") and argv[i + 1] then return argv[i + 1] end
    local v = a:match("^%-%-config=(.*)$")
    if v then return v end
  end
end

return M
