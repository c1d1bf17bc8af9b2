-- The folders of lua/luamig/ depend downward only, in the order the README's
-- Development section gives (LAYERS below, lowest first): a module may
-- require modules of its own folder and of the folders before it, never one
-- after it. A folder-level cycle is always an upward edge, so this catches
-- those too; and no module reaches itself through the requires of modules
-- (a `require` inside a function counts: one must never dodge a cycle).
local lfs = require "lfs"

local LAYERS = { "util", "model", "dialect", "db", "schema", "revision", "run", "tools", "fleet", "shipped_plugins",
  "project", "commands", "cli" }
local NOT_FOLDERS = { host = true, sqlite = true, pg = true, null = true } -- C modules and values of the host

local rank = {}
for i, name in ipairs(LAYERS) do rank[name] = i end

-- Every `require "luamig.X..."` under lua/luamig: { from = folder, to = folder, at = "file:line",
-- module = the requiring module's name, required = the required one's }.
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
          local module = name:gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
          local n = 0
          for line in io.lines(path) do
            n = n + 1
            for mod in line:gmatch("require%s*%(?%s*[\"']luamig%.([%w_.]+)[\"']") do
              local to = mod:match("^[^.]+")
              if not NOT_FOLDERS[to] then
                out[#out + 1] = { from = from, to = to, at = ("lua/luamig/%s:%d"):format(name, n), module = module,
                  required = mod }
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

  it("lists the same folders in the same order as the README's layout", function()
    local readme, listed = assert(io.open(source .. "/README.md")):read("a"), {}
    local layout = assert(readme:match("folder by folder in layer order.-\n(.-)\n  %- `share/"), "no layout list")
    for name in layout:gmatch("\n    %d+%. `([%w_]+)/`") do listed[#listed + 1] = name end
    assert.are.same(LAYERS, listed)
  end)

  it("has no upward require", function()
    local upward = {}
    for _, e in ipairs(found) do
      assert.is_not_nil(rank[e.from], e.at)
      assert.is_not_nil(rank[e.to], e.at .. ": requires luamig." .. e.to .. ", which is in no layer")
      if e.to ~= e.from and rank[e.to] > rank[e.from] then upward[#upward + 1] = e.at .. ": " .. e.from .. " -> " .. e.to end
    end
    assert.are.same({}, upward)
  end)

  it("has no cycle between modules", function()
    local needs = {}
    for _, e in ipairs(found) do
      needs[e.module] = needs[e.module] or {}
      table.insert(needs[e.module], e)
    end
    local state, path, cycles = {}, {}, {}
    local function visit(m)
      state[m] = "open"
      for _, e in ipairs(needs[m] or {}) do
        path[#path + 1] = e
        if state[e.required] == "open" then
          local at = {}
          for i = #path, 1, -1 do
            table.insert(at, 1, path[i].at)
            if path[i].module == e.required then break end
          end
          cycles[#cycles + 1] = table.concat(at, " -> ")
        elseif not state[e.required] then
          visit(e.required)
        end
        path[#path] = nil
      end
      state[m] = "done"
    end
    local modules = {}
    for m in pairs(needs) do modules[#modules + 1] = m end
    table.sort(modules)
    for _, m in ipairs(modules) do
      if not state[m] then visit(m) end
    end
    assert.are.same({}, cycles)
  end)
end)
