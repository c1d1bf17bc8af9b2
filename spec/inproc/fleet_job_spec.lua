-- luamig.fleet.job in process: one target's command runs in a forked child
-- with a session of its own (run/session.lua's constructor, the parent's
-- graph shared), and the parent reads back its record: heads before and
-- after, steps, exit code and error; a target at head is skipped; a child
-- that dies without a record is a failure naming how it ended; each target of a
-- batch sees the migration files as just loaded.
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

-- A project of two migrations (the second runs `second`, after its
-- top-level code `extra`), and the parent's context with its graph loaded.
local function project(second, extra)
  local dir = fixtures.tmpdir()
  fixtures.write(dir .. "/luamig.lua", 'return { migrations = "migrations" }\n')
  assert(lfs.mkdir(dir .. "/migrations"))
  fixtures.write(dir .. "/migrations/1.lua", sh.migration("aaaa00000001", nil, 'db:exec "CREATE TABLE t1 (id INTEGER)"'))
  fixtures.write(dir .. "/migrations/2.lua", sh.migration("aaaa00000002", "aaaa00000001", second, nil, extra))
  local ctx = session.new({ config = config.load(dir .. "/luamig.lua"), log = log_mod.new({ quiet = true }),
    reserved = {} })
  session.graph(ctx)
  return ctx, dir
end

-- Run the upgrade on the targets of `batch` in a child (each failure ends
-- it, unless `keep_going`); their records.
local function run_batch(ctx, batch, dir, keep_going)
  local pid = job.start(UPGRADE, { target = "head" }, ctx, batch, dir, keep_going)
  local done, code = host.wait(true)
  assert.are.equal(pid, done)
  return (job.collect(batch, dir, pid, code))
end

-- Run the upgrade on target `t` in a child; its record.
local function run_job(ctx, t, dir)
  return run_batch(ctx, { t }, dir)[1]
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

  it("is a failure naming the exit code when its child dies without a record; one that ended on its own stopped", function()
    local dir = fixtures.tmpdir()
    local batch = { { name = "gone" }, { name = "after" } }
    local pid = host.fork(function() error("dies") end)
    local done, code = host.wait(true)
    assert.are.equal(pid, done)
    local recs, stopped = job.collect(batch, dir, pid, code)
    assert.are.same({ { [1] = { name = "gone", status = "failed", exit = errors.EXIT.failure,
      error = "the job process ended (exit code 1) without a result" } }, false }, { recs, stopped })
    pid = host.fork(function() end)
    done, code = host.wait(true)
    assert.are.equal(pid, done)
    recs, stopped = job.collect(batch, dir, pid, code)
    assert.are.same({ {}, true }, { recs, stopped })
  end)

  it("runs each target of its batch on the migration files as just loaded, failing the same way", function()
    local ctx, dir = project([[
runs = (runs or 0) + 1
kept = kept + 1
if runs > 1 or kept > 1 then error("ran before") end
error("boom")]], "local kept = 0")
    local batch = { { name = "one", url = "sqlite:///" .. dir .. "/one.db" },
      { name = "two", url = "sqlite:///" .. dir .. "/two.db" } }
    finally(function() os.remove(dir .. "/one.db"); os.remove(dir .. "/two.db") end)
    local recs = run_batch(ctx, batch, dir, true)
    assert.are.same({ "failed", "failed" }, { recs[1].status, recs[2].status })
    assert.matches("upgrade aaaa00000002 %(.-2%.lua%) failed: .-2%.lua:9: boom", recs[1].error)
    assert.are.equal(recs[1].error, recs[2].error)
  end)
end)
