--- What upgrade and downgrade share: the run (or the offline --sql script),
--- the line printed as each step applies, and the summary.
local connect = require "luamig.db.connect"
local dialects = require "luamig.dialect"
local plan = require "luamig.revision.plan"
local runner = require "luamig.run.runner"
local session = require "luamig.run.session"
local plugin_ctx = require "luamig.project.plugin_ctx"
local format = require "luamig.commands.shared.format"
local text = require "luamig.util.text"

local M = {}

---The --sql flag both commands take.
M.WAIT_FLAG = { "--wait-for-db", "Retry the first connection with backoff for up to DURATION (30s, 2min) " ..
  "until the database accepts it; one line per attempt on stderr.", "DURATION", dest = "wait_for_db" }

M.SQL_FLAG = { "--sql", "Print the SQL instead of running it (offline: no connection).", flag = true }

-- A line for one applied step (printed as it happens).
local PAINT = { upgrade = "green", expand = "green", contract = "cyan", downgrade = "yellow" }

local function step_line(log, step)
  if not log:informs() then return end -- (-q: not even built)
  local phase = step.phase or (step.direction == "up" and "upgrade" or "downgrade")
  local arrow = log:out_paint(PAINT[phase] or "green", ("%-9s"):format(phase))
  local msg = step.message ~= "" and ("  " .. format.visible(step.message)) or ""
  local rows = step.rows and ("  (%s backfilled)"):format(text.count(step.rows, "row")) or ""
  log:info(("%s %s%s  %s%s"):format(arrow, step.revision, msg, log:out_paint("dim", format.ms(step.ms)), rows))
end

-- The contract phases pending up to `target` (nil: all), in graph order.
local function contract_planner(g, target)
  return function(_, expanded)
    local wanted = target and g:ancestors(g:ids(target)) or nil
    local out = {}
    for _, id in ipairs(g.order) do
      if expanded[id] and (not wanted or wanted[id]) then out[#out + 1] = id end
    end
    if target and #out == 0 then
      local id = g:ids(target)[1]
      if id and not expanded[id] and g.revs[id] then return { id } end -- (check_plan says why it cannot)
    end
    return out
  end
end

---Run migrations in `direction` ("up"|"down"|"contract") to `target`.
---@param ctx luamig.Context
---@param direction "up"|"down"|"contract"
---@param target string?
---@param dry_run boolean?
---@param opts {contract: boolean?, force: boolean?}?  upgrade --contract; contract --force
---@return table result: steps, heads, dry_run
function M.run(ctx, direction, target, dry_run, opts)
  opts = opts or {}
  local s = session.open(ctx)
  s.dry_run = dry_run or nil
  local steps = {}
  local heads = runner.run(s, {
    hook = plugin_ctx.hooks(ctx),
    direction = direction,
    contract = opts.contract,
    force = opts.force,
    plan = direction == "contract" and contract_planner(s.graph, target) or plan.planner(s.graph, direction, target),
    on_step = function(step)
      steps[#steps + 1] = { revision = step.revision, direction = step.direction, ms = step.ms, phase = step.phase }
      step_line(ctx.log, step)
      if ctx.on_step then ctx.on_step(steps[#steps]) end
    end,
  })
  if dry_run then return { steps = steps, heads = session.heads(s), dry_run = true } end
  return { steps = steps, heads = s.graph:stored(heads) }
end

---`--sql`: the SQL a range would run, without connecting (luamig.run.offline).
---@param ctx luamig.Context
---@param direction "up"|"down"
---@param range string
---@return {sql: string}
function M.offline_sql(ctx, direction, range)
  local url = session.target(ctx)
  local target = connect.parse(url)
  local dialect = dialects.load(target.backend)
  -- (here: only --sql loads the offline recorder)
  return { sql = require("luamig.run.offline").sql({ graph = session.graph(ctx), config = ctx.config,
    dialect = dialect }, direction, range) }
end

---Text output of upgrade and downgrade.
---@param log luamig.Log
---@param r table
function M.render(log, r)
  if r.sql then return io.stdout:write(r.sql) end -- --sql: the script itself, even with -q
  local n = #r.steps
  if r.dry_run then
    return log:info(("Dry run: %d step%s ran and %s rolled back; the database is still at %s."):format(n,
      format.plural(n), n == 1 and "was" or "were", format.heads(r.heads)))
  end
  if n == 0 and r.contract then
    log:info("Nothing to contract; no expanded migration waits for its contract phase.")
  elseif n == 0 then
    log:info("Nothing to do; the database is at " .. format.heads(r.heads) .. ".")
  else
    log:info(("%d step%s; the database is now at %s."):format(n, format.plural(n), format.heads(r.heads)))
  end
end

return M
