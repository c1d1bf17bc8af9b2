-- luamig.backfill on both drivers: every row exactly once (rows the `where`
-- or a NULL key leave out untouched), resuming after kill -9, errors naming
-- the row and rolling back its batch, --dry-run, progress on and off a TTY.
local sh = require "spec.support.sh"

local m = sh.migration

-- A table of n people; `n` counts how often a backfill touched each row.
local function people(n)
  return m("aaaa00000001", nil, ([[
db:exec "CREATE TABLE people (id INTEGER PRIMARY KEY, ext TEXT UNIQUE, first TEXT, last TEXT, full_name TEXT, n INTEGER)"
local ins = db:prepare "INSERT INTO people (id, ext, first, last, n) VALUES (?, ?, ?, ?, 0)"
for i = 1, %d do
  ins:exec(i, i %% 10 == 0 and luamig.null or ("e" .. i), i %% 7 == 0 and luamig.null or ("f" .. i), "l" .. i)
end]]):format(n), "db:exec 'DROP TABLE people'")
end

local function backfill(extra, opts)
  return m("bbbb00000002", "aaaa00000001", ([[
luamig.backfill {
  table = "people", columns = { "first", "last", "n" }, batch_size = %d, where = "first IS NOT NULL",%s
  set = function(row)
    %s
    return { full_name = row.first .. " " .. row.last, n = row.n + 1 }
  end,
}]]):format(opts and opts.batch or 100, opts and opts.fields or "", extra or ""),
    "db:exec 'UPDATE people SET full_name = NULL, n = 0'", opts and opts.tx or nil)
end

describe("luamig.backfill on postgresql", function()
  it("keeps its checkpoints next to the version tables, whatever search_path a migration sets", function()
    local p = sh.project_on(sh.backends()[2], { ["1.lua"] = people(300), ["2.lua"] = m("bbbb00000002", "aaaa00000001", [[
db:exec "CREATE SCHEMA elsewhere"
db:exec "SET search_path = elsewhere, public"
luamig.backfill { table = "people", batch_size = 100, set = function(row) return { n = row.n + 1 } end }]],
      "db:exec 'DROP SCHEMA elsewhere CASCADE'", "transactional = false") })
    p:ok("upgrade")
    assert.are.equal("300\n", p:sql("SELECT sum(n) FROM people"))
    assert.are.equal("public|0\n", p:sql("SELECT n.nspname, (SELECT count(*) FROM public.luamig_backfill) FROM " ..
      "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'luamig_backfill'"))
  end)
end)


-- `upgrade aaaa`, then `upgrade` in the background, killed with -9 once a
-- checkpoint records 500 rows done; returns when the process is gone (its
-- connection then ends with it).
local function upgrade_killed_midway(p)
  p:ok("upgrade aaaa")
  assert(os.execute(("%s >%s/out 2>&1 & echo $! >%s/pid"):format(p:command("upgrade -q"), p.dir, p.dir)))
  local pid = io.open(p.dir .. "/pid"):read("l")
  local progressed = false
  for _ = 1, 200 do
    local ok, out = pcall(p.sql, p, "SELECT rows_done FROM luamig_backfill")
    if ok and tonumber(out) and tonumber(out) >= 500 then
      progressed = true
      break
    end
    os.execute("sleep 0.05")
  end
  if not progressed then os.execute("kill -9 " .. pid) end
  assert.is_true(progressed, "a checkpoint was committed: " .. sh.slurp(p.dir .. "/out"))
  assert(os.execute("kill -9 " .. pid))
  for _ = 1, 200 do
    if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then break end
    os.execute("sleep 0.02")
  end
end

