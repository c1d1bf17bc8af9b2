--- `status`: applied and pending revisions, drift and the last failure.
local version = require "luamig.run.version"
local session = require "luamig.run.session"
local format = require "luamig.commands.shared.format"

local M = { example = "luamig status", readonly = true }

function M.run(ctx)
  local s = session.open(ctx)
  local g = s.graph
  local heads = session.heads(s)
  local t = version.tables(s.config, s.dialect, s.db)
  local rows = version.history(s.db, t)
  local last = version.last_applied(rows)
  local expanded = version.expanded(s.db, t)
  local applied_set = g:ancestors(heads)
  local out = { heads = heads, applied = {}, pending = {}, drifted = {}, unknown = {} }
  for _, id in ipairs(g:ordered(applied_set)) do
    local rec = last[id] or {}
    out.applied[#out.applied + 1] = { revision = id, message = g.revs[id].message,
      applied_at = rec.applied_at, ms = rec.ms, stamped = rec.direction == "stamp" or nil,
      phase = expanded[id] and "expanded" or rec.phase == "contract" and "contracted" or nil,
      contract_pending_since = expanded[id] }
    if rec.checksum and rec.checksum ~= g.revs[id].checksum then
      out.drifted[#out.drifted + 1] = { revision = id, path = g.revs[id].path, applied_at = rec.applied_at }
    end
  end
  for _, h in ipairs(heads) do
    if not g.revs[h] then out.unknown[#out.unknown + 1] = h end
  end
  -- what a baseline replaced is pending only on a database still on the old
  -- files, which reaches the baseline's place through them (not it)
  local skip = g.replaced
  for _, h in ipairs(heads) do
    if g.replaced[h] then skip = { [g.replaced[h]] = true } end
  end
  for _, id in ipairs(g.order) do
    if not applied_set[id] and not skip[id] then out.pending[#out.pending + 1] = id end
  end
  local final = rows[#rows]
  if final and (final.status == "failed" or final.status == "interrupted") then
    out.failed = { revision = final.revision, direction = final.direction, at = final.applied_at,
      error = final.error, transactional = final.transactional, status = final.status }
  end
  return out
end

local function failed_line(log, f)
  local advice = f.transactional and "it was rolled back; fix the migration and rerun"
      or "it ran outside a transaction: check the schema, then rerun or `luamig stamp`"
  log:result(("  %s %s %s %s at %s: %s; %s"):format(log:out_paint("red", f.status or "failed"), f.revision,
    f.direction == "up" and "upgrade" or "downgrade", f.status or "failed", f.at, format.visible(f.error, true),
    advice))
end

function M.render(log, r)
  log:result("Database at: " .. format.heads(r.heads))
  for _, x in ipairs(r.applied) do
    local phase = x.contract_pending_since and ("  (expanded, contract pending since %s)"):format(
      x.contract_pending_since) or ""
    log:result(("  %s %s  %-20s %9s  %s%s"):format(log:out_paint("green", "applied"), x.revision,
      x.applied_at or (x.stamped and "stamped" or "?"), format.ms(x.ms), format.visible(x.message),
      log:out_paint("yellow", phase)))
  end
  for _, id in ipairs(r.pending) do
    log:result(("  %s %s"):format(log:out_paint("yellow", "pending"), id))
  end
  for _, d in ipairs(r.drifted) do
    log:result(("  %s %s: %s changed after it was applied at %s; `luamig stamp --refresh-checksums %s` accepts it")
      :format(log:out_paint("red", "drifted"), d.revision, format.visible(d.path), d.applied_at or "?", d.revision))
  end
  for _, id in ipairs(r.unknown) do
    log:result(("  %s %s is in the version table but no migration file has it; `luamig stamp REV` replaces it"):format(
      log:out_paint("red", "unknown"), format.visible(id)))
  end
  if r.failed then failed_line(log, r.failed) end
  local waiting = 0
  for _, x in ipairs(r.applied) do
    if x.contract_pending_since then waiting = waiting + 1 end
  end
  log:result(("%d applied, %d pending%s."):format(#r.applied, #r.pending,
    waiting > 0 and (", %d contract%s pending (`luamig contract`)"):format(waiting, format.plural(waiting)) or ""))
end

return M
