-- The folders of lua/luamig/ depend downward only, in the order the README's
-- Development section gives (LAYERS below, lowest first): a module may
-- require modules of its own folder and of the folders before it, never one
-- after it. A folder-level cycle is always an upward edge, so this catches
-- cycles too. KNOWN lists the upward edges left from before the order was
-- enforced, each to be removed by moving code to where it belongs: a new
-- upward edge fails, and so does a KNOWN entry that no longer exists, so the
-- list can only shrink.
local lfs = require "lfs"

local LAYERS = { "util", "model", "db", "dialect", "schema", "revision", "run", "tools", "fleet", "shipped_plugins",
  "project", "commands", "cli" }
local NOT_FOLDERS = { host = true, sqlite = true, pg = true, null = true } -- C modules and values of the host

---@type table<string, string> "from -> to" = why it is still there
local KNOWN = {
  ["db -> dialect"] = "db/connect.lua picks the dialect: connecting belongs above the dialects",
  ["db -> schema"] = "db:schema() (db/connection.lua) and the did-you-mean of db/rows.lua reach into schema/",
  ["dialect -> schema"] = "the dialects build DDL and read the catalog with schema/'s model and ddl",
}

local rank = {}
for i, name in ipairs(LAYERS) do rank[name] = i end

-- Every `require "luamig.X..."` under lua/luamig: { from = folder, to = folder, at = "file:line" }.
local function edges(root)
  local out = {}
  local function walk(dir, rel)
    for entry in lfs.dir(dir) do
      if entry ~= "." and entry ~= ".." then
        local path, name = dir .. "/" .. entry, rel and (rel .. "/" .. entry) or entry
        if lfs.attributes(path, "mode") == "directory" then
          walk(path, name)
        elseif entry:match("%.lua$") then
          local from = name:match("^([^/]+)/") or "(root)"
          local n = 0
          for line in io.lines(path) do
            n = n + 1
            for mod in line:gmatch("require%s*%(?%s*[\"']luamig%.([%w_.]+)[\"']") do
              local to = mod:match("^[^.]+")
              if not NOT_FOLDERS[to] and to ~= from then
                out[#out + 1] = { from = from, to = to, at = ("lua/luamig/%s:%d"):format(name, n) }
              end
            end
          end
        end
      end
    end
  end
  walk(root)
  return out
end

describe("the folder order of lua/luamig", function()
  local source = os.getenv("LUAMIG_SOURCE_DIR") or "."
  local found = edges(source .. "/lua/luamig")

  it("names every folder in LAYERS", function()
    for entry in lfs.dir(source .. "/lua/luamig") do
      if entry ~= "." and entry ~= ".." then
        assert.is_not_nil(rank[entry], "lua/luamig/" .. entry .. " is in no layer: add it to LAYERS and the README")
      end
    end
  end)

  it("has no upward require but the KNOWN ones, and every KNOWN one still exists", function()
    local upward, seen = {}, {}
    for _, e in ipairs(found) do
      assert.is_not_nil(rank[e.from], e.at)
      assert.is_not_nil(rank[e.to], e.at .. ": requires luamig." .. e.to .. ", which is in no layer")
      if rank[e.to] > rank[e.from] then
        local key = e.from .. " -> " .. e.to
        seen[key] = true
        if not KNOWN[key] then upward[#upward + 1] = e.at .. ": " .. key end
      end
    end
    assert.are.same({}, upward)
    local stale = {}
    for key in pairs(KNOWN) do
      if not seen[key] then stale[#stale + 1] = key end
    end
    table.sort(stale)
    assert.are.same({}, stale, "remove these from KNOWN: they are gone")
  end)
end)
