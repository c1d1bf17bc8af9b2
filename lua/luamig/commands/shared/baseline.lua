--- `revision --baseline`: the dump as a new root revision. In a project
--- without migrations, of the live database (stamped there only with
--- --stamp); otherwise of the schema at head, built on a scratch database,
--- listing the revisions it squashes as `replaces` (luamig.revision.build).
local session = require "luamig.run.session"
local lfs = require "lfs"
local dump_cmd = require "luamig.commands.dump"
local drill_cmd = require "luamig.commands.drill"
local format = require "luamig.commands.shared.format"
local errors = require "luamig.util.errors"
local fs = require "luamig.util.fs"
local host = require "luamig.host"
local revision_file = require "luamig.revision.write"
local runner = require "luamig.run.runner"
local scratch = require "luamig.run.scratch"
local scripts = require "luamig.revision.scripts"
local stamp = require "luamig.run.stamp"

local M = {}

-- The revisions a squash replaces, oldest first: everything below the single head.
local function squashed(g)
  local heads = g:heads()
  if #heads > 1 then
    errors.raise("usage", ("revision --baseline squashes one line of history, and there are several heads (%s): " ..
      "merge them first (`luamig merge -m MSG heads`)"):format(table.concat(heads, ", ")))
  end
  if next(g.replaced) then
    errors.raise("usage", "the migrations already hold a baseline that replaces others: once every database is " ..
      "past it, delete the files it replaces, then squash again")
  end
  return g:ordered(g:ancestors(heads))
end

-- Write `text` at `path` in `dir`; `after()` runs next, and the file is removed if it fails.
local function write(dir, path, text, after)
  if not fs.is_dir(dir) then lfs.mkdir(dir) end
  revision_file.write_new(path, text)
  if not after then return end
  local ok, err = pcall(after)
  if not ok then
    os.remove(path)
    error(err, 0)
  end
end

---@param ctx luamig.Context
---@param args {message: string, rev_id: string?, stamp: boolean?, scratch_url: string?, skip_unsupported: boolean?}
---@return table result: revision, path, replaces?, stamped?
function M.run(ctx, args)
  local id = args.rev_id or host.random_hex(12)
  local g = session.graph(ctx)
  local problem = scripts.id_problem(id, g.revs)
  if problem then errors.raise("usage", "--rev-id: " .. problem) end
  local path = revision_file.path(ctx.config.migrations, id, args.message)
  local opts = { id = id, message = args.message, skip_unsupported = args.skip_unsupported }
  local text, skipped
  if #g.load == 0 then
    local s = session.open(ctx)
    text, skipped = dump_cmd.text(s.db, s.dialect, opts)
    for _, what in ipairs(skipped) do ctx.log:warn("skipped (not covered by the schema model): " .. what) end
    write(ctx.config.migrations, path, text, args.stamp and function()
      ctx.graph = nil
      s.graph = session.graph(ctx)
      stamp.stamp(s, function() return { id } end)
    end)
    return { revision = id, path = path, skipped = skipped, stamped = args.stamp or false }
  end
  if args.stamp then
    errors.raise("usage", "--stamp goes with the baseline of a project without migrations: a squash replaces " ..
      "revisions a database may be at, and it counts as at the baseline once at the last one")
  end
  opts.replaces = squashed(g)
  scratch.with(session.scratch_options(ctx, { what = "revision --baseline",
    hint = drill_cmd.SCRATCH_HINT,
    scratch_url = args.scratch_url, fast = true }), function(s)
    runner.run_to(s, "up", "heads")
    text, skipped = dump_cmd.text(s.db, s.dialect, opts)
  end)
  for _, what in ipairs(skipped) do ctx.log:warn("skipped (not covered by the schema model): " .. what) end
  write(ctx.config.migrations, path, text)
  return { revision = id, path = path, skipped = skipped, replaces = opts.replaces }
end

function M.render(log, r)
  if r.replaces then
    log:result(("Created %s (revision %s, a baseline replacing %d revisions, %s .. %s): a fresh database applies " ..
      "only it; a database at a replaced revision upgrades through the old files to %s, which counts as this " ..
      "baseline."):format(format.visible(r.path), r.revision, #r.replaces, r.replaces[1], r.replaces[#r.replaces],
      r.replaces[#r.replaces]))
  elseif r.stamped then
    log:result(("Created %s (revision %s, the baseline of the live schema) and stamped the database at it.")
      :format(format.visible(r.path), r.revision))
  else
    log:result(("Created %s (revision %s, the baseline of the live schema); the database was not stamped: " ..
      "`luamig stamp %s` (or --stamp) marks it as at the baseline."):format(format.visible(r.path), r.revision,
      r.revision))
  end
end

return M
