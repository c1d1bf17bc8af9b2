--- A module loaded on first use: `local plugins = lazy "luamig.project.plugins"`
--- reads like a require, but the module loads (once) when a field of it is
--- first read, so a command that never uses it does not pay for loading it.
---@param name string  the module name, as for require
---@return table
return function(name)
  return setmetatable({}, {
    __index = function(proxy, k)
      local m = require(name)
      setmetatable(proxy, { __index = m })
      return m[k]
    end,
  })
end
