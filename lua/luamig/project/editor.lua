--- Editor set-up files: where the installed LuaLS definitions are, and the
--- text of the .luarc.json and .luacheckrc a project gets. The files live in
--- share/luamig/ (installed next to bin/ by `cmake --install`, or the source
--- tree while developing) and are built into the binary (luamig_share), so
--- a luamig without them installed still writes them.
local lfs = require "lfs"
local share = require "luamig_share" -- share/luamig/: path -> text (cmake/embed_share.cmake)

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

---The text of a project's .luarc.json, pointing LuaLS at `types` (default:
---the installed definitions).
---@param types string?
---@return string? text, string? err
function M.luarc_json(types)
  if not types then
    local err
    types, err = M.types_dir()
    if not types then return nil, err end
  end
  local quoted = types:gsub('[\\"]', "\\%0")
  return (share["luarc.json"]:gsub("@LUAMIG_TYPES_DIR@", function() return quoted end))
end

---The text of a project's .luacheckrc (the globals of migrations, seeds and
---drills).
---@return string text
function M.luacheckrc()
  return share["luacheckrc.lua"]
end

---Where a project gets its own copy of the definitions when this luamig
---has none installed (relative to the project: LuaLS reads it so).
M.LOCAL_TYPES = ".luamig/types"

---The editor set-up files of a project, paths relative to it, in writing
---order: .luarc.json pointing LuaLS at the installed definitions, or, for
---a luamig without them (a build directory, a copied binary), at a copy of
---the built-in ones in .luamig/types/ (listed too); then .luacheckrc.
---@return { path: string, text: string }[]
function M.project_files()
  local types, copies = M.types_dir(), {}
  if not types then
    types = M.LOCAL_TYPES
    for name, text in pairs(share) do
      local file = name:match("^types/(.+)$")
      if file then copies[#copies + 1] = { path = types .. "/" .. file, text = text } end
    end
    table.sort(copies, function(a, b) return a.path < b.path end)
  end
  local out = { { path = ".luarc.json", text = M.luarc_json(types) } }
  for _, c in ipairs(copies) do out[#out + 1] = c end
  out[#out + 1] = { path = ".luacheckrc", text = M.luacheckrc() }
  return out
end

return M
