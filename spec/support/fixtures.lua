--- For in-process specs: temporary files and fresh databases.
local lfs = require "lfs"
local sh = require "spec.support.sh"
local tmpname = require("spec.support.raised").tmpname

local M = {}

---A new empty temporary directory.
---@return string
function M.tmpdir()
  local dir = tmpname()
  assert(lfs.mkdir(dir))
  return dir
end

---Write `text` to `path`; returns the path.
---@param path string
---@param text string
---@return string
function M.write(path, text)
  sh.write(path, text)
  return path
end

---The URL of a new empty database on `backend` (a temporary SQLite file, or
---a new database on the LUAMIG_TEST_PG server), and a function that removes
---the SQLite file afterwards.
---@param backend spec.Backend
---@return string url, fun() remove
function M.fresh_url(backend)
  if backend.name == "postgresql" then return sh.fresh_pg(), function() end end
  local path = tmpname()
  return "sqlite:///" .. path, function() os.remove(path) end
end

return M
