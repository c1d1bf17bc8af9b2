--- Text written into a generated Lua file (`revision`, autogenerate). Every
--- string from outside (a name, an SQL text, a message) goes through one
--- escape: as a literal it cannot end its string, as a comment it stays on
--- its line, and neither hides anything from a reviewer.
local text = require "luamig.util.text"

local M = {}

local NAMED = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ["\\"] = "\\\\", ['"'] = '\\"' }

local function byte_escape(c) return NAMED[c] or ("\\%03d"):format(c:byte()) end

local function codepoint(ch) return ("\\u{%X}"):format(utf8.codepoint(ch)) end

-- `s` with control characters, C1 controls, bidirectional overrides and bytes
-- that are not UTF-8 written as Lua escapes (which a literal reads back as
-- the same bytes); in a literal also `\` and `"`.
local function escape(s, in_literal)
  s = s:gsub(in_literal and '[%c\127\\"]' or "[%c\127]", byte_escape)
  s = s:gsub("\194[\128-\159]", codepoint):gsub("\226\128[\170-\174]", codepoint)
    :gsub("\226\129[\166-\169]", codepoint)
  return text.valid_utf8(s, byte_escape)
end

---`s` as it can stand on one comment line: no newline, no control
---character (shown as \n, \r, \009 ...).
---@param s any
---@return string
function M.comment_text(s)
  return (escape(tostring(s), false))
end

local IDENT = "^[%a_][%w_]*$"
local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat return then true " ..
  "until while"):gmatch("%a+") do KEYWORDS[w] = true end

---A Lua literal of `v`: strings (escaped), numbers, booleans, nil, and
---tables of them, keys after the list part in the order `rank` gives (by
---name when it gives none).
---@param v any
---@param rank table<string, integer>?
---@return string
function M.literal(v, rank)
  local t = type(v)
  if t == "string" then return '"' .. escape(v, true) .. '"' end
  if t == "number" then return ("%q"):format(v) end
  if t == "boolean" or t == "nil" then return tostring(v) end
  if t ~= "table" then error("lua_source.literal: cannot write a " .. t, 2) end
  rank = rank or {}
  local parts = {}
  for _, x in ipairs(v) do parts[#parts + 1] = M.literal(x, rank) end
  local keys = {}
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= #v) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(x, y)
    local rx, ry = rank[x] or 99, rank[y] or 99
    if rx ~= ry then return rx < ry end
    return tostring(x) < tostring(y)
  end)
  for _, k in ipairs(keys) do
    local key = (type(k) == "string" and k:match(IDENT) and not KEYWORDS[k]) and k or ("[" .. M.literal(k) .. "]")
    parts[#parts + 1] = key .. " = " .. M.literal(v[k], rank)
  end
  if #parts == 0 then return "{}" end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

return M
