-- Fleet processes and signals (issue 22, item 12): the children die with the
-- parent (kill -9 included), SIGTERM to the parent alone stops the run at
-- once with a summary, Ctrl-C prints the per-target summary, and no record
-- file is left in $TMPDIR; a run killed -9 and restarted with its --ledger
-- finishes exactly the rest (issue 30).
local sh = require "spec.support.sh"

-- A fleet of `n` SQLite tenants whose one migration touches
-- $MARKS/<tenant>.db, then loops for 20 s.
local function fleet(n)
  local p = sh.project({ ["1.lua"] = sh.migration("f00000000001", nil, [[
db:exec "CREATE TABLE applied (n INTEGER)"
local file = db:query("PRAGMA database_list")[1].file
local f = assert(io.open(os.getenv("MARKS") .. "/" .. file:match("[^/]+$"), "w")); f:close()
local t = os.time()
while os.time() - t < 20 do end]]) })
  p:write("luamig.lua", ("local t = {}\nfor i = 1, %d do t[i] = { name = 't' .. i, url = 'sqlite:///db/t' .. i .. '.db' } " ..
    "end\nreturn { targets = t }\n"):format(n))
  assert(os.execute(("mkdir -p %s/db %s/marks %s/tmp"):format(sh.quote(p.dir), sh.quote(p.dir), sh.quote(p.dir))))
  p.env = ("MARKS=%s TMPDIR=%s"):format(sh.quote(p.dir .. "/marks"), sh.quote(p.dir .. "/tmp"))
  return p
end

local function lines(cmd)
  local _, out = sh.run(cmd)
  local t = {}
  for l in out:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

