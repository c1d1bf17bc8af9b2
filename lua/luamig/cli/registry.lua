--- The command registry: the built-in commands, one module each under
--- luamig.commands (loaded only when named; help and completion, which read
--- this registry and the parser, are in luamig.cli), and the plugins' commands.
--- Every entry has the same shape, so the parser and dispatch need no
--- special case.
local errors = require "luamig.util.errors"
local plugin_ctx = require "luamig.util.lazy" "luamig.project.plugin_ctx" -- (a plugin's command only)

local M = {}

---@class luamig.Command
---@field name string
---@field help string        one line: the command list and the command's --help
---@field example string?    shown at the end of its --help
---@field args table[]?      { NAME, help, count } (count as argparse's args: 1, "?", "*", "+")
---@field options table[]?   { "-s --long", help, ARGNAME, flag = true?, count = N|"*"? }
---@field run fun(ctx: luamig.Context, args: table): table  the result, also the --json document
---@field render fun(log: luamig.Log, result: table)?       its text output
---@field exit fun(result: table): integer?                 its exit code (default errors.EXIT.ok)
---@field exit_codes boolean?  its --help lists luamig's exit codes (a command scripts branch on)
---@field readonly boolean?  only reads the database: it must not create one (a missing SQLite file is an error)

-- The built-in commands in --help order: name and summary. The summaries
-- live here so that the command list costs no module load at start-up.
M.BUILTIN = {
  { "init", "Scaffold a project (luamig.lua, migrations/, plugins/, seeds/, drills/).",
    module = "luamig.commands.init_project" },
  { "revision", "Write a new migration file chained to the current head." },
  { "merge", "Write a merge revision joining REV... (e.g. heads)." },
  { "upgrade", "Apply migrations up to TARGET (default: head)." },
  { "downgrade", "Revert migrations down to TARGET (-1, a revision, base)." },
  { "contract", "Run the pending contract phases of expanded migrations (after the old application is gone)." },
  { "current", "Show the database's current revision(s)." },
  { "history", "List revisions, newest first; * marks applied ones." },
  { "heads", "Show the head revision(s) of the migration files." },
  { "branches", "Show branch points (revisions with several children)." },
  { "show", "Show one revision." },
  { "stamp", "Set the version table to TARGET(s) without running migrations." },
  { "status", "Applied and pending revisions, drift and failures." },
  { "dump", "Write the live schema as one migration (or, with --declared, as schema.lua)." },
  { "import", "Adopt a database another tool manages: `import alembic` writes a baseline at Alembic's head." },
  { "drill", "Rehearse every downgrade on a scratch database (or run a drill script)." },
  { "lint", "Run pending migrations on a scratch database; report their locks, rewrites and hazards." },
  { "check", "Exit 0 when the database is at head, 3 when not, 4 on drift (--fail-on-drift), 5 when the declared " ..
    "schema differs." },
  { "plugins", "List the plugins (shipped and the project's) and their commands." },
  { "graph", "Write the revision graph as Graphviz dot or Mermaid." },
  { "completion", "Print the shell completion script (bash, zsh, fish).", module = "luamig.cli.completion" },
  { "help", "Show a command's help (or the manual page with --man).", module = "luamig.cli.help" },
}

---Names plugins may not use: the built-in commands.
---@type table<string, true>
M.RESERVED = {}
for _, b in ipairs(M.BUILTIN) do M.RESERVED[b[1]] = true end

-- A plugin's command as a registry entry; its run gets the plugin context,
-- and an error it raises names the plugin.
local function plugin_entry(plugin, name, spec)
  return {
    name = name,
    help = (spec.help or "") .. " [plugin " .. plugin.name .. "]",
    args = spec.args,
    options = spec.options,
    run = function(ctx, args)
      local ok, res = xpcall(spec.run, function(e)
        if errors.is(e) then return e end
        return errors.new("migration", ("plugin %s: command %s failed: %s"):format(plugin.name, name, errors.text(e)))
      end, plugin_ctx.of(ctx), args)
      if not ok then error(res, 0) end
      return res or {}
    end,
  }
end

---Every command, in --help order: the built-in ones (name, help and module:
---M.load gives the rest), then the plugins' in plugin then command-name order.
---@param plugin_list luamig.Plugin[]?
---@return luamig.Command[]
function M.list(plugin_list)
  local out = {}
  for i, b in ipairs(M.BUILTIN) do
    out[i] = { name = b[1], help = b[2], module = b.module or ("luamig.commands." .. b[1]) }
  end
  for _, plugin in ipairs(plugin_list or {}) do
    local names = {}
    for name in pairs(plugin.commands) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do out[#out + 1] = plugin_entry(plugin, name, plugin.commands[name]) end
  end
  return out
end

---The complete command for an entry of M.list (a built-in's module is
---loaded now, once).
---@param entry luamig.Command
---@return luamig.Command
function M.load(entry)
  if entry.run then return entry end
  local c = require(entry.module)
  c.name, c.help = entry.name, entry.help
  return c
end

---The entry of `list` named `name`, or nil.
---@param list luamig.Command[]
---@param name string
---@return luamig.Command?
function M.find(list, name)
  for _, e in ipairs(list) do
    if e.name == name then return e end
  end
end

return M
