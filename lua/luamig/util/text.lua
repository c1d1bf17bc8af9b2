--- Text shared by messages and renderings.
local M = {}

---A set of heads as users read it: "base" when empty, else "a, b".
---@param ids string[]
---@return string
function M.heads(ids)
  return #ids == 0 and "base" or table.concat(ids, ", ")
end

return M
