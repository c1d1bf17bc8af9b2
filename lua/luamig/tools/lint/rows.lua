--- `lint --rows N` and `--rows-from-target`: synthetic rows in the tables
--- of the scratch database, so that durations, rewrites and scans mean
--- something. Before each migration, the tables not filled yet (those that
--- existed before the first, then those the previous migrations created)
--- get their count: the target's row estimate capped by --rows-cap, or N.
--- Each column gets a value derived from the row number g (1..n), so keys
--- are unique; a single-column foreign key gets ((g - 1) % P) + 1 for a
--- parent filled with it with P rows (NULL, when it may be, for a parent
--- filled before); parents are filled before the tables referring to them.
--- Columns with a default (serials, identities) are left to it.
local errors = require "luamig.util.errors"

local M = {}

-- The expression for column `c` ({kind, nullable, enum, length}) of row g.
local VALUE = {
  integer = function() return "g" end,
  real = function() return "g * 1.5" end,
  text = function(c, d) return c.length and d.left(c.length) or "'r' || g" end,
  boolean = function(_, d) return d.boolean end,
  time = function(_, d) return d.now end,
  uuid = function(_, d) return d.uuid end,
  json = function() return "'{}'" end,
  blob = function(_, d) return d.blob end,
  enum = function(c, d) return d.enum(c.enum) end,
}

-- Tables ordered so that every table comes after the ones it references
-- (those of `tables` only).
local function ordered(tables, deps)
  local out, done, visiting = {}, {}, {}
  local function visit(name)
    if done[name] or visiting[name] or not tables[name] then return end
    visiting[name] = true
    for _, parent in ipairs(deps[name] or {}) do visit(parent) end
    done[name] = true
    out[#out + 1] = name
  end
  local names = {}
  for name in pairs(tables) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do visit(name) end
  return out
end

-- Insert `n` rows in table `name` (its columns `cols`); `parents`: the rows
-- of the tables filled with it.
local function fill_table(db, d, name, cols, n, parents)
  local names, exprs = {}, {}
  for _, c in ipairs(cols) do
    local value = VALUE[c.kind]
    if c.parent and c.kind == "integer" then
      -- a parent filled with it has keys 1..P; an earlier one may have changed since: NULL if it can be
      local p = parents[c.parent]
      value = p and p > 0 and function() return ("((g - 1) %% %d) + 1"):format(p) end or
        (not c.nullable and value) or nil
    end
    if value then
      names[#names + 1], exprs[#exprs + 1] = db:quote_ident(c.name), value(c, d)
    elseif not c.nullable then
      errors.raise("usage", ("--rows cannot fill column %s.%s (%s); seed this table with --with-seeds")
        :format(name, c.name, c.type or "?"))
    end
  end
  if #names == 0 then return end
  local ok, err = pcall(db.exec, db, d.series(n, ("INSERT INTO %s (%s) SELECT %s FROM series"):format(
    db:quote_ident(name), table.concat(names, ", "), table.concat(exprs, ", "))))
  if not ok then
    errors.raise("usage", ("--rows cannot fill table %s: %s; seed it with --with-seeds"):format(name,
      errors.text(err)))
  end
end

---Insert rows in the tables described by `d` (the observer module's
---`fill_info(db, skip)`: tables = {name -> columns}, deps, series(n, sql)):
---`n` rows in each, or counts[name] in those `n` names (a foreign key
---into a table filled before, whose rows may have changed since, is left
---NULL when it can be).
---@param db userdata
---@param d table
---@param n integer|table<string, integer>
function M.fill(db, d, n)
  local counts = n
  if type(n) ~= "table" then
    counts = {}
    for name in pairs(d.tables) do counts[name] = n end
  end
  for _, name in ipairs(ordered(d.tables, d.deps)) do
    if (counts[name] or 0) > 0 then fill_table(db, d, name, d.tables[name], counts[name], counts) end
  end
end

---@class luamig.LintFill
---@field rows integer?                  --rows N
---@field counts table<string, number>?  --rows-from-target: the target's estimates (negative: unknown)
---@field cap integer                    --rows-cap

---A filler for one lint run: filler.fill(db, d) fills the tables of `d` it
---has not seen yet; filler.ratio[name] = {ratio, rows, filled} for a table
---the cap cut (the target's estimate over the rows filled).
---@param plan luamig.LintFill
function M.filler(plan)
  local f = { seen = {}, ratio = {} }
  function f.fill(db, d)
    local counts = {}
    for name in pairs(d.tables) do
      if not f.seen[name] then
        f.seen[name] = true
        local real = plan.counts and plan.counts[name]
        local n = plan.rows
        if real and real >= 0 then
          n = math.min(math.floor(real), plan.cap)
          if real > n and n > 0 then f.ratio[name] = { ratio = real / n, rows = math.floor(real), filled = n } end
        end
        counts[name] = n or 0
      end
    end
    M.fill(db, d, counts)
  end
  return f
end

return M
