--- What a statement outside a transaction does on PostgreSQL (CREATE INDEX
--- CONCURRENTLY, a db:autocommit section), seen from a second connection:
--- lint's backend cannot look at pg_locks while its statement runs, so a
--- process forked from lint polls pg_locks for that backend: the table
--- locks it holds, and the locks it waits for — a virtualxid is an older
--- transaction's snapshot, which CONCURRENTLY must outlive.
local host = require "luamig.host"
local procs = require "luamig.tools.lint.procs"

local M = {}

M.EVERY_MS = 1

local LOCKS = [[
SELECT l.locktype, coalesce(c.relname, '') AS rel, l.mode, l.granted,
  CASE WHEN l.granted THEN '' ELSE array_to_string(pg_catalog.pg_blocking_pids(l.pid), ',') END AS blockers
FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_class c ON c.oid = l.relation
WHERE l.pid = ? AND ((l.locktype = 'relation' AND c.relkind IN ('r', 'p')) OR NOT l.granted)
ORDER BY 1, 2, 3]]

-- Child: a line "time|lock;lock..." each time the backend's locks change,
-- a lock being "locktype,relation,mode,granted(t/f),blockers".
local function poll(out, g, url, config, pid)
  local db = procs.open(url, config)
  g:flag("ready")
  local last
  while not g:stopping() do
    local t, parts = host.now_ms(), {}
    for _, r in ipairs(db:query(LOCKS, pid)) do
      parts[#parts + 1] = ("%s,%s,%s,%s,%s"):format(r.locktype, r.rel, r.mode, r.granted and "t" or "f", r.blockers)
    end
    local state = table.concat(parts, ";")
    if state ~= last then
      out:write(("%.3f|%s\n"):format(t, state))
      out:flush()
      last = state
    end
    host.sleep_ms(M.EVERY_MS)
  end
  out:write(("%.3f|end\n"):format(host.now_ms()))
end

---Start watching backend `pid` of the database at `url`; returns once the
---watcher is connected. w.stop() returns the samples: {t, locks = {...}}.
function M.start(url, config, pid)
  local g = procs.group()
  g:spawn("locks", poll, url, config, pid)
  g:await("ready", 15000, "lint: the watch on its backend's locks")
  return { stop = function()
    local samples = {}
    for _, line in ipairs(g:stop().locks or {}) do
      local t, state = line:match("^(%S+)|(.*)$")
      local locks = {}
      if state ~= "end" then
        for part in state:gmatch("[^;]+") do
          local locktype, rel, mode, granted, blockers = part:match("^([^,]*),([^,]*),([^,]*),([tf]),(.*)$")
          locks[#locks + 1] = { locktype = locktype, relation = rel ~= "" and rel or nil, mode = mode,
            granted = granted == "t", blockers = blockers ~= "" and blockers or nil }
        end
      end
      samples[#samples + 1] = { t = tonumber(t), locks = locks }
    end
    return samples
  end }
end

---What `samples` say about a statement from `from` to `to` (ms): the table
---locks held (relation, mode) and how long it waited for other
---transactions (virtualxid: an older snapshot; transactionid: a row) and
---for which backends.
function M.during(samples, from, to)
  local held, seen, wait_ms, blockers = {}, {}, 0, {}
  for i, s in ipairs(samples) do
    local nxt = samples[i + 1]
    local a, b = math.max(s.t, from), math.min(nxt and nxt.t or s.t, to)
    if b > a or (s.t >= from and s.t <= to) then
      local waiting = false
      local inside = s.t >= from and s.t <= to -- (a lock seen before the statement is not its own)
      for _, l in ipairs(s.locks) do
        if inside and l.granted and l.relation and not seen[l.relation .. l.mode] then
          seen[l.relation .. l.mode] = true
          held[#held + 1] = { relation = l.relation, mode = l.mode }
        elseif not l.granted then
          waiting = true
          for p in (l.blockers or ""):gmatch("%d+") do blockers[p] = l.locktype end
        end
      end
      if waiting and b > a then wait_ms = wait_ms + (b - a) end
    end
  end
  local pids = {}
  for p, kind in pairs(blockers) do pids[#pids + 1] = ("%s (%s)"):format(p, kind) end
  table.sort(pids)
  return { locks = held, wait_ms = wait_ms, waited_for = pids }
end

return M
