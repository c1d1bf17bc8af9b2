-- Per-migration timeouts on PostgreSQL: lock_timeout, statement_timeout and
-- lock_retries in a migration file or as config defaults, against a real
-- server with a second session holding the lock.
local sh = require "spec.support.sh"

local pg = sh.backends()[2]

-- Another session takes ACCESS EXCLUSIVE on t and holds it `seconds`; returns
-- once the lock is held (polled in pg_locks).
local function hold_lock(p, seconds)
  local sql = ("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(%s); COMMIT;"):format(seconds)
  os.execute(("PGAPPNAME=spec_holder psql %s -Xq -c %s >/dev/null 2>&1 &"):format(sh.quote(p.url), sh.quote(sql)))
  for _ = 1, 100 do
    if p:sql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation " ..
        "WHERE c.relname = 't' AND l.mode = 'AccessExclusiveLock' AND l.granted") == "1\n" then return end
    os.execute("sleep 0.05")
  end
  error("the holder never took its lock")
end

-- Whether the holder of hold_lock still holds its lock: a migration that
-- failed fast returned before it (no wall-clock reading needed).
local function still_held(p)
  return p:sql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.application_name = " ..
    "'spec_holder' AND a.datname = current_database() AND l.mode = 'AccessExclusiveLock' AND l.granted") == "1\n"
end

-- Ends the holder of hold_lock, then returns once no session holds ACCESS
-- EXCLUSIVE on t (polled in pg_locks).
local function lock_released(p)
  p:sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'spec_holder' " ..
    "AND datname = current_database()")
  for _ = 1, 200 do
    if p:sql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation " ..
        "WHERE c.relname = 't' AND l.mode = 'AccessExclusiveLock'") == "0\n" then return end
    os.execute("sleep 0.05")
  end
  error("the holder never released its lock")
end

local function project(extra, config)
  local p = sh.project_on(pg, {
    ["001_t.lua"] = sh.migration("a1", nil, 'db:exec "CREATE TABLE t (a int)"'),
    ["002_add.lua"] = sh.migration("a2", "a1", 'db:exec "ALTER TABLE t ADD COLUMN b int"', nil, extra),
  })
  if config then p:write("luamig.lua", "return " .. config .. "\n") end
  p:ok("upgrade a1")
  return p
end

