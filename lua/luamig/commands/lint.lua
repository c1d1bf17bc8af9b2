--- `lint [TARGET|FROM:TO]`: run migrations on a scratch database and report
--- the locks they took, the tables they rewrote or scanned, and the rule
--- findings (luamig.tools.lint). The target database is only read (its
--- heads); exit 1 when a migration fails or a finding reaches --fail-on.
local errors = require "luamig.util.errors"
local plan = require "luamig.revision.plan"
local runner = require "luamig.run.runner"
local scratch = require "luamig.run.scratch"
local session = require "luamig.run.session"
local format = require "luamig.commands.shared.format"
local text = require "luamig.util.text"
local lint = require "luamig.tools.lint"
local rules = require "luamig.tools.lint.rules"
local lint_rows = require "luamig.tools.lint.rows"
local drill_cmd = require "luamig.commands.drill"

local M = {
  readonly = true,
  example = "luamig lint --rows 10000 --fail-on warning",
  args = { { "target", "Lint the pending migrations up to TARGET (default: heads), or FROM:TO " ..
    "(e.g. base:head, ae10:head) whatever the database is at.", "?" } },
  options = {
    { "--rows", "Fill every existing table with N synthetic rows first, so durations mean something.", "N" },
    { "--with-seeds", "Run the seeds (seeds/*.lua) on the scratch database first.", flag = true },
    { "--fail-on", "Exit 1 when a finding is at least this severe: error (default), warning or never.", "LEVEL" },
    { "--slow-ms", "SQLite: report statements holding the write lock longer than this (default 1000).", "MS" },
    { "--scratch-url", "Lint on this (empty) database instead of a temporary one.", "URL" },
    { "--keep", "Keep the scratch database and print where it is.", flag = true },
  },
}

local LEVELS = { never = 3, error = 2, warning = 1 }

local function number_option(v, name, min)
  if v == nil then return nil end
  local n = tonumber(v)
  if not n or n ~= n or n < min or (name == "--rows" and math.tointeger(n) == nil) then
    errors.raise("usage", ("%s must be a number from %d (got %s)"):format(name, min, v))
  end
  return name == "--rows" and math.tointeger(n) or n
end

