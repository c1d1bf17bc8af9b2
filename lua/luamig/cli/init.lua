--- Command line: parse argv against the command registry, run the command,
--- print its result (text or --json) and turn it, or the error, into an exit
--- code. Only here do results and errors become output and exit codes.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local config = require "luamig.project.config"
local redact = require "luamig.util.redact"
local log_mod = require "luamig.util.log"
local json = require "luamig.util.json"
local api = require "luamig.cli.api"
local registry = require "luamig.cli.registry"
local parser = require "luamig.cli.parser"
local fleet = require "luamig.fleet.options"

local M = {}

local EXIT = errors.EXIT

-- User-provided text in a message, shown with its control characters
-- escaped (loaded only on the error path: start-up time).
local function visible(text)
  return require("luamig.util.text").visible(text, true)
end

local function print_json(doc)
  io.stdout:write(json.encode(doc), "\n")
end

-- Report an error: one message on stderr (and a JSON error document with
-- --json), a traceback with --debug. Returns the exit code. Whatever the
-- error says, the passwords of every URL the run was given are scrubbed.
local function report(e, log, opts, cfg)
  local secrets = redact.secrets_of(opts.url, opts.scratch_url, os.getenv("LUAMIG_URL"), os.getenv("DATABASE_URL"),
    cfg and cfg.url)
  local text = visible(redact.scrub(errors.text(e), secrets))
  if log then log:error(text) else io.stderr:write("luamig: ", text, "\n") end
  if opts.debug and type(e) == "table" and e.traceback then
    io.stderr:write(redact.scrub(e.traceback, secrets), "\n")
  end
  if opts.json then
    print_json({ error = { kind = errors.is(e) and e.kind or "internal", message = text } })
  end
  return errors.exit_code(e)
end

-- Run the parsed command; print its result; return the exit code.
local function run(cmd, args)
  if os.getenv("LUAMIG_DEBUG") and os.getenv("LUAMIG_DEBUG") ~= "" then args.debug = true end
  local log = log_mod.new({ quiet = args.quiet, json = args.json, debug = args.debug })
  local env = { config_path = args.config, url = args.url, log = log,
    dispatch = fleet.dispatch } -- --all / --target: the fleet run of the command
  local ok, result, code, ran = pcall(api.execute, cmd, args, env)
  if not ok then return report(result, log, args, env.ctx and env.ctx.config) end
  cmd = ran
  if args.json then
    print_json(result)
  elseif cmd.render then
    cmd.render(log, result)
  end
  return code
end

-- The plugins, loaded only when argv names no built-in command (or asks for
-- help): a plugin command, or a mistake to explain. Returns the list, or
-- nil and the error that loading raised.
local function load_plugins(argv, word)
  if word and registry.RESERVED[word] then return nil end
  local ok, res = pcall(function()
    return require("luamig.project.plugins").load(config.load(parser.config_flag(argv)), registry.RESERVED)
  end)
  if ok then return res end
  return nil, res
end

-- libpq's version number (150005, or 90624 before 10) as text.
local function libpq_version(n)
  if n >= 100000 then return ("%d.%d"):format(n // 10000, n % 10000) end
  return ("%d.%d.%d"):format(n // 10000, n // 100 % 100, n % 100)
end

-- --version: luamig and Lua, then the database libraries (libpq is loaded
-- on first use: a machine without it can still run SQLite).
local function version_text()
  local sqlite = require "luamig.sqlite"
  local ok, pg = pcall(require, "luamig.pg")
  local pq = ok and ("libpq " .. libpq_version(pg.libpq_version))
    or ("libpq not available (" .. errors.text(pg):gsub("\n.*", "") .. ")")
  return ("luamig %s (%s)\nSQLite %s\n%s\n"):format(host.version, _VERSION, sqlite.version, pq)
end

---Entry point called by the host with argv (without the program name).
---@param argv string[]
---@return integer exit code
function M.main(argv)
  local word = parser.command_word(argv)
  local plugin_list, plugin_err = load_plugins(argv, word)
  if word and plugin_err then return report(plugin_err, nil, {}) end
  local list = registry.list(plugin_list)
  local quick = parser.quick(argv, list)
  if quick then return run(registry.load(registry.find(list, quick.command)), quick) end
  local p, state = parser.build(argv, list)
  local parsed_ok, args = parser.parse(p, argv)
  if state.help then
    io.stdout:write(state.help:get_help(), "\n")
    return EXIT.ok
  end
  if not parsed_ok then
    io.stderr:write("luamig: ", visible(args), "\n", "Run `luamig --help` for the commands and their options.\n")
    return EXIT.usage
  end
  if args.version then
    io.stdout:write(version_text())
    return EXIT.ok
  end
  if not args.command then
    io.stdout:write(p:get_help(), "\n")
    return EXIT.usage
  end
  return run(registry.load(registry.find(list, args.command)), args)
end

return M
