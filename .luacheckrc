-- luacheck: the runner is plain Lua 5.4 without globals; migrations and
-- config files declare their fields as globals of their own environment.
std = "lua54"
max_line_length = 130
exclude_files = { "build*/**" }

files["spec"] = { std = "+busted" }
local migration_globals = { "revision", "down_revision", "branch_labels", "depends_on", "transactional",
  "message", "upgrade", "downgrade", "change" }
local migration_reads = { "op", "luamig" }
files["examples/*/migrations"] = { globals = migration_globals, read_globals = migration_reads }
files["spec/support/harness"] = {}
files["examples/*/drills"] = { read_globals = { "drill" } }
files["examples/*/schema.lua"] = { read_globals = { "schema" } }
-- migrations written by `revision --autogenerate` take db and may not use it
files["examples/autogen/migrations"] = { globals = migration_globals, read_globals = migration_reads, unused_args = false,
  max_line_length = false }
local seed_globals = { "requires", "env", "tables", "seed" }
files["examples/*/seeds"] = { globals = seed_globals }
