--- Text of the files `revision` and `init` write. A migration comes from a
--- template: the built-in upgrade, change and sql ones, or a project's own
--- templates/NAME.lua (next to the config), which may also replace a
--- built-in one. A template is the file's text with ${placeholders}.
local errors = require "luamig.util.errors"
local fs = require "luamig.util.fs"

local M = {}

M.DIR = "templates"
M.DEFAULT = "upgrade"

local HEADER = [==[
-- ${message}
-- Created ${created}
revision      = ${revision}
down_revision = ${down_revision}
branch_labels = ${branch_labels}
depends_on    = ${depends_on}
]==]

---The built-in templates by name.
---@type table<string, string>
M.BUILTIN = {
  upgrade = HEADER .. [==[
transactional = true

function upgrade(db)
  -- db:exec [[CREATE TABLE ...]]
end

function downgrade(db)
  -- db:exec [[DROP TABLE ...]]
end
]==],
  -- op calls only: downgrade is derived by running them backwards
  change = HEADER .. [==[
transactional = true

function change(op)
  -- op.create_table("users", { { "id", "integer", primary_key = true }, { "email", "text", nullable = false } })
end
]==],
  sql = HEADER .. [==[
transactional = true

function upgrade(db)
  db:exec [[
    -- CREATE TABLE ...
  ]]
end

function downgrade(db)
  db:exec [[
    -- DROP TABLE ...
  ]]
end
]==],
}

local function lua_list(list)
  if not list or #list == 0 then return "nil" end
  if #list == 1 then return ("%q"):format(list[1]) end
  local parts = {}
  for i, v in ipairs(list) do parts[i] = ("%q"):format(v) end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

---The template names a project can use: the built-in ones and its own.
---@param dir string  the project directory (the config's)
---@return string[]
function M.names(dir)
  local seen, out = {}, {}
  for name in pairs(M.BUILTIN) do seen[name] = true end
  for _, file in ipairs(fs.list_lua(fs.join(dir, M.DIR)) or {}) do seen[file:gsub("%.lua$", "")] = true end
  for name in pairs(seen) do out[#out + 1] = name end
  table.sort(out)
  return out
end

-- The text of template `name`: the project's file, else the built-in one.
local function template_text(name, dir)
  local path = fs.join(fs.join(dir, M.DIR), name .. ".lua")
  if name:match("^[%w_%-]+$") and fs.exists(path) then
    local f, err = io.open(path, "rb")
    if not f then errors.raise("config", "cannot read template " .. err) end
    local text = f:read("a")
    f:close()
    return text, path
  end
  if M.BUILTIN[name] then return M.BUILTIN[name], nil end
  errors.raise("usage", ("--template %s: no such template (there are: %s; a project adds its own as %s/NAME.lua)")
    :format(name, table.concat(M.names(dir), ", "), M.DIR))
end

---@class luamig.NewMigration
---@field id string
---@field parents string[]
---@field message string
---@field depends_on string[]?
---@field branch_label string[]?
---@field date string
---@field template string?  a template name (default "upgrade")
---@field dir string?       the project directory, whose templates/ is searched first

---A new migration file from its template.
---@param r luamig.NewMigration
---@return string
function M.migration(r)
  local text, path = template_text(r.template or M.DEFAULT, r.dir or ".")
  local values = {
    message = r.message:gsub("\n", " "), created = r.date, revision = ("%q"):format(r.id),
    down_revision = lua_list(r.parents), branch_labels = lua_list(r.branch_label),
    depends_on = lua_list(r.depends_on),
  }
  return (text:gsub("%${([%w_]+)}", function(key)
    if values[key] == nil then
      errors.raise("config", ("%s: unknown placeholder ${%s} (there are: message, created, revision, " ..
        "down_revision, branch_labels, depends_on)"):format(path or "template", key))
    end
    return values[key]
  end))
end

---A new project's luamig.lua.
---@return string
function M.config()
  return [[
-- luamig configuration. Every setting is optional.
return {
  -- Database URL; --url, $LUAMIG_URL and $DATABASE_URL take precedence.
  url = "sqlite:///luamig.db",
  migrations = "migrations",
  -- version_table = "luamig_version",
  -- transaction = "per-migration",   -- or "all": one transaction for the whole run
}
]]
end

---A new project's .gitignore: the SQLite database of the default URL and
---the files SQLite and luamig keep next to it.
---@return string
function M.gitignore()
  return [[
# luamig: the local SQLite database, its journal and luamig's lock file
luamig.db
luamig.db-journal
luamig.db-wal
luamig.db-shm
luamig.db-luamig.lock
]]
end

return M
