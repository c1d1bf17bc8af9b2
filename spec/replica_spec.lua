-- Replica awareness against a real hot standby of the test server (started
-- by test.sh: .ci/pg.sh pg_start_standby). Replay is paused on the standby
-- with pg_wal_replay_pause() so that lag is real: a backfill with
-- max_replica_lag pauses and resumes with replay; wait_for_replicas times out
-- naming the replica, and waits when replay runs.
local sh = require "spec.support.sh"

local m = sh.migration
local STANDBY = os.getenv("LUAMIG_TEST_PG_STANDBY")
local describe_standby = describe
local why = sh.missing(STANDBY, "the standby server (LUAMIG_TEST_PG_STANDBY, started by test.sh)")
if why then describe_standby = function(name) pending(name .. ": " .. why) end end

local function psql(url, sql)
  local code, out, err = sh.run(("psql %s -XtAq -v ON_ERROR_STOP=1 -c %s"):format(sh.quote(url), sh.quote(sql)))
  assert(code == 0, err)
  return out
end

-- `url`'s database on the standby.
local function on_standby(url)
  return (STANDBY:gsub("/[^/]*$", "/" .. url:match("/([^/?]+)$")))
end

-- Poll `f` every 100 ms for up to `secs` seconds; true once it returns true.
local function eventually(secs, f)
  for _ = 1, secs * 10 do
    if f() then return true end
    os.execute("sleep 0.1")
  end
  return false
end

local function caught_up(standby)
  return eventually(30, function()
    local code = sh.run(("psql %s -XtAqc 'SELECT 1'"):format(sh.quote(standby)))
    return code == 0 and psql(standby, "SELECT pg_last_wal_replay_lsn() >= '" ..
      psql(os.getenv("LUAMIG_TEST_PG"), "SELECT pg_current_wal_lsn()"):gsub("%s", "") .. "'") == "t\n"
  end)
end

local function columns(url)
  return psql(url, "SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' " ..
    "ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public'")
end

local function read(path)
  local f = io.open(path)
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- Start `luamig ARGS` in the background; returns a function telling whether
-- it ended (and then its exit code, stdout, stderr).
local function background(p, args)
  local dir = sh.tmpdir()
  os.execute(("(%s >%s/out 2>%s/err; echo $? >%s/rc) &"):format(p:command(args), dir, dir, dir))
  return function()
    local f = io.open(dir .. "/rc")
    if not f then return false end
    local rc = tonumber(f:read("a"))
    f:close()
    return true, rc, sh.slurp(dir .. "/out"), sh.slurp(dir .. "/err")
  end, dir
end

describe_standby("replicas (a real hot standby)", function()
  local p, standby
  before_each(function()
    p = sh.project_on(sh.backends()[2])
    standby = on_standby(p.url)
    assert.is_true(caught_up(standby), "the standby never caught up")
  end)
  after_each(function()
    psql(STANDBY, "SELECT pg_wal_replay_resume()") -- (its database may be dropped by now)
  end)

  it("a backfill with max_replica_lag pauses while replay is paused and resumes with it", function()
    p:write("luamig.lua", 'return { max_replica_lag = "8kB" }')
    p:write("migrations/1.lua", m("aaaa00000001", nil, [[
db:exec "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, full_name TEXT)"
db:exec "INSERT INTO people SELECT g, 'n' || g FROM generate_series(1, 3000) g"]]))
    p:write("migrations/2.lua", m("bbbb00000002", "aaaa00000001", [[
luamig.backfill { table = "people", batch_size = 200, set = function(r) return { full_name = r.name .. "!" } end }]],
      nil, "transactional = false"))
    p:ok("upgrade aaaa00000001")
    assert.is_true(caught_up(standby))
    psql(standby, "SELECT pg_wal_replay_pause()")
    local ended, dir = background(p, "upgrade")
    assert.is_true(eventually(20, function() return read(dir .. "/out"):find("paused", 1, true) ~= nil end),
      "the backfill never paused")
    local out = read(dir .. "/out")
    assert.matches("backfill people: paused: replica walreceiver is %d+ bytes %(.-%) behind %(max_replica_lag%)", out)
    -- paused: no batch goes through while replay stays paused, however often it checks the lag (each check is
    -- a query on the primary with its own query_start: three seen are two checks after the count below)
    local done = psql(p.url, "SELECT count(full_name) FROM people")
    local checks, n = {}, 0
    assert.is_true(eventually(20, function()
      local at = psql(p.url, "SELECT query_start FROM pg_stat_activity WHERE datname = current_database() AND " ..
        "query LIKE '%pg_wal_lsn_diff%' AND pid <> pg_backend_pid()")
      if at ~= "" and not checks[at] then checks[at], n = true, n + 1 end
      return n >= 3
    end), "the paused backfill never checked the lag again")
    assert.are.equal(done, psql(p.url, "SELECT count(full_name) FROM people"))
    assert.is_true(tonumber(done) < 3000)
    assert.is_false((ended()))
    psql(standby, "SELECT pg_wal_replay_resume()")
    assert.is_true(eventually(60, function() return (ended()) end), "the backfill never resumed")
    local _, rc, final, err = ended()
    assert.are.equal(0, rc, err)
    assert.matches("backfill people: resumed after [%d.]+ s: replicas caught up", final)
    assert.are.equal("3000\n", psql(p.url, "SELECT count(full_name) FROM people"))
    -- the standby ends with the primary's schema and rows
    assert.is_true(caught_up(standby))
    assert.are.equal(columns(p.url), columns(standby))
    assert.are.equal("3000\n", psql(standby, "SELECT count(full_name) FROM people"))
  end)

  it("wait_for_replicas times out naming the replica, and waits for it when replay runs", function()
    p:write("luamig.lua", ('return { wait_for_replicas = 2, replicas = { %q } }'):format(standby))
    p:write("migrations/1.lua", m("aaaa00000001", nil, "db:exec 'CREATE TABLE one (id INTEGER)'"))
    p:write("migrations/2.lua", m("bbbb00000002", "aaaa00000001", "db:exec 'CREATE TABLE two (id INTEGER)'"))
    psql(standby, "SELECT pg_wal_replay_pause()")
    local t0 = os.time()
    local code, _, err = p:luamig("upgrade aaaa00000001")
    assert.are.equal(1, code)
    assert.is_true(os.time() - t0 >= 2)
    assert.matches("wait_for_replicas: replica postgresql://postgres@127%.0%.0%.1:%d+/[%w_]+ has not replayed " ..
      "migration aaaa00000001 after 2 s %(%d+ bytes behind; the migration is committed on the primary%)", err)
    psql(standby, "SELECT pg_wal_replay_resume()")
    -- (a generous wait now: replay of the backlog is slow on a loaded machine)
    p:write("luamig.lua", ('return { wait_for_replicas = 120, replicas = { %q } }'):format(standby))
    p:ok("upgrade")
    -- upgrade returned only once the standby had replayed it
    assert.are.equal("t\n", psql(standby, "SELECT to_regclass('public.two') IS NOT NULL"))
    assert.are.equal(columns(p.url), columns(standby))
  end)

  it("refuses the replica settings on SQLite", function()
    local q = sh.project({ ["1.lua"] = m("aaaa00000001", nil, "") })
    q:write("luamig.lua", "return { wait_for_replicas = true }")
    local code, _, err = q:luamig("upgrade")
    assert.are.equal(2, code)
    assert.matches("max_replica_lag and wait_for_replicas need PostgreSQL", err)
  end)
end)

