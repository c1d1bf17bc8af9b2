--- Schema snapshots kept between runs, so that `check` and `revision
--- --autogenerate` need not replay an unchanged history (or rebuild an
--- unchanged schema.lua) on a scratch database. One file per project and
--- side under $XDG_CACHE_HOME/luamig (or ~/.cache/luamig), holding the key
--- it was made for: everything the snapshot depends on (the migrations'
--- checksums, the backend and server, luamig's version...). A different key
--- is a miss, and the next put replaces the file. LUAMIG_CACHE=off turns it
--- off; a file that cannot be read or written is ignored.
local lfs = require "lfs"
local host = require "luamig.host"
local fs = require "luamig.util.fs"
local lua_source = require "luamig.util.lua_source"

local M = {}

local FORMAT = "-- luamig-snapshot 1"

-- The cache file for `slot` (project and side), or nil when caching is off.
local function file_of(slot)
  local root = fs.cache_root()
  if not root then return nil end
  return root .. "/luamig/snapshot-" .. host.checksum(slot) .. ".lua", root .. "/luamig"
end

-- The first line of a file made for `key`.
local function header(key) return FORMAT .. " " .. host.checksum(key) end

---The snapshot stored for `slot` under `key`, or nil.
---@param slot string  which project and side ("/path/to/project head")
---@param key string   everything the snapshot depends on
---@return table?
function M.get(slot, key)
  local path = file_of(slot)
  local f = path and io.open(path, "rb")
  if not f then return nil end
  local first = f:read("l")
  if first ~= header(key) then
    f:close()
    return nil
  end
  local text = f:read("a")
  f:close()
  local chunk = load(text, "=snapshot cache", "t", {})
  local ok, snap = pcall(chunk or error)
  if ok and type(snap) == "table" then return snap end
  return nil
end

---Store snapshot `snap` for `slot` under `key` (written aside, then renamed).
---@param slot string
---@param key string
---@param snap table
function M.put(slot, key, snap)
  local path, dir = file_of(slot)
  if not path then return end
  local ok, text = pcall(lua_source.literal, snap)
  if not ok then return end
  if not lfs.attributes(dir) then
    lfs.mkdir(dir:match("^(.*)/[^/]+$"))
    lfs.mkdir(dir)
  end
  local tmp = ("%s.%d.tmp"):format(path, host.getpid())
  local f = io.open(tmp, "wb")
  if not f then return end
  local written = f:write(header(key), "\n", "return ", text, "\n")
  f:close()
  if not written or not os.rename(tmp, path) then os.remove(tmp) end
end

return M