describe("per-migration timeouts (PostgreSQL)", function()
  it("lock_timeout makes a migration fail fast with 55P03 and a clear message", function()
    local p = project('lock_timeout = "200ms"')
    hold_lock(p, 60)
    finally(function() lock_released(p) end)
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(1, code)
    assert.is_true(still_held(p), "it waited for the holder")
    assert.matches("55P03", err)
    assert.matches("lock timeout", err)
    assert.matches("lock_retries", err)
    assert.are.equal("a1\n", p:sql("SELECT version_num FROM luamig_version"))
  end)

  it("the script cache keeps the settings: a cached file still fails fast", function()
    local p = project('lock_timeout = "200ms"')
    local cache = sh.tmpdir()
    local env = "XDG_CACHE_HOME=" .. sh.quote(cache)
    -- (a file modified in the second the cache is written is read anew: settle the files)
    assert(os.execute("touch -d '-10 seconds' " .. sh.quote(p.dir) .. "/migrations/*.lua"))
    p:ok("history", env) -- writes the cache
    p:ok("history", env) -- and reads it
    local _, cached = sh.run("cat " .. sh.quote(cache) .. "/luamig/*.tsv")
    assert.matches("\t200ms\t", cached)
    hold_lock(p, 60)
    finally(function() lock_released(p) end)
    local code, _, err = p:luamig("upgrade head", env)
    assert.are.equal(1, code)
    assert.is_true(still_held(p), "it waited for the holder")
    assert.matches("55P03", err)
    os.execute("rm -rf " .. sh.quote(cache))
  end)

  it("with lock_retries it retries with backoff and succeeds once the holder releases", function()
    local p = project('lock_timeout = "200ms"\nlock_retries = 5')
    hold_lock(p, 1.5)
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(0, code, err)
    assert.matches("retrying upgrade a2 in 0%.5s %(lock_timeout; attempt 2 of 6%)", err)
    assert.are.equal("a2\n", p:sql("SELECT version_num FROM luamig_version"))
  end)

  it("keeps the step's timeouts inside and after each db:autocommit section", function()
    local p = project('lock_timeout = "200ms"\nstatement_timeout = "7s"')
    p:ok("upgrade a2")
    local show = "db:scalar 'SHOW lock_timeout', db:scalar 'SHOW statement_timeout'"
    p:write("migrations/003_sections.lua", sh.migration("a3", "a2", ([[
db:exec "CREATE TABLE shown (n serial, phase text, l text, s text)"
db:autocommit(function(db) db:exec("INSERT INTO shown (phase, l, s) VALUES ('in', ?, ?)", %s) end)
db:exec("INSERT INTO shown (phase, l, s) VALUES ('after', ?, ?)", %s)
db:autocommit(function(db) db:exec("INSERT INTO shown (phase, l, s) VALUES ('in 2', ?, ?)", %s) end)
db:exec("INSERT INTO shown (phase, l, s) VALUES ('after 2', ?, ?)", %s)]]):format(show, show, show, show), nil,
      'lock_timeout = "200ms"\nstatement_timeout = "7s"'))
    p:write("migrations/004_next.lua", sh.migration("a4", "a3",
      ("db:exec(\"INSERT INTO shown (phase, l, s) VALUES ('next', ?, ?)\", %s)"):format(show)))
    p:ok("upgrade head")
    assert.are.equal("in|200ms|7s\nafter|200ms|7s\nin 2|200ms|7s\nafter 2|200ms|7s\nnext|0|0\n",
      p:sql("SELECT phase, l, s FROM shown ORDER BY n"))
  end)

  it("lock_timeout fires inside a db:autocommit section (CREATE INDEX CONCURRENTLY)", function()
    local p = project()
    p:ok("upgrade a2")
    p:write("migrations/003_idx.lua", sh.migration("a3", "a2",
      'db:autocommit(function(db) db:exec "CREATE INDEX CONCURRENTLY t_a ON t (a)" end)', nil,
      'lock_timeout = "200ms"'))
    hold_lock(p, 60)
    finally(function() lock_released(p) end)
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(1, code)
    assert.is_true(still_held(p), "it waited for the holder")
    assert.matches("55P03", err)
    assert.are.equal("a2\n", p:sql("SELECT version_num FROM luamig_version"))
  end)

  it("lock_retries works on a database without luamig's tables yet", function()
    local p = sh.project_on(pg, { ["001_add.lua"] = sh.migration("a1", nil, 'db:exec "ALTER TABLE t ADD COLUMN b int"',
      nil, 'lock_timeout = "200ms"\nlock_retries = 5') })
    p:sql("CREATE TABLE t (a int)")
    hold_lock(p, 1.5)
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(0, code, err)
    assert.matches("retrying upgrade a1", err)
    assert.are.equal("a1\n", p:sql("SELECT version_num FROM luamig_version"))
    assert.are.equal("a1|up|ok\n", p:sql("SELECT revision, direction, status FROM luamig_version_history"))
  end)

  it("Ctrl-C during the lock_retries backoff records the step as interrupted and exits 130", function()
    local p = project('lock_timeout = "200ms"\nlock_retries = 5')
    hold_lock(p, 6)
    sh.spawn(p, "upgrade head")
    assert.truthy(sh.poll(function() return sh.slurp(p.dir .. "/err"):find("attempt 3 of 6", 1, true) end),
      "it never retried")
    assert(os.execute("kill -INT " .. sh.first_line(p.dir .. "/pid")))
    assert.are.equal(130, sh.exit_code(p))
    assert.matches("upgrade a2 .*interrupted", sh.slurp(p.dir .. "/err"))
    assert.are.equal("a1|ok\na2|interrupted\n",
      p:sql("SELECT revision, status FROM luamig_version_history ORDER BY id"))
    assert.are.equal("interrupted", p:json("status").failed.status)
  end)

  it("statement_timeout stops a long statement", function()
    local p = project()
    p:write("migrations/003_sleep.lua", sh.migration("a3", "a2", 'db:exec "SELECT pg_sleep(2)"', nil,
      'statement_timeout = "100ms"'))
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(1, code)
    assert.matches("57014", err)
    assert.are.equal("a2\n", p:sql("SELECT version_num FROM luamig_version"))
  end)

  it("config defaults apply when the file sets none; the file's own win", function()
    local p = project(nil, '{ migration_timeouts = { lock_timeout = "150ms", statement_timeout = "4s" } }')
    p:write("migrations/003_show.lua", sh.migration("a3", "a2",
      'db:exec("CREATE TABLE shown AS SELECT current_setting(\'lock_timeout\') AS l, ' ..
      'current_setting(\'statement_timeout\') AS s")', nil, 'statement_timeout = "7s"'))
    hold_lock(p, 60)
    finally(function() lock_released(p) end)
    local code, _, err = p:luamig("upgrade a2")
    assert.are.equal(1, code)
    assert.matches("55P03", err)
    lock_released(p)
    p:ok("upgrade head")
    assert.are.equal("150ms|7s\n", p:sql("SELECT l, s FROM shown"))
    -- and nothing leaks into the session after the step
    assert.are.equal("0\n", p:sql("SHOW lock_timeout"))
  end)

  it("lint reports no lock_timeout in force only when neither the file nor the config sets one", function()
    local function rules(extra, config)
      local p = project(nil, config)
      p:write("migrations/003_idx.lua", sh.migration("a3", "a2", 'db:exec "CREATE INDEX t_a ON t (a)"', nil, extra))
      p:ok("upgrade a2")
      local doc = p:json("lint")
      local out = {}
      for _, f in ipairs(doc.migrations[1].findings) do out[#out + 1] = f.rule end
      table.sort(out)
      return table.concat(out, " ")
    end
    assert.matches("lock%-timeout", rules())
    assert.not_matches("lock%-timeout", rules('lock_timeout = "2s"'))
    assert.not_matches("lock%-timeout", rules(nil, '{ migration_timeouts = { lock_timeout = "2s" } }'))
  end)

  it("refuses bad values, naming the file:line or the setting", function()
    local p = project()
    p:write("migrations/002_add.lua", sh.migration("a2", "a1", "", nil, '\nlock_timeout = "2 parsecs"'))
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(2, code)
    assert.matches("002_add%.lua:5", err)
    assert.matches('lock_timeout must be a PostgreSQL duration such as "2s"', err)
    p:write("migrations/002_add.lua", sh.migration("a2", "a1", "", nil, "lock_retries = -1"))
    code, _, err = p:luamig("upgrade head")
    assert.are.equal(2, code)
    assert.matches("002_add%.lua:4.*lock_retries must be a whole number", err)
    p:write("migrations/002_add.lua", sh.migration("a2", "a1", "", nil, "transactional = false\nlock_retries = 2"))
    code, _, err = p:luamig("upgrade head")
    assert.are.equal(2, code)
    assert.matches("002_add%.lua:5.*lock_retries needs a transactional migration", err)
    p:write("luamig.lua", 'return { migration_timeouts = { statement_timeout = 5 } }\n')
    code, _, err = p:luamig("upgrade head")
    assert.are.equal(2, code)
    assert.matches("migration_timeouts.*statement_timeout must be a PostgreSQL duration", err)
    p:write("luamig.lua", 'return { migration_timeouts = { lock_timout = "1s" } }\n')
    code, _, err = p:luamig("upgrade head")
    assert.are.equal(2, code)
    assert.matches("has no setting 'lock_timout'", err)
    -- beyond PostgreSQL's limit (2147483647 ms, about 24.8 days): refused when the file loads, not at run time
    for _, v in ipairs({ "99999999999999999999s", "25d", "2147483648" }) do
      p:write("luamig.lua", "return {}\n")
      p:write("migrations/002_add.lua", sh.migration("a2", "a1", "", nil, ("\nlock_timeout = %q"):format(v)))
      code, _, err = p:luamig("upgrade head")
      assert.are.equal(2, code, err)
      assert.matches("002_add%.lua:5: .*lock_timeout must be at most 2147483647ms %(about 24%.8 days, " ..
        "PostgreSQL's limit; got \"" .. v .. "\"%)", err)
      p:write("migrations/002_add.lua", sh.migration("a2", "a1", ""))
      p:write("luamig.lua", ("return { migration_timeouts = { statement_timeout = %q } }\n"):format(v))
      code, _, err = p:luamig("upgrade head")
      assert.are.equal(2, code, err)
      assert.matches("migration_timeouts.*statement_timeout must be at most 2147483647ms", err)
    end
    p:write("luamig.lua", 'return { migration_timeouts = { statement_timeout = "2147483647ms", lock_timeout = "24d" } }\n')
    p:ok("upgrade head")
  end)
end)
