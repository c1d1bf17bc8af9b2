--- A project plugin: `luamig dbinfo` prints each table's row count, and every
--- applied or reverted migration is logged to a migration_log table.
local function log_table(db)
  db:exec [[CREATE TABLE IF NOT EXISTS migration_log (
    revision TEXT NOT NULL, direction TEXT NOT NULL, ms REAL, at TEXT NOT NULL)]]
end

return {
  name = "dbinfo",
  commands = {
    dbinfo = {
      help = "Row counts of every table.",
      options = { { "--min", "Only tables with at least this many rows.", "N" } },
      run = function(ctx, args)
        local db, min = ctx.db, tonumber(args.min or "0")
        if not min then error("--min needs a number", 0) end
        local names = {}
        for name in pairs(db:schema().tables) do names[#names + 1] = name end
        table.sort(names)
        local counts = {}
        for _, name in ipairs(names) do
          local n = db:scalar("SELECT count(*) FROM " .. db:quote_ident(name))
          if n >= min then
            counts[#counts + 1] = { table = name, rows = n }
            ctx.log:result(("%-20s %8d"):format(name, n))
          end
        end
        return { tables = counts }
      end,
    },
  },
  hooks = {
    after_migration = function(ctx, step)
      log_table(ctx.db)
      ctx.db:exec("INSERT INTO migration_log VALUES (?, ?, ?, ?)", step.revision, step.direction, step.ms,
        os.date("!%Y-%m-%dT%H:%M:%SZ"))
    end,
  },
}
