--- For in-process specs: temporary files, fresh databases, runner sessions.
local lfs = require "lfs"
local connect = require "luamig.db.connect"
local graph_mod = require "luamig.revision.graph"
local scripts = require "luamig.revision.scripts"
local file_api = require "luamig.run.file_api"
local log_mod = require "luamig.util.log"
local sh = require "spec.support.sh"
local tmpname = require("spec.support.raised").tmpname

local M = {}

---A new empty temporary directory.
---@return string
function M.tmpdir()
  local dir = tmpname()
  assert(lfs.mkdir(dir))
  return dir
end

---Write `text` to `path`; returns the path.
---@param path string
---@param text string
---@return string
function M.write(path, text)
  sh.write(path, text)
  return path
end

---The URL of a new empty database on `backend` (a temporary SQLite file, or
---a new database on the LUAMIG_TEST_PG server), and a function that removes
---the SQLite file afterwards.
---@param backend spec.Backend
---@return string url, fun() remove
function M.fresh_url(backend)
  if backend.name == "postgresql" then return sh.fresh_pg(), function() end end
  local path = tmpname()
  return "sqlite:///" .. path, function() os.remove(path) end
end

---A runner session (luamig.Session) on a new empty database of `backend`
---with `files` (name -> text) as its migrations, and a function that closes
---it and removes what it made (call it in a `finally`).
---@param backend spec.Backend
---@param files table<string, string>
---@return luamig.Session, fun()
function M.session(backend, files)
  local dir = M.tmpdir()
  for name, text in pairs(files) do M.write(dir .. "/" .. name, text) end
  local cfg = { migrations = dir, version_table = "luamig_version", transaction = "per-migration", foreign_keys = true }
  local url, remove = M.fresh_url(backend)
  local db, dialect = connect.open(url, cfg)
  local s = { db = db, dialect = dialect, config = cfg, graph = graph_mod.new((scripts.load_dir(dir, file_api.api(nil)))),
    log = log_mod.new({ quiet = true }) }
  return s, function()
    if not db:is_closed() then db:close() end
    remove()
  end
end

return M
