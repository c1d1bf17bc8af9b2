--- What luamig reads of an Alembic project: the database's stamp
--- (alembic_version) and the head of a versions/ folder, from each file's
--- `revision = ` and `down_revision = ` lines (no Python runs).
local lfs = require "lfs"
local errors = require "luamig.util.errors"

local M = {}

M.TABLE = "alembic_version"

---The revision ids alembic_version holds. Raises, saying which, when the
---table is missing or empty or holds several heads.
---@param db luamig.Db
---@param dialect luamig.Dialect
---@return string id
function M.stamp(db, dialect)
  if not dialect.has_table(db, M.TABLE) then
    errors.raise("usage", "the database has no alembic_version table: Alembic does not manage it (or manages it " ..
      "under another version table name); nothing was changed")
  end
  local ids = {}
  for r in db:rows("SELECT version_num FROM " .. dialect.quote_ident(M.TABLE) .. " ORDER BY version_num") do
    ids[#ids + 1] = r.version_num
  end
  if #ids == 0 then
    errors.raise("usage", "alembic_version is empty: Alembic applied no revision to this database (it is at base); " ..
      "nothing was changed")
  end
  if #ids > 1 then
    errors.raise("usage", ("alembic_version holds several heads (%s): merge them with `alembic merge` and upgrade " ..
      "first; nothing was changed"):format(table.concat(ids, ", ")))
  end
  return ids[1]
end

-- The quoted strings of `text` (a Python literal: 'a', ("a", "b"), None).
local function strings(text)
  local out = {}
  for _, s in text:gmatch("(['\"])(.-)%1") do out[#out + 1] = s end
  return out
end

---The head revision ids of Alembic's versions folder `dir`.
---@param dir string
---@return string[] heads
function M.heads(dir)
  if lfs.attributes(dir, "mode") ~= "directory" then
    errors.raise("usage", ("--versions %s: no such directory (Alembic's versions folder)"):format(dir))
  end
  local revs, parents = {}, {}
  for file in lfs.dir(dir) do
    if file:match("%.py$") then
      local f = io.open(dir .. "/" .. file, "rb")
      local text = f and f:read("a") or ""
      if f then f:close() end
      local rev = text:match("\nrevision%s*:?[^=\n]*=%s*(['\"][^'\"]+['\"])") or
        text:match("^revision%s*:?[^=\n]*=%s*(['\"][^'\"]+['\"])")
      if rev then
        revs[#revs + 1] = strings(rev)[1]
        local down = text:match("\ndown_revision%s*:?[^=\n]*=%s*([^\n]+)")
        for _, p in ipairs(down and strings(down) or {}) do parents[p] = true end
      end
    end
  end
  if #revs == 0 then errors.raise("usage", ("--versions %s: no Alembic revision file (*.py with revision = ...)"):format(dir)) end
  local heads = {}
  for _, r in ipairs(revs) do
    if not parents[r] then heads[#heads + 1] = r end
  end
  table.sort(heads)
  return heads
end

return M
