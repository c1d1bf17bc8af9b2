-- Zero downtime under live traffic (issue 26), PostgreSQL: two application
-- processes (pgbench scripts bench/online/old_app.sql with the old column
-- names, new_app.sql with the new ones) write and read through expand ->
-- both apps -> old app stops -> contract, with a kill -9 of luamig in the
-- middle of the backfill. bench/online.sh runs the same on 1,000,000 rows
-- and reports the throughput; this spec asserts behaviour only.
local sh = require "spec.support.sh"

local pg = sh.backends()[2]
local ROWS = 20000
local DIR = sh.source_dir .. "/bench/online/"

-- An application: pgbench running `script` with one client until
-- app_control stops it; its output, exit code and per-transaction log in `dir`.
local function start_app(p, name, dir)
  os.execute(("mkdir -p %s"):format(sh.quote(dir)))
  local cmd = ("pgbench -n -c 1 -j 1 -T 300 -f %s -D seed=%d -l --log-prefix=%s %s >%s 2>%s; echo $? >%s")
    :format(sh.quote(DIR .. name .. "_app.sql"), ROWS, sh.quote(dir .. "/" .. name), sh.quote(p.url),
      sh.quote(dir .. "/out"), sh.quote(dir .. "/err"), sh.quote(dir .. "/rc"))
  os.execute(("(%s) >/dev/null 2>&1 &"):format(cmd))
  return dir
end

local function count(p, where)
  return tonumber(p:sql("SELECT count(*) FROM orders WHERE " .. where))
end

