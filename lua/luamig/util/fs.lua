--- Small file-system helpers over lfs.
local lfs = require "lfs"

local M = {}

---True when `path` exists (any kind of file).
---@param path string
---@return boolean
function M.exists(path)
  return lfs.attributes(path, "mode") ~= nil
end

---True when `path` is a directory.
---@param path string
---@return boolean
function M.is_dir(path)
  return lfs.attributes(path, "mode") == "directory"
end

---Join a relative path onto dir ("." stays implicit); absolute paths win.
---@param dir string
---@param path string
---@return string
function M.join(dir, path)
  if path:sub(1, 1) == "/" or dir == "." then return path end
  return dir .. "/" .. path
end

---The folder luamig's caches go under ($XDG_CACHE_HOME, else ~/.cache), or
---nil when there is none or LUAMIG_CACHE=off (or 0) turns caching off.
---@return string?
function M.cache_root()
  local setting = os.getenv("LUAMIG_CACHE")
  if setting == "off" or setting == "0" then return nil end
  local root = os.getenv("XDG_CACHE_HOME")
  if not root or root == "" then
    local home = os.getenv("HOME")
    if not home or home == "" then return nil end
    root = home .. "/.cache"
  end
  return root
end

---The Lua files of directory `dir`: names ending in .lua that do not start
---with _ or . (helpers and hidden files), sorted; and their paths. Nil when
---`dir` is not a directory.
---@param dir string
---@return string[]? names, string[]? paths
function M.list_lua(dir)
  if not M.is_dir(dir) then return nil end
  local names, paths = {}, {}
  for name in lfs.dir(dir) do
    if M.is_lua_name(name) then names[#names + 1] = name end
  end
  table.sort(names)
  local prefix = M.prefix(dir)
  for i, name in ipairs(names) do paths[i] = prefix .. name end
  return names, paths
end

---Whether a file name is one M.list_lua lists: it ends in .lua and does not
---start with _ or . (helpers and hidden files).
---@param name string
---@return boolean
function M.is_lua_name(name)
  local first = name:byte()
  return first ~= 95 and first ~= 46 and name:find(".lua", -4, true) ~= nil
end

---What a name in `dir` is prefixed with to make its path: "dir/", or "" for
---"." (rather than M.join per name: `heads` lists 10,000 files).
---@param dir string
---@return string
function M.prefix(dir)
  return dir == "." and "" or (dir .. "/")
end

return M
