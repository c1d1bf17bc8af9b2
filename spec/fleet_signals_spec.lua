-- Fleet processes and signals (issue 22, item 12): the children die with the
-- parent (kill -9 included), SIGTERM to the parent alone stops the run at
-- once with a summary, Ctrl-C prints the per-target summary, and no record
-- file is left in $TMPDIR.
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

describe("fleet processes", function()
  it("die with the parent after kill -9 and leave nothing in $TMPDIR", function()
    local p = fleet(3)
    local pid, children = start(p, "upgrade --all --jobs 3", 3)
    assert.are.equal(3, #children)
    assert(os.execute("kill -9 " .. pid))
    assert.truthy(all_dead(children), "the children outlived the parent")
    assert.are.same({}, lines("ls -A " .. sh.quote(p.dir .. "/tmp")))
    -- nothing was committed: a rerun migrates every tenant once
    local doc, code, err = p:json("upgrade --all --jobs 3", "TMPDIR=" .. sh.quote(p.dir .. "/tmp") .. " MARKS=/dev/null/x")
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
    -- a terminal's Ctrl-C reaches the whole process group
    assert(os.execute(("kill -INT %d %s"):format(pid, table.concat(children, " "))))
    local code = p:wait(10)
    assert.are.equal(130, code, sh.slurp(p.dir .. "/err"))
    local doc = require("cjson").decode(sh.slurp(p.dir .. "/out"))
    assert.are.same({ 2, 2 }, { doc.total, doc.failed })
    assert.matches("interrupted %(SIGINT", doc.targets[1].error)
    assert.are.same({}, lines("ls -A " .. sh.quote(p.dir .. "/tmp")))
  end)
end)
