--- Text of the files `revision` and `init` write.
local M = {}

local function lua_list(list)
  if not list or #list == 0 then return "nil" end
  if #list == 1 then return ("%q"):format(list[1]) end
  local parts = {}
  for i, v in ipairs(list) do parts[i] = ("%q"):format(v) end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

---A new migration file.
---@param r {id: string, parents: string[], message: string, depends_on: string[]?, branch_label: string[]?, date: string}
---@return string
function M.migration(r)
  return ([==[
-- %s
-- Created %s
revision      = %q
down_revision = %s
branch_labels = %s
depends_on    = %s
transactional = true

function upgrade(db)
  -- db:exec [[CREATE TABLE ...]]
end

function downgrade(db)
  -- db:exec [[DROP TABLE ...]]
end
]==]):format(r.message:gsub("\n", " "), r.date, r.id, lua_list(r.parents), lua_list(r.branch_label),
    lua_list(r.depends_on))
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

return M
