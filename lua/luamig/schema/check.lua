--- Did-you-mean for names a caller gave (op names and keys, column names):
--- the closest candidate, when close enough to be a typo of it.
local M = {}

-- Edit distance between a and b, an adjacent swap counting as one edit.
local function distance(a, b)
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
    local dist = distance(word:lower(), c:lower())
    if dist <= best_d and (best == nil or dist < best_d) then best, best_d = c, dist end
  end
  if not best then return "" end
  return sep and (sep .. ("did you mean %q?"):format(best)) or (" (did you mean %q?)"):format(best)
end

return M
