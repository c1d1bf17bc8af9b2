--- The helper processes of `luamig lint` (the --contention workload, the
--- watch on lint's own backend): forked from lint, each with its own
--- connection, talking through files in a private directory: a child
--- writes its lines to its own file and ends when the group's stop file
--- appears; the parent reads the files once every child is gone.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local lfs = require "lfs"

local M = {}

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

local function child(fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok then
    io.stderr:write("luamig lint helper: ", errors.text(err), "\n")
    error(err, 0)
  end
end

---@class luamig.LintProcs
---@field dir string
---@field pids integer[]
---@field files string[]
local Procs = {}
Procs.__index = Procs

---A new, empty group.
---@return luamig.LintProcs
function M.group()
  return setmetatable({ dir = host.private_dir(os.getenv("TMPDIR") or "/tmp", "luamig-lint-"), pids = {}, files = {} },
    Procs)
end

---Open `url` in a child (a connection of its own).
function M.open(url, config)
  return require("luamig.db.connect").open(url, config, nil, { create = false })
end

---Run fn(out, g, ...) in a child process; out is its file (one line per
---observation), g the group (g:stopping() tells it to end).
---@param name string  the file's name
function Procs:spawn(name, fn, ...)
  local path = self.dir .. "/" .. name
  self.files[#self.files + 1] = path
  local function run(...)
    local out = assert(io.open(path, "w"))
    fn(out, self, ...)
    out:close()
  end
  self.pids[#self.pids + 1] = host.fork(child, run, ...)
end

---Has the parent asked the children to end?
function Procs:stopping() return exists(self.dir .. "/stop") end

---Has flag `name` been set?
function Procs:flagged(name) return exists(self.dir .. "/" .. name) end

---Mark `name` (a flag file: a child's "ready" for the parent, the parent's "go").
function Procs:flag(name)
  local f = assert(io.open(self.dir .. "/" .. name, "w"))
  f:close()
end

---Wait until a child set flag `name`; raise `what` when a child ended first
---or after timeout_ms.
function Procs:await(name, timeout_ms, what)
  local t0 = host.now_ms()
  while not exists(self.dir .. "/" .. name) do
    local pid, code = host.wait(false)
    if pid then errors.raise("migration", ("%s: its process ended (exit %d) first"):format(what, code)) end
    if host.now_ms() - t0 > timeout_ms then errors.raise("migration", ("%s: not after %d ms"):format(what, timeout_ms)) end
    host.sleep_ms(2)
  end
end

---Stop the children, wait for them, and return every line they wrote
---(file name -> lines); the directory is removed.
---@return table<string, string[]>
function Procs:stop()
  self:flag("stop")
  local left = #self.pids
  while left > 0 do
    if not host.wait(true) then -- interrupted: pass it on
      for _, p in ipairs(self.pids) do host.kill(p, "SIGTERM") end
      break
    end
    left = left - 1
  end
  local out = {}
  for _, path in ipairs(self.files) do
    local lines = {}
    if exists(path) then
      for line in io.lines(path) do lines[#lines + 1] = line end
      os.remove(path)
    end
    out[path:match("[^/]+$")] = lines
  end
  for name in lfs.dir(self.dir) do -- (the flags: stop, go, each child's ready)
    if name ~= "." and name ~= ".." then os.remove(self.dir .. "/" .. name) end
  end
  os.remove(self.dir)
  return out
end

return M
