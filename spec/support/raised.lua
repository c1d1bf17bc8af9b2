--- For in-process specs: the error a call raises and where it must point.
local M = {}

---Call `fn`, which must raise; returns the error and the "file:line: " of the
---line `raised` was called on (write the call and `fn` on that one line, so a
---message blaming the caller's line can be checked).
---@param fn fun()
---@return any err, string at
function M.raised(fn)
  local info = debug.getinfo(2, "Sl")
  local ok, e = pcall(fn)
  assert(not ok, "expected an error, got none")
  return e, info.short_src .. ":" .. info.currentline .. ": "
end

---A path for a new file in the temporary directory (nothing there yet).
---@return string
function M.tmpname()
  local path = os.tmpname()
  os.remove(path)
  return path
end

return M
