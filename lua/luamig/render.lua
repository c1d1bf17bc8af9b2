--- Human-readable output of each command's result (stdout). --json bypasses it.
local M = {}

local function ms(x)
  if not x then return "" end
  return x < 1000 and ("%.1f ms"):format(x) or ("%.2f s"):format(x / 1000)
end

local function list(ids)
  return #ids == 0 and "base" or table.concat(ids, ", ")
end

---A line for one applied step (printed as it happens).
---@param log luamig.Log
---@param step luamig.Step
function M.step(log, step)
  local arrow = step.direction == "up" and log:out_paint("green", "upgrade  ") or log:out_paint("yellow", "downgrade")
  local msg = step.message ~= "" and ("  " .. step.message) or ""
  local rows = step.rows and ("  (%d rows backfilled)"):format(step.rows) or ""
  log:info(("%s %s%s  %s%s"):format(arrow, step.revision, msg, log:out_paint("dim", ms(step.ms)), rows))
end

local function migrated(log, r)
  if r.sql then return io.stdout:write(r.sql) end -- --sql: the script itself, even with -q
  if r.dry_run then
    return log:info(("Dry run: %d step%s ran and %s rolled back; the database is still at %s."):format(#r.steps,
      #r.steps == 1 and "" or "s", #r.steps == 1 and "was" or "were", list(r.heads)))
  end
  if #r.steps == 0 then
    log:info("Nothing to do; the database is at " .. list(r.heads) .. ".")
  else
    log:info(("%d step%s; the database is now at %s."):format(#r.steps, #r.steps == 1 and "" or "s", list(r.heads)))
  end
end
M.upgrade = migrated
M.downgrade = migrated

function M.current(log, r)
  if #r.revisions == 0 then return log:result("base (no revision applied)") end
  for _, x in ipairs(r.revisions) do
    log:result(x.revision .. (x.known and ("  " .. x.message) or "  (no migration file has this revision)"))
  end
end

local function marks(x)
  local m = {}
  if #x.branch_labels > 0 then m[#m + 1] = table.concat(x.branch_labels, ", ") end
  if x.is_head then m[#m + 1] = "head" end
  if x.is_branch_point then m[#m + 1] = "branchpoint" end
  if x.is_merge_point then m[#m + 1] = "mergepoint" end
  return #m > 0 and (" (" .. table.concat(m, ", ") .. ")") or ""
end

local function parents(x)
  return #x.down_revisions == 0 and "<base>" or table.concat(x.down_revisions, ", ")
end

local function depends(x)
  return #x.depends_on > 0 and ("  [depends on " .. table.concat(x.depends_on, ", ") .. "]") or ""
end

function M.heads(log, r)
  for _, x in ipairs(r.revisions) do
    log:result(x.revision .. marks(x) .. "  " .. x.message)
    if r.verbose then
      log:result("  Parents:  " .. parents(x) .. depends(x))
      log:result("  Path:     " .. x.path)
    end
  end
end

function M.branches(log, r)
  for _, x in ipairs(r.branch_points) do
    log:result(x.revision .. marks(x) .. "  " .. x.message)
    for _, c in ipairs(x.children) do log:result("  -> " .. c) end
  end
  if #r.branch_points == 0 then log:result("(no branch points)") end
end

function M.history(log, r)
  local current = {}
  for _, h in ipairs(r.current) do current[h] = true end
  for _, x in ipairs(r.revisions) do
    local mark = x.applied and log:out_paint("green", "*") or " "
    local cur = current[x.revision] and log:out_paint("bold", " (current)") or ""
    log:result(("%s %s -> %s%s%s  %s%s"):format(mark, parents(x), x.revision, marks(x), cur, x.message, depends(x)))
  end
  if #r.revisions == 0 then log:result("(no revisions)") end
end

function M.show(log, r)
  log:result("Revision:  " .. r.revision .. marks(r))
  log:result("Parents:   " .. (#r.down_revisions == 0 and "<base>" or table.concat(r.down_revisions, ", ")))
  log:result("Children:  " .. (#r.children == 0 and "-" or table.concat(r.children, ", ")))
  if #r.depends_on > 0 then log:result("Depends:   " .. table.concat(r.depends_on, ", ")) end
  if #r.branch_labels > 0 then log:result("Labels:    " .. table.concat(r.branch_labels, ", ")) end
  log:result("Path:      " .. r.path)
  log:result("Applied:   " .. (r.applied and ((r.applied_at or "yes") .. (r.ms and ("  " .. ms(r.ms)) or "")) or "no"))
  if not r.transactional then log:result("Runs outside a transaction (transactional = false)") end
  log:result("")
  log:result("    " .. r.message)
end

function M.stamp(log, r)
  log:info(("Stamped %s -> %s (no migration ran)."):format(list(r.previous), list(r.heads)))
end

function M.status(log, r)
  log:result("Database at: " .. list(r.heads))
  for _, x in ipairs(r.applied) do
    log:result(("  %s %s  %-20s %9s  %s"):format(log:out_paint("green", "applied"), x.revision,
      x.applied_at or (x.stamped and "stamped" or "?"), ms(x.ms), x.message))
  end
  for _, id in ipairs(r.pending) do
    log:result(("  %s %s"):format(log:out_paint("yellow", "pending"), id))
  end
  for _, d in ipairs(r.drifted) do
    log:result(("  %s %s: %s changed after it was applied at %s"):format(log:out_paint("red", "drifted"),
      d.revision, d.path, d.applied_at or "?"))
  end
  for _, id in ipairs(r.unknown) do
    log:result(("  %s %s is in the version table but no migration file has it"):format(
      log:out_paint("red", "unknown"), id))
  end
  local f = r.failed
  if f then
    local advice = f.transactional and "it was rolled back; fix the migration and rerun"
        or "it ran outside a transaction: check the schema, then rerun or `luamig stamp`"
    log:result(("  %s %s %s failed at %s: %s; %s"):format(log:out_paint("red", "failed"), f.revision,
      f.direction == "up" and "upgrade" or "downgrade", f.at, f.error, advice))
  end
  log:result(("%d applied, %d pending."):format(#r.applied, #r.pending))
end

function M.check(log, r)
  if r.at_head then
    log:result("At head: " .. list(r.heads))
  else
    log:result(("Not at head: the database is at %s; %d pending (%s)."):format(list(r.heads), #r.pending,
      table.concat(r.pending, ", ")))
  end
end

function M.drill(log, r)
  if r.script then
    local failed = 0
    for _, st in ipairs(r.steps) do
      if st.result ~= "ok" then failed = failed + 1 end
    end
    log:result(("%s: %d step%s, %d failed"):format(r.script, #r.steps, #r.steps == 1 and "" or "s", failed))
  else
    log:result(("%-14s %9s %9s  %-6s  %s"):format("revision", "up", "down", "result", "message"))
    for _, st in ipairs(r.steps) do
      log:result(("%-14s %9s %9s  %-6s  %s"):format(st.revision, ms(st.up_ms), ms(st.down_ms), st.result, st.message))
      for _, p in ipairs(st.problems) do log:result("    " .. p) end
    end
    if r.ok then
      log:result(("%d revision%s round-trip."):format(#r.steps, #r.steps == 1 and "" or "s"))
    else
      log:result("Drill failed at " .. r.steps[#r.steps].revision .. ".")
    end
  end
  if r.scratch then log:result("Scratch database kept: " .. r.scratch) end
end

function M.plugins(log, r)
  for _, p in ipairs(r.plugins) do
    log:result(("%s  (%s)"):format(p.name, p.shipped and "shipped" or p.path))
    if #p.commands > 0 then log:result("  commands: " .. table.concat(p.commands, ", ")) end
    if #p.hooks > 0 then log:result("  hooks:    " .. table.concat(p.hooks, ", ")) end
  end
end

function M.revision(log, r)
  log:result(("Created %s (revision %s, down_revision %s)"):format(r.path, r.revision, list(r.down_revisions)))
end
M.merge = M.revision

function M.init(log, r)
  for _, p in ipairs(r.created) do log:result("created " .. p) end
  log:result("Next: `luamig revision -m \"create users\"`, then `luamig upgrade head`.")
end

return M
