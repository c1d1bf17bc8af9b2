--- Editor set-up files: where the installed LuaLS definitions are, and the
--- text of the .luarc.json and .luacheckrc a project gets. The files live in
--- share/luamig/ (installed next to bin/ by `cmake --install`, or the source
--- tree while developing).
local lfs = require "lfs"

local M = {}

-- <prefix>/bin/luamig -> <prefix>/share/luamig; the source tree's share/luamig
-- for a binary in a build directory (build/luamig) or with LUAMIG_SOURCE_DIR.
local function candidates()
  local out = {}
  local exe = lfs.symlinkattributes("/proc/self/exe", "target")
  local bin = exe and exe:match("^(.*)/[^/]+$")
  if bin then out[#out + 1] = bin .. "/../share/luamig" end
  local src = os.getenv("LUAMIG_SOURCE_DIR")
  if src then out[#out + 1] = src .. "/share/luamig" end
  return out
end

local function normalize(path)
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." and #parts > 0 and parts[#parts] ~= ".." then
      parts[#parts] = nil
    elseif part ~= "." then
      parts[#parts + 1] = part
    end
  end
  return (path:sub(1, 1) == "/" and "/" or "") .. table.concat(parts, "/")
end

---The directory holding luamig's shared files (types/, the templates), or
---nil and why when this luamig was installed without them.
---@return string? dir, string? err
function M.data_dir()
  local tried = candidates()
  for _, dir in ipairs(tried) do
    if lfs.attributes(dir .. "/types/luamig.lua", "mode") == "file" then return normalize(dir) end
  end
  return nil, "luamig's editor definitions are not installed (looked in " ..
      (#tried > 0 and table.concat(tried, ", ") or "nowhere") .. ")"
end

---The installed directory of the LuaLS definitions (for workspace.library).
---@return string? dir, string? err
function M.types_dir()
  local dir, err = M.data_dir()
  return dir and (dir .. "/types"), err
end

local function template(name)
  local dir, err = M.data_dir()
  if not dir then return nil, err end
  local f, ferr = io.open(dir .. "/" .. name, "rb")
  if not f then return nil, ferr end
  local text = f:read("a")
  f:close()
  return text
end

---The text of a project's .luarc.json, pointing LuaLS at the installed
---definitions.
---@return string? text, string? err
function M.luarc_json()
  local text, err = template("luarc.json")
  if not text then return nil, err end
  local types = M.types_dir()
  local quoted = types:gsub('[\\"]', "\\%0")
  return (text:gsub("@LUAMIG_TYPES_DIR@", function() return quoted end))
end

---The text of a project's .luacheckrc (the globals of migrations, seeds and
---drills).
---@return string? text, string? err
function M.luacheckrc()
  return template("luacheckrc.lua")
end

return M
