--- A fleet run's ledger (--ledger FILE): one JSON line per finished target,
--- appended and fsync'd as each finishes, so that a run killed midway and
--- started again with the same FILE skips (without opening) the targets it
--- already finished. A line counts only for the same command, target
--- revision and migration heads (`key`): a ledger from another deploy
--- skips nothing. A torn last line (a crash while writing) is ignored.
local cjson = require "cjson"
local host = require "luamig.host"
local errors = require "luamig.util.errors"

local M = {}

---@class luamig.FleetLedger
---@field path string
---@field key string
---@field file file*?
---@field done table<string, luamig.FleetRecord>  finished targets by name (ok or skipped)
local Ledger = {}
Ledger.__index = Ledger

-- Statuses that finish a target: a failed one is tried again.
local FINISHED = { ok = true, skipped = true }

---Open (creating) the ledger `path` for the run `key`, reading what it holds.
---@param path string
---@param key string
---@return luamig.FleetLedger
function M.open(path, key)
  local self = setmetatable({ path = path, key = key, done = {} }, Ledger)
  local f = io.open(path, "r")
  if f then
    for line in f:lines() do
      local ok, rec = pcall(cjson.decode, line)
      if ok and type(rec) == "table" and rec.key == key and type(rec.name) == "string" and FINISHED[rec.status] then
        rec.key = nil
        self.done[rec.name] = rec
      end
    end
    f:close()
  end
  local err
  self.file, err = io.open(path, "a")
  if not self.file then errors.raise("usage", ("--ledger %s: %s"):format(path, err)) end
  return self
end

---Append `rec` (a finished target); with `sync` (default), fsync'd before it returns.
---@param rec luamig.FleetRecord
---@param sync boolean?
function Ledger:append(rec, sync)
  local line = {}
  for k, v in pairs(rec) do line[k] = v end
  line.key = self.key
  self.file:write(cjson.encode(line), "\n")
  if sync ~= false then self:sync() end
end

---Does `rec` finish its target (ok or skipped: a failed one is tried again)?
---@param rec luamig.FleetRecord
---@return boolean
function M.finishes(rec) return FINISHED[rec.status] == true end

---Make what was appended durable.
function Ledger:sync()
  local ok, err = host.fsync(self.file)
  if not ok then errors.raise("failure", ("--ledger %s: %s"):format(self.path, err)) end
end

function Ledger:close()
  if self.file then self.file:close() end
  self.file = nil
end

return M
