--- Human output: stdout for results, stderr for diagnostics, colour only on a TTY.
local host = require "luamig.host"

local M = {}

---@class luamig.Log
---@field quiet boolean   suppress informational lines
---@field json boolean    stdout is reserved for the JSON document
---@field debugging boolean show debugging lines (--debug)
local Log = {}
Log.__index = Log

local codes = { red = "31", green = "32", yellow = "33", dim = "2", bold = "1" }

---@param opts {quiet: boolean?, json: boolean?, debug: boolean?}
---@return luamig.Log
function M.new(opts)
  local no_color = os.getenv("NO_COLOR")
  local colour = not (no_color and no_color ~= "")
  return setmetatable({
    quiet = opts.quiet or false,
    json = opts.json or false,
    debugging = opts.debug or false,
    colour_out = colour and host.isatty(1),
    colour_err = colour and host.isatty(2),
  }, Log)
end

local function paint(on, colour, s)
  if not on or not colour then return s end
  return "\27[" .. codes[colour] .. "m" .. s .. "\27[0m"
end

---Colour `s` for stdout (no-op off a TTY).
function Log:out_paint(colour, s) return paint(self.colour_out, colour, s) end

---A result line on stdout (skipped with --json; kept with -q).
function Log:result(s)
  if not self.json then io.stdout:write(s, "\n") end
end

---Whether informational lines are shown (not with -q or --json): a caller
---that builds one per step can skip building it.
---@return boolean
function Log:informs() return not self.quiet and not self.json end

---An informational line on stdout (skipped with -q or --json).
function Log:info(s)
  if self:informs() then io.stdout:write(s, "\n") end
end

---A progress line on stderr, with the progress bars (skipped with -q; kept
---with --json, whose document is stdout).
function Log:progress(s)
  if not self.quiet then io.stderr:write(s, "\n") end
end

---A warning on stderr (always shown).
function Log:warn(s)
  io.stderr:write(paint(self.colour_err, "yellow", "warning: "), s, "\n")
end

---A debugging line on stderr (only with --debug).
function Log:debug(s)
  if self.debugging then io.stderr:write(paint(self.colour_err, "dim", s), "\n") end
end

---An error on stderr.
function Log:error(s)
  io.stderr:write(paint(self.colour_err, "red", "luamig: "), s, "\n")
end

return M