-- Start the fleet run; returns the parent's pid and its children's, once
-- `running` of them are inside the migration.
local function start(p, args, running)
  local pid = p:spawn(args, p.env)
  assert.truthy(sh.poll(function() return #lines("ls " .. sh.quote(p.dir .. "/marks")) == running end),
    "the migrations started")
  return pid, lines("pgrep -P " .. pid)
end

local function all_dead(pids)
  return sh.poll(function()
    for _, pid in ipairs(pids) do if sh.alive(pid) then return false end end
    return true
  end, 10)
end

-- Three PostgreSQL schema targets (pg1..pg3 on tenant_1..tenant_3) whose
-- migration touches $MARKS/<schema>, then loops for 20 s on schema $BLOCK;
-- returns the project and the environment (MARKS, TMPDIR) to run it with.
local function schema_fleet()
  local p = sh.project({ ["1.lua"] = sh.migration("f00000000001", nil, [[
db:exec "CREATE TABLE applied (n INTEGER)"
local schema = db:scalar "SELECT current_schema()"
local f = assert(io.open(os.getenv("MARKS") .. "/" .. schema, "w")); f:close()
local t = os.time()
while schema == os.getenv("BLOCK") and os.time() - t < 20 do end]]) })
  p:write("luamig.lua", ("local t = {}\nfor i = 1, 3 do t[i] = { name = 'pg' .. i, url = %q, schema = 'tenant_' .. i } " ..
    "end\nreturn { targets = t }\n"):format(sh.fresh_pg()))
  local d = sh.quote(p.dir)
  assert(os.execute(("mkdir -p %s/marks %s/tmp"):format(d, d)))
  return p, ("MARKS=%s TMPDIR=%s"):format(sh.quote(p.dir .. "/marks"), sh.quote(p.dir .. "/tmp"))
end

describe("fleet processes", function()
  it("die with the parent after kill -9 and leave nothing in $TMPDIR", function()
    local p = fleet(3)
    local pid, children = start(p, "upgrade --all --jobs 3", 3)
    assert.are.equal(3, #children)
    assert(os.execute("kill -9 " .. pid))
    assert.truthy(all_dead(children), "the children outlived the parent")
    assert.are.same({}, lines("ls -A " .. sh.quote(p.dir .. "/tmp")))
    -- nothing was committed: a rerun migrates every tenant once (--continue-on-error: each target is tried
    -- even after another's failure)
    local doc, code, err = p:json("upgrade --all --jobs 3 --continue-on-error",
      "TMPDIR=" .. sh.quote(p.dir .. "/tmp") .. " MARKS=/dev/null/x")
    assert.are.equal(1, code, require("cjson").encode(doc) .. err) -- (the mark cannot be written: each fails)
    assert.are.same({ 3, 3 }, { doc.total, doc.failed })
  end)

  it("SIGTERM to the parent alone stops the children at once and prints the summary", function()
    local p = fleet(3)
    local pid, children = start(p, "upgrade --all --jobs 2", 2)
    assert(os.execute("kill -TERM " .. pid))
    local code, secs = p:wait(10)
    assert.are.equal(143, code, sh.slurp(p.dir .. "/err"))
    assert.is_true(secs <= 5, "stopped after " .. secs .. " s")
    assert.truthy(all_dead(children))
    local out = sh.slurp(p.dir .. "/out")
    assert.matches("t1%s+failed", out)
    assert.matches("t3%s+not run", out)
    assert.matches("3 targets: 0 ok, 0 already at head, 2 failed, 1 not run", out)
    assert.matches("t1: .*interrupted %(SIGTERM%)", out)
    assert.are.same({}, lines("ls -A " .. sh.quote(p.dir .. "/tmp")))
  end)

  it("Ctrl-C prints the per-target summary (--json: one document)", function()
    local p = fleet(2)
    local pid, children = start(p, "upgrade --all --jobs 2 --json", 2)
    -- a terminal's Ctrl-C reaches the whole process group (a child listed a
    -- moment ago may have ended since: only the parent must be there)
    assert(os.execute(("kill -INT %d"):format(pid)))
    os.execute(("kill -INT %s 2>/dev/null"):format(table.concat(children, " ")))
    local code = p:wait(10)
    assert.are.equal(130, code, sh.slurp(p.dir .. "/err"))
    local doc = require("cjson").decode(sh.slurp(p.dir .. "/out"))
    assert.are.same({ 2, 2 }, { doc.total, doc.failed })
    assert.matches("interrupted %(SIGINT", doc.targets[1].error)
    assert.are.same({}, lines("ls -A " .. sh.quote(p.dir .. "/tmp")))
  end)

  it("a run killed -9 at target 5 of 8 and restarted with its --ledger finishes exactly the rest, no backfill doubled",
    function()
      local p = sh.project({
        ["1.lua"] = sh.migration("f00000000001", nil, [[
db:exec "CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"
db:exec "INSERT INTO items (n) VALUES (0), (0), (0)"]]),
        -- a backfill; on tenant $BLOCK it waits first (to be killed there)
        ["2.lua"] = sh.migration("f00000000002", "f00000000001", [[
local file = db:query("PRAGMA database_list")[1].file:match("[^/]+$")
local f = assert(io.open(os.getenv("MARKS") .. "/" .. file, "w")); f:close()
local t = os.time()
while file == os.getenv("BLOCK") and os.time() - t < 20 do end
luamig.backfill { table = "items", columns = { "n" }, set = function(row) return { n = row.n + 1 } end }]]),
      })
      p:write("luamig.lua", "local t = {}\nfor i = 1, 8 do t[i] = { name = 't' .. i, url = 'sqlite:///db/t' .. i .. '.db' } " ..
        "end\nreturn { targets = t }\n")
      local d = sh.quote(p.dir)
      assert(os.execute(("mkdir -p %s/db %s/marks %s/tmp %s/away"):format(d, d, d, d)))
      local env = ("MARKS=%s TMPDIR=%s"):format(sh.quote(p.dir .. "/marks"), sh.quote(p.dir .. "/tmp"))
      local ledger = p.dir .. "/ledger.jsonl"
      local pid = p:spawn("upgrade --all --ledger " .. sh.quote(ledger), env .. " BLOCK=t5.db")
      assert.truthy(sh.poll(function() return sh.first_line(p.dir .. "/marks/t5.db", "a") end), "t5 started")
      local children = lines("pgrep -P " .. pid)
      assert.are.equal(1, #children)
      assert(os.execute("kill -9 " .. pid))
      assert.truthy(all_dead(children))
      local finished = lines("cat " .. sh.quote(ledger))
      assert.are.equal(4, #finished, table.concat(finished, "\n"))
      -- the finished tenants are moved away: opening one would create a new file
      for i = 1, 4 do assert(os.execute(("mv %s/db/t%d.db %s/away/"):format(d, i, d))) end
      local doc, code, err = p:json("upgrade --all --ledger " .. sh.quote(ledger), env)
      assert.are.equal(0, code, err)
      assert.are.same({ 8, 8, 0 }, { doc.total, doc.ok, doc.failed })
      for i = 1, 8 do
        local r = doc.targets[i]
        assert.are.same({ "ok", i <= 4 or nil }, { r.status, r.ledger }, r.name)
      end
      for i = 1, 4 do assert.is_nil(sh.first_line(p.dir .. "/db/t" .. i .. ".db"), "t" .. i .. " was opened") end
      for i = 1, 4 do assert(os.execute(("mv %s/away/t%d.db %s/db/"):format(d, i, d))) end
      for i = 1, 8 do
        local _, out = sh.run(("sqlite3 %s/db/t%d.db 'SELECT sum(n) FROM items'"):format(d, i))
        assert.are.equal("3\n", out, "t" .. i .. "'s backfill")
      end
      assert.are.equal(8, #lines("cat " .. sh.quote(ledger))) -- each tenant once
    end)

  it("a job killed -9 in the middle of its batch of schemas fails its target alone; the rest of its batch still runs",
    function()
      local p, env = schema_fleet()
      -- --jobs 1: one job takes the three schemas
      local pid = p:spawn("upgrade --all --jobs 1 --continue-on-error --json", env .. " BLOCK=tenant_2")
      assert.truthy(sh.poll(function() return sh.first_line(p.dir .. "/marks/tenant_2", "a") end), "tenant_2 started")
      local children = lines("pgrep -P " .. pid)
      assert.are.equal(1, #children)
      assert(os.execute("kill -9 " .. children[1]))
      assert.are.equal(1, (p:wait(20)), sh.slurp(p.dir .. "/err"))
      local doc = require("cjson").decode(sh.slurp(p.dir .. "/out"))
      assert.are.same({ "ok", "failed", "ok" }, { doc.targets[1].status, doc.targets[2].status, doc.targets[3].status })
      assert.matches("the job process ended %(exit code 137%) without a result", doc.targets[2].error)
      assert.are.same({}, lines("ls -A " .. sh.quote(p.dir .. "/tmp")))
    end)

  it("a run killed -9 in the middle of a batch of schemas keeps in its --ledger the schemas the batch finished",
    function()
      local p, env = schema_fleet()
      local ledger = p.dir .. "/ledger.jsonl"
      -- --jobs 1: one job takes the three schemas; it is inside tenant_2 when the parent dies
      local pid = p:spawn("upgrade --all --jobs 1 --ledger " .. sh.quote(ledger), env .. " BLOCK=tenant_2")
      assert.truthy(sh.poll(function() return sh.first_line(p.dir .. "/marks/tenant_2", "a") end), "tenant_2 started")
      local children = lines("pgrep -P " .. pid)
      assert(os.execute("kill -9 " .. pid))
      assert.truthy(all_dead(children))
      local finished = lines("cat " .. sh.quote(ledger))
      assert.are.equal(1, #finished, table.concat(finished, "\n"))
      assert.matches('"name":"pg1"', finished[1], 1, true)
      local doc, code, err = p:json("upgrade --all --jobs 1 --ledger " .. sh.quote(ledger), env)
      assert.are.equal(0, code, err)
      assert.are.same({ "ok", true }, { doc.targets[1].status, doc.targets[1].ledger })
      assert.are.same({ "ok", "ok" }, { doc.targets[2].status, doc.targets[3].status })
      assert.is_nil(doc.targets[2].ledger)
    end)
end)