-- What luamig says about a replica it cannot use (issue 22, item 18).
describe_standby("replicas that luamig cannot measure", function()
  local p
  before_each(function()
    p = sh.project_on(sh.backends()[2], { ["1.lua"] = m("aaaa00000001", nil, [[
db:exec "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, full_name TEXT)"
db:exec "INSERT INTO people SELECT g, 'n' || g FROM generate_series(1, 1000) g"]]),
      ["2.lua"] = m("bbbb00000002", "aaaa00000001", [[
luamig.backfill { table = "people", batch_size = 200, set = function(r) return { full_name = r.name .. "!" } end }]],
        nil, "transactional = false") })
  end)

  -- `luamig upgrade` started in the background; its exit code and stderr
  -- once it ends (nil when it is still running after 15 s: then killed).
  local function upgrade()
    p:spawn("upgrade")
    local code = p:wait(15)
    return code, sh.slurp(p.dir .. "/err")
  end

  it("a primary listed as a replica is named as not a standby, not as gigabytes behind", function()
    p:write("luamig.lua", ('return { max_replica_lag = "8kB", replicas = { %q } }'):format(p.url))
    local code, err = upgrade()
    assert.are.equal(1, code, err)
    assert.matches("replica postgresql://postgres@[^ ]+ is not a standby %(pg_is_in_recovery%(%) is false", err)
    assert.is_nil(err:find("bytes behind", 1, true), err)
  end)

  it("a role without pg_monitor is told it cannot see the replicas' positions", function()
    local admin, name = p.url, p.url:match("([%w_]+)$")
    local role = "luamig_nomon_" .. name
    psql(admin, ("CREATE ROLE %s LOGIN; ALTER DATABASE %s OWNER TO %s"):format(role, name, role))
    finally(function()
      psql(admin, ("ALTER DATABASE %s OWNER TO postgres; DROP OWNED BY %s"):format(name, role))
      psql(os.getenv("LUAMIG_TEST_PG"), "DROP ROLE " .. role)
    end)
    p.url = p.url:gsub("//[^@/]*@", "//" .. role .. "@")
    p:write("luamig.lua", 'return { max_replica_lag = "8kB" }')
    local code, err = upgrade()
    assert.are.equal(1, code, err)
    assert.matches("cannot see the replicas' positions", err)
    assert.matches("pg_monitor", err)
    assert.is_nil(err:find("bytes behind", 1, true), err)
  end)

  it("an unreachable replica's error says the migration is committed on the primary", function()
    p:write("luamig.lua", 'return { wait_for_replicas = 2, replicas = { "postgresql://postgres:s3cret@127.0.0.1:1/x" } }')
    local code, err = upgrade()
    assert.are.equal(1, code, err)
    assert.matches("cannot reach replica postgresql://postgres:%*%*%*@127%.0%.0%.1:1/x", err)
    assert.matches("migration aaaa00000001 is committed on the primary", err)
    assert.is_nil(err:find("s3cret", 1, true), err)
  end)
end)
