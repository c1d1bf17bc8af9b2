-- Test harness: stands in for the runner's CLI (via LUAMIG_LUA_DIR) and runs
-- a Lua script through the real host, so specs exercise the C drivers and
-- the runner's modules (from LUAMIG_SOURCE_DIR/lua) without mocks.
local M = {}

function M.main(argv)
  local src = os.getenv("LUAMIG_SOURCE_DIR") or "."
  package.path = package.path .. ";" .. src .. "/lua/?.lua;" .. src .. "/lua/?/init.lua"
  local chunk, err = loadfile(argv[1])
  if not chunk then
    io.stderr:write(err, "\n")
    return 2
  end
  local ok, e = xpcall(chunk, function(e) return e end, table.unpack(argv, 2))
  if not ok then
    io.stderr:write(tostring(e), "\n")
    return 1
  end
  return 0
end

return M
