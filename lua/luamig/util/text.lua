--- Text shared by messages and renderings.
local M = {}

local REPLACEMENT = "\239\191\189" -- U+FFFD

---A set of heads as users read it: "base" when empty, else "a, b".
---@param ids string[]
---@return string
function M.heads(ids)
  return #ids == 0 and "base" or table.concat(ids, ", ")
end

---`s` with each byte that does not start a valid UTF-8 sequence replaced
---by U+FFFD (`s` itself when it is valid).
---@param s string
---@return string
function M.valid_utf8(s)
  if utf8.len(s) then return s end
  local out, i = {}, 1
  while i <= #s do
    local n, bad = utf8.len(s, i)
    if n then
      out[#out + 1] = s:sub(i)
      break
    end
    out[#out + 1] = s:sub(i, bad - 1) .. REPLACEMENT
    i = bad + 1
  end
  return table.concat(out)
end

local NAMED = { ["\t"] = "\\t", ["\n"] = "\\n", ["\r"] = "\\r" }

local function codepoint(c) return ("\\u%04x"):format(utf8.codepoint(c)) end

---User-provided text (a message, a path, a label, a stored error) as it can
---be printed: valid UTF-8, with control characters shown as \t, \n, \x1b,
---\u009b (C1) or \u202e (bidirectional overrides) instead of reaching the
---terminal. With `keep_newlines`, newlines stay (multi-line error messages).
---@param s any
---@param keep_newlines boolean?
---@return string
function M.visible(s, keep_newlines)
  s = M.valid_utf8(tostring(s))
  s = s:gsub("[%c\127]", function(c)
    if keep_newlines and c == "\n" then return c end
    return NAMED[c] or ("\\x%02x"):format(c:byte())
  end)
  return (s:gsub("\194[\128-\159]", codepoint):gsub("\226\128[\170-\174]", codepoint)
    :gsub("\226\129[\166-\169]", codepoint))
end

return M
