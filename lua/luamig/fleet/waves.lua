--- A fleet run's waves (--waves 1,10%,100%, or --canary K = K,100%): each
--- entry is how many targets are done by the end of its wave, a count or a
--- percentage of the targets to run (rounded up), cumulative; a wave ends
--- before the next starts, and a failed wave stops the run. The rest of
--- the targets always make a last wave (as if the list ended in 100%).
local errors = require "luamig.util.errors"
local text = require "luamig.util.text"

local M = {}

---@class luamig.FleetWaveSpec
---@field count integer?
---@field percent number?

-- One entry ("10", "10%") as a spec, or a usage error naming `opt`.
local function entry(word, opt)
  local pct = word:match("^(%d+%.?%d*)%%$")
  if pct then
    local p = tonumber(pct)
    if p and p > 0 and p <= 100 then return { percent = p } end
  else
    local n = math.tointeger(tonumber(word:match("^%d+$") or ""))
    if n and n >= 1 then return { count = n } end
  end
  errors.raise("usage", ("%s: each wave is a count of at least 1 or a percentage in (0, 100]%%, e.g. 1,10%%,100%% " ..
    "(got %s)"):format(opt, text.visible(word)))
end

---The wave specs of --waves / --canary (nil when neither: one wave).
---@param waves string?
---@param canary string?
---@return luamig.FleetWaveSpec[]?
function M.parse(waves, canary)
  if waves and canary then errors.raise("usage", "--canary K is --waves K,100%: give one of them") end
  if canary then
    local n = math.tointeger(tonumber(canary))
    if not n or n < 1 then
      errors.raise("usage", ("--canary must be a whole number of at least 1 (got %s)"):format(text.visible(canary)))
    end
    return { { count = n } }
  end
  if not waves then return nil end
  local out = {}
  for word in (tostring(waves) .. ","):gmatch("([^,]*),") do out[#out + 1] = entry(word, "--waves") end
  return out
end

---The waves of `n` targets: { first, last } position ranges, in order,
---none empty, covering 1..n.
---@param specs luamig.FleetWaveSpec[]?
---@param n integer
---@return { first: integer, last: integer }[]
function M.plan(specs, n)
  local out, done = {}, 0
  for _, s in ipairs(specs or {}) do
    local upto = math.min(n, s.count or math.ceil(s.percent * n / 100 - 1e-9))
    if upto > done then
      out[#out + 1] = { first = done + 1, last = upto }
      done = upto
    end
  end
  if done < n then out[#out + 1] = { first = done + 1, last = n } end
  return out
end

return M