for _, b in ipairs(sh.backends()) do
  describe("luamig.backfill on " .. b.name, function()
    it("counts one row as one row", function()
      local p = sh.project_on(b, { ["1.lua"] = people(1), ["2.lua"] = backfill() })
      local out, err = p:ok("upgrade")
      assert.matches("%(1 row backfilled%)", out)
      assert.is_nil((out .. err):find("1 rows", 1, true), out .. err)
    end)

    for _, tx in ipairs({ "transactional = true", "transactional = false" }) do
      it(("visits every wanted row exactly once (%s)"):format(tx), function()
        local p = sh.project_on(b, { ["1.lua"] = people(1050), ["2.lua"] = backfill(nil, { tx = tx }) })
        local out, err = p:ok("upgrade")
        assert.matches("%(900 rows backfilled%)", out)
        assert.matches("backfill people: 900/900 %(100%%%)", err)
        assert.are.equal("900|900|0\n", p:sql("SELECT count(full_name), sum(n), count(CASE WHEN n > 1 THEN 1 END) " ..
          "FROM people"))
        assert.are.equal("150|0\n", p:sql("SELECT count(*), count(full_name) FROM people WHERE first IS NULL"))
        assert.are.equal("0\n", p:sql("SELECT count(*) FROM people WHERE first IS NOT NULL AND full_name IS NULL"))
      end)
    end

    it("rows whose key is NULL are not visited (key = a nullable unique column)", function()
      local p = sh.project_on(b, { ["1.lua"] = people(100), ["2.lua"] = backfill(nil, { fields = ' key = "ext",' }) })
      p:ok("upgrade")
      assert.are.equal("0\n", p:sql("SELECT count(full_name) FROM people WHERE ext IS NULL"))
      assert.are.equal("77\n", p:sql("SELECT count(full_name) FROM people")) -- 100 - 14 (no first) - 9 (no ext)
    end)

    it("a row function error names the row and rolls back its batch; the rerun resumes after the last batch", function()
      local p = sh.project_on(b, { ["1.lua"] = people(1000),
        ["2.lua"] = backfill("if row.id == 555 and not os.getenv('FIXED') then error('bad row') end",
          { tx = "transactional = false" }) })
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code)
      assert.matches("backfill people failed: row id = 555: .*bad row %(%d+ rows committed; a rerun " ..
        "resumes after id = %d+%)", err)
      local done = tonumber(p:sql("SELECT count(full_name) FROM people"))
      assert.is_true(done > 0 and done < 555 and done % 1 == 0, "only whole batches before the failing one: " .. done)
      assert.are.same({ "aaaa00000001" }, (p:json("current")).heads, "not applied until the backfill completes")
      p:ok("upgrade", "FIXED=1")
      assert.are.equal("858|858|0\n", p:sql("SELECT count(full_name), sum(n), count(CASE WHEN n > 1 THEN 1 END) " ..
        "FROM people"))
      assert.are.same({ "bbbb00000002" }, (p:json("current")).heads)
    end)

    it("resumes after kill -9 and updates every row exactly once", function()
      local p = sh.project_on(b, { ["1.lua"] = people(3000),
        ["2.lua"] = backfill(nil, { tx = "transactional = false", fields = " sleep_ms = 15," }) })
      upgrade_killed_midway(p)
      local partial = tonumber(p:sql("SELECT count(full_name) FROM people"))
      assert.is_true(partial >= 500 and partial < 2572, "killed midway: " .. partial)
      local out = p:ok("upgrade")
      assert.matches("resuming after id = %d+", out)
      assert.are.equal("2572|2572|0\n", p:sql("SELECT count(full_name), sum(n), count(CASE WHEN n > 1 THEN 1 END) " ..
        "FROM people"))
      assert.are.equal("0\n", p:sql("SELECT count(*) FROM luamig_backfill"))
    end)

    it("set = { column = SQL } updates each batch on the server; after a failure midway the rerun resumes", function()
      -- (id 555's batch sets ext to id 1's value: a unique violation, until FIXED)
      local p = sh.project_on(b, { ["1.lua"] = people(1000), ["2.lua"] = m("bbbb00000002", "aaaa00000001", [[
luamig.backfill {
  table = "people", batch_size = 100, where = "first IS NOT NULL",
  set = { full_name = "first || ' ' || last", n = "n + 1",
    ext = os.getenv("FIXED") and "ext" or "CASE WHEN id = 555 THEN 'e1' ELSE ext END" },
}]], nil, "transactional = false") })
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code)
      assert.matches("backfill people failed: rows id = %d+%.%.%d+: .*%(400 rows committed; a rerun " ..
        "resumes after id = %d+%)", err)
      assert.are.equal("400|400\n", p:sql("SELECT count(full_name), sum(n) FROM people"))
      assert.are.same({ "aaaa00000001" }, (p:json("current")).heads, "not applied until the backfill completes")
      local out = p:ok("upgrade", "FIXED=1")
      assert.matches("resuming after id = %d+ %(400 rows done%)", out)
      assert.matches("%(458 rows backfilled%)", out)
      assert.are.equal("858|858|0|0\n", p:sql("SELECT count(full_name), sum(n), count(CASE WHEN n > 1 THEN 1 END), " ..
        "count(CASE WHEN full_name <> first || ' ' || last THEN 1 END) FROM people"))
      assert.are.equal("0\n", p:sql("SELECT count(*) FROM people WHERE first IS NULL AND full_name IS NOT NULL"))
    end)

    it("set = { ... } must map column names to SQL expressions: one message naming the line", function()
      for _, case in ipairs({ { "{}", "set = {} names no column" },
        { "{ full_name = 5 }", "set.full_name is a number, not an SQL expression" },
        { '{ "x" }', "set = { column = \"SQL expression\", ... }" } }) do
        local p = sh.project_on(b, { ["1.lua"] = people(10), ["2.lua"] = m("bbbb00000002", "aaaa00000001",
          "luamig.backfill { table = \"people\",\n  set = " .. case[1] .. " }") })
        local code, _, err = p:luamig("upgrade")
        assert.are.equal(1, code, err)
        assert.matches("2%.lua:6: .*" .. case[2]:gsub("%p", "%%%0"), err)
        assert.are.equal("0\n", p:sql("SELECT count(full_name) FROM people"))
      end
    end)

    it("in db:autocommit in a transactional migration commits each batch with its checkpoint; resumes after kill -9",
      function()
        local p = sh.project_on(b, { ["1.lua"] = people(3000), ["2.lua"] = m("bbbb00000002", "aaaa00000001", [[
op.add_column("people", { "tag", "text" }, { if_not_exists = true }) -- (a rerun finds it added)
db:autocommit(function()
  luamig.backfill { table = "people", batch_size = 100, sleep_ms = 15, set = { n = "n + 1", tag = "'t' || id" },
    where = "tag IS NULL" }
end)]], "op.drop_column('people', 'tag')") })
        upgrade_killed_midway(p)
        local partial = tonumber(p:sql("SELECT count(*) FROM people WHERE n = 1"))
        assert.is_true(partial >= 500 and partial < 3000, "killed midway: " .. partial)
        local out, err = p:ok("upgrade")
        assert.matches("resuming after id = %d+", out)
        -- (the rows done, filled now, no longer match the where: the total counts them still)
        assert.matches("backfill people: 3000/3000 %(100%%%)", err)
        assert.are.equal("3000|3000|0|3000\n", p:sql("SELECT count(*), sum(n), count(CASE WHEN n > 1 THEN 1 END), " ..
          "count(CASE WHEN tag = 't' || id THEN 1 END) FROM people"))
        assert.are.equal("0\n", p:sql("SELECT count(*) FROM luamig_backfill"))
        assert.are.same({ "bbbb00000002" }, (p:json("current")).heads)
      end)

    it("--dry-run runs the backfill, rolls it back and leaves the database where it was", function()
      local p = sh.project_on(b, { ["1.lua"] = people(300), ["2.lua"] = backfill() })
      p:ok("upgrade aaaa")
      local out = p:ok("upgrade --dry-run")
      assert.matches("backfill people: 258 rows %(dry run: rolled back%)", out)
      assert.matches("Dry run: 1 step ran and was rolled back; the database is still at aaaa00000001%.", out)
      assert.are.equal("0\n", p:sql("SELECT count(full_name) FROM people"))
    end)
  end)
end

describe("progress", function()
  it("draws a bar on a terminal, plain lines otherwise, nothing with -q", function()
    local p = sh.project({ ["1.lua"] = people(2000), ["2.lua"] = backfill(nil, { batch = 500 }) })
    p:ok("upgrade aaaa")
    local _, err = p:ok("upgrade -q")
    assert.are.equal("", err)
    p:ok("downgrade aaaa")
    local code, out = sh.run(("cd %s && script -qec %s /dev/null"):format(sh.quote(p.dir),
      sh.quote(p:command("upgrade"))))
    assert.are.equal(0, code, out)
    assert.matches("\27%[Kbackfill people %[#+%] 1715/1715 100%%", out)
    assert.matches("ETA", out)
  end)
end)
