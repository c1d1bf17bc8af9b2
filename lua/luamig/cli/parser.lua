--- The argparse parser built from the command registry: the options every
--- command takes, each command's declared arguments and options, and the
--- parsing quirks (global options before the command, "-1" targets).
local argparse = require "argparse"
local registry = require "luamig.cli.registry"
local fleet = require "luamig.fleet.options"

local M = {}

M.SUMMARY = "Database migrations written in Lua, for SQLite and PostgreSQL."
M.TARGETS = "head, heads, base, a revision id or unique prefix, +N, -N, REV+N, REV-N, " ..
  "LABEL@head, LABEL@base, LABEL@REV, LABEL@+N."
M.EXIT_CODES = "0 ok, 1 migration or database failure, 2 bad usage/config/migration files, " ..
  "3 `check`: not at head, 4 `check --fail-on-drift`: an applied migration's file changed, " ..
  "5 `check`: the declared schema (schema.lua) differs from the migrations at head, " ..
  "6 the migration lock was not free within lock_timeout"

-- The options every command takes, as a command's `options` are declared.
---@type table[]
M.COMMON = {
  { "-c --config", "Config file (default: ./luamig.lua if present).", "FILE", target = "config" },
  { "--url", "Database URL; overrides $LUAMIG_URL, $DATABASE_URL and the config.", "URL", target = "url" },
  { "--json", "Print one JSON document on stdout.", flag = true, target = "json" },
  { "-q --quiet", "Print only results and errors.", flag = true, target = "quiet" },
  { "--debug", "Show Lua tracebacks with errors.", flag = true, target = "debug" },
}

-- Arguments and option values that name revisions: completion offers the
-- revision ids, labels, head/heads/base for them.
M.TARGET_ARGS = { target = true, revisions = true }
M.TARGET_ARGNAMES = { REV = true, TARGET = true, ["A:B"] = true }

-- Help pages put every option on one line ("-c, --config FILE"; argparse
-- would split aliases with an argument over several lines), descriptions
-- starting in one column.
local MARGIN = 28

---An option's help label: "-c, --config FILE".
---@param o table  an entry of a command's `options` (or M.COMMON)
---@return string
function M.label(o)
  local aliases = {}
  for w in o[1]:gmatch("%S+") do aliases[#aliases + 1] = w end
  return table.concat(aliases, ", ") .. (o.flag and "" or (" " .. (o[3] or "VALUE")))
end

local function add_option(c, o, target)
  local opt = o.flag and c:flag(o[1], o[2] or "") or c:option(o[1], o[2] or ""):argname(o[3] or "VALUE")
  if o.count then opt:count(o.count) end
  if o.choices then opt:choices(o.choices) end
  if o.args then opt:args(o.args) end
  if target then opt:target(target) end
  local label = M.label(o)
  opt._get_label_lines = function() return { label } end
  return opt
end

local function help_flag(p, state)
  p:add_help(false)
  p:flag("-h --help", "Show this help and exit."):action(function() state.help = state.help or p end)
end

-- The options every command takes. Given before the command they land in
-- "global_<name>" (argparse would reset a shared target when the command
-- starts); M.parse merges the two.
local function common(p, state, global)
  help_flag(p, state)
  for _, o in ipairs(M.COMMON) do add_option(p, o, (global and "global_" or "") .. o.target) end
end

---A command's examples as a list (`example` is one string or a list).
---@param cmd luamig.Command
---@return string[]
function M.examples(cmd)
  local e = cmd.example
  if type(e) == "string" then return { e } end
  return e or {}
end

-- A command's declared arguments and options (luamig.Command's args, options).
local function declare(c, cmd)
  for _, a in ipairs(cmd.args or {}) do c:argument(a[1], a[2] or ""):args(a[3] or 1) end
  for _, o in ipairs(cmd.options or {}) do add_option(c, o) end
  if fleet.COMMANDS[cmd.name] then
    for _, o in ipairs(fleet.OPTIONS) do add_option(c, o, o.dest) end
  end
  local ex, epilog = M.examples(cmd), {}
  if cmd.exit_codes then epilog[1] = "Exit codes: " .. M.EXIT_CODES .. "." end
  if #ex > 0 then epilog[#epilog + 1] = (#ex > 1 and "Examples:\n   " or "Example:\n   ") .. table.concat(ex, "\n   ") end
  if #epilog > 0 then c:epilog(table.concat(epilog, "\n\n")) end -- (the examples end the page)
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
  local p = argparse("luamig", M.SUMMARY)
    :command_target("command")
    :require_command(false)
    :epilog("Targets: " .. M.TARGETS .. "\nExit codes: " .. M.EXIT_CODES .. ".")
  p:help_description_margin(MARGIN)
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

---Every command of `list` complete (modules loaded): what the man page and
---the completion scripts are generated from.
---@param list luamig.Command[]
---@return luamig.Command[]
function M.commands(list)
  local out = {}
  for i, entry in ipairs(list) do out[i] = registry.load(entry) end
  return out
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
  for _, o in ipairs(M.COMMON) do
    local k = o.target
    if args[k] == nil then args[k] = args["global_" .. k] end
  end
  -- unmark every value: marked words are positional ones of any command
  local function unmark(v) return (v:gsub("^\1", "")) end
  for k, v in pairs(args) do
    if type(v) == "string" then
      args[k] = unmark(v)
    elseif type(v) == "table" then
      for i, x in ipairs(v) do
        if type(x) == "string" then v[i] = unmark(x) end
      end
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
