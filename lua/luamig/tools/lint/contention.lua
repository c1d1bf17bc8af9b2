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
local procs = require "luamig.tools.lint.procs"

local M = {}

M.READERS, M.WRITERS = 2, 2
M.EVERY_MS = 25       -- each worker starts an operation this often (or at once when the last one was late)
M.READY_WAIT_MS = 15000

---@class luamig.ContentionOptions
---@field url string            the scratch database
---@field config luamig.Config
---@field long_tx_ms number     how long the long transaction holds its locks
---@field workload fun(db: luamig.Db, tables: string[]): table  the observer module's SQL (read, write, hold)

-- Child: the long transaction. Takes ACCESS SHARE on every table, says
-- "ready", and once the parent says "go" (the workers run) holds for
-- long_tx_ms or until the parent stops it, then commits and writes when
-- its hold began and ended.
local function long_tx(out, g, o, tables)
  local db = procs.open(o.url, o.config)
  local sql = o.workload(db, tables)
  if #sql.hold == 0 then -- (SQLite: a reader blocks no writer; it stays until the end like the others)
    g:flag("ready")
    while not g:stopping() do host.sleep_ms(5) end
    return
  end
  db:exec("BEGIN")
  for _, q in ipairs(sql.hold) do db:query(q) end
  g:flag("ready")
  while not g:flagged("go") and not g:stopping() do host.sleep_ms(2) end
  local t0 = host.now_ms()
  while host.now_ms() - t0 < o.long_tx_ms and not g:stopping() do host.sleep_ms(5) end
  local t1 = host.now_ms() -- (a statement queued behind it goes on after this, maybe before COMMIT returns)
  db:exec("COMMIT")
  out:write(("%.3f %.3f\n"):format(t0, t1))
end

-- Child: one worker: every M.EVERY_MS a read (or a write) on the next table,
-- each written as "kind start ms error" until the parent stops it.
local function worker(out, g, o, tables, kind, i)
  local db = procs.open(o.url, o.config)
  local all = o.workload(db, tables)
  for _, q in ipairs(all.setup or {}) do db:exec(q) end
  local sql = all[kind]
  g:flag(kind .. i .. ".ready")
  local n = i
  while not g:stopping() do
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
end

---Start the workload on `tables` (names of existing tables) and return it
---once the long transaction holds its locks and every worker runs; w.stop() ends it and returns
---the operations and the long transaction's span.
---@param o luamig.ContentionOptions
---@param tables string[]
function M.start(o, tables)
  local g = procs.group()
  g:spawn("long_tx", long_tx, o, tables)
  g:await("ready", M.READY_WAIT_MS, "lint --contention: the long transaction taking its locks")
  for kind, n in pairs({ read = M.READERS, write = M.WRITERS }) do
    for i = 1, n do g:spawn(kind .. i, worker, o, tables, kind, i) end
  end
  -- (the long transaction's time starts once every worker runs: forking and
  -- connecting them must not eat into it on a slow build or a loaded machine)
  for kind, n in pairs({ read = M.READERS, write = M.WRITERS }) do
    for i = 1, n do g:await(kind .. i .. ".ready", M.READY_WAIT_MS, "lint --contention: a workload connection") end
  end
  g:flag("go")
  local w = {}
  function w.stop()
    local ops, span = {}, nil
    for name, lines in pairs(g:stop()) do
      for _, line in ipairs(lines) do
        if name == "long_tx" then
          local a, b = line:match("^(%S+) (%S+)$")
          span = { start = tonumber(a), stop = tonumber(b) }
        else
          local kind, start, ms, err = line:match("^(%a+) (%S+) (%S+) (.*)$")
          ops[#ops + 1] = { kind = kind, start = tonumber(start), ms = tonumber(ms), error = err ~= "-" and err or nil }
        end
      end
    end
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
    if span and st.started < span.stop and ends >= span.stop then
      c.queued_ms = span.stop - st.started
    elseif st.error and st.error:find("55P03", 1, true) then
      c.queued_ms, c.gave_up = st.ms, true
    end
    st.contention = c
  end
end

return M
