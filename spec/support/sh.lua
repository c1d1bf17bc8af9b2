--- Helpers for specs: run the real luamig binary and Lua scripts through it.
local M = {}

M.bin = os.getenv("LUAMIG_BIN") or "build/luamig"
M.source_dir = os.getenv("LUAMIG_SOURCE_DIR") or "."

---Quote a string for /bin/sh.
---@param s string
---@return string
function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

---Run a shell command; returns exit code, stdout, stderr.
---@param cmd string
---@return integer code, string out, string err
function M.run(cmd)
  local out, err = os.tmpname(), os.tmpname()
  local ok, how, code = os.execute(cmd .. " >" .. out .. " 2>" .. err)
  local o, e = slurp(out), slurp(err)
  os.remove(out)
  os.remove(err)
  if how == "signal" then code = 128 + code end
  return ok and 0 or code, o, e
end

---Make a fresh temporary directory; returns its path.
---@return string
function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p " .. M.quote(p)))
  return p
end

---Write a file.
function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

---Run Lua source through the host (drivers and runner modules available).
---@param src string Lua source
---@return integer code, string out, string err
function M.lua(src, ...)
  local path = os.tmpname() .. ".lua"
  M.write(path, src)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = M.quote(a) end
  local cmd = ("LUAMIG_LUA_DIR=%s/spec/support/harness LUAMIG_SOURCE_DIR=%s %s %s %s"):format(
    M.quote(M.source_dir), M.quote(M.source_dir), M.quote(M.bin), M.quote(path), table.concat(args, " "))
  local code, out, err = M.run(cmd)
  os.remove(path)
  return code, out, err
end

return M
