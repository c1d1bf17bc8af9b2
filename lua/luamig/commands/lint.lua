--- `lint [TARGET|FROM:TO]`: run migrations on a scratch database and report
--- the locks they took, the tables they rewrote or scanned, and the rule
--- findings (luamig.tools.lint). The target database is only read (its
--- heads); exit 1 when a migration fails or a finding reaches --fail-on.
local errors = require "luamig.util.errors"
local plan = require "luamig.revision.plan"
local timeout_keys = require "luamig.revision.timeout_keys"
local runner = require "luamig.run.runner"
local scratch = require "luamig.run.scratch"
local session = require "luamig.run.session"
local format = require "luamig.commands.shared.format"
local text = require "luamig.util.text"
local lint = require "luamig.tools.lint"
local lint_rows = require "luamig.tools.lint.rows"
local drill_cmd = require "luamig.commands.drill"

local M = {
  readonly = true,
  example = "luamig lint --rows 10000 --fail-on warning",
  args = { { "target", "Lint the pending migrations up to TARGET (default: heads), or FROM:TO " ..
    "(e.g. base:head, ae10:head) whatever the database is at.", "?" } },
  options = {
    { "--rows", "Fill every table with N synthetic rows before the first migration that meets it, so " ..
      "durations mean something.", "N" },
    { "--rows-from-target", "Fill each table with as many rows as the configured database estimates it has " ..
      "(its catalog's statistics only, never a row), capped by --rows-cap; durations are scaled by the cap " ..
      "ratio, saying so.", flag = true },
    { "--rows-cap", "The most rows --rows-from-target fills a table with (default 1000000).", "N" },
    { "--contention", "While each migration runs, play a workload on the tables it names (PostgreSQL: a long " ..
      "transaction, steady reads and writes; SQLite: reads and writes) and report how long they waited behind " ..
      "each statement.", flag = true },
    { "--long-tx", "--contention: how long the long transaction holds ACCESS SHARE (default 5s).", "DURATION" },
    { "--max-wait", "--contention: reads waiting longer than this behind a statement are an error (default 200ms).",
      "DURATION" },
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
  local whole = name == "--rows" or name == "--rows-cap"
  if not n or n ~= n or n < min or (whole and math.tointeger(n) == nil) then
    errors.raise("usage", ("%s must be a number from %d (got %s)"):format(name, min, v))
  end
  return whole and math.tointeger(n) or n
end

-- --contention's settings, or nil; --long-tx and --max-wait go with it.
local function contention_options(args)
  if not args.contention then
    local stray = args.long_tx and "--long-tx" or args.max_wait and "--max-wait"
    if stray then errors.raise("usage", stray .. " goes with --contention") end
    return nil
  end
  local out = {}
  for key, o in pairs({ long_tx_ms = { "--long-tx", args.long_tx or "5s" },
    max_wait_ms = { "--max-wait", args.max_wait or "200ms" } }) do
    local problem = timeout_keys.problem(o[1], o[2])
    if problem then errors.raise("usage", problem) end
    out[key] = timeout_keys.ms(o[2])
  end
  return out
end

-- The target's row estimates (its catalog only), for --rows-from-target.
local function target_counts(ctx)
  local s = session.open(ctx)
  return lint.observer_for(s.dialect).row_counts(s.db)
end

-- The rules lint.ignore names, checked against the known ones.
local function ignore_set(cfg)
  local known = {}
  for _, id in ipairs(lint.rule_ids()) do known[id] = true end
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
    if opts.rows or opts.counts then
      opts.filler = lint_rows.filler({ rows = opts.rows, counts = opts.counts, cap = opts.cap })
    end
    local migrations, notes = lint.run(s, ids, opts)
    for _, note in ipairs(opts.filler and opts.filler.notes or {}) do notes[#notes + 1] = note end
    return { shown = s.shown, migrations = migrations, notes = notes }
  end)
end

function M.run(ctx, args)
  local fail_on = args.fail_on or "error"
  if not LEVELS[fail_on] then
    errors.raise("usage", ("--fail-on must be error, warning or never (got %s)"):format(fail_on))
  end
  local opts = { rows = number_option(args.rows, "--rows", 1), slow_ms = number_option(args.slow_ms, "--slow-ms", 0),
    cap = number_option(args.rows_cap, "--rows-cap", 1) or 1000000, ignore = ignore_set(ctx.config),
    contention = contention_options(args) }
  if args.rows_cap and not args.rows_from_target then
    errors.raise("usage", "--rows-cap goes with --rows-from-target")
  end
  local g = session.graph(ctx)
  local start, ids = what_to_lint(ctx, g, args.target)
  if args.rows_from_target then opts.counts = target_counts(ctx) end
  session.close(ctx) -- the target is no longer needed: everything else runs on the scratch database
  ctx.session = nil
  local out = { from = start, fail_on = fail_on, migrations = {} }
  if #ids > 0 then
    local linted = lint_on(ctx, args, start, ids, opts)
    out.migrations, out.scratch = linted.migrations, (args.keep or args.scratch_url) and linted.shown or nil
    out.notes = linted.notes
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

local function bytes(n)
  if n < 1024 then return ("%d B"):format(n) end
  if n < 1024 ^ 2 then return ("%.1f kB"):format(n / 1024) end
  if n < 1024 ^ 3 then return ("%.1f MB"):format(n / 1024 ^ 2) end
  return ("%.2f GB"):format(n / 1024 ^ 3)
end

-- WAL (the migration's, and its statements' that wrote a megabyte or more) and the standby's replay.
local function render_cost(log, c)
  if not c then return end
  local line = "    wal " .. bytes(c.wal_bytes)
  if c.replay_over then line = line .. "; standby replay over 60 s behind"
  elseif c.replay_ms then line = line .. "; standby replayed it " .. format.ms(c.replay_ms) .. " after commit" end
  log:result(line)
  for _, st in ipairs(c.statements) do
    if st.wal_bytes >= 1024 ^ 2 then
      log:result(("    %s wrote %s of WAL in %s"):format(st.where, bytes(st.wal_bytes), format.ms(st.ms)))
    end
  end
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
  for _, st in ipairs(o.outside or {}) do
    local locks = {}
    for _, l in ipairs(st.locks) do locks[#locks + 1] = l.mode .. " on " .. format.visible(l.relation) end
    log:result(("    %s outside a transaction (%s): %s%s"):format(st.where, format.ms(st.ms),
      #locks > 0 and ("took " .. table.concat(locks, ", ")) or "no table lock seen",
      st.wait_ms > 0 and ("; waited %s for other transactions (backend %s): CONCURRENTLY waits out older " ..
        "snapshots"):format(format.ms(st.wait_ms), table.concat(st.waited_for, ", ")) or ""))
  end
  render_cost(log, o.cost)
end

local function waits(w)
  if w.n == 0 then return "none ran" end
  return ("longest %s, p99 %s, p50 %s%s"):format(format.ms(w.max), format.ms(w.p99), format.ms(w.p50),
    w.failed > 0 and (", %d of %d failed (%s)"):format(w.failed, w.n, format.visible(w.error or "?")) or "")
end

-- --contention: per statement, the workload's waits and the statement's queueing.
local function render_contention(log, c)
  if not c then return end
  log:result(("    workload on %s%s:"):format(format.list(c.tables),
    c.long_tx_ms and (" (long transaction " .. format.ms(c.long_tx_ms) .. ")") or ""))
  for _, st in ipairs(c.statements) do
    log:result(("      %s reads: %s; writes: %s%s"):format(st.where, waits(st.reads), waits(st.writes),
      st.queued_ms and ("; %s %s behind the long transaction"):format(st.gave_up and "gave up after queueing" or
        "queued", format.ms(st.queued_ms)) or ""))
  end
end

local function render_migration(log, m)
  log:result(("%s %s  %s  %s"):format(m.result == "ok" and "ok    " or "FAILED", m.revision, format.visible(m.message),
    format.ms(m.ms)))
  if m.error then log:result("    " .. format.visible(m.error, true)) end
  for _, r in ipairs(m.refused) do
    log:result(("    %s: refused inside a transaction: %s"):format(r.where or m.path, format.visible(r.sql)))
  end
  render_observed(log, m.observed)
  render_contention(log, m.contention)
  local sc = m.scaled
  if sc then
    log:result(("    scaled x%.1f: %s has about %d rows on the target, %d filled here; so about %s%s"):format(sc.ratio,
      format.visible(sc.relation), sc.rows, sc.filled, format.ms(sc.ms),
      sc.held_ms and (", holding its strongest lock about " .. format.ms(sc.held_ms)) or
      sc.write_lock_ms and (", holding the write lock about " .. format.ms(sc.write_lock_ms)) or ""))
  end
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
  for _, n in ipairs(r.notes or {}) do log:result("Note: " .. format.visible(n)) end
end

function M.exit(r)
  return r.ok and errors.EXIT.ok or errors.EXIT.failure
end

return M
