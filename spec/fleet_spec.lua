-- Fleet runs (--all, --target): 200 SQLite tenants and 50 PostgreSQL
-- schemas at --jobs 8, every target at head exactly once; a failing target
-- with and without --continue-on-error; reruns; --canary; bad input; the
-- bulk no-op check, --waves and --shard (issue 30).
local sh = require "spec.support.sh"

-- Ten migrations; each adds a row to `applied` (a target that ran one twice
-- has 11 rows). Migration 5 refuses a database holding a `poison` table.
local function migrations()
  local files, prev = {}, nil
  for i = 1, 10 do
    local id = ("f%011d"):format(i)
    local body = (i == 1 and "db:exec 'CREATE TABLE applied (n INTEGER)'\n" or "") ..
      (i == 5 and "if db:has_table('poison') then error('poisoned tenant') end\n" or "") ..
      ("db:exec('INSERT INTO applied (n) VALUES (%d)')"):format(i)
    files[("%02d_%s.lua"):format(i, id)] = sh.migration(id, prev, body, i == 1 and "db:exec 'DROP TABLE applied'" or
      ("db:exec('DELETE FROM applied WHERE n = %d')"):format(i))
    prev = id
  end
  return files
end

local HEAD = "f00000000010"

-- A project whose config lists `n` SQLite tenants (t1..tn) plus `extra` (Lua source of more entries).
local function fleet(n, extra)
  local p = sh.project(migrations())
  p:write("luamig.lua", ([[
local t = {}
for i = 1, %d do t[#t + 1] = { name = "t" .. i, url = "sqlite:///db/t" .. i .. ".db" } end
for _, e in ipairs({ %s }) do t[#t + 1] = e end
return { targets = t }
]]):format(n, extra or ""))
  assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/db")))
  return p
end

local function sqlite(p, name, sql)
  local _, out = sh.run(("sqlite3 %s %s"):format(sh.quote(p.dir .. "/db/" .. name .. ".db"), sh.quote(sql)))
  return out
end

local function exists(p, name)
  local f = io.open(p.dir .. "/db/" .. name .. ".db")
  if f then f:close() end
  return f ~= nil
end

local function by_name(doc)
  local out = {}
  for _, r in ipairs(doc.targets) do out[r.name] = r end
  return out
end

describe("fleet runs", function()
  it("migrates 200 SQLite tenants and 50 PostgreSQL schemas at --jobs 8, each exactly once", function()
    local url = sh.fresh_pg()
    local p = fleet(0)
    p:write("luamig.lua", ([[
local t = {}
for i = 1, 200 do t[#t + 1] = { name = "t" .. i, url = "sqlite:///db/t" .. i .. ".db" } end
for i = 1, 50 do t[#t + 1] = { name = "pg" .. i, url = %q, schema = "tenant_" .. i } end
return { targets = t }
]]):format(url))
    local doc, code, err = p:json("upgrade --all --jobs 8")
    assert.are.equal(0, code, err)
    assert.are.same({ 250, 250, 0 }, { doc.total, doc.ok, doc.failed })
    for _, r in ipairs(doc.targets) do
      assert.are.same({ {}, { HEAD }, 10 }, { r.heads_before, r.heads_after, r.steps }, r.name)
      assert.is_number(r.ms)
    end
    assert.are.equal("10|55\n", sqlite(p, "t1", "SELECT count(*), sum(n) FROM applied"))
    assert.are.equal("10|55\n", sqlite(p, "t200", "SELECT count(*), sum(n) FROM applied"))
    local _, counts = sh.run(("psql %s -XtAc %s"):format(sh.quote(url), sh.quote(
      "SELECT count(*) FROM information_schema.tables WHERE table_name = 'applied'")))
    assert.are.equal("50\n", counts)
    local _, pg = sh.run(("psql %s -XtAc %s"):format(sh.quote(url), sh.quote(
      "SELECT count(*), sum(n) FROM tenant_50.applied")))
    assert.are.equal("10|55\n", pg)
    -- a rerun touches nothing: every target is already at head
    doc = p:json("upgrade --all --jobs 8")
    assert.are.same({ 0, 250 }, { doc.ok, doc.skipped })
    assert.are.equal("10\n", sqlite(p, "t7", "SELECT count(*) FROM applied"))
  end)

  it("reports a failed target, finishes the others with --continue-on-error, and a rerun completes only it", function()
    local p = fleet(12)
    sqlite(p, "t3", "CREATE TABLE poison (x)")
    local doc, code = p:json("upgrade --all --jobs 4 --continue-on-error")
    assert.are.equal(1, code)
    assert.are.same({ 11, 1 }, { doc.ok, doc.failed })
    local t3 = by_name(doc).t3
    assert.are.equal("failed", t3.status)
    assert.matches("poisoned tenant", t3.error)
    assert.are.same({ "f00000000004" }, t3.heads_after)
    local code2, out = p:luamig("upgrade --all --jobs 4 --continue-on-error")
    assert.are.equal(1, code2)
    assert.matches("t3%s+failed", out)
    assert.matches("t3: .*poisoned tenant", out)
    assert.matches("12 targets: 0 ok, 11 already at head, 1 failed, 0 not run", out)
    sqlite(p, "t3", "DROP TABLE poison")
    doc, code = p:json("upgrade --all --jobs 4")
    assert.are.equal(0, code)
    assert.are.same({ 1, 11 }, { doc.ok, doc.skipped })
    assert.are.same({ "ok", 6 }, { by_name(doc).t3.status, by_name(doc).t3.steps })
    assert.are.equal("10|55\n", sqlite(p, "t3", "SELECT count(*), sum(n) FROM applied"))
  end)

  it("stops at the first failure without --continue-on-error", function()
    local p = fleet(6)
    sqlite(p, "t2", "CREATE TABLE poison (x)")
    local doc, code = p:json("upgrade --all")
    assert.are.equal(1, code)
    assert.are.same({ "ok", "failed", "not run" }, { doc.targets[1].status, doc.targets[2].status,
      doc.targets[3].status })
    assert.are.same({ 1, 1, 4 }, { doc.ok, doc.failed, doc.not_run })
    assert.is_false(exists(p, "t3"))
  end)

  it("--canary 1 with a failing first target touches no other target", function()
    local p = fleet(5)
    sqlite(p, "t1", "CREATE TABLE poison (x)")
    local doc, code = p:json("upgrade --all --jobs 4 --canary 1 --continue-on-error")
    assert.are.equal(1, code)
    assert.are.same({ 1, 4 }, { doc.failed, doc.not_run })
    for i = 2, 5 do assert.is_false(exists(p, "t" .. i)) end
    -- a passing canary lets the rest run
    doc, code = fleet(5):json("upgrade --all --jobs 2 --canary 2")
    assert.are.same({ 0, 5 }, { code, doc.ok })
  end)

  it("--target NAME... runs only those, and the other fleet commands take --all", function()
    local p = fleet(4)
    local doc = p:json("upgrade --target t2 t4")
    assert.are.same({ "t2", "t4" }, { doc.targets[1].name, doc.targets[2].name })
    assert.is_false(exists(p, "t1"))
    local code, out = p:luamig("check --target t2 t4")
    assert.are.equal(0, code, out)
    code, out = p:luamig("check --target t1")
    assert.are.equal(1, code) -- t1 does not exist yet: a readonly command refuses to create it
    assert.matches("t1%s+failed", out)
    assert.is_false(exists(p, "t1"))
    p:ok("downgrade --target t2 t4 --continue-on-error f00000000009")
    assert.are.equal("9\n", sqlite(p, "t4", "SELECT count(*) FROM applied"))
    local cur = p:json("current --target t4")
    assert.are.same({ "f00000000009" }, cur.targets[1].heads_after)
  end)

  it("reads --targets FILE", function()
    local p = fleet(0)
    p:write("fleet.txt", "# tenants\none sqlite:///db/one.db\n\nsqlite:///db/two.db\n")
    local doc, code = p:json("upgrade --all --targets fleet.txt")
    assert.are.equal(0, code)
    assert.are.same({ "one", "sqlite:///db/two.db" }, { doc.targets[1].name, doc.targets[2].name })
    assert.is_true(exists(p, "one") and exists(p, "two"))
    p:write("fleet.txt", "one sqlite:///db/one.db\n")
    assert.matches("\n1 target: 0 ok, 1 already at head, 0 failed, 0 not run\n", p:ok("upgrade --all --targets fleet.txt"))
  end)

  it("--targets FILE: only a # at the start of a line starts a comment", function()
    local p = fleet(0)
    local port = os.getenv("PG_TEST_PORT") or "5432"
    p:write("fleet.txt", ("  # tenants\nw sqlite:///db/w#4.db\npw postgresql://u:Zq9#Tail@127.0.0.1:%s/postgres\n")
      :format(port))
    for _, json in ipairs({ false, true }) do
      local code, out, err = p:luamig("upgrade --all --continue-on-error --targets fleet.txt" .. (json and " --json" or ""))
      assert.are.equal(2, code) -- the bad URL is a config error
      assert.is_nil((out .. err):find("Zq9", 1, true), out .. err)
      assert.matches("unencoded .-#.-%%23", out .. err)
    end
    assert.is_true(exists(p, "w#4"))
    assert.is_false(exists(p, "w"))
    -- a # after a blank is no comment: a word too many, named by its line, without the password
    p:write("fleet.txt", "n postgresql://u:Zq9@127.0.0.1/postgres s # note\n")
    local code, _, err = p:luamig("upgrade --all --targets fleet.txt")
    assert.are.equal(2, code)
    assert.matches("fleet%.txt:1: expected URL, NAME URL or NAME URL SCHEMA", err)
    assert.matches("only at the start of a line", err)
    assert.is_nil(err:find("Zq9", 1, true), err)
  end)

  it("takes the targets from a function in the config", function()
    local p = fleet(0)
    p:write("luamig.lua", [[
return { targets = function()
  local t = {}
  for _, n in ipairs({ "a", "b" }) do t[#t + 1] = { name = n, url = "sqlite:///db/" .. n .. ".db" } end
  return t
end }]])
    local doc = p:json("upgrade --all")
    assert.are.same({ 2, "a", "b" }, { doc.ok, doc.targets[1].name, doc.targets[2].name })
  end)

  it("an unreachable target fails alone, named, without its password", function()
    local port = os.getenv("PG_TEST_PORT") or "5432"
    local p = fleet(2, ([[{ url = "postgresql://luamig_pw:sekrit-pw@127.0.0.1:%s/postgres" }]]):format(port))
    local code, out, err = p:luamig("upgrade --all --continue-on-error")
    assert.are.equal(1, code)
    assert.is_nil((out .. err):find("sekrit", 1, true))
    assert.matches("postgresql://luamig_pw:%*%*%*@127%.0%.0%.1:%d+/postgres%s+failed", out)
    assert.matches("password authentication failed", out)
    assert.matches("3 targets: 2 ok, 0 already at head, 1 failed", out)
  end)

  it("refuses bad input before anything runs", function()
    local p = fleet(2, [[{ name = "t1", url = "sqlite:///db/other.db" }]])
    local code, _, err = p:luamig("upgrade --all")
    assert.are.equal(2, code)
    assert.matches("duplicate target name t1 %(targets 1 and 3%)", err)
    assert.is_false(exists(p, "t2"))
    p = fleet(2)
    for _, bad in ipairs({ "--jobs 0", "--jobs -1", "--jobs x", "--canary 0" }) do
      code, _, err = p:luamig("upgrade --all " .. bad)
      assert.are.equal(2, code, bad)
      assert.matches("must be a whole number of at least 1", err)
    end
    code, _, err = p:luamig("upgrade --target t9")
    assert.are.same({ 2, true }, { code, err:find("no target named t9", 1, true) ~= nil })
    code, _, err = p:luamig("upgrade --jobs 2")
    assert.are.equal(2, code)
    assert.matches("%-%-jobs needs %-%-all or %-%-target", err)
    assert.is_false(exists(p, "t1"))
  end)
end)

describe("fleet runs at scale", function()
  it("skip targets already at head without a child process: SQLite read-only, PostgreSQL schemas in bulk", function()
    local url = sh.fresh_pg()
    local p = fleet(0)
    p:write("luamig.lua", ([[
local t = {}
for i = 1, 20 do t[#t + 1] = { name = "t" .. i, url = "sqlite:///db/t" .. i .. ".db" } end
for i = 1, 30 do t[#t + 1] = { name = "pg" .. i, url = %q, schema = "tenant_" .. i } end
return { targets = t }
]]):format(url))
    assert.are.equal(0, select(2, p:json("upgrade --all --jobs 4")))
    -- a child needs a record directory in $TMPDIR: none can be made there,
    -- and the SQLite files and their directory are read-only
    local no_tmp = "TMPDIR=" .. sh.quote(p.dir .. "/missing")
    assert(os.execute(("chmod 0444 %s/db/*.db && chmod 0555 %s/db"):format(sh.quote(p.dir), sh.quote(p.dir))))
    local ok, doc, code, err = pcall(p.json, p, "upgrade --all --jobs 4", no_tmp)
    assert(os.execute(("chmod 0755 %s/db && chmod 0644 %s/db/*.db"):format(sh.quote(p.dir), sh.quote(p.dir))))
    assert(ok, doc)
    assert.are.equal(0, code, err)
    assert.are.same({ 50, 0, 50, 0 }, { doc.total, doc.ok, doc.skipped, doc.failed })
    for _, r in ipairs(doc.targets) do
      assert.are.same({ "skipped", { HEAD }, { HEAD }, 0 }, { r.status, r.heads_before, r.heads_after, r.steps }, r.name)
    end
    local _, out = p:luamig("upgrade --all", no_tmp)
    assert.matches("pg30%s+skipped", out)
    assert.matches("50 targets: 0 ok, 50 already at head, 0 failed, 0 not run", out)
    -- a target behind head (and one whose file is missing) still gets its child
    sqlite(p, "t2", "DELETE FROM luamig_version; INSERT INTO luamig_version VALUES ('f00000000009')")
    os.remove(p.dir .. "/db/t5.db")
    doc, code = p:json("upgrade --all --jobs 2")
    assert.are.equal(0, code)
    assert.are.same({ 2, 48 }, { doc.ok, doc.skipped })
    assert.are.same({ "ok", "ok" }, { by_name(doc).t2.status, by_name(doc).t5.status })
  end)

  it("--waves 1,10%,100%: waves in listed order; a failed wave stops the run, even with --continue-on-error", function()
    local p = fleet(20)
    sqlite(p, "t2", "CREATE TABLE poison (x)")
    local doc, code = p:json("upgrade --all --jobs 4 --waves 1,10%,100% --continue-on-error")
    assert.are.equal(1, code)
    -- wave 1: t1; wave 2: t2 (10% of 20 = 2, cumulative); wave 3 never starts
    assert.are.same({ "ok", "failed", "not run" }, { doc.targets[1].status, doc.targets[2].status, doc.targets[3].status })
    assert.are.same({ 1, 1, 18 }, { doc.ok, doc.failed, doc.not_run })
    assert.are.same({ { 1, "ok" }, { 1, "failed" }, { 18, "not run" } }, {
      { doc.waves[1].targets, doc.waves[1].status }, { doc.waves[2].targets, doc.waves[2].status },
      { doc.waves[3].targets, doc.waves[3].status } })
    for i = 3, 20 do assert.is_false(exists(p, "t" .. i)) end
    -- --continue-on-error finishes the failed wave, without --continue-on-error it stops launching
    p = fleet(20)
    sqlite(p, "t3", "CREATE TABLE poison (x)")
    doc, code = p:json("upgrade --all --waves 2,50% --continue-on-error")
    assert.are.equal(1, code)
    assert.are.same({ 9, 1, 10 }, { doc.ok, doc.failed, doc.not_run })
    assert.are.same({ "ok", "failed", "not run" }, { doc.waves[1].status, doc.waves[2].status, doc.waves[3].status })
    p = fleet(20)
    sqlite(p, "t3", "CREATE TABLE poison (x)")
    doc = p:json("upgrade --all --waves 2,50%")
    assert.are.same({ 2, 1, 17 }, { doc.ok, doc.failed, doc.not_run })
    -- the summary has a line per wave; a clean run runs every wave
    local _, out = fleet(10):luamig("upgrade --all --jobs 2 --waves 1,10%,100%")
    assert.matches("wave 1 %(1 target%): ok: 1 ok", out)
    assert.matches("wave 2 %(9 targets%): ok: 9 ok", out)
    assert.matches("10 targets: 10 ok", out)
  end)

  it("--shard K/N: shards 1..N partition the fleet, the same on every run", function()
    local names = {}
    for i = 1, 10000 do names[i] = ("tenant-%05d"):format(i) end
    local code, out = sh.lua([[
local targets = require "luamig.fleet.targets"
local list = {}
for line in io.lines((...)) do list[#list + 1] = { name = line } end
for _, n in ipairs({ 1, 3, 8 }) do
  local seen, total = {}, 0
  for k = 1, n do
    for _, t in ipairs(targets.shard(list, k, n)) do
      assert(not seen[t.name], t.name .. " in two shards"); seen[t.name] = true; total = total + 1
    end
  end
  assert(total == #list, ("%d of %d names in %d shards"):format(total, #list, n))
  if n == 8 then
    for k = 1, n do io.write(#targets.shard(list, k, n), " ") end
  end
end
-- FNV-1a, 32 bits: the published test vectors
assert(targets.fnv1a("") == 0x811c9dc5 and targets.fnv1a("a") == 0xe40c292c and targets.fnv1a("foobar") == 0xbf9cf968)
]], (function()
      local f = sh.tmpdir() .. "/names"
      sh.write(f, table.concat(names, "\n") .. "\n")
      return f
    end)())
    assert.are.equal(0, code, out)
    for n in out:gmatch("%d+") do assert.is_true(tonumber(n) > 1100 and tonumber(n) < 1400, out) end
    -- the CLI: shards of a 30-target fleet cover it exactly once
    local p = fleet(30)
    local seen = {}
    for k = 1, 3 do
      local doc, c = p:json(("upgrade --all --jobs 2 --shard %d/3"):format(k))
      assert.are.equal(0, c)
      for _, r in ipairs(doc.targets) do
        assert.is_nil(seen[r.name], r.name)
        seen[r.name] = r.status
      end
    end
    for i = 1, 30 do assert.are.equal("ok", seen["t" .. i]) end
    for _, bad in ipairs({ "0/3", "4/3", "3", "a/b", "1/0", "-1/2" }) do
      local c, _, err = p:luamig("upgrade --all --shard " .. bad)
      assert.are.equal(2, c, bad)
      assert.matches("%-%-shard must be K/N with 1 <= K <= N", err)
    end
    local c, _, err = p:luamig("upgrade --shard 1/2")
    assert.are.same({ 2, true }, { c, err:find("--shard needs --all or --target NAME", 1, true) ~= nil })
  end)

  it("schema targets on one server share their job's connection; no tenant's session state reaches the next", function()
    local url = sh.fresh_pg()
    -- each tenant records what its session looks like, then leaves state
    -- behind (settings, a temporary table, a session lock: no transaction
    -- undoes them); tenant_2 fails after that
    local p = sh.project({ ["01_a.lua"] = sh.migration("a00000000001", nil, [==[
db:exec "CREATE TABLE seen (backend INTEGER, work_mem TEXT, tenant TEXT, leak TEXT, locks BIGINT, path TEXT)"
db:exec [[INSERT INTO seen SELECT pg_backend_pid(), current_setting('work_mem'),
  coalesce(current_setting('myapp.tenant', true), ''), coalesce(to_regclass('pg_temp.leak')::text, ''),
  (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND pid = pg_backend_pid()), current_schema()]]
db:exec "SET work_mem = '7777kB'"
db:exec "SELECT set_config('myapp.tenant', current_schema(), false)"
db:exec "CREATE TEMP TABLE leak (x INTEGER)"
db:exec "SELECT pg_advisory_lock(4242)"
if db:scalar "SELECT current_schema()" == "tenant_2" then
  db:exec "SET search_path TO pg_catalog"
  error("poisoned tenant")
end]==], nil, "transactional = false") })
    p:write("luamig.lua", ([[
local t = {}
for i = 1, 3 do t[#t + 1] = { name = "pg" .. i, url = %q, schema = "tenant_" .. i } end
return { targets = t }
]]):format(url))
    local doc, code = p:json("upgrade --all --jobs 1 --continue-on-error")
    assert.are.equal(1, code)
    assert.are.same({ "ok", "failed", "ok" }, { doc.targets[1].status, doc.targets[2].status, doc.targets[3].status })
    assert.matches("poisoned tenant", doc.targets[2].error)
    local _, default = sh.run(("psql %s -XtAc 'SHOW work_mem'"):format(sh.quote(url)))
    local seen = {}
    for i = 1, 3 do
      local _, row = sh.run(("psql %s -XtAc %s"):format(sh.quote(url), sh.quote(
        ("SELECT backend, work_mem, tenant, leak, locks, path FROM tenant_%d.seen"):format(i))))
      local backend, rest = row:match("^(%d+)|(.*)\n$")
      assert.are.equal(("%s|||0|tenant_%d"):format((default:gsub("\n$", "")), i), rest, "tenant " .. i)
      seen[i] = backend
    end
    -- one connection for the three (--jobs 1): it was set up anew for each
    assert.are.same({ seen[1], seen[1] }, { seen[2], seen[3] })
  end)

  it("refuses bad --waves and --waves with --canary", function()
    local p = fleet(3)
    for _, bad in ipairs({ "0", "1,x", "150%", "1,,2", "0%" }) do
      local code, _, err = p:luamig("upgrade --all --waves " .. bad)
      assert.are.equal(2, code, bad)
      assert.matches("%-%-waves: each wave is a count", err)
    end
    local code, _, err = p:luamig("upgrade --all --waves 1 --canary 1")
    assert.are.same({ 2, true }, { code, err:find("--canary K is --waves K,100%", 1, true) ~= nil })
    assert.is_false(exists(p, "t1"))
  end)
end)
