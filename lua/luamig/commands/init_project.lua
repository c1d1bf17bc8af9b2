--- `init [DIR]`: scaffold a project. (The file is not commands/init.lua: that
--- name is the folder's own module, luamig.commands.)
local lfs = require "lfs"
local errors = require "luamig.util.errors"
local config = require "luamig.project.config"
local templates = require "luamig.revision.templates"
local revision_file = require "luamig.commands.shared.revision_file"
local format = require "luamig.commands.shared.format"

local M = {
  example = "luamig init myapp",
  args = { { "dir", "Directory (default: .).", "?" } },
}

function M.run(_, args)
  local dir = args.dir or "."
  local created = {}
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
  local schema = config.join(dir, "schema.lua")
  if not lfs.attributes(schema) then
    revision_file.write_new(schema, templates.schema())
    created[#created + 1] = schema
  end
  return { dir = dir, created = created }
end

function M.render(log, r)
  for _, p in ipairs(r.created) do log:result("created " .. format.visible(p)) end
  log:result("Next: `luamig revision -m \"create users\"`, then `luamig upgrade head`.")
end

return M
