--- Deterministic fake data for seeds: a generator seeded by a string gives
--- the same names, emails, sentences and dates on every run and machine
--- (splitmix64 over Lua's 64-bit integers), so seeding is reproducible.
local errors = require "luamig.util.errors"

local M = {}

local FIRST = { "Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Katherine", "Linus",
  "Margaret", "Niklaus", "Radia", "Ken", "Dennis", "Hedy", "Tim", "Sophie", "Leslie", "Shafi", "Tony", "Joan",
  "Yukihiro", "Guido", "Bjarne", "Anita", "Lynn", "Whitfield", "Jean", "Karen" }
local LAST = { "Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "McCarthy", "Johnson",
  "Torvalds", "Hamilton", "Wirth", "Perlman", "Thompson", "Ritchie", "Lamarr", "Berners-Lee", "Wilson", "Lamport",
  "Goldwasser", "Hoare", "Clarke", "Matsumoto", "van Rossum", "Stroustrup", "Borg", "Conway", "Diffie", "Sammet",
  "Jones" }
local WORDS = { "data", "systems", "theory", "design", "logic", "networks", "graphs", "compilers", "algebra",
  "security", "storage", "queries", "proofs", "machines", "languages", "streams", "signals", "patterns", "models",
  "kernels", "caches", "types", "objects", "functions", "records", "trees", "tables", "indexes", "locks", "clocks" }
local DOMAINS = { "example.org", "example.com", "example.net" }

-- A 64-bit integer from a string (FNV-1a), the generator's starting state.
local function hash(s)
  local h = -3750763034362895579 -- 0xcbf29ce484222325
  for i = 1, #s do
    h = (h ~ s:byte(i)) * 1099511628211
  end
  return h
end

---@class luamig.Fake
---@field int fun(a: integer, b: integer): integer
---@field pick fun(list: table): any
---@field bool fun(p: number?): boolean
---@field first_name fun(): string
---@field last_name fun(): string
---@field name fun(): string
---@field email fun(name: string?, n: integer?): string
---@field word fun(): string
---@field words fun(n: integer): string
---@field sentence fun(n: integer?): string
---@field slug fun(text: string?): string
---@field date fun(from: string?, to: string?): string
---@field uuid fun(): string

---A generator; the same seed gives the same sequence.
---@param seed string|integer
---@return luamig.Fake
function M.new(seed)
  local state = type(seed) == "number" and math.tointeger(seed) or hash(tostring(seed))
  local function next64()
    state = state + -7046029254386353131 -- 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * -4658895280553007687 -- 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * -7723592293110705685 -- 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  local f = {}
  function f.int(a, b)
    if b < a then errors.raise("script", "fake.int: empty range", nil, 2) end
    return a + (next64() >> 1) % (b - a + 1)
  end
  function f.pick(list) return list[f.int(1, #list)] end
  function f.bool(p) return f.int(0, 999999) < (p or 0.5) * 1000000 end
  function f.first_name() return f.pick(FIRST) end
  function f.last_name() return f.pick(LAST) end
  function f.name() return f.first_name() .. " " .. f.last_name() end
  function f.slug(text)
    text = text or f.words(3)
    return (text:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", ""))
  end
  ---An email for `name` (a fresh name when nil); `n` makes it unique.
  function f.email(name, n)
    local local_part = f.slug(name or f.name()):gsub("%-", ".")
    return ("%s%s@%s"):format(local_part, n and tostring(n) or "", f.pick(DOMAINS))
  end
  function f.word() return f.pick(WORDS) end
  function f.words(n)
    local out = {}
    for i = 1, n do out[i] = f.word() end
    return table.concat(out, " ")
  end
  function f.sentence(n)
    local s = f.words(n or f.int(4, 9))
    return s:sub(1, 1):upper() .. s:sub(2) .. "."
  end
  ---A date "YYYY-MM-DD" between `from` and `to` (defaults: 2020-01-01 .. 2026-12-31).
  function f.date(from, to)
    local function days(d)
      local y, m, dd = d:match("^(%d+)-(%d+)-(%d+)$")
      return os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(dd), hour = 12 }) // 86400
    end
    local d = f.int(days(from or "2020-01-01"), days(to or "2026-12-31"))
    return os.date("!%Y-%m-%d", d * 86400 + 43200)
  end
  ---A version-4-shaped UUID.
  function f.uuid()
    local hex = ("%016x%016x"):format(next64(), next64())
    local k = f.int(1, 4)
    return ("%s-%s-4%s-%s%s-%s"):format(hex:sub(1, 8), hex:sub(9, 12), hex:sub(14, 16), ("89ab"):sub(k, k),
      hex:sub(18, 20), hex:sub(21, 32))
  end
  return f
end

return M
