--- `lint --rows N`: N synthetic rows in every table of the scratch
--- database, so that durations, rewrites and scans mean something.
--- Each column gets a value derived from the row number g (1..N), so keys
--- are unique and a foreign key to an integer id 1..N finds its row;
--- parents are filled before the tables referring to them. Columns with a
--- default (serials, identities) are left to it.
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

-- Tables ordered so that every table comes after the ones it references.
local function ordered(tables, deps)
  local out, done, visiting = {}, {}, {}
  local function visit(name)
    if done[name] or visiting[name] then return end
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

---Insert n rows in each table described by `d` (the observer module's
---`fill_info(db, skip)`: tables = {name -> columns}, deps, series(n, sql)).
---@param db userdata
---@param d luamig.Dialect
---@param n integer
function M.fill(db, d, n)
  for _, name in ipairs(ordered(d.tables, d.deps)) do
    local cols, exprs = {}, {}
    for _, c in ipairs(d.tables[name]) do
      local value = VALUE[c.kind]
      if value then
        cols[#cols + 1], exprs[#exprs + 1] = db:quote_ident(c.name), value(c, d)
      elseif not c.nullable then
        errors.raise("usage", ("--rows cannot fill column %s.%s (%s); seed this table with --with-seeds")
          :format(name, c.name, c.type or "?"))
      end
    end
    if #cols > 0 then
      local ok, err = pcall(db.exec, db, d.series(n, ("INSERT INTO %s (%s) SELECT %s FROM series"):format(
        db:quote_ident(name), table.concat(cols, ", "), table.concat(exprs, ", "))))
      if not ok then
        errors.raise("usage", ("--rows cannot fill table %s: %s; seed it with --with-seeds"):format(name,
          errors.text(err)))
      end
    end
  end
end

return M
