--- `init [DIR]`: scaffold a project. (The file is not commands/init.lua: that
--- name is the folder's own module, luamig.commands.)
local lfs = require "lfs"
local errors = require "luamig.util.errors"
local config = require "luamig.project.config"
local editor = require "luamig.project.editor"
local fs = require "luamig.util.fs"
local templates = require "luamig.revision.templates"
local revision_file = require "luamig.revision.write"
local format = require "luamig.commands.shared.format"

local M = {
  example = { "luamig init myapp", "luamig init && luamig revision -m \"create users\" --template change" },
  args = { { "dir", "Directory (default: .).", "?", complete = "dirs" } },
}

-- .gitignore: a new one, or the luamig lines an existing one lacks added.
local function gitignore(path)
  local want = templates.gitignore()
  if not fs.exists(path) then
    revision_file.write_new(path, want)
    return "created"
  end
  local f = assert(io.open(path, "rb"))
  local have = f:read("a")
  f:close()
  local present, missing = {}, {}
  for line in have:gmatch("[^\n]+") do present[line] = true end
  for line in want:gmatch("[^\n]+") do
    if not line:match("^#") and not present[line] then missing[#missing + 1] = line end
  end
  if #missing == 0 then return nil end
  f = assert(io.open(path, "ab"))
  f:write((have == "" or have:sub(-1) == "\n") and "" or "\n", table.concat(missing, "\n"), "\n")
  f:close()
  return "updated"
end

-- The editor set-up files (.luarc.json, .luacheckrc, and the definitions
-- when none are installed), each unless it exists.
local function editor_files(dir, created)
  for _, file in ipairs(editor.project_files()) do
    local path = config.join(dir, file.path)
    if not fs.exists(path) then
      local parent = dir
      for part in file.path:gmatch("([^/]+)/") do
        parent = config.join(parent, part)
        if not lfs.attributes(parent) then
          local ok, err = lfs.mkdir(parent)
          if not ok then errors.raise("config", ("cannot create %s: %s"):format(parent, err)) end
        end
      end
      revision_file.write_new(path, file.text)
      created[#created + 1] = path
    end
  end
end

function M.run(_, args)
  local dir = args.dir or "."
  local created, notes = {}, {}
  local function mkdir(p)
    if not lfs.attributes(p) then
      local ok, err = lfs.mkdir(p)
      if not ok then errors.raise("config", ("cannot create %s: %s"):format(p, err)) end
      created[#created + 1] = p .. "/"
    end
  end
  mkdir(dir)
  local cfg = config.join(dir, config.DEFAULT_FILE)
  if lfs.attributes(cfg) then errors.raise("usage", cfg .. " already exists: the project is initialised") end
  for _, sub in ipairs({ "migrations", "plugins", "seeds", "drills" }) do mkdir(config.join(dir, sub)) end
  revision_file.write_new(cfg, templates.config())
  created[#created + 1] = cfg
  local ignore = config.join(dir, ".gitignore")
  local how = gitignore(ignore)
  if how == "created" then created[#created + 1] = ignore elseif how then notes[#notes + 1] = "updated " .. ignore end
  editor_files(dir, created)
  local schema = config.join(dir, "schema.lua")
  if not lfs.attributes(schema) then
    revision_file.write_new(schema, templates.schema())
    created[#created + 1] = schema
  end
  return { dir = dir, created = created, notes = notes }
end

function M.render(log, r)
  for _, p in ipairs(r.created) do log:result("created " .. format.visible(p)) end
  for _, n in ipairs(r.notes) do log:result(format.visible(n)) end
  log:result("Next: `luamig revision -m \"create users\"`, then `luamig upgrade head`.")
end

return M
