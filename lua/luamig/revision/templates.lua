--- Text of the files `revision` and `init` write.
local M = {}

local function lua_list(list)
  if not list or #list == 0 then return "nil" end
  if #list == 1 then return ("%q"):format(list[1]) end
  local parts = {}
  for i, v in ipairs(list) do parts[i] = ("%q"):format(v) end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

---A new migration file; `r.body` (autogenerate) gives its upgrade and
---downgrade bodies and whether it runs in a transaction.
---@param r {id: string, parents: string[], message: string, depends_on: string[]?, branch_label: string[]?, date: string, body: {upgrade: string, downgrade: string, transactional: boolean}?}
---@return string
function M.migration(r)
  return ([==[
-- %s
-- Created %s
revision      = %q
down_revision = %s
branch_labels = %s
depends_on    = %s
transactional = %s

function upgrade(db)
%s
end

function downgrade(db)
%s
end
]==]):format(r.message:gsub("\n", " "), r.date, r.id, lua_list(r.parents), lua_list(r.branch_label),
    lua_list(r.depends_on), tostring(not r.body or r.body.transactional),
    r.body and r.body.upgrade or "  -- db:exec [[CREATE TABLE ...]]",
    r.body and r.body.downgrade or "  -- db:exec [[DROP TABLE ...]]")
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
