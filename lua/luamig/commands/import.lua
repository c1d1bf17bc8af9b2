--- `import alembic [--versions DIR]`: adopt an Alembic-managed database. The
--- live schema becomes the project's first migration, a root revision whose
--- id is Alembic's current head, and luamig's version table is stamped
--- there; alembic_version is left as it is. Nothing is written unless every
--- check passes.
local alembic = require "luamig.tools.alembic"
local session = require "luamig.run.session"
local dump_cmd = require "luamig.commands.dump"
local errors = require "luamig.util.errors"
local format = require "luamig.commands.shared.format"
local fs = require "luamig.util.fs"
local revision_file = require "luamig.revision.write"
local stamp = require "luamig.run.stamp"
local scripts = require "luamig.revision.scripts"
local lfs = require "lfs"

local M = {
  example = { "luamig import alembic", "luamig import alembic --versions ../app/alembic/versions" },
  readonly = true, -- (a missing SQLite file is an error, never created)
  args = { { "tool", "The tool that manages the database today: alembic.", 1 } },
  options = {
    { "--versions", "Alembic's versions folder: refuse unless its head is the database's stamp.", "DIR" },
    { "--skip-unsupported", "Leave out of the baseline the objects luamig's schema model does not cover " ..
      "(named at the top of the file and on stderr).", flag = true },
  },
}

function M.run(ctx, args)
  if args.tool ~= "alembic" then
    errors.raise("usage", ("import %s: luamig imports from alembic only"):format(args.tool))
  end
  local s = session.open(ctx)
  local id = alembic.stamp(s.db, s.dialect)
  if args.versions then
    local heads = alembic.heads(args.versions)
    if #heads > 1 then
      errors.raise("usage", ("%s has several Alembic heads (%s), the database is at %s: merge them in Alembic " ..
        "first; nothing was changed"):format(args.versions, table.concat(heads, ", "), id))
    end
    if heads[1] ~= id then
      errors.raise("usage", ("the database is at Alembic revision %s but %s's head is %s: upgrade the database with " ..
        "Alembic (or pass the folder it was upgraded from); nothing was changed"):format(id, args.versions, heads[1]))
    end
  end
  local problem = scripts.id_problem(id)
  if problem then errors.raise("usage", "Alembic's revision id cannot be luamig's: " .. problem) end
  local n = 0
  for _ in pairs(s.graph.revs) do n = n + 1 end
  if n > 0 then
    errors.raise("usage", ("%s already holds %d migration%s: import alembic writes a project's first migration; " ..
      "run it in a new project (`luamig init`); nothing was changed"):format(ctx.config.migrations, n,
      n == 1 and "" or "s"))
  end
  local current = session.heads(s)
  if #current > 0 then
    errors.raise("usage", ("luamig's version table already says %s; nothing was changed"):format(format.heads(current)))
  end
  local text, skipped = dump_cmd.text(s.db, s.dialect, { id = id, skip_unsupported = args.skip_unsupported,
    message = "baseline: the schema at Alembic revision " .. id })
  for _, what in ipairs(skipped) do ctx.log:warn("skipped (not covered by the schema model): " .. what) end
  if not fs.is_dir(ctx.config.migrations) then lfs.mkdir(ctx.config.migrations) end
  local path = ("%s/%s_baseline_from_alembic.lua"):format(ctx.config.migrations, id)
  revision_file.write_new(path, text)
  local ok, err = pcall(function()
    ctx.graph = nil
    s.graph = session.graph(ctx)
    stamp.stamp(s, function() return { id } end)
  end)
  if not ok then
    os.remove(path)
    error(err, 0)
  end
  return { revision = id, path = path, skipped = skipped }
end

function M.render(log, r)
  log:result(("Wrote %s, the baseline of the live schema, as revision %s (Alembic's head), and stamped the " ..
    "database there; alembic_version is untouched."):format(format.visible(r.path), r.revision))
end

return M
