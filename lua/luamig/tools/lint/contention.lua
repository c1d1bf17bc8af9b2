--- `lint --contention`: the application's side of a migration. While a
--- migration runs on the scratch database, processes forked from lint
--- play a workload on the tables it touches: one transaction holding
--- ACCESS SHARE on them for --long-tx (a report, a slow request), and a
--- few connections reading and writing at a steady rate, each operation
--- timed. Afterwards each operation is laid against the statement that was
--- running when it started: how long the reads and writes waited, how many
--- failed, and whether the statement itself queued behind the long
--- transaction. The SQL of the workload is the observer module's
--- (workload(table, column)); the policy is here.
local host = require "luamig.host"
local errors = require "luamig.util.errors"

local M = {}

M.READERS, M.WRITERS = 2, 2
M.EVERY_MS = 25       -- each worker starts an operation this often (or at once when the last one was late)
M.READY_WAIT_MS = 15000

---@class luamig.ContentionOptions
---@field url string            the scratch database
---@field config luamig.Config
---@field long_tx_ms number     how long the long transaction holds its locks
---@field workload fun(db: luamig.Db, tables: string[]): table  the observer module's SQL (read, write, hold)

local function open(o)
  return require("luamig.db.connect").open(o.url, o.config, nil, { create = false })
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

local function touch(path)
  local f = assert(io.open(path, "w"))
  f:close()
end

-- Child: the long transaction. Takes ACCESS SHARE on every table, says
-- "ready", holds until long_tx_ms passed or the stop file appears, then
-- commits and writes when it did.
local function long_tx(o, tables, dir)
  local db = open(o)
  local sql = o.workload(db, tables)
  db:exec("BEGIN")
  for _, q in ipairs(sql.hold) do db:query(q) end
  local t0 = host.now_ms()
  touch(dir .. "/ready")
  while host.now_ms() - t0 < o.long_tx_ms and not exists(dir .. "/stop") do host.sleep_ms(5) end
  db:exec("COMMIT")
  local f = assert(io.open(dir .. "/long_tx", "w"))
  f:write(("%.3f %.3f\n"):format(t0, host.now_ms()))
  f:close()
end

-- Child: one worker: every M.EVERY_MS a read (or a write) on the next table,
-- each written as "kind start ms error" until the stop file appears.
local function worker(o, tables, dir, kind, i)
  local db = open(o)
  local sql = o.workload(db, tables)[kind]
  local out = assert(io.open(("%s/%s%d"):format(dir, kind, i), "w"))
  local n = i
  while not exists(dir .. "/stop") do
    local q = sql[n % #sql + 1]
    n = n + 1
    local t0 = host.now_ms()
    local ok, err = pcall(db.query, db, q)
    local ms = host.now_ms() - t0
    out:write(("%s %.3f %.3f %s\n"):format(kind, t0, ms, ok and "-" or errors.text(err):gsub("%s+", " ")))
    out:flush()
    if not ok and db:in_transaction() then pcall(db.exec, db, "ROLLBACK") end
    host.sleep_ms(M.EVERY_MS - ms)
  end
  out:close()
end

local function child(fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok then
    io.stderr:write("luamig lint --contention workload: ", errors.text(err), "\n")
    error(err, 0)
  end
end

---Start the workload on `tables` (names of existing tables) and return it
---once the long transaction holds its locks; w.stop() ends it and returns
---the operations and the long transaction's span.
---@param o luamig.ContentionOptions
---@param tables string[]
function M.start(o, tables)
  local dir = host.private_dir(os.getenv("TMPDIR") or "/tmp", "luamig-contention-")
  local pids = { host.fork(child, long_tx, o, tables, dir) }
  local t0 = host.now_ms()
  while not exists(dir .. "/ready") do
    local pid, code = host.wait(false)
    if pid then errors.raise("migration", ("lint --contention: the long transaction's process ended (exit %d) " ..
      "before it held its locks"):format(code)) end
    if host.now_ms() - t0 > M.READY_WAIT_MS then
      errors.raise("migration", "lint --contention: the long transaction did not get its locks in 15 s")
    end
    host.sleep_ms(2)
  end
  local files = { dir .. "/long_tx" }
  for kind, n in pairs({ read = M.READERS, write = M.WRITERS }) do
    for i = 1, n do
      pids[#pids + 1] = host.fork(child, worker, o, tables, dir, kind, i)
      files[#files + 1] = ("%s/%s%d"):format(dir, kind, i)
    end
  end
  local w = {}
  function w.stop()
    touch(dir .. "/stop")
    local left = #pids
    while left > 0 do
      local pid = host.wait(true)
      if not pid then -- interrupted: end the children too
        for _, p in ipairs(pids) do host.kill(p, "SIGTERM") end
        break
      end
      left = left - 1
    end
    local ops, span = {}, nil
    for _, p in ipairs(files) do
      for line in exists(p) and io.lines(p) or function() end do
        local kind, start, ms, err = line:match("^(%a+) (%S+) (%S+) (.*)$")
        if kind == "read" or kind == "write" then
          ops[#ops + 1] = { kind = kind, start = tonumber(start), ms = tonumber(ms), error = err ~= "-" and err or nil }
        else
          local a, b = line:match("^(%S+) (%S+)$")
          span = { start = tonumber(a), stop = tonumber(b) }
        end
      end
      os.remove(p)
    end
    os.remove(dir .. "/ready")
    os.remove(dir .. "/stop")
    os.remove(dir)
    return ops, span
  end
  return w
end

-- p-th percentile of sorted `xs`.
local function pct(xs, p)
  if #xs == 0 then return nil end
  return xs[math.max(1, math.ceil(#xs * p / 100))]
end

local function stats(list)
  local ms, failed = {}, 0
  for _, op in ipairs(list) do
    ms[#ms + 1] = op.ms
    if op.error then failed = failed + 1 end
  end
  table.sort(ms)
  return { n = #ms, max = ms[#ms], p99 = pct(ms, 99), p50 = pct(ms, 50), failed = failed,
    error = list.first_error }
end

---Lay the operations against the statements (those with a file:line):
---each operation goes to the last one that started before it; an
---operation after the migration's end is left out. Sets st.contention =
---{reads, writes (n, max, p99, p50, failed), queued_ms, gave_up}.
---@param statements luamig.LintStatement[]
---@param ops table[]
---@param span {start: number, stop: number}?
function M.attribute(statements, ops, span)
  local own = {}
  for _, st in ipairs(statements) do if st.where then own[#own + 1] = st end end
  if #own == 0 then return end
  local last = statements[#statements]
  local stop = last.started + (last.ms or 0)
  local by = {}
  table.sort(ops, function(a, b) return a.start < b.start end)
  local k = 0
  for _, op in ipairs(ops) do
    while own[k + 1] and own[k + 1].started <= op.start do k = k + 1 end
    if k > 0 and op.start <= stop then
      local b = by[k] or { read = {}, write = {} }
      by[k] = b
      table.insert(b[op.kind], op)
      if op.error and not b[op.kind].first_error then b[op.kind].first_error = op.error end
    end
  end
  for i, st in ipairs(own) do
    local b = by[i] or { read = {}, write = {} }
    local c = { reads = stats(b.read), writes = stats(b.write) }
    local ends = st.started + (st.ms or 0)
    if span and st.started < span.stop and ends >= span.stop - 1 then
      c.queued_ms = span.stop - st.started
    elseif st.error and st.error:find("55P03", 1, true) then
      c.queued_ms, c.gave_up = st.ms, true
    end
    st.contention = c
  end
end

return M
