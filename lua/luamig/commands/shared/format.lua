--- Text pieces the renderers share: durations, revision lists, a
--- revision's marks, parents and dependencies, and user-provided text made
--- safe to print.
local text = require "luamig.util.text"

local M = {}

M.visible = text.visible

---Several texts made visible, joined by ", ".
---@param list string[]
---@return string
function M.list(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = M.visible(x) end
  return table.concat(out, ", ")
end

---A duration in milliseconds as "12.3 ms" or "1.25 s"; "" for none.
---@param x number?
---@return string
function M.ms(x)
  if not x then return "" end
  return x < 1000 and ("%.1f ms"):format(x) or ("%.2f s"):format(x / 1000)
end

---Revision ids as "a, b", or "base" for none.
---@param ids string[]
---@return string
function M.heads(ids)
  return #ids == 0 and "base" or M.list(ids)
end

---"" for one, "s" for other counts.
---@param n integer
function M.plural(n)
  return n == 1 and "" or "s"
end

---" (label, head, branchpoint, mergepoint)" for a described revision, or "".
---@param x table  a revision described by commands.shared.revisions
---@return string
function M.marks(x)
  local m = {}
  if #x.branch_labels > 0 then m[#m + 1] = M.list(x.branch_labels) end
  if x.is_head then m[#m + 1] = "head" end
  if x.is_branch_point then m[#m + 1] = "branchpoint" end
  if x.is_merge_point then m[#m + 1] = "mergepoint" end
  if x.phase == "expanded" then m[#m + 1] = "expanded, contract pending" end
  return #m > 0 and (" (" .. table.concat(m, ", ") .. ")") or ""
end

---A described revision's parents, or "<base>".
---@param x table
---@return string
function M.parents(x)
  return #x.down_revisions == 0 and "<base>" or M.list(x.down_revisions)
end

---"  [depends on a, b]", or "".
---@param x table
---@return string
function M.depends(x)
  return #x.depends_on > 0 and ("  [depends on " .. M.list(x.depends_on) .. "]") or ""
end

---Text output of a written revision (revision and merge).
---@param log luamig.Log
---@param r table
function M.created(log, r)
  log:result(("Created %s (revision %s, down_revision %s)"):format(M.visible(r.path), r.revision,
    M.heads(r.down_revisions)))
end

return M
