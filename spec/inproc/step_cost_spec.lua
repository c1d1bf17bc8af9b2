-- What a step costs besides the migration's own statements (issue 28): on
-- PostgreSQL fewer round trips than a hand-written script run by `psql -f`
-- (BEGIN, the version row out and in, the history row, COMMIT): the
-- session settings go back with the BEGIN, the bookkeeping with the COMMIT,
-- one round trip each; and a long run holds
-- the code of one migration at a time; a step makes op's functions only if
-- its migration uses them.
local lfs = require "lfs"
local connect = require "luamig.db.connect"
local graph_mod = require "luamig.revision.graph"
local log_mod = require "luamig.util.log"
local plan = require "luamig.revision.plan"
local runner = require "luamig.run.runner"
local scripts = require "luamig.revision.scripts"
local sh = require "spec.support.sh"
local fixtures = require "spec.support.fixtures"

local function session(b, files)
  local dir = fixtures.tmpdir()
  for name, text in pairs(files) do fixtures.write(dir .. "/" .. name, text) end
  local cfg = { migrations = dir, version_table = "luamig_version", transaction = "per-migration", foreign_keys = true }
  local url, remove = fixtures.fresh_url(b)
  local db, dialect = connect.open(url, cfg)
  return { db = db, dialect = dialect, config = cfg, graph = graph_mod.new((scripts.load_dir(dir))),
    log = log_mod.new({ quiet = true }) }, remove
end

-- Counts the round trips on s.db: a statement sent on its own is one; the
-- statements queued on the pipeline are one together, at their sync.
local function count_round_trips(s)
  local n, queued, queueing = { trips = 0 }, 0, false
  s.db.on_statement = function(_, run)
    if queueing then queued = queued + 1 else n.trips = n.trips + 1 end
    return run()
  end
  local send, sync = s.db.pipeline_send, s.db.pipeline_sync
  s.db.pipeline_send = function(...)
    queueing = true
    local r = table.pack(pcall(send, ...))
    queueing = false
    if not r[1] then error(r[2], 0) end
    return table.unpack(r, 2, r.n)
  end
  s.db.pipeline_sync = function(...)
    if queued > 0 then n.trips, queued = n.trips + 1, 0 end
    return sync(...)
  end
  return n
end

describe("per step, on PostgreSQL", function()
  it("luamig's own round trips are fewer than psql -f's for the same bookkeeping", function()
    local b
    for _, x in ipairs(sh.backends()) do
      if x.name == "postgresql" then b = x end
    end
    if not b then return pending("no PostgreSQL server (LUAMIG_TEST_PG)") end
    local files, prev = {}, nil
    for i = 1, 6 do
      local id = ("cccc%08d"):format(i)
      files[i .. ".lua"] = sh.migration(id, prev, ("db:exec 'CREATE TABLE t%d (id integer)'"):format(i))
      prev = id
    end
    local s, remove = session(b, files)
    finally(function()
      s.db:close()
      remove()
    end)
    local n = count_round_trips(s)
    local at = {}
    runner.run(s, { direction = "up", plan = function(heads) return plan.upgrade(s.graph, heads, "heads") end,
      on_step = function() at[#at + 1] = n.trips end })
    assert.are.equal(6, #at)
    -- steady state (steps 2..6): psql -f sends BEGIN, DELETE, INSERT, INSERT,
    -- COMMIT besides the migration's one statement; luamig the settings with
    -- BEGIN, the heads, the settings after the body, the bookkeeping with COMMIT
    for i = 2, 6 do
      assert.is_true(at[i] - at[i - 1] - 1 <= 4, ("step %d: %d round trips of luamig's own"):format(i,
        at[i] - at[i - 1] - 1))
    end
    assert.are.equal(6, tonumber(s.db:scalar("SELECT count(*) FROM luamig_version_history")))
  end)
end)

describe("a run of migrations from the script cache", function()
  it("holds no migration's code once its step is done", function()
    local b = sh.backends()[1]
    local files, prev = {}, nil
    for i = 1, 5 do
      local id = ("dddd%08d"):format(i)
      files[i .. ".lua"] = sh.migration(id, prev, ("db:exec 'CREATE TABLE t%d (id integer)'"):format(i))
      prev = id
    end
    local dir = fixtures.tmpdir()
    local old = os.time() - 100
    for name, text in pairs(files) do
      fixtures.write(dir .. "/" .. name, text)
      assert(lfs.touch(dir .. "/" .. name, old, old)) -- settled files: the cache serves them
    end
    scripts.load_dir(dir) -- fills the cache
    local list = scripts.load_dir(dir)
    local cfg = { migrations = dir, version_table = "luamig_version", transaction = "per-migration", foreign_keys = true }
    local url, remove = fixtures.fresh_url(b)
    local db, dialect = connect.open(url, cfg)
    finally(function()
      db:close()
      remove()
    end)
    local s = { db = db, dialect = dialect, config = cfg, graph = graph_mod.new(list), log = log_mod.new({ quiet = true }) }
    local held = {}
    runner.run(s, { direction = "up", plan = function(heads) return plan.upgrade(s.graph, heads, "heads") end,
      on_step = function(step) held[#held + 1] = rawget(s.graph.revs[step.revision], "upgrade") ~= nil end })
    assert.are.same({ false, false, false, false, false }, held)
    assert.are.equal(5, tonumber(db:scalar("SELECT count(*) FROM luamig_version_history")))
  end)
end)

describe("a step's op", function()
  it("makes each op function on first use: a step that never touches op makes none", function()
    local step_mod = require "luamig.run.step"
    local b = sh.backends()[1]
    local url, remove = fixtures.fresh_url(b)
    local db, dialect = connect.open(url, { version_table = "luamig_version", foreign_keys = true })
    finally(function()
      db:close()
      remove()
    end)
    local script = { id = "eeee00000001", path = "1.lua", transactional = true }
    local ctx = step_mod.new(db, dialect, script, { transactional = true })
    assert.is_nil(next(ctx.op)) -- (made for every step: nothing built yet)
    assert.are.equal("function", type(ctx.op.create_table))
    assert.are.equal(ctx.op.create_table, ctx.op.create_table) -- (made once)
    assert.are.equal("table", type(ctx.op.online))
    local ok, err = pcall(function() return ctx.op.create_tabel end)
    assert.is_false(ok)
    assert.matches("create_tabel", tostring(err.message or err))
    local names = {}
    for k in pairs(step_mod.new(db, dialect, script, { transactional = true }).op) do names[k] = true end
    assert.is_true(names.create_table and names.online and names.add_column)
  end)
end)
