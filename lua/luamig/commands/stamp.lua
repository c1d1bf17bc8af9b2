--- `stamp TARGET...`: set the version table without running migrations;
--- `--purge` replaces the stored heads whatever they are; `--refresh-checksums
--- REV...` accepts edited applied migrations (Flyway's repair).
local errors = require "luamig.util.errors"
local plan = require "luamig.revision.plan"
local stamp = require "luamig.run.stamp"
local session = require "luamig.run.session"
local format = require "luamig.commands.shared.format"

local M = {
  example = "luamig stamp head",
  args = { { "target", "Revision(s), head, heads or base.", "*" } },
  options = {
    { "--purge", "Replace the stored heads by TARGET, whatever they are (even revisions no file declares).",
      flag = true },
    { "--refresh-checksums", "Record the current checksum of the applied revisions TARGET...: their edited " ..
      "files no longer count as drift. The heads do not change.", flag = true },
  },
}

-- The stored heads that no migration file declares, and the others.
local function split_unknown(g, heads)
  local known, unknown = {}, {}
  for _, h in ipairs(heads) do
    local list = g.revs[h] and known or unknown
    list[#list + 1] = h
  end
  return known, unknown
end

-- --refresh-checksums: the revision ids the targets name.
local function refresh(s, targets)
  local ids = {}
  for _, t in ipairs(targets) do
    for _, n in ipairs(s.graph:get_revisions(t)) do
      if type(n) == "table" then ids[#ids + 1] = n.id end
    end
  end
  if #ids == 0 then errors.raise("usage", "--refresh-checksums needs revisions (ids, head, heads), not base") end
  return { refreshed = ids, heads = stamp.refresh_checksums(s, ids) }
end

function M.run(ctx, args)
  local s = session.open(ctx)
  if #args.target == 0 then errors.raise("usage", "stamp needs a TARGET (a revision, head, heads or base)") end
  if args.refresh_checksums then
    if args.purge then errors.raise("usage", "--refresh-checksums and --purge do not go together") end
    return refresh(s, args.target)
  end
  local dropped
  local old, new = stamp.stamp(s, function(heads)
    if args.purge then return plan.stamp(s.graph, {}, args.target) end
    -- a head whose file is gone relates to nothing: the stamp replaces it
    local known, unknown = split_unknown(s.graph, heads)
    dropped = unknown
    return plan.stamp(s.graph, known, args.target)
  end)
  return { previous = old, heads = new, dropped = dropped, purged = args.purge or nil }
end

function M.render(log, r)
  if r.refreshed then
    return log:info(("Recorded the current checksum of %s; the database stays at %s."):format(
      format.list(r.refreshed), format.heads(r.heads)))
  end
  if r.dropped and #r.dropped > 0 then
    log:warn(("replaced %s, which no migration file declares"):format(format.list(r.dropped)))
  end
  log:info(("Stamped %s -> %s (no migration ran)."):format(format.heads(r.previous), format.heads(r.heads)))
end

return M
