-- luamig.run.failure in process, through the runner on both backends: a
-- failed step raises one "migration" error naming the step, its file and
-- line and what became of its work, records the failure in the history
-- table (not in a dry run), and leaves the version table where the rollback
-- left it.
local errors = require "luamig.util.errors"
local plan = require "luamig.revision.plan"
local runner = require "luamig.run.runner"
local version = require "luamig.run.version"
local sh = require "spec.support.sh"
local fixtures = require "spec.support.fixtures"

local FIRST = sh.migration("aaaa00000001", nil, 'db:exec "CREATE TABLE t1 (id INTEGER PRIMARY KEY)"')

-- Run `s` up to its heads; returns the error it raised (the run must fail).
local function failed_run(s)
  local ok, err = pcall(runner.run, s, { direction = "up",
    plan = function(heads) return plan.upgrade(s.graph, heads, "heads") end })
  assert.is_false(ok, "the run succeeded")
  assert.is_true(errors.is(err), tostring(err))
  assert.are.equal("migration", err.kind)
  return err
end

-- The session's version tables, heads and last history row.
local function state(s)
  local t = version.tables(s.config, s.dialect, s.db)
  local history = version.history(s.db, t)
  return version.heads(s.db, t), history[#history]
end

for _, b in ipairs(sh.backends()) do describe("a failed step on " .. b.name, function()
  it("in a transaction: rolled back, recorded as failed, named by file and line", function()
    local s, close = fixtures.session(b, { ["1.lua"] = FIRST,
      ["2.lua"] = sh.migration("aaaa00000002", "aaaa00000001", 'db:exec "INSERT INTO t1 (id) VALUES (1)"\n' ..
        'error("boom")') })
    finally(close)
    local err = failed_run(s)
    assert.matches("^upgrade aaaa00000002 %(.-/2%.lua%) failed: .-/2%.lua:7: boom\n", err.message)
    assert.matches("the step was rolled back; the database is still at aaaa00000001$", err.message)
    local heads, last = state(s)
    assert.are.same({ "aaaa00000001" }, heads)
    assert.are.same({ "aaaa00000002", "up", "failed", true }, { last.revision, last.direction, last.status,
      last.transactional })
    assert.matches("2%.lua:7: boom", last.error)
    assert.are.equal(0, s.db:scalar "SELECT count(*) FROM t1")
  end)

  it("outside a transaction: what it did stays, and the message says to check the schema", function()
    local s, close = fixtures.session(b, { ["1.lua"] = FIRST,
      ["2.lua"] = sh.migration("aaaa00000002", "aaaa00000001", 'db:exec "CREATE TABLE t2 (id INTEGER)"\n' ..
        'error("boom")', nil, "transactional = false") })
    finally(close)
    local err = failed_run(s)
    assert.matches("it ran outside a transaction: check the schema, then rerun or `luamig stamp`$", err.message)
    local heads, last = state(s)
    assert.are.same({ "aaaa00000001" }, heads)
    assert.are.same({ "aaaa00000002", "failed", false }, { last.revision, last.status, last.transactional })
    assert.is_true(s.db:has_table("t2"))
  end)

  it("in a dry run: nothing changed, nothing recorded", function()
    local s, close = fixtures.session(b, { ["1.lua"] = FIRST,
      ["2.lua"] = sh.migration("aaaa00000002", "aaaa00000001", 'error("boom")') })
    finally(close)
    s.dry_run = true
    local err = failed_run(s)
    assert.matches("dry run: nothing was changed$", err.message)
    local heads, last = state(s)
    assert.are.same({}, heads)
    assert.is_nil(last)
  end)

  it("on a statement a transaction refuses: says how to run it", function()
    local refused = b.name == "postgresql" and "CREATE INDEX CONCURRENTLY i1 ON t1 (id)" or "VACUUM"
    local s, close = fixtures.session(b, { ["1.lua"] = FIRST,
      ["2.lua"] = sh.migration("aaaa00000002", "aaaa00000001", ("db:exec %q"):format(refused)) })
    finally(close)
    local err = failed_run(s)
    assert.matches("this statement cannot run inside a transaction: set  transactional = false  in the migration",
      err.message, 1, true)
    assert.are.equal("failed", select(2, state(s)).status)
  end)
end) end
