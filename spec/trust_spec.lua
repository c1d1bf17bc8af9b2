-- What luamig promises about killed, failed and interrupted runs (issue 13):
-- completed backfills stay done, a migration cannot end its own
-- transaction, a dry run runs everything and leaves no trace, and every
-- failure says what was committed and where a rerun resumes.
local sh = require "spec.support.sh"

local m = sh.migration

-- A table of n rows with a counter n (0) and a deferred reference (NULL).
local function counters(n)
  return m("aaaa00000001", nil, ([[
db:exec "CREATE TABLE parent (id INTEGER PRIMARY KEY)"
db:exec("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, " ..
  "ref INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
local ins = db:prepare "INSERT INTO c (id, n) VALUES (?, 0)"
for i = 1, %d do ins:exec(i) end]]):format(n))
end

-- A transactional = false migration: a non-idempotent backfill, then `after`.
local function bump(opts)
  return m("bbbb00000002", "aaaa00000001", ([[
luamig.backfill { table = "c", batch_size = %d,%s
  set = function(row)
    %s
    return { n = row.n + 1%s }
  end }
%s]]):format(opts.batch or 50, opts.fields or "", opts.row or "", opts.extra or "", opts.after or ""), nil,
    "transactional = false")
end

local function counts(p)
  return p:sql("SELECT count(*), sum(n), max(n) FROM c")
end

local poll, first_line, spawn, exit_code = sh.poll, sh.first_line, sh.spawn, sh.exit_code

for _, b in ipairs(sh.backends()) do
  describe("guarantees on " .. b.name, function()
    it("a completed backfill stays done when its migration fails later; the rerun does not redo it", function()
      local p = sh.project_on(b, { ["1.lua"] = counters(120),
        ["2.lua"] = bump({ after = "if not os.getenv('FIXED') then error('after the backfill') end" }) })
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code, err)
      assert.matches("after the backfill", err)
      assert.are.equal("120|120|1\n", counts(p))
      local out = p:ok("upgrade", "FIXED=1")
      assert.matches("backfill c: done in an earlier run %(120 rows%)", out)
      assert.is_nil(out:find("rows backfilled", 1, true), out)
      assert.are.equal("120|120|1\n", counts(p), "every row exactly once")
      assert.are.equal("0\n", p:sql("SELECT count(*) FROM luamig_backfill"), "checkpoints go with the record")
    end)

    it("a kill -9 after a completed backfill does not make the rerun redo it", function()
      local p = sh.project_on(b, { ["1.lua"] = counters(120), ["2.lua"] = bump({ after =
        "local t = os.clock()\nwhile not os.getenv('FIXED') and os.clock() - t < 20 do end" }) })
      p:ok("upgrade aaaa")
      local pid = spawn(p, "upgrade")
      assert.truthy(poll(function()
        local ok, n = pcall(p.sql, p, "SELECT sum(n) FROM c")
        return ok and n == "120\n"
      end), "the backfill completed")
      assert(os.execute("kill -9 " .. pid))
      assert.are.equal(137, exit_code(p))
      p:ok("upgrade", "FIXED=1")
      assert.are.equal("120|120|1\n", counts(p), "every row exactly once")
    end)

    it("a resumed backfill reports this run's rows only", function()
      local p = sh.project_on(b, { ["1.lua"] = counters(120),
        ["2.lua"] = bump({ row = "if row.id == 75 and not os.getenv('FIXED') then error('bad row') end" }) })
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code)
      assert.matches("50 rows committed; a rerun resumes after id = 50%)", err)
      local out = p:ok("upgrade", "FIXED=1")
      assert.matches("%(70 rows backfilled%)", out)
      assert.are.equal("120|120|1\n", counts(p))
    end)

    it("a failed backfill ends its progress bar before the message", function()
      local p = sh.project_on(b, { ["1.lua"] = counters(200),
        ["2.lua"] = bump({ fields = " sleep_ms = 150,", row = "if row.id == 125 then error('bad row') end" }) })
      local code, out = sh.run(("cd %s && script -qec %s /dev/null"):format(sh.quote(p.dir),
        sh.quote(p:command("upgrade"))))
      assert.are_not.equal(0, code)
      assert.matches("\27%[Kbackfill c %[#*%.*%] %d+/200[^\n]*\r?\n[^\n]-luamig: [^\n]-upgrade bbbb00000002", out)
    end)

    it("a failed backfill says what its checkpoint says", function()
      local p = sh.project_on(b, { ["1.lua"] = counters(60),
        ["2.lua"] = bump({ batch = 10, row = "if row.id == 3 then error('bad row') end" }) })
      local _, _, err = p:luamig("upgrade")
      assert.matches("row id = 3: .*bad row %(no batch was committed; a rerun starts from the first row%)", err)
      assert.is_nil(err:find("nil", 1, true), err)
      -- a batch that fails at COMMIT (a deferred constraint): the checkpoint is the batch before it
      p:write("migrations/2.lua", bump({ batch = 10, extra = ", ref = row.id == 35 and 999 or nil" }))
      local code
      code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code)
      assert.matches("30 rows committed; a rerun resumes after id = 30%)", err)
      assert.are.equal("30|30\n", p:sql("SELECT rows_done, last_key FROM luamig_backfill"))
    end)

    for _, case in ipairs({
      { "COMMIT then an error", 'db:exec "CREATE TABLE sb (x int)"\ndb:exec "COMMIT"\nerror("boom")', "COMMIT" },
      { "ROLLBACK then more DDL", 'db:exec "CREATE TABLE sa (x int)"\ndb:exec "ROLLBACK"\n' ..
        'db:exec "CREATE TABLE sb (x int)"', "ROLLBACK" },
    }) do
      it("a transactional migration cannot end its own transaction: " .. case[1], function()
        local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id int)'"),
          ["2.lua"] = m("bbbb00000002", "aaaa00000001", case[2]) })
        local code, _, err = p:luamig("upgrade")
        assert.are.equal(1, code, err)
        assert.matches("2%.lua:%d+: " .. case[3] .. " [%a ]+ the migration's transaction", err)
        assert.matches("transactional = false", err)
        assert.are.same({ "aaaa00000001" }, (p:json("current")).heads)
        -- refused before it ran, on both drivers: the table made before it is gone
        assert.matches(case[3] .. " would end the migration's transaction %(so it was refused%)", err)
        assert.are.equal("a luamig_version luamig_version_history\n", p:tables())
        assert.matches("the step was rolled back; the database is still at aaaa00000001", err)
      end)
    end

    it("upgrade --dry-run runs the expand migration's backfill and leaves no trace", function()
      local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, [[
db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)"
db:exec "INSERT INTO t (id, a) VALUES (1, 1), (2, 2), (3, 3)"]]),
        ["2.lua"] = m("bbbb00000002", "aaaa00000001", [[
op.add_column("t", { "b", "integer" })
luamig.backfill { table = "t", set = function(row) return { b = row.a * 2 } end }
op.alter_column("t", "b", { nullable = false })]]) })
      p:ok("upgrade aaaa")
      local out = p:ok("upgrade --dry-run")
      assert.matches("Dry run: 1 step ran and was rolled back; the database is still at aaaa00000001%.", out)
      assert.are.same({ "aaaa00000001" }, (p:json("current")).heads)
      p:write("migrations/3.lua", m("cccc00000003", "bbbb00000002", "error('boom')"))
      local code, _, err = p:luamig("upgrade --dry-run")
      assert.are.equal(1, code)
      assert.matches("boom", err)
      assert.is_nil((p:json("status")).failed, "a dry run is not recorded")
      assert.are.equal("1\n", p:sql("SELECT count(*) FROM luamig_version_history"))
      p:remove("migrations/3.lua")
      p:ok("upgrade")
      assert.are.equal("2|4|6\n", b.name == "sqlite" and p:sql("SELECT group_concat(b, '|') FROM t")
        or p:sql("SELECT string_agg(b::text, '|' ORDER BY id) FROM t"))
    end)

    it("Ctrl-C stops a backfill, says what was committed, exits 130 and shows in status", function()
      local p = sh.project_on(b, { ["1.lua"] = counters(3000),
        ["2.lua"] = bump({ batch = 20, fields = " sleep_ms = 20," }) })
      p:ok("upgrade aaaa")
      local pid = spawn(p, "upgrade")
      assert.truthy(poll(function()
        local ok, n = pcall(p.sql, p, "SELECT rows_done FROM luamig_backfill")
        return ok and (tonumber(n) or 0) >= 100
      end), "the backfill got going")
      assert(os.execute("kill -INT " .. pid))
      assert.are.equal(130, exit_code(p))
      local err = sh.slurp(p.dir .. "/err")
      assert.matches("upgrade bbbb00000002 .*interrupted", err)
      assert.matches("(%d+) rows committed; a rerun resumes after id = %1", err)
      local status = p:json("status")
      assert.are.equal("interrupted", status.failed.status)
      local out = p:ok("status")
      assert.matches("interrupted bbbb00000002 upgrade", out)
      p:ok("upgrade")
      assert.are.equal("3000|3000|1\n", counts(p))
    end)

    it("Ctrl-C in a transactional step rolls it back and exits 130", function()
      local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id int)'\n" ..
        "assert(io.open('step_started', 'w')):close()\nwhile true do db:scalar 'SELECT 1' end") })
      spawn(p, "upgrade")
      assert.truthy(poll(function() return io.open(p.dir .. "/step_started") end), "the step started")
      assert(os.execute("kill -INT " .. first_line(p.dir .. "/pid")))
      assert.are.equal(130, exit_code(p))
      local err = sh.slurp(p.dir .. "/err")
      assert.matches("upgrade aaaa00000001 .*interrupted", err)
      assert.matches("rolled back", err)
      assert.are.equal("", (p:tables():gsub("luamig_version_history", ""):gsub("luamig_version", ""):gsub("%s", "")))
    end)
  end)
end

describe("a connection lost between steps", function()
  it("names the step and what was committed", function()
    local pg
    for _, b in ipairs(sh.backends()) do
      if b.name == "postgresql" then pg = b end
    end
    local p = sh.project_on(pg, {
      ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id int)'"),
      ["2.lua"] = m("bbbb00000002", "aaaa00000001", "db:exec 'CREATE TABLE b (id int)'"),
    })
    assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/plugins")))
    p:write("plugins/killer.lua", ([[
return { name = "killer", hooks = { after_migration = function(_, step)
  if step.revision == "aaaa00000001" then
    os.execute(%q)
  end
end } }]]):format(("psql %s -XtAqc %s >/dev/null"):format(sh.quote(p.url), sh.quote(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " ..
      "WHERE datname = current_database() AND pid <> pg_backend_pid()"))))
    local code, _, err = p:luamig("upgrade")
    assert.are.equal(1, code, err)
    assert.matches("lost the connection before upgrade bbbb00000002", err)
    assert.matches("committed: upgrade aaaa00000001; the database is at aaaa00000001", err)
    assert.matches("pg %w+: %a", err) -- the driver's own words follow
  end)
end)
