-- luacheck configuration for a luamig project (written by `luamig init`).
-- The globals each kind of file sees or defines; their types are in
-- luamig's editor definitions (share/luamig/types/luamig.lua).
std = "lua54"

local migration_defines = { "revision", "down_revision", "branch_labels", "depends_on", "transactional",
  "message", "upgrade", "downgrade", "change", "expand", "contract", "uncontract", "lock_timeout", "statement_timeout", "lock_retries" }
files["migrations"] = { globals = migration_defines, read_globals = { "op", "luamig" } }
files["seeds"] = { globals = { "requires", "env", "tables", "seed" } }
files["drills"] = { read_globals = { "drill" } }
files["schema.lua"] = { read_globals = { "schema" } }
files["schema"] = { read_globals = { "schema" } }
