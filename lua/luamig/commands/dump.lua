--- `dump [-o FILE] [--declared] [--skip-unsupported]`: the live schema of
--- the configured database as one migration (a root revision whose
--- downgrade drops what its upgrade creates), or with --declared as a
--- declared schema (schema.lua). Written whole or not at all.
local connect = require "luamig.db.connect"
local session = require "luamig.run.session"
local dump = require "luamig.schema.dump"
local host = require "luamig.host"
local revision_file = require "luamig.revision.write"
local templates = require "luamig.revision.templates"
local format = require "luamig.commands.shared.format"
local scripts = require "luamig.revision.scripts"
local errors = require "luamig.util.errors"

local M = {
  example = { "luamig dump -o migrations/0001_baseline.lua", "luamig dump --declared -o schema.lua" },
  readonly = true,
  options = {
    { "-o --output", "Write to FILE (which must not exist) instead of stdout.", "FILE" },
    { "--declared", "Write the declared-schema format (schema.lua) instead of a migration.", flag = true },
    { "--skip-unsupported", "Leave out the objects luamig's schema model does not cover, naming each at the " ..
      "top of the file and on stderr, instead of failing.", flag = true },
    { "--rev-id", "The migration's revision id (default: a random one).", "ID" },
  },
}

-- Dump `d` as a whole migration file: a root revision (no down_revision)
-- whose upgrade creates the schema and whose downgrade drops it; the
-- skipped objects named at the top.
local function migration(d, id, message, replaces)
  local body, pre = dump.bodies(d)
  local text = templates.migration({ id = id, parents = {}, message = message, date = os.date("!%Y-%m-%d %H:%M UTC"),
    body = body, replaces = replaces })
  if #pre == 0 then return text end
  return table.concat(pre, "\n") .. "\n" .. text
end

---The dump of the database `db` is connected to, as file text, and what was skipped.
---@param db luamig.Db
---@param dialect luamig.Dialect
---@param opts {declared: boolean?, skip_unsupported: boolean?, id: string?, message: string?, replaces: string[]?}
---@return string text, string[] skipped
function M.text(db, dialect, opts)
  local d = dump.build(db, dialect, { skip_unsupported = opts.skip_unsupported })
  if opts.declared then return dump.declared(d), d.skipped end
  return migration(d, opts.id or host.random_hex(12), opts.message or "the live schema, dumped", opts.replaces),
    d.skipped
end

---The configured database, opened for reading (never created).
---@param ctx luamig.Context
---@return table db, table dialect
function M.open(ctx)
  local url, source, base = session.target(ctx)
  return connect.open(url, ctx.config, ctx.log, { source = source, base = base, create = false })
end

function M.run(ctx, args)
  if args.rev_id then
    local problem = scripts.id_problem(args.rev_id)
    if problem then errors.raise("usage", "--rev-id: " .. problem) end
  end
  local db, dialect = M.open(ctx)
  local ok, text, skipped = pcall(M.text, db, dialect, { declared = args.declared,
    skip_unsupported = args.skip_unsupported, id = args.rev_id })
  db:close()
  if not ok then error(text, 0) end
  for _, what in ipairs(skipped) do ctx.log:warn("skipped (not covered by the schema model): " .. what) end
  if args.output then
    revision_file.write_new(args.output, text)
    return { path = args.output, skipped = skipped, declared = args.declared or nil }
  end
  return { text = text, skipped = skipped, declared = args.declared or nil }
end

function M.render(log, r)
  if r.text then
    io.stdout:write(r.text)
    return
  end
  log:result(("Wrote %s (%s)"):format(format.visible(r.path), r.declared and "the declared schema" or "a migration"))
end

return M
