-- The `db` a migration sees (issue 22 items 4, 15, 16): the transaction
-- guard belongs to the connection the runner holds, not to chunk names; the
-- handle shows only the documented methods; a pipeline refuses COPY before
-- sending and is released when its step ends.
local sh = require "spec.support.sh"

local m = sh.migration

local DOCUMENTED = { "autocommit", "backend", "copy_in", "dialect", "exec", "first", "has_column", "has_index",
  "has_table", "in_transaction", "pipeline", "prepare", "query", "quote_ident", "quote_literal", "rows", "scalar", "schema",
  "transaction" }

for _, b in ipairs(sh.backends()) do
  describe("the db a migration sees, on " .. b.name, function()
    -- a step that makes table sb, then tries to commit it through `escape`
    local escapes = {
      { "the guard's own key", 'db:guard_transaction(db:guard_transaction())\ndb:exec "COMMIT"' },
      { "a chunk named @argparse.lua", 'load("local db = ...; db:exec \'COMMIT\'", "@argparse.lua")(db)' },
      { "a chunk named @lua/luamig/…", 'load("local db = ...; db:exec \'COMMIT\'", "@lua/luamig/run/runner.lua")(db)' },
      { "a chunk named @lua/…", 'load("local db = ...; db:exec \'COMMIT\'", "@lua/x.lua")(db)' },
      { "a pipeline queued from @argparse.lua",
        'load("local db = ...; db:pipeline(function(p) p:exec \'COMMIT\' end)", "@argparse.lua")(db)' },
    }
    for _, case in ipairs(escapes) do
      it("cannot end the step's transaction through " .. case[1], function()
        local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id int)'"),
          ["2.lua"] = m("bbbb00000002", "aaaa00000001", 'db:exec "CREATE TABLE sb (x int)"\n' .. case[2] ..
            '\nerror("boom")') })
        local code, _, err = p:luamig("upgrade")
        assert.are.equal(1, code, err)
        assert.are.same({ "aaaa00000001" }, (p:json("current")).heads)
        assert.are.equal("a luamig_version luamig_version_history\n", p:tables())
        assert.matches("the step was rolled back; the database is still at aaaa00000001", err)
      end)
    end

    -- a project whose migrations live under lua/ (as a Lua-heavy repository keeps them)
    local function under_lua(up)
      local p = sh.project_on(b)
      assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/lua/migrations")))
      p:write("luamig.lua", 'return { migrations = "lua/migrations" }\n')
      p:write("lua/migrations/1.lua", m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id int)'"))
      p:write("lua/migrations/2.lua", m("bbbb00000002", "aaaa00000001", up))
      return p
    end

    for _, sql in ipairs({ "COMMIT", "ROLLBACK" }) do
      it("refuses " .. sql .. " in a project whose migrations are under lua/", function()
        local p = under_lua('db:exec "CREATE TABLE sb (x int)"\ndb:exec "' .. sql .. '"\nerror("boom")')
        local code, _, err = p:luamig("upgrade")
        assert.are.equal(1, code, err)
        assert.matches("lua/migrations/2%.lua:%d+: " .. sql .. " would end the migration's transaction", err)
        assert.are.equal("a luamig_version luamig_version_history\n", p:tables())
        assert.are.same({ "aaaa00000001" }, (p:json("current")).heads)
      end)
    end

    it("names the migration's line for a driver error in a project whose migrations are under lua/", function()
      local p = under_lua('db:exec "CREATE TABLE sb (x int)"\ndb:exec "SELECT * FROM nope"')
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code, err)
      assert.matches("lua/migrations/2%.lua:7: " .. b.errors.no_table:gsub("%p", "%%%0"), err)
    end)

    it("shows only the documented methods, and none that closes or unguards the connection", function()
      local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, [[
local names = {}
for k in pairs(db) do names[#names + 1] = tostring(k) end
table.sort(names)
error("names: " .. table.concat(names, " ") .. "; close: " .. tostring(db.close) .. "; guard: " ..
  tostring(db.guard_transaction) .. "; on_notice: " .. tostring(db.on_notice) .. "; send: " ..
  tostring(db.pipeline_send))]]) })
      local _, _, err = p:luamig("upgrade")
      local names = {}
      for _, n in ipairs(DOCUMENTED) do names[#names + 1] = n end
      if b.name == "postgresql" then
        names[#names + 1] = "has_enum"
        names[#names + 1] = "has_extension"
        table.sort(names)
      end
      assert.matches("names: " .. table.concat(names, " ") .. "; close: nil; guard: nil; on_notice: nil; " ..
        "send: nil", err)
    end)

    it("gives a migration no way to close the connection", function()
      local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, [[
db:exec "CREATE TABLE a (id int)"
local ok = pcall(function() db:close() end)
assert(not ok, "db:close worked")]]) })
      p:ok("upgrade")
      assert.are.same({ "aaaa00000001" }, (p:json("current")).heads)
    end)

    if b.name == "postgresql" then
      it("refuses COPY ... FROM STDIN in a pipeline before sending it, naming the line", function()
        local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, [[
db:exec "CREATE TABLE t (x int)"
db:pipeline(function(p)
  p:exec("INSERT INTO t VALUES (1)")
  p:exec("COPY t FROM STDIN")
end)]]) })
        local code, _, err = p:luamig("upgrade")
        assert.are.equal(1, code, err)
        assert.matches("1%.lua:9: p:exec cannot run COPY FROM STDIN / TO STDOUT %(a pipeline has no data stream%)", err)
        assert.is_nil(err:find("pg 57014", 1, true), "refused before it was sent")
        assert.matches("the step was rolled back", err)
        assert.are.equal("1\n", p:sql("SELECT count(*) FROM luamig_version_history WHERE status = 'failed'"))
      end)
    end

    if b.name == "postgresql" then
      it("cancels a pipeline's queued statements on Ctrl-C instead of waiting for each", function()
        local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, [[
db:exec "CREATE TABLE t (x int)"
db:pipeline(function(p)
  for i = 1, 200 do p:exec("SELECT pg_sleep(0.05), ? AS luamig_spec_sleep", i) end
end)]]) })
        local pid = sh.spawn(p, "upgrade")
        local busy = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%luamig_spec_sleep%' AND " ..
          "state = 'active' AND pid <> pg_backend_pid()"
        assert.truthy(sh.poll(function() return p:sql(busy) == "1\n" end), "the pipeline got going")
        local t0 = os.time()
        assert(os.execute("kill -INT " .. pid))
        assert.are.equal(130, sh.exit_code(p))
        assert.is_true(os.time() - t0 <= 3, "stopped within 3 s of Ctrl-C, not after the 10 s queued")
        assert.matches("interrupted", sh.slurp(p.dir .. "/err"))
        assert.are.equal("0\n", p:sql(busy))
        assert.are.equal("", (p:tables():gsub("luamig_version_history", ""):gsub("luamig_version", ""):gsub("%s", "")))
      end)
    end

    it("releases a pipeline left open by a suspended coroutine when its step ends", function()
      local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, [[
db:exec "CREATE TABLE t (x int)"
local co = coroutine.create(function() db:pipeline(function(p) p:exec("INSERT INTO t VALUES (1)"); coroutine.yield() end) end)
coroutine.resume(co)]]),
        ["2.lua"] = m("bbbb00000002", "aaaa00000001", [[
db:pipeline(function(p) p:exec("INSERT INTO t VALUES (2)") end)]]) })
      local _, _, err = p:luamig("upgrade")
      assert.are.same({ "bbbb00000002" }, (p:json("current")).heads, err)
      assert.are.equal("2\n", p:sql("SELECT max(x) FROM t"))
    end)
  end)
end
