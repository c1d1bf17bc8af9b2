--- `drill [SCRIPT]`: rehearse downgrades on a scratch database
--- (luamig.tools.drill); exit 1 when a step does not round-trip.
local errors = require "luamig.util.errors"
local scratch = require "luamig.run.scratch"
local plugins = require "luamig.project.plugins"
local log_mod = require "luamig.util.log"
local session = require "luamig.run.session"
local plugin_ctx = require "luamig.project.plugin_ctx"
local format = require "luamig.commands.shared.format"
local fs = require "luamig.util.fs"
local drill = require "luamig.tools.drill"

local M = {
  example = "luamig drill --with-seeds",
  args = { { "script", "A drill script instead of the built-in walk: a path, or a name in drills/ " ..
    "(NAME.lua, NAME without its number, or a unique prefix).", "?" } },
  options = {
    { "--from", "Start after this revision (default: base).", "REV" },
    { "--to", "Stop at this revision (default: heads).", "REV" },
    { "--scratch-url", "Drill on this (empty) database instead of a temporary one.", "URL" },
    { "--keep", "Keep the scratch database and print where it is.", flag = true },
    { "--strict-order", "Fail on column order a downgrade cannot keep (a dropped column added back goes last); " ..
      "by default that is a note.", flag = true },
    { "--with-seeds", "Run the seeds (seeds/*.lua) before each step; a table whose rows are lost or changed " ..
      "across a round trip fails it.",
      flag = true },
  },
}

---For --with-seeds (drill, lint): a function running the seed plugin, quietly,
---on the scratch session `s`.
---@return fun()
function M.seeder(ctx, s)
  local _, plugin = plugins.command(plugin_ctx.plugin_list(ctx), "seed")
  if not plugin or not plugin.api then errors.raise("usage", "--with-seeds needs the seed plugin") end
  -- a context whose session is the scratch one (session.close is not called on it: M.run closes s.db)
  local pctx = plugin_ctx.of(session.new({ config = ctx.config, log = log_mod.new({ quiet = true }), graph = s.graph,
    session = s }))
  return function() plugin.api.run(pctx, { force = true, quiet = true }) end
end

-- The drill script `name` stands for: an existing file, else the one file
-- of `dir` it names as `seed NAME` names seeds ("01_release" or "release"),
-- else the one whose name (with or without its number) it starts.
local function script_path(name, dir)
  if fs.exists(name) and not fs.is_dir(name) then return name end
  local names, paths = fs.list_lua(dir)
  if not names then
    errors.raise("usage", ("%s is not a file, and there is no drills directory %s"):format(name, dir))
  end
  local bare = name:gsub("%.lua$", "")
  local exact, prefixed, shown = {}, {}, {}
  for i, file in ipairs(names) do
    local base = file:gsub("%.lua$", "")
    local short = base:gsub("^%d+[_-]", "")
    shown[i] = base
    if base == bare or short == bare then exact[#exact + 1] = paths[i] end
    if base:sub(1, #bare) == bare or short:sub(1, #bare) == bare then prefixed[#prefixed + 1] = paths[i] end
  end
  local found = #exact > 0 and exact or prefixed
  if #found == 1 then return found[1] end
  if #found == 0 then
    errors.raise("usage", ("no drill named %s in %s (%s)"):format(name, dir, #shown > 0 and table.concat(shown, ", ")
      or "it has no .lua file"))
  end
  errors.raise("usage", ("drill %s is ambiguous: %s; type more of the name"):format(name, table.concat(found, ", ")))
end

---The --scratch-url hint of the messages of drill and lint.
M.SCRATCH_HINT = "--scratch-url URL of an empty database"

function M.run(ctx, args)
  local script = args.script and script_path(args.script, ctx.config.drills) -- (before any scratch database)
  local out = { script = script }
  scratch.with(session.scratch_options(ctx, { what = "the drill", hint = M.SCRATCH_HINT, keep = args.keep,
    scratch_url = args.scratch_url }), function(s)
    out.scratch = (args.keep or args.scratch_url) and s.shown or nil
    if script then
      out.steps, out.ok = drill.script(s, script, ctx.log)
    else
      out.steps, out.ok = drill.walk(s, { from = args.from, to = args.to, strict_order = args.strict_order,
        seed = args.with_seeds and M.seeder(ctx, s) or nil })
    end
  end)
  return out
end

local function render_walk(log, r)
  log:result(("%-14s %9s %9s  %-6s  %s"):format("revision", "up", "down", "result", "message"))
  for _, st in ipairs(r.steps) do
    log:result(("%-14s %9s %9s  %-6s  %s"):format(st.revision, format.ms(st.up_ms), format.ms(st.down_ms), st.result,
      format.visible(st.message)))
    for _, p in ipairs(st.problems) do log:result("    " .. format.visible(p, true)) end
    for _, n in ipairs(st.notes or {}) do log:result("    note: " .. format.visible(n, true)) end
  end
  if r.ok then
    log:result(("%d revision%s round-trip."):format(#r.steps, format.plural(#r.steps)))
  else
    log:result("Drill failed at " .. r.steps[#r.steps].revision .. ".")
  end
end

function M.render(log, r)
  if r.script then
    local failed = 0
    for _, st in ipairs(r.steps) do
      if st.result ~= "ok" then failed = failed + 1 end
    end
    log:result(("%s: %d step%s, %d failed"):format(format.visible(r.script), #r.steps, format.plural(#r.steps), failed))
  else
    render_walk(log, r)
  end
  if r.scratch then log:result("Scratch database kept: " .. format.visible(r.scratch)) end
end

function M.exit(r)
  return r.ok and errors.EXIT.ok or errors.EXIT.failure
end

return M
