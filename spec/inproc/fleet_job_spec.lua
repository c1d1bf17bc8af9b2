-- luamig.fleet.job in process: one target's command runs in a forked child
-- with a session of its own (run/session.lua's constructor, the parent's
-- graph shared), and the parent reads back its record: heads before and
-- after, steps, exit code and error; a target at head is skipped; a child
-- that leaves no record is a failure naming how it ended.
local lfs = require "lfs"
local host = require "luamig.host"
local config = require "luamig.project.config"
local errors = require "luamig.util.errors"
local log_mod = require "luamig.util.log"
local job = require "luamig.fleet.job"
local session = require "luamig.run.session"
local sh = require "spec.support.sh"
local fixtures = require "spec.support.fixtures"

local UPGRADE = require "luamig.commands.upgrade"
UPGRADE.name = "upgrade" -- (as the registry names it)

-- A project of two migrations (the second runs `second`), and the parent's
-- context with its graph loaded.
local function project(second)
  local dir = fixtures.tmpdir()
  fixtures.write(dir .. "/luamig.lua", 'return { migrations = "migrations" }\n')
  assert(lfs.mkdir(dir .. "/migrations"))
  fixtures.write(dir .. "/migrations/1.lua", sh.migration("aaaa00000001", nil, 'db:exec "CREATE TABLE t1 (id INTEGER)"'))
  fixtures.write(dir .. "/migrations/2.lua", sh.migration("aaaa00000002", "aaaa00000001", second))
  local ctx = session.new({ config = config.load(dir .. "/luamig.lua"), log = log_mod.new({ quiet = true }),
    reserved = {} })
  session.graph(ctx)
  return ctx, dir
end

-- Run the upgrade on target `t` in a child; its record.
local function run_job(ctx, t, dir)
  local pid = job.start(UPGRADE, { target = "head" }, ctx, t, dir)
  local done, code = host.wait(true)
  assert.are.equal(pid, done)
  return job.collect(t, dir, pid, code)
end

describe("a fleet job", function()
  it("runs the command on its target in a child and reports heads, steps and exit code", function()
    local ctx, dir = project('db:exec "INSERT INTO t1 (id) VALUES (1)"')
    local t = { name = "one", url = "sqlite:///" .. dir .. "/one.db" }
    finally(function() os.remove(dir .. "/one.db") end)
    local rec = run_job(ctx, t, dir)
    assert.are.same({ "one", "ok", {}, { "aaaa00000002" }, 2, errors.EXIT.ok },
      { rec.name, rec.status, rec.heads_before, rec.heads_after, rec.steps, rec.exit })
    assert.is_number(rec.ms)
    assert.is_nil(ctx.session, "the parent opened no database")
    for entry in lfs.dir(dir) do assert.is_nil(entry:match("%.json$"), "the record file is removed") end

    local again = run_job(ctx, t, dir)
    assert.are.same({ "skipped", { "aaaa00000002" }, { "aaaa00000002" }, 0 },
      { again.status, again.heads_before, again.heads_after, again.steps })
  end)

  it("reports a failed target with its exit code and the error, and where the run stopped", function()
    local ctx, dir = project('error("boom")')
    local t = { name = "bad", url = "sqlite:///" .. dir .. "/bad.db" }
    finally(function() os.remove(dir .. "/bad.db") end)
    local rec = run_job(ctx, t, dir)
    assert.are.same({ "failed", {}, { "aaaa00000001" }, errors.EXIT.failure },
      { rec.status, rec.heads_before, rec.heads_after, rec.exit })
    assert.matches("upgrade aaaa00000002 %(.-2%.lua%) failed: .-2%.lua:6: boom", rec.error)
  end)

  it("is a failure naming the exit code when its child leaves no record", function()
    local dir = fixtures.tmpdir()
    local pid = host.fork(function() end)
    local done, code = host.wait(true)
    assert.are.equal(pid, done)
    assert.are.same({ name = "gone", status = "failed", exit = errors.EXIT.failure,
      error = "the job process ended (exit code 0) without a result" }, job.collect({ name = "gone" }, dir, pid, code))
  end)
end)
