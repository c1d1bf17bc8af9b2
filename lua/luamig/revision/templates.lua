--- Text of the files `revision` and `init` write.
local M = {}

local function lua_list(list)
  if not list or #list == 0 then return "nil" end
  if #list == 1 then return ("%q"):format(list[1]) end
  local parts = {}
  for i, v in ipairs(list) do parts[i] = ("%q"):format(v) end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

---@class luamig.MigrationBody
---@field upgrade string        the body of upgrade(db)
---@field downgrade string      the body of downgrade(db)
---@field transactional boolean

---A new migration file; `r.body` (autogenerate) gives its upgrade and
---downgrade bodies and whether it runs in a transaction.
---@param r {id: string, parents: string[], message: string, depends_on: string[]?, branch_label: string[]?,
---  date: string, body: luamig.MigrationBody?}
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

---A new project's schema.lua: the declared schema, all commented out (a
---file that declares nothing is not compared).
---@return string
function M.schema()
  return [[
-- The declared schema: what the database should look like. `luamig revision
-- --autogenerate -m MSG` writes the migration from the schema at head to
-- this; `luamig check` exits 5 while they differ. Each call takes the
-- arguments of the op that creates the object (README, "Declared schema").
--
-- schema.enum("mood", { "sad", "ok", "happy" })
--
-- schema.table("users", {
--   { "id", "integer", primary_key = true },
--   { "email", "string(200)", nullable = false },
--   { "mood", "mood", server_default = "'ok'" },
--   { "created_at", "timestamptz", server_default = "CURRENT_TIMESTAMP" },
-- }, {
--   -- renamed_from = "accounts",   -- a rename, not a drop and an add
--   constraints = { { type = "unique", name = "uq_users_email", columns = { "email" } } },
-- })
--
-- schema.table("posts", {
--   { "id", "integer", primary_key = true },
--   { "user_id", "integer", nullable = false },
--   { "title", "text", nullable = false, renamed_from = "subject" },
-- }, { constraints = {
--   { type = "foreign_key", name = "fk_posts_user", columns = { "user_id" }, references = "users",
--     ref_columns = { "id" }, on_delete = "CASCADE" },
-- } })
--
-- schema.index("ix_posts_user", "posts", { "user_id" })
-- schema.view("recent_posts", "SELECT id, title FROM posts ORDER BY id DESC")
]]
end

return M
