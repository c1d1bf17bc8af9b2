--- SQLite's backfill batch writer: one prepared UPDATE per row and column
--- set (an in-process call; a multi-row UPDATE ... FROM (VALUES ...)
--- measured 1.6x slower here).
local ddl = require "luamig.model.ddl"
local null = require "luamig.null"

local M = {}

---@param db luamig.Db
---@param table_name string
---@param key string  the key column
---@param prepared luamig.BackfillStatements
---@return luamig.BackfillWriter
function M.backfill_writer(db, table_name, key, prepared)
  local args = {}
  local qt, qk = ddl.qualified(table_name), db:quote_ident(key)
  local w = {}
  function w.write(sig, values, key_value)
    local stmt = prepared(sig.id, function()
      local sets = {}
      for i, c in ipairs(sig.cols) do sets[i] = db:quote_ident(c) .. " = ?" end
      return ("UPDATE %s SET %s WHERE %s = ?"):format(qt, table.concat(sets, ", "), qk)
    end)
    local ncols = #sig.cols
    for i = 1, ncols do
      local v = values[sig.cols[i]]
      if v == nil then v = null end
      args[i] = v
    end
    args[ncols + 1] = key_value
    stmt:exec(table.unpack(args, 1, ncols + 1))
  end
  function w.flush() end
  return w
end

return M
