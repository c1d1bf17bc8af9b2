-- Runs busted inside the real luamig host, so a spec under spec/inproc/ can
-- `require "luamig.sqlite"`, `"luamig.pg"`, `"luamig.db.connect"`, ... and use
-- luassert directly. The harness (LUAMIG_LUA_DIR=spec/support/harness) stands
-- in for luamig.cli and runs this file; the arguments are busted's.
--
-- One spec by hand, from the repository root:
--   LUAMIG_LUA_DIR=spec/support/harness LUAMIG_SOURCE_DIR=$PWD LUAMIG_BIN=build/luamig \
--     build/luamig spec/support/inproc.lua spec/inproc/connect_spec.lua
local src = os.getenv("LUAMIG_SOURCE_DIR") or "."

-- The runner's modules come from the repository's lua/ (the code under test),
-- spec.support.* from the root; busted, luassert and their C parts from the
-- system's Lua 5.4 trees (the host starts with empty paths).
local system = { "/usr/local/share/lua/5.4", "/usr/share/lua/5.4" }
local csystem = { "/usr/local/lib/lua/5.4", "/usr/lib/x86_64-linux-gnu/lua/5.4", "/usr/lib/lua/5.4" }
local path = { src .. "/lua/?.lua", src .. "/lua/?/init.lua", src .. "/?.lua" }
for _, dir in ipairs(system) do
  path[#path + 1] = dir .. "/?.lua"
  path[#path + 1] = dir .. "/?/init.lua"
end
local cpath = {}
for _, dir in ipairs(csystem) do cpath[#cpath + 1] = dir .. "/?.so" end
package.path = table.concat(path, ";")
-- Frames of the runner's modules (here loaded from src/lua) are not the
-- user's line: a driver error names the spec's line, as it names a migration's.
debug.getregistry()["luamig.runner_prefix"] = "@" .. src .. "/lua/luamig/"
package.cpath = table.concat(cpath, ";")

-- The harness took luamig.cli's name; a spec requiring it gets the real one.
package.loaded["luamig.cli"] = nil

_G.arg = { [0] = "busted", ... }
require "busted.runner" { standalone = false }
