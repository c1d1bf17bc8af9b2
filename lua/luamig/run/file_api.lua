--- The `luamig` table a migration file sees: luamig.backfill, luamig.progress
--- and luamig.null. The backfill and progress modules load on first use, so
--- a command that reads the files' fields (from the script cache, or by
--- running them outside a step) loads neither.
local errors = require "luamig.util.errors"
local null = require "luamig.null"

local M = {}

local READ_ONLY = { __newindex = function() error("luamig is read-only", 2) end }

---The `luamig` table a migration sees while step `ctx` runs (nil: between
---steps, where backfill refuses and progress has no logger).
---@param ctx luamig.StepContext?
---@return table
function M.api(ctx)
  return setmetatable({
    backfill = function(spec)
      if not ctx then errors.raise("migration", "luamig.backfill is only available while a migration runs", nil, 2) end
      return require("luamig.run.backfill").run(ctx, spec) -- (here: start-up)
    end,
    ---A progress bar/line for the migration's own loops: p = luamig.progress(total, label); p:add(n); p:done().
    progress = function(total, label)
      return require("luamig.util.progress").new(ctx and ctx.log)(total, label) -- (here: start-up)
    end,
    null = null,
  }, READ_ONLY)
end

return M
