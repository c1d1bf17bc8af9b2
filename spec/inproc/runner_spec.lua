-- luamig.run.runner in process, on both backends: each step gets its own
-- context (op bound to the step, luamig.backfill counting its rows), the
-- caller's options are left as they were, and op is unbound between steps.
local plan = require "luamig.revision.plan"
local runner = require "luamig.run.runner"
local sh = require "spec.support.sh"
local fixtures = require "spec.support.fixtures"

local function up_opts(s)
  return { direction = "up", plan = function(heads) return plan.upgrade(s.graph, heads, "heads") end }
end

for _, b in ipairs(sh.backends()) do describe("runner on " .. b.name, function()
  it("gives each step its own context and leaves the caller's options as they were", function()
    local s, close = fixtures.session(b, {
      ["1.lua"] = sh.migration("aaaa00000001", nil, [[
  op.create_table("t1", { { "id", "integer", primary_key = true }, { "n", "integer" } })
  op.bulk_insert("t1", { { id = 1 }, { id = 2 } })
  luamig.backfill({ table = "t1", set = function(row) return { n = row.id * 10 } end })]]),
      ["2.lua"] = sh.migration("aaaa00000002", "aaaa00000001", [[
  op.execute("INSERT INTO t1 (id, n) VALUES (3, 30)")]], nil, "transactional = false"),
    })
    finally(close)
    local opts = up_opts(s)
    local steps = {}
    function opts.on_step(step) steps[#steps + 1] = { step.revision, step.transactional, step.rows } end
    local before = {}
    for k, v in pairs(opts) do before[k] = v end
    assert.are.same({ "aaaa00000002" }, runner.run(s, opts))
    assert.are.same(before, opts)
    assert.are.same({ { "aaaa00000001", true, 2 }, { "aaaa00000002", false } }, steps)
    assert.are.equal(60, s.db:scalar "SELECT sum(n) FROM t1")
  end)

  it("unbinds op and luamig.backfill once the step is over", function()
    local s, close = fixtures.session(b, {
      ["1.lua"] = sh.migration("aaaa00000001", nil, [[
  op.create_table("t1", { { "id", "integer", primary_key = true } })
  luamig.backfill({ table = "t1", set = function() end })]]),
    })
    finally(close)
    runner.run(s, up_opts(s))
    local script = s.graph.revs.aaaa00000001
    local ok, err = pcall(script.upgrade, s.db)
    assert.is_false(ok)
    assert.matches("op%.create_table is only available while a migration runs", tostring(err))
  end)

  -- (the runner used to raise such an error again as text: where = nil)
  it("keeps where of an error raised before anything runs: an irreversible change() names its line", function()
    local s, close = fixtures.session(b, {
      ["1.lua"] = "revision = 'aaaa00000001'\ndown_revision = nil\n" ..
          "function change(op)\n  op.create_table('t', { { 'id', 'integer' } })\n  op.execute('SELECT 1')\nend\n",
    })
    finally(close)
    runner.run(s, up_opts(s))
    local ok, err = pcall(runner.run, s, { direction = "down",
      plan = function(heads) return plan.downgrade(s.graph, heads, "base") end })
    assert.is_false(ok)
    assert.are.same({ "script", s.graph.revs.aaaa00000001.path .. ":5" }, { err.kind, err.where })
    assert.matches("^change%(%) uses op%.execute, which cannot be reversed", err.message)
  end)

  it("a failing step's error is one error object: where is the migration's line, cause what it raised", function()
    local s, close = fixtures.session(b, {
      ["1.lua"] = sh.migration("aaaa00000001", nil, "  local x = 1\n  error('boom ' .. x)"),
      ["2.lua"] = sh.migration("aaaa00000002", "aaaa00000001", "  db:exec 'INSERT INTO nope VALUES (1)'"),
    })
    finally(close)
    local path = s.graph.revs.aaaa00000001.path
    local ok, err = pcall(runner.run, s, up_opts(s))
    assert.is_false(ok)
    assert.are.same({ "migration", path .. ":7", "migration", path .. ":7", "boom 1" },
      { err.kind, err.where, err.cause.kind, err.cause.where, err.cause.message })
    -- (the text names the line once)
    assert.are.equal(("upgrade aaaa00000001 (%s) failed: %s:7: boom 1\nthe step was rolled back; the database is " ..
      "still at base"):format(path, path), tostring(err))
    assert.is_string(err.traceback)

    s.graph.revs.aaaa00000001.upgrade = function() end
    ok, err = pcall(runner.run, s, up_opts(s))
    assert.is_false(ok)
    path = s.graph.revs.aaaa00000002.path
    assert.are.same({ "migration", path .. ":6", "db", path .. ":6" },
      { err.kind, err.where, err.cause.kind, err.cause.where })
  end)
end) end
