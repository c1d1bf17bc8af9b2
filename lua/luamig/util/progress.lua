--- Progress for long work (backfills, seeds): on a terminal a bar redrawn in
--- place with rate and ETA; otherwise a plain line every few seconds; nothing
--- with -q or --json. Lines go to stderr so stdout stays the result.
local host = require "luamig.host"

local M = {}

---@class luamig.Progress
---@field add fun(self: luamig.Progress, n: integer?)
---@field done fun(self: luamig.Progress)
---@field stop fun(self: luamig.Progress)  end the line without a final redraw

local function rate_text(n, secs)
  if secs <= 0 then return "" end
  local r = n / secs
  return r >= 1000 and ("%.1fk/s"):format(r / 1000) or ("%.0f/s"):format(r)
end

---A progress factory bound to the logger: progress(total, label).
---@param log luamig.Log
---@return fun(total: integer?, label: string?): luamig.Progress
function M.new(log)
  local tty = host.isatty(2) and not os.getenv("NO_COLOR")
  local silent = log == nil or log.quiet or log.json
  return function(total, label)
    label = label or "progress"
    local p = { n = 0, started = host.now_ms() }
    p.shown = p.started
    local function show(final)
      if silent then return end
      local now = host.now_ms()
      local every = tty and 100 or 5000
      if not final and now - p.shown < every then return end
      p.shown = now
      local secs = (now - p.started) / 1000
      local text
      if total and total > 0 then
        local frac = math.min(p.n / total, 1)
        local eta = p.n > 0 and secs * (total - p.n) / p.n or 0
        if tty then
          local width = 30
          local filled = math.floor(frac * width + 0.5)
          text = ("%s [%s%s] %d/%d %3d%% %s ETA %ds"):format(label, ("#"):rep(filled), ("."):rep(width - filled),
            p.n, total, math.floor(frac * 100), rate_text(p.n, secs), math.floor(eta + 0.5))
        else
          text = ("%s: %d/%d (%d%%) %s"):format(label, p.n, total, math.floor(frac * 100), rate_text(p.n, secs))
        end
      else
        text = ("%s: %d %s"):format(label, p.n, rate_text(p.n, secs))
      end
      if tty then
        io.stderr:write("\r\27[K", text, final and "\n" or "")
      else
        io.stderr:write(text, "\n")
      end
    end
    function p.add(_, n)
      p.n = p.n + (n or 1)
      show(false)
    end
    function p.done()
      show(true)
    end
    -- ends a bar drawn in place, so that a message can follow (a failure)
    function p.stop()
      if tty and not silent and p.n > 0 then io.stderr:write("\n") end
    end
    return p
  end
end

return M
