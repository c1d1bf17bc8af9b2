--- SQLite's part of the scratch session (luamig.run.scratch): a database
--- file in the temporary directory, removed afterwards with its journal and
--- lock files; the identity of a database file (its inode, and its name in
--- its directory), and the tables a database holds.
local lfs = require "lfs"

local M = {}

-- The files SQLite and luamig make next to a database file.
local SUFFIXES = { "", "-journal", "-wal", "-shm", "-luamig.lock" }
local IS_SUFFIX = {}
for _, s in ipairs(SUFFIXES) do IS_SUFFIX[s] = true end

-- Remove the files env.is_leftover names in the temporary directory: those
-- killed runs of this host left.
local function remove_leftovers(env)
  local ok, iter, state = pcall(lfs.dir, env.tmpdir)
  if not ok then return end
  local found = {}
  for file in iter, state do
    local name, suffix = file:match("^(luamig_drill_[%w_]+)%.db(.*)$")
    if name and IS_SUFFIX[suffix] and env.is_leftover(name) then found[#found + 1] = { file, suffix } end
  end
  for _, f in ipairs(found) do
    local path = env.tmpdir .. "/" .. f[1]
    if lfs.symlinkattributes(path, "mode") == "file" then
      local removed, err = os.remove(path)
      if f[2] == "" then env.removed(path, not removed and err or nil) end
    end
  end
end

---A scratch database file `name`.db in the temporary directory (after
---removing the leftovers of killed runs there). The target is not opened.
---@param _ string the target's URL
---@param name string
---@param env luamig.ScratchEnv
---@return luamig.ScratchPlace
function M.create(_, name, env)
  remove_leftovers(env)
  local path = env.tmpdir .. "/" .. name .. ".db"
  return { url = "sqlite:///" .. path, shown = path }
end

---Remove scratch file `name`.db and the files next to it.
---@param _ string the target's URL
---@param name string
---@param env luamig.ScratchEnv
function M.drop(_, name, env)
  for _, suffix in ipairs(SUFFIXES) do os.remove(env.tmpdir .. "/" .. name .. ".db" .. suffix) end
end

-- The identity of database file `path` (which may not exist yet): its
-- inode when it exists, and its name in its directory's inode, so that a
-- hard link, a symbolic link or another spelling of the path matches.
local function path_identity(path)
  local keys = {}
  local file = lfs.attributes(path)
  if file then keys[#keys + 1] = ("sqlite file %d:%d"):format(file.dev, file.ino) end
  local dir, base = path:match("^(.*)/([^/]+)$")
  local d = dir and lfs.attributes(dir == "" and "/" or dir)
  if d then keys[#keys + 1] = ("sqlite name %d:%d/%s"):format(d.dev, d.ino, base) end
  return { keys = keys, shown = "SQLite file " .. path }
end

---The database file connection `db` is on (none for an in-memory one).
---@param db luamig.Db
---@return luamig.ScratchIdentity
function M.identity(db)
  local file = db:scalar "SELECT file FROM pragma_database_list WHERE name = 'main'"
  if not file or file == "" then return { keys = {}, shown = "an in-memory database" } end
  return path_identity(file)
end

---The identity of the database file `url` names, without opening (or
---creating) it.
---@param url string
---@param env luamig.ScratchEnv
---@return luamig.ScratchIdentity
function M.target_identity(url, env)
  local path = env.file(url)
  if not path then return { keys = {}, shown = "an in-memory database" } end
  return path_identity(path)
end

---Up to `limit` tables and views the database holds (SQLite's own left out).
---@param db luamig.Db
---@param limit integer
---@return {schema: string?, name: string}[]
function M.tables(db, limit)
  local out = {}
  for _, r in ipairs(db:query([[SELECT name FROM sqlite_master WHERE type IN ('table', 'view')
    AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name LIMIT ?]], limit)) do
    out[#out + 1] = { name = r.name }
  end
  return out
end

---A scratch file is thrown away: no need to wait for the disk.
---@param db luamig.Db
function M.fast(db)
  db:exec "PRAGMA synchronous = OFF; PRAGMA journal_mode = MEMORY"
end

return M
