--- `revision -m MSG [--head REV] [--splice] [--branch-label L] [--depends-on R]`:
--- write a new migration file chained to the head (or to --head). With
--- --autogenerate, its upgrade and downgrade are the op calls that take the
--- schema at head to the declared schema (schema.lua), and nothing is
--- written when they agree.
local revision_file = require "luamig.revision.write"
local errors = require "luamig.util.errors"
local session = require "luamig.run.session"
local format = require "luamig.commands.shared.format"

local M = {
  example = { 'luamig revision -m "add users.email"', 'luamig revision -m "create orders" --template change' },
  options = {
    { "-m --message", "What the migration does.", "<message>", count = 1 },
    { "--head", "Parent revision: a head, LABEL@head, base for a new root (default: the single head).", "REV" },
    { "--splice", "Allow --head to name a revision that is not a head (starts a new branch).", flag = true },
    { "--rev-id", "Use this revision id instead of a random one.", "ID" },
    { "--depends-on", "A revision or branch label that must be applied first.", "REV", count = "*" },
    { "--branch-label", "Label for a new branch.", "LABEL", count = "*" },
    { "--template", "upgrade (default), change (op calls, downgrade derived), sql (raw SQL), " ..
      "or NAME for the project's templates/NAME.lua.", "NAME" },
    { "--autogenerate", "Write the op calls that take the schema at head to the declared schema (schema.lua).",
      flag = true },
    { "--against-db", "With --autogenerate: compare with the target database instead of the migrations at head.",
      flag = true },
    { "--from-url", "With --autogenerate: take the declared schema from this live database instead of schema.lua.",
      "URL" },
    { "--allow-empty", "With --autogenerate: write the revision even when nothing differs.", flag = true },
    { "--offline-ddl", "With --autogenerate: write plain DDL, not the online-safe forms (PostgreSQL: CONCURRENTLY, " ..
      "NOT VALID then VALIDATE, a lock_timeout); also the config's offline_ddl = true.", flag = true },
    { "--baseline", "Write the dump as a new root revision: of the live database in a project without " ..
      "migrations, else of the schema at head, replacing (squashing) every revision.", flag = true },
    { "--stamp", "With --baseline of the live database: stamp the database at the new revision.", flag = true },
    { "--scratch-url", "With --baseline (squash): build the schema at head on this (empty) database instead of " ..
      "a temporary one.", "URL" },
    { "--skip-unsupported", "With --baseline: leave out the objects luamig's schema model does not cover.",
      flag = true },
  },
}

function M.run(ctx, args)
  if args.baseline then
    if args.autogenerate or args.head or args.splice or args.template or #(args.depends_on or {}) > 0
      or #(args.branch_label or {}) > 0 then
      errors.raise("usage", "--baseline writes a root revision from a dump: it does not go " ..
        "with --autogenerate, --head, --splice, --depends-on, --branch-label or --template")
    end
    -- (here, as autogen below: a plain revision never loads dump, scratch and autogenerate)
    return require("luamig.commands.shared.baseline").run(ctx, args)
  elseif args.stamp or args.scratch_url or args.skip_unsupported then
    errors.raise("usage", "--stamp, --scratch-url and --skip-unsupported go with --baseline")
  end
  if not args.autogenerate then
    if args.against_db or args.from_url or args.allow_empty or args.offline_ddl then
      errors.raise("usage", "--against-db, --from-url, --allow-empty and --offline-ddl go with --autogenerate")
    end
    return revision_file.new_revision(session.graph(ctx), ctx.config, args, { args.head or "head" }, args.splice)
  end
  local autogen = require "luamig.tools.autogen" -- (here: see --baseline above)
  local c = autogen.compare(ctx, { against_db = args.against_db, from_url = args.from_url })
  if #c.up == 0 and not args.allow_empty then return { empty = true } end
  local r = revision_file.new_revision(session.graph(ctx), ctx.config, args, { args.head or "head" }, args.splice, false,
    autogen.bodies(c, function(text) ctx.log:warn(text) end,
      { offline = args.offline_ddl or ctx.config.offline_ddl, config = ctx.config }))
  r.changes = #c.up
  return r
end

function M.render(log, r)
  if r.replaces or r.stamped ~= nil then
    return require("luamig.commands.shared.baseline").render(log, r) -- (loaded by run already)
  end
  if r.empty then
    log:result("No changes: the declared schema matches the schema at head; no revision written " ..
      "(--allow-empty writes one anyway).")
    return
  end
  format.created(log, r)
end

return M
