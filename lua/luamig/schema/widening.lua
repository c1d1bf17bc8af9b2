--- Which column type changes keep every value (a wider type of the same
--- kind); any other change is marked destructive by autogenerate.
local M = {}

local RANK = { smallint = 1, int2 = 1, integer = 2, int = 2, int4 = 2, bigint = 3, int8 = 3 }
local FLOATS = { real = 1, float4 = 1, ["double precision"] = 2, float8 = 2, float = 2 }
local STRINGS = { ["character varying"] = true, varchar = true, character = true, char = true, nvarchar = true }

-- "character varying(80)" -> "character varying", { 80 }
local function split(t)
  local base, args = tostring(t):lower():match("^%s*(.-)%s*(%b())%s*$")
  if not base then return tostring(t):lower():match("^%s*(.-)%s*$"), {} end
  local nums = {}
  for n in args:gmatch("%d+") do nums[#nums + 1] = tonumber(n) end
  return base, nums
end

---Whether changing a column from type `from` to type `to` keeps every value.
---@param from string
---@param to string
---@return boolean
function M.widens(from, to)
  local fb, fa = split(from)
  local tb, ta = split(to)
  if RANK[fb] and RANK[tb] then return RANK[tb] >= RANK[fb] end
  if FLOATS[fb] and FLOATS[tb] then return FLOATS[tb] >= FLOATS[fb] end
  if STRINGS[fb] and tb == "text" then return true end
  if STRINGS[fb] and STRINGS[tb] then return ta[1] == nil or (fa[1] ~= nil and ta[1] >= fa[1]) end
  if (fb == "numeric" or fb == "decimal") and (tb == "numeric" or tb == "decimal") then
    if ta[1] == nil then return true end
    if fa[1] == nil then return false end
    local fs, ts = fa[2] or 0, ta[2] or 0
    return ts >= fs and (ta[1] - ts) >= (fa[1] - fs)
  end
  if RANK[fb] and (tb == "numeric" or tb == "decimal") then return ta[1] == nil or ta[1] - (ta[2] or 0) >= 19 end
  return false
end

return M
