--- `current`: the revision(s) the database is at.
local session = require "luamig.run.session"
local visible = require("luamig.util.text").visible
local version = require "luamig.run.version"

local M = { example = "luamig current --json", readonly = true }

function M.run(ctx)
  local s = session.open(ctx)
  local heads = session.heads(s)
  local out = { heads = heads, revisions = {} }
  local expanded = version.expanded(s.db, version.tables(s.config, s.dialect, s.db))
  for _, id in ipairs(heads) do
    local script = s.graph.revs[id]
    out.revisions[#out.revisions + 1] = { revision = id, message = script and script.message or "",
      known = script ~= nil, phase = expanded[id] and "expanded" or "complete" }
  end
  return out
end

function M.render(log, r)
  if #r.revisions == 0 then return log:result("base (no revision applied)") end
  for _, x in ipairs(r.revisions) do
    log:result(visible(x.revision) .. (x.known and ("  " .. visible(x.message)) or "  (no migration file has this revision)")
      .. (x.phase == "expanded" and "  (expanded, contract pending)" or ""))
  end
end

return M
