--- Writing new files: a migration chained to parents (revision, merge) and
--- never over an existing file (also init's config).
local lfs = require "lfs"
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local graph_mod = require "luamig.revision.graph"
local scripts = require "luamig.revision.scripts"
local templates = require "luamig.revision.templates"
local text_mod = require "luamig.util.text"

local M = {}

local function slug(msg)
  local s = msg:lower():gsub("[^%w]+", "_"):gsub("^_+", ""):gsub("_+$", "")
  return s:sub(1, 40)
end

---Write `text` to a new file `path`; raises when it exists or cannot be written.
---@param path string
---@param text string
function M.write_new(path, text)
  if lfs.attributes(path) then errors.raise("usage", path .. " already exists") end
  local f, err = io.open(path, "wb")
  if not f then errors.raise("config", "cannot write " .. err) end
  f:write(text)
  f:close()
end

---Where a new revision `id` with `message` goes in migrations folder `dir`.
---@param dir string
---@param id string
---@param message string
---@return string
function M.path(dir, id, message)
  return ("%s/%s_%s.lua"):format(dir, id, slug(message))
end

-- The revision ids `specs` name, each a head unless `splice`.
local function parents_of(g, specs, splice)
  local parents, seen, heads = {}, {}, graph_mod.set_of(g:heads())
  for _, spec in ipairs(specs) do
    local ok, nodes = pcall(g.get_revisions, g, spec)
    if not ok then
      if spec == "head" and errors.is(nodes) and nodes.message:find("several heads", 1, true) then
        errors.raise("revision", ("there are several heads (%s): pass --head REV or LABEL@head, " ..
          "or `luamig merge -m MSG heads` first"):format(table.concat(g:heads(), ", ")))
      end
      error(nodes, 0)
    end
    for _, n in ipairs(nodes) do
      if type(n) ~= "table" then errors.raise("revision", spec .. " does not name a revision") end
      if seen[n.id] then errors.raise("usage", ("%s is named twice"):format(n.id)) end
      if not splice and not heads[n.id] then
        errors.raise("revision", ("%s is not a head revision; pass --splice to start a new branch from it")
          :format(n.id))
      end
      seen[n.id] = true
      parents[#parents + 1] = n.id
    end
  end
  return parents
end

-- --depends-on: revision ids, branch labels kept as written.
local function depends_of(g, list)
  local deps = {}
  for _, d in ipairs(list or {}) do
    local node = g:get_revision(d)
    if not node then errors.raise("revision", "--depends-on " .. d .. " names no revision") end
    deps[#deps + 1] = node.labels[d] and d or node.id
  end
  return deps
end

---Write a new migration whose parents are what `heads_specs` name
---(Alembic's generate_revision): each must be a head unless `splice`. A
---merge (`merge`) needs two parents or more.
---@param g luamig.Graph   the migrations' graph
---@param cfg luamig.Config
---@param args {message: string, rev_id: string?, depends_on: string[]?, branch_label: string[]?}
---@param heads_specs string[]
---@param splice boolean?
---@param merge boolean?
---@param body table?  autogenerate's bodies (luamig.revision.templates)
---@return table result: revision, down_revisions, path, message, branch_labels, depends_on
function M.new_revision(g, cfg, args, heads_specs, splice, merge, body)
  local id = args.rev_id or host.random_hex(12)
  local problem = scripts.id_problem(id, g.revs)
  if problem then errors.raise("usage", "--rev-id: " .. problem) end
  local parents = parents_of(g, heads_specs, splice)
  if merge and #parents < 2 then
    errors.raise("usage", ("merge needs two or more revisions; %s names only %s: there is nothing to merge")
      :format(table.concat(heads_specs, " "), text_mod.heads(parents)))
  end
  local deps = depends_of(g, args.depends_on)
  local labels = args.branch_label or {}
  for _, l in ipairs(labels) do
    if g.map[l] then errors.raise("usage", ("branch label %s is already used by revision %s"):format(l, g.map[l].id)) end
  end
  local path = M.path(cfg.migrations, id, args.message)
  M.write_new(path, templates.migration({ id = id, parents = parents, message = args.message,
    depends_on = deps, branch_label = labels, date = os.date("!%Y-%m-%d %H:%M UTC"),
    template = args.template, dir = cfg.dir, body = body }))
  return { revision = id, down_revisions = parents, path = path, message = args.message,
    branch_labels = labels, depends_on = deps }
end

return M