-- The rules lint.ignore names, checked against the known ones.
local function ignore_set(cfg)
  local known = { ["table-rebuild"] = true, ["long-write-lock"] = true, ["lock-timeout"] = true }
  for _, r in ipairs(rules.LIST) do known[r.id] = true end
  local set = {}
  for _, id in ipairs(cfg.lint and cfg.lint.ignore or {}) do
    if not known[id] then
      local close = text.closest(known, id)
      errors.raise("config", ("lint.ignore names no rule %s%s"):format(id,
        #close > 0 and ("; did you mean " .. close[1] .. "?") or ""), { where = cfg.file })
    end
    set[id] = true
  end
  return set
end

-- The revisions the scratch database starts at and those to lint.
local function what_to_lint(ctx, g, target)
  local from, to = (target or ""):match("^([^:]*):(.*)$")
  if from then
    local heads = (from == "" or from == "base") and {} or g:ids(from)
    return heads, (plan.upgrade(g, heads, to ~= "" and to or "heads"))
  end
  local s = session.open(ctx)
  local heads = session.heads(s)
  return heads, (plan.upgrade(g, heads, target or "heads"))
end

-- A scratch session brought to `start` and prepared (seeds, rows), then `ids` linted there.
local function lint_on(ctx, args, start, ids, opts)
  return scratch.with(session.scratch_options(ctx, { what = "lint", keep = args.keep, scratch_url = args.scratch_url,
    hint = drill_cmd.SCRATCH_HINT }), function(s)
    runner.run_to(s, "up", start)
    if args.with_seeds then drill_cmd.seeder(ctx, s)() end
    if opts.rows then
      local skip = { [ctx.config.version_table] = true, [ctx.config.version_table .. "_history"] = true }
      lint_rows.fill(s.db, lint.observer_for(s.dialect).fill_info(s.db, skip), opts.rows)
    end
    return { shown = s.shown, migrations = lint.run(s, ids, opts) }
  end)
end

function M.run(ctx, args)
  local fail_on = args.fail_on or "error"
  if not LEVELS[fail_on] then
    errors.raise("usage", ("--fail-on must be error, warning or never (got %s)"):format(fail_on))
  end
  local opts = { rows = number_option(args.rows, "--rows", 1), slow_ms = number_option(args.slow_ms, "--slow-ms", 0),
    ignore = ignore_set(ctx.config) }
  local g = session.graph(ctx)
  local start, ids = what_to_lint(ctx, g, args.target)
  session.close(ctx) -- the target is no longer needed: everything else runs on the scratch database
  ctx.session = nil
  local out = { from = start, fail_on = fail_on, migrations = {} }
  if #ids > 0 then
    local linted = lint_on(ctx, args, start, ids, opts)
    out.migrations, out.scratch = linted.migrations, (args.keep or args.scratch_url) and linted.shown or nil
  end
  out.errors, out.warnings, out.failed = 0, 0, 0
  for _, m in ipairs(out.migrations) do
    if m.result ~= "ok" then out.failed = out.failed + 1 end
    for _, f in ipairs(m.findings) do
      if f.severity == "error" then out.errors = out.errors + 1 else out.warnings = out.warnings + 1 end
    end
  end
  out.ok = out.failed == 0 and (LEVELS[fail_on] > 2 or (out.errors == 0 and (fail_on == "error" or
    out.warnings == 0)))
  return out
end

local function render_observed(log, o)
  for _, l in ipairs(o.locks or {}) do
    log:result(("    lock %-22s on %-20s blocks %s"):format(l.mode, format.visible(l.relation), l.blocks))
  end
  if o.strongest then
    log:result(("    held %s on %s for %s (until commit)"):format(o.strongest.mode, format.visible(o.strongest.relation),
      format.ms(o.strongest.held_ms)))
  end
  if o.rewritten and #o.rewritten > 0 then log:result("    rewrote " .. format.list(o.rewritten)) end
  if o.scanned and #o.scanned > 0 then log:result("    scanned " .. format.list(o.scanned)) end
  if o.write_lock_ms then log:result("    held the write lock for " .. format.ms(o.write_lock_ms)) end
end

local function render_migration(log, m)
  log:result(("%s %s  %s  %s"):format(m.result == "ok" and "ok    " or "FAILED", m.revision, format.visible(m.message),
    format.ms(m.ms)))
  if m.error then log:result("    " .. format.visible(m.error, true)) end
  for _, r in ipairs(m.refused) do
    log:result(("    %s: refused inside a transaction: %s"):format(r.where or m.path, format.visible(r.sql)))
  end
  render_observed(log, m.observed)
  for _, f in ipairs(m.findings) do
    log:result(("    %s %s [%s] %s%s"):format(f.where or m.path, f.severity, f.rule, format.visible(f.message),
      f.lock and (" (" .. f.lock .. ")") or ""))
    log:result(("        blocks %s; instead: %s"):format(f.blocks, f.recipe))
  end
end

function M.render(log, r)
  if #r.migrations == 0 then
    log:result("Nothing to lint: no pending migration (name a range to lint applied ones, e.g. base:head).")
    return
  end
  for _, m in ipairs(r.migrations) do render_migration(log, m) end
  log:result(("%d migration%s linted: %d error%s, %d warning%s, %d failed."):format(#r.migrations,
    format.plural(#r.migrations), r.errors, format.plural(r.errors), r.warnings, format.plural(r.warnings), r.failed))
  if r.scratch then log:result("Scratch database kept: " .. format.visible(r.scratch)) end
end

function M.exit(r)
  return r.ok and errors.EXIT.ok or errors.EXIT.failure
end

return M
