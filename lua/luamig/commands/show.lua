--- `show REV`: one revision's details (not applied while the SQLite database
--- does not exist).
local errors = require "luamig.util.errors"
local graph_mod = require "luamig.revision.graph"
local version = require "luamig.run.version"
local session = require "luamig.run.session"
local revisions = require "luamig.commands.shared.revisions"
local format = require "luamig.commands.shared.format"

local M = {
  readonly = true,
  example = "luamig show head",
  args = { { "target", "Revision.", "?" } },
}

function M.run(ctx, args)
  local s = session.open_if_exists(ctx) -- no database yet: nothing applied
  local g = session.graph(ctx)
  local heads = s and session.heads(s) or {}
  local ids = g:ids(revisions.require_target(args, "show"))
  if #ids == 0 then errors.raise("usage", "show needs a revision, not base") end
  if #ids > 1 then errors.raise("usage", ("show needs one revision; %s names %s"):format(args.target,
    table.concat(ids, ", "))) end
  local out = revisions.describe(g, ids[1], g:ancestors(heads), graph_mod.set_of(g:heads()))
  out.checksum = g.revs[ids[1]].checksum
  local last = s and version.last_applied(version.history(s.db, version.tables(s.config, s.dialect, s.db)))[ids[1]]
  if last then out.applied_at, out.ms = last.applied_at, last.ms end
  if last and last.checksum and last.checksum ~= out.checksum then
    out.drifted = { applied_checksum = last.checksum }
  end
  return out
end

local function applied(r)
  if not r.applied then return "no" end
  return (r.applied_at or "yes") .. (r.ms and ("  " .. format.ms(r.ms)) or "")
end

function M.render(log, r)
  log:result("Revision:  " .. r.revision .. format.marks(r))
  log:result("Parents:   " .. format.parents(r))
  log:result("Children:  " .. (#r.children == 0 and "-" or format.list(r.children)))
  if #r.depends_on > 0 then log:result("Depends:   " .. format.list(r.depends_on)) end
  if #r.branch_labels > 0 then log:result("Labels:    " .. format.list(r.branch_labels)) end
  log:result("Path:      " .. format.visible(r.path))
  log:result("Applied:   " .. applied(r))
  if r.drifted then
    log:result(("Drift:     %s changed after it was applied; `luamig stamp --refresh-checksums %s` accepts it")
      :format(format.visible(r.path), r.revision))
  end
  if not r.transactional then log:result("Runs outside a transaction (transactional = false)") end
  log:result("")
  log:result("    " .. format.visible(r.message))
end

return M
