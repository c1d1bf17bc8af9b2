--- JSON output via lua-cjson. cjson writes an empty Lua table as {}, but our
--- documents only hold empty tables where a list belongs, so they become [].
local cjson = require "cjson"

local M = {}

local EMPTY = "\0luamig:empty-list\0"

local function prepare(v)
  if type(v) ~= "table" then return v end
  if next(v) == nil then return EMPTY end
  local out = {}
  for k, x in pairs(v) do out[k] = prepare(x) end
  return out
end

---Encode a document; empty tables come out as [].
---@param doc table
---@return string
function M.encode(doc)
  local text = cjson.encode(prepare(doc))
  return (text:gsub('"\\u0000luamig:empty%-list\\u0000"', "[]"))
end

return M
