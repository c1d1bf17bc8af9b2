--- Text shared by messages and renderings.
local M = {}

local REPLACEMENT = "\239\191\189" -- U+FFFD

---`n` and its noun: "1 row", "2 rows" (`many` defaults to `one` .. "s").
---@param n integer
---@param one string
---@param many string?
---@return string
function M.count(n, one, many)
  return ("%d %s"):format(n, n == 1 and one or (many or one .. "s"))
end

---A set of heads as users read it: "base" when empty, else "a, b".
---@param ids string[]
---@return string
function M.heads(ids)
  return #ids == 0 and "base" or table.concat(ids, ", ")
end

---`s` with each byte that does not start a valid UTF-8 sequence replaced
---by U+FFFD, or by `replace(byte)` (`s` itself when it is valid).
---@param s string
---@param replace (fun(byte: string): string)?
---@return string
function M.valid_utf8(s, replace)
  if utf8.len(s) then return s end
  local out, i = {}, 1
  while i <= #s do
    local n, bad = utf8.len(s, i)
    if n then
      out[#out + 1] = s:sub(i)
      break
    end
    out[#out + 1] = s:sub(i, bad - 1) .. (replace and replace(s:sub(bad, bad)) or REPLACEMENT)
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

---Edit distance between a and b (insertions, deletions, substitutions, and
---an adjacent swap counting as one edit: "txet" is one edit from "text").
---@param a string
---@param b string
---@return integer
function M.distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 1, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      d[i][j] = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        d[i][j] = math.min(d[i][j], d[i - 2][j - 2] + 1)
      end
    end
  end
  return d[#a][#b]
end

---The candidate closest to `word` (case aside), when close enough to be a
---typo of it: " (did you mean "x"?)", or `sep` .. 'did you mean "x"?' when
---`sep` is given; "" when none is.
---@param word string
---@param candidates string[]
---@param sep string?
---@return string
function M.did_you_mean(word, candidates, sep)
  local best, best_d = nil, math.max(1, #word // 3)
  for _, c in ipairs(candidates) do
    local dist = M.distance(word:lower(), c:lower())
    if dist <= best_d and (best == nil or dist < best_d) then best, best_d = c, dist end
  end
  if not best then return "" end
  return sep and (sep .. ("did you mean %q?"):format(best)) or (" (did you mean %q?)"):format(best)
end

-- The distance, or limit + 1 when the lengths alone put it past `limit`.
local function distance(a, b, limit)
  if math.abs(#a - #b) > limit then return limit + 1 end
  return M.distance(a, b)
end

---The keys of `names` closest to `name` by edit distance (at most one edit
---per four characters, at least one), sorted; {} when none is that close or
---more than three tie. With `prefixes`, a longer key also counts by its
---first #name characters (a mistyped partial id).
---@param names table<string, any>
---@param name string
---@param prefixes boolean?
---@return string[]
function M.closest(names, name, prefixes)
  local limit = math.max(1, #name // 4)
  local best, found = limit + 1, {}
  for key in pairs(names) do
    local d = distance(name, key, limit)
    if prefixes and #key > #name then d = math.min(d, distance(name, key:sub(1, #name), limit)) end
    if d < best then
      best, found = d, { key }
    elseif d == best then
      found[#found + 1] = key
    end
  end
  if best > limit or #found > 3 then return {} end
  table.sort(found)
  return found
end

return M
