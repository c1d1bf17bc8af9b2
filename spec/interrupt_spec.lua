-- Interrupts and lost connections (issue 22, items 9 and 10): Ctrl-C and
-- SIGTERM stop a migration wherever it runs (under a user's pcall, inside a
-- coroutine, during lint), an error object cannot hang luamig, and a
-- connection the server dropped is not blamed on the migration.
local sh = require "spec.support.sh"

local m = sh.migration

-- Lua for a migration body: touch $MARK (the spec waits for it), then call
-- `each()` for 20 s.
local function busy(each)
  return ([[
local f = assert(io.open(os.getenv("MARK"), "w")); f:close()
local t = os.time()
while os.time() - t < 20 do %s end]]):format(each)
end

-- A query that takes a few milliseconds on either backend.
local SLOW = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) SELECT count(*) FROM c"

-- Start `args` in p, wait for the migration's mark, send `sig`; returns the
-- exit code and the seconds luamig took to stop.
local function interrupt(p, args, sig)
  local mark = p.dir .. "/mark"
  local pid = p:spawn(args, "MARK=" .. sh.quote(mark))
  assert.truthy(sh.poll(function() return io.open(mark) end), "the migration started")
  assert(os.execute(("kill -%s %d"):format(sig or "INT", pid)))
  return p:wait(15) -- (the migration's loop would run on for 20 s)
end

for _, b in ipairs(sh.backends()) do
  describe("interrupts on " .. b.name, function()
    for _, case in ipairs({
      { "a loop of pcall'ed statements", busy(("pcall(db.scalar, db, %q)"):format(SLOW)) },
      { "a loop of pcall'ed failing calls", busy("pcall(error, 'x') pcall(db.scalar, db, 'SELECT nope')") },
      { "a coroutine", ("coroutine.wrap(function() %s end)()"):format(busy(("db:scalar(%q)"):format(SLOW))) },
      { "a coroutine resumed under pcall", ("pcall(coroutine.resume, coroutine.create(function() %s end))")
        :format(busy(("pcall(db.scalar, db, %q)"):format(SLOW))) },
      { "xpcall whose handler swallows it", busy(("xpcall(db.scalar, function() end, db, %q)"):format(SLOW)) },
    }) do
      it("Ctrl-C stops " .. case[1] .. " at once and rolls the step back", function()
        local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id int)'\n" ..
          case[2]) })
        local code, secs = interrupt(p, "upgrade")
        assert.are.equal(130, code, sh.slurp(p.dir .. "/err"))
        assert.is_true(secs <= 8, "stopped after " .. secs .. " s") -- (room for a loaded machine)
        local err = sh.slurp(p.dir .. "/err")
        assert.matches("upgrade aaaa00000001 .*interrupted", err)
        assert.matches("rolled back", err)
        assert.are.equal("interrupted", (p:json("status")).failed.status)
      end)
    end

    it("SIGTERM stops a migration whose error object's __tostring never returns", function()
      local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil,
        "local f = assert(io.open(os.getenv('MARK'), 'w')); f:close()\n" ..
        "error(setmetatable({}, { __tostring = function() while true do end end }))") })
      local mark = p.dir .. "/mark"
      local pid = p:spawn("upgrade", "MARK=" .. sh.quote(mark))
      assert.truthy(sh.poll(function() return io.open(mark) end), "the migration started")
      -- it ends by itself (the text is not needed to report the failure) ...
      local code = p:wait(10)
      if not code then -- ... or at least on SIGTERM
        os.execute("kill -TERM " .. pid .. " 2>/dev/null")
        code = p:wait(5)
      end
      assert.are.equal(1, code, sh.slurp(p.dir .. "/err"))
      assert.matches("1%.lua%) failed: .*error object.*does not return", sh.slurp(p.dir .. "/err"))
    end)

    it("lint stops at Ctrl-C instead of running the remaining migrations", function()
      local p = sh.project_on(b, { ["0.lua"] = m("aaaa00000000", nil, "db:exec 'CREATE TABLE a (id int)'"),
        ["1.lua"] = m("aaaa00000001", "aaaa00000000", busy("pcall(error, 'x')")),
        ["2.lua"] = m("bbbb00000002", "aaaa00000001", "local t = os.time() while os.time() - t < 8 do end"),
        ["3.lua"] = m("cccc00000003", "bbbb00000002", "local t = os.time() while os.time() - t < 8 do end"),
      })
      p:ok("upgrade aaaa00000000")
      local code, secs = interrupt(p, "lint")
      assert.are.equal(130, code, sh.slurp(p.dir .. "/err"))
      assert.is_true(secs <= 8, "stopped after " .. secs .. " s")
    end)
  end)
end

describe("a connection lost during a step", function()
  local pg = sh.backends()[2]
  local function kill_sql(p)
    return ("os.execute(%q)"):format(("psql %s -XtAqc %s >/dev/null"):format(sh.quote(p.url), sh.quote(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " ..
      "WHERE datname = current_database() AND pid <> pg_backend_pid()")))
  end

  for _, case in ipairs({
    { "raised", "db:exec 'SELECT 1'" },
    { "caught by the migration", "pcall(db.exec, db, 'SELECT 1')" },
  }) do
    it("is reported as rolled back by the server, to rerun, not to stamp (error " .. case[1] .. ")", function()
      local p = sh.project_on(pg, { ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id int)'") })
      p:ok("upgrade")
      p:write("migrations/2.lua", m("bbbb00000002", "aaaa00000001",
        "db:exec 'CREATE TABLE b (id int)'\n" .. kill_sql(p) .. "\n" .. case[2]))
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code, err)
      assert.matches("upgrade bbbb00000002", err)
      assert.matches("lost the connection", err)
      assert.matches("the server rolled the step back", err)
      assert.matches("run `luamig upgrade` again", err)
      assert.is_nil(err:find("stamp", 1, true), err)
      assert.is_nil(err:find("ended the step's transaction", 1, true), err)
      assert.are.equal("a luamig_version luamig_version_history\n", p:tables())
      p:write("migrations/2.lua", m("bbbb00000002", "aaaa00000001", "db:exec 'CREATE TABLE b (id int)'"))
      p:ok("upgrade")
    end)
  end
end)
