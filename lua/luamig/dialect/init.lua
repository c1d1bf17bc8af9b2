--- The dialect contract: what every backend (dialect/sqlite/,
--- dialect/postgresql/) implements, checked when it loads. Generic code asks
--- its dialect; it never branches on a backend's name.
local M = {}

---Backend names, one spelling each.
M.NAMES = { "sqlite", "postgresql" }

---What every dialect must provide (functions unless noted).
M.REQUIRED = {
  "quote_ident", "quote_literal",
  "has_table", "has_column", "has_index",
  "begin_locked", "lock_run", "unlock_run",
  "wants_relaxed", "set_relaxed", "check_step",
}

local loaded = {}

---Load the dialect named `name` and check it implements the contract.
---@param name "sqlite"|"postgresql"
---@return table dialect
function M.load(name)
  local d = loaded[name]
  if d then return d end
  d = require("luamig.dialect." .. name)
  assert(d.name == name, ("dialect %s names itself %s"):format(name, tostring(d.name)))
  for _, f in ipairs(M.REQUIRED) do
    assert(type(d[f]) == "function", ("dialect %s lacks %s"):format(name, f))
  end
  loaded[name] = d
  return d
end

return M