-- Stop app `name` (started in `dir`) and return what it saw: its exit
-- code, transactions done, statements that failed other than the stop, and
-- the longest transaction in ms.
local function stop_app(p, name, dir)
  p:sql(("UPDATE app_control SET stop = 1 WHERE app = '%s'"):format(name))
  assert.truthy(sh.poll(function() return sh.first_line(dir .. "/rc", "n") end, 60), name .. " app did not stop")
  local out, err = sh.slurp(dir .. "/out"), sh.slurp(dir .. "/err")
  local failures = {}
  for line in err:gmatch("[^\n]+") do
    if line:find("ERROR", 1, true) and not line:find("division by zero", 1, true) then failures[#failures + 1] = line end
  end
  local longest = 0
  local logs = io.popen("cat " .. sh.quote(dir) .. "/" .. name .. ".*")
  for line in logs:lines() do
    local us = tonumber(line:match("^%d+ %d+ (%d+)"))
    if us and us > longest then longest = us end
  end
  logs:close()
  return { done = tonumber(out:match("number of transactions actually processed: (%d+)")), failures = failures,
    longest_ms = longest / 1000 }
end

-- `upgrade head` killed (-9) once a backfill batch committed; the database still at `at`.
local function killed_mid_backfill(p, at)
  local pid = p:spawn("upgrade head")
  assert.truthy(sh.poll(function()
    if p:sql("SELECT to_regclass('luamig_backfill') IS NOT NULL") ~= "t\n" then return false end
    return tonumber(p:sql("SELECT coalesce(sum(rows_done), 0) FROM luamig_backfill")) > 0
  end, 60), "no backfill batch was committed")
  os.execute("kill -9 " .. pid)
  assert.are.equal(at .. "\n", p:sql("SELECT version_num FROM luamig_version"))
end

describe("zero downtime under live traffic (PostgreSQL)", function()
  if not pg then return end

  it("both applications keep working through expand, kill -9 mid-backfill, and contract", function()
    local why = sh.missing(sh.have("pgbench"), "pgbench")
    if why then pending(why) return end
    local p = sh.project_on(pg, {
      ["1.lua"] = sh.slurp(DIR .. "001_orders.lua.in"):gsub("ROWS", tostring(ROWS)),
      ["2.lua"] = sh.slurp(DIR .. "002_online.lua.in"):gsub("BATCH_SIZE", "500"):gsub("SLEEP_MS", "30"),
    })
    p:write("luamig.lua", "return { still_written = 2 }\n")
    p:ok("upgrade orders0001")
    local apps = p.dir .. "/apps"
    local stopped = {}
    finally(function() -- whatever happened, no pgbench outlives the test
      for _, app in ipairs({ "old", "new" }) do
        if not stopped[app] then pcall(p.sql, p, "UPDATE app_control SET stop = 1") end
      end
    end)

    -- the old application alone
    local old = start_app(p, "old", apps .. "/old")
    assert.truthy(sh.poll(function() return count(p, "customer_name LIKE 'old-%'") >= 20 end, 30),
      "the old app does not write: " .. sh.slurp(old .. "/err"))

    -- expand, killed (-9) in the middle of its backfill, then run again
    killed_mid_backfill(p, "orders0001")
    assert.matches("resuming after id = %d+", p:ok("upgrade head"))
    assert.are.equal("expanded", p:json("current").revisions[1].phase)

    -- the new application starts; both run side by side
    local new = start_app(p, "new", apps .. "/new")
    local before_old = count(p, "buyer LIKE 'old%'")
    assert.truthy(sh.poll(function()
      return count(p, "note = 'new'") >= 20 and count(p, "buyer LIKE 'old%'") >= before_old + 20
    end, 30), "the apps do not both write: " .. sh.slurp(old .. "/err") .. sh.slurp(new .. "/err"))

    -- contract is refused while the old application still writes through the old names
    local code, _, refusal = p:luamig("contract")
    assert.are.equal(1, code)
    assert.matches("which is still written", refusal, 1, true)
    assert.are.equal("expanded", p:json("current").revisions[1].phase)

    -- the old application stops; contract then goes through (polled: still_written = 2 s)
    local o = stop_app(p, "old", old)
    stopped.old = true
    assert.truthy(sh.poll(function() return p:luamig("contract") == 0 end, 30), "contract never went through")
    assert.are.equal("complete", p:json("current").revisions[1].phase)
    local after = count(p, "note = 'new'")
    assert.truthy(sh.poll(function() return count(p, "note = 'new'") >= after + 20 end, 30),
      "the new app stopped writing after contract: " .. sh.slurp(new .. "/err"))
    local n = stop_app(p, "new", new)
    stopped.new = true

    -- zero failed statements in either application, nothing slow
    assert.are.same({}, o.failures)
    assert.are.same({}, n.failures)
    assert.is_true(o.longest_ms < 1000, ("old app: a transaction took %.0f ms"):format(o.longest_ms))
    assert.is_true(n.longest_ms < 1000, ("new app: a transaction took %.0f ms"):format(n.longest_ms))
    -- no lost write (one row per transaction) and none mistranslated
    assert.are.equal(ROWS + o.done + n.done, count(p, "true"))
    local wrong = "NOT (price * 100 = CAST(split_part(buyer, '-', 2) AS numeric) AND (note = 'order ' || id OR " ..
      "note = 'new'))"
    assert.are.equal("", p:sql("SELECT * FROM orders WHERE " .. wrong))
    assert.are.equal("buyer price note\n", p:sql("SELECT string_agg(attname, ' ' ORDER BY attnum) FROM pg_attribute " ..
      "WHERE attrelid = 'orders'::regclass AND attnum > 1 AND NOT attisdropped"))
  end)

  it("the application keeps working, unchanged, through op.online.retype_column, kill -9 mid-backfill included",
    function()
    local why = sh.missing(sh.have("pgbench"), "pgbench")
    if why then pending(why) return end
    local p = sh.project_on(pg, {
      ["1.lua"] = sh.slurp(DIR .. "001_orders.lua.in"):gsub("ROWS", tostring(ROWS)),
      ["2.lua"] = [[
revision = "orders0002"
down_revision = "orders0001"
transactional = false
lock_timeout = "500ms"
function upgrade(db)
  db:exec "CREATE INDEX orders_price ON orders (price_cents)"
  db:exec "ALTER TABLE orders ADD CONSTRAINT price_positive CHECK (price_cents > 0)"
end]],
      ["3.lua"] = [[
revision = "orders0003"
down_revision = "orders0002"
transactional = false
lock_timeout = "500ms"
function upgrade(db)
  op.online.retype_column("orders", "price_cents", "bigint", { batch_size = 500, sleep_ms = 30 })
  op.online.retype_column("orders", "customer_name", "string(40)", { batch_size = 500, sleep_ms = 30 })
end]],
    })
    p:ok("upgrade orders0002")
    local dir, stopped = p.dir .. "/apps/old", false
    finally(function() if not stopped then pcall(p.sql, p, "UPDATE app_control SET stop = 1") end end)
    local app = start_app(p, "old", dir)
    assert.truthy(sh.poll(function() return count(p, "customer_name LIKE 'old-%'") >= 20 end, 30),
      "the app does not write: " .. sh.slurp(dir .. "/err"))

    killed_mid_backfill(p, "orders0002")
    local before = count(p, "customer_name LIKE 'old%'")
    assert.truthy(sh.poll(function() return count(p, "customer_name LIKE 'old%'") >= before + 20 end, 30),
      "the app stopped writing after the kill: " .. sh.slurp(dir .. "/err"))
    assert.matches("resuming after id = %d+", p:ok("upgrade head"))
    local after = count(p, "customer_name LIKE 'old%'")
    assert.truthy(sh.poll(function() return count(p, "customer_name LIKE 'old%'") >= after + 20 end, 30),
      "the app stopped writing after the retype: " .. sh.slurp(dir .. "/err"))
    local o = stop_app(p, "old", app)
    stopped = true

    -- zero failed statements, nothing slow, no lost or wrong value, the new types with the index and check
    assert.are.same({}, o.failures)
    assert.is_true(o.longest_ms < 1000, ("a transaction took %.0f ms"):format(o.longest_ms))
    assert.are.equal(ROWS + o.done, count(p, "true"))
    assert.are.equal("0\n", p:sql("SELECT count(*) FROM orders WHERE price_cents <> " ..
      "CAST(split_part(customer_name, '-', 2) AS bigint)"))
    assert.are.equal("customer_name character varying(40) true, price_cents bigint true\n", p:sql("SELECT string_agg(" ..
      "attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull, ', ' ORDER BY attname) FROM " ..
      "pg_attribute WHERE attrelid = 'orders'::regclass AND attname IN ('price_cents', 'customer_name')"))
    assert.are.equal("CREATE INDEX orders_price ON public.orders USING btree (price_cents)|CHECK ((price_cents > 0))\n",
      p:sql("SELECT pg_get_indexdef('orders_price'::regclass), pg_get_constraintdef(oid) FROM pg_constraint WHERE " ..
      "conname = 'price_positive'"))
  end)
end)
