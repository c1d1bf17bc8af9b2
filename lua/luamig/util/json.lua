--- JSON output via lua-cjson. cjson writes an empty Lua table as {}, but our
--- documents only hold empty tables where a list belongs, so they become [].
--- cjson also copies a string's bytes as they are, so text that is not valid
--- UTF-8 (a migration's message can hold any bytes) is repaired first.
local cjson = require "cjson"
local valid_utf8 = require("luamig.util.text").valid_utf8

local M = {}

local EMPTY = "\0luamig:empty-list\0"

local function prepare(v)
  if type(v) == "string" then return valid_utf8(v) end
  if type(v) ~= "table" then return v end
  if next(v) == nil then return EMPTY end
  local out = {}
  for k, x in pairs(v) do out[prepare(k)] = prepare(x) end
  return out
end

---Encode a document; empty tables come out as [], strings as valid UTF-8.
---@param doc table
---@return string
function M.encode(doc)
  local text = cjson.encode(prepare(doc))
  return (text:gsub('"\\u0000luamig:empty%-list\\u0000"', "[]"))
end

return M
