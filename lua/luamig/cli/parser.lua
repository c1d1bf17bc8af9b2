--- The argparse parser built from the command registry: the options every
--- command takes, each command's declared arguments and options, and the
--- parsing quirks (global options before the command, "-1" targets), and
--- M.quick, which parses ordinary command lines without building it.
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
  local p = require("argparse")("luamig", M.SUMMARY)
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

-- The args key argparse gives an option: its target, else its first long
-- name ("--dry-run" -> "dry_run").
local function key_of(o)
  return o.target or o.dest or (o[1]:match("%-%-(%S+)") or o[1]:match("%-(%S+)")):gsub("%-", "_")
end

-- The options M.quick takes as they are: flags given once, options with one
-- value given once. Others (counts, choices, several values) go to argparse.
local function simple(o)
  return not (o.count or o.choices or o.args)
end

-- Adds alias -> { key, flag } of `options` to `out` (false for an option
-- that is not simple: argparse parses a command line that uses it).
local function index(out, options, prefix)
  for _, o in ipairs(options) do
    local v = simple(o) and { key = prefix .. key_of(o), flag = o.flag }
    for alias in o[1]:gmatch("%S+") do out[alias] = v end
  end
  return out
end

---The arguments of an ordinary command line, as M.parse would return them,
---without building the argparse parser (which costs more than the rest of
---`luamig current`): a built-in command, the common options (before or
---after it), its own simple options and its positional arguments. Returns
---nil for anything else (no command, help, --version, "--", a repeated or
---unknown option, a missing or extra argument...): M.build and M.parse
---then parse it, and word its mistakes.
---@param argv string[]
---@param list luamig.Command[]  registry.list()
---@return table? args
function M.quick(argv, list)
  local word = M.command_word(argv)
  local entry = word and registry.find(list, word)
  if not entry or entry.run or word == "help" then return nil end -- (a plugin's command, help: argparse)
  local cmd = registry.load(entry)
  local before = index({}, M.COMMON, "global_")
  local after = index(index({}, M.COMMON, ""), cmd.options or {}, "")
  if fleet.COMMANDS[word] then index(after, fleet.OPTIONS, "") end
  local args, positional, seen, i = { command = word, [word] = true }, {}, {}, 1
  local opts = before
  while i <= #argv do
    local a = argv[i]
    if a == word and opts == before then
      opts = after
    elseif a:match("^%-%D") or a == "-" then
      local name, value = a:match("^(%-%-[^=]+)=(.*)$")
      local o = opts[name or a]
      if not o or seen[o.key] or (o.flag and value) then return nil end
      seen[o.key] = true
      if o.flag then
        args[o.key] = true
      else
        if not value then
          i = i + 1
          value = argv[i]
          if not value or value:match("^%-") then return nil end
        end
        args[o.key] = value
      end
    elseif opts == before then
      return nil
    else
      positional[#positional + 1] = a
    end
    i = i + 1
  end
  local n = 1
  for k, d in ipairs(cmd.args or {}) do
    local count, key = d[3] or 1, d[1]
    if count == 1 then
      if not positional[n] then return nil end
      args[key], n = positional[n], n + 1
    elseif k ~= #cmd.args then
      return nil -- an optional argument before another: argparse decides
    elseif count == "?" then
      args[key], n = positional[n], n + (positional[n] and 1 or 0)
    elseif count == "*" or count == "+" then
      if count == "+" and not positional[n] then return nil end
      args[key] = table.move(positional, n, #positional, 1, {})
      n = #positional + 1
    else
      return nil
    end
  end
  if positional[n] then return nil end
  for _, o in ipairs(M.COMMON) do
    local k = o.target
    if args[k] == nil then args[k] = args["global_" .. k] end
  end
  return args
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
