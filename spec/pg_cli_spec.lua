-- The luamig command on PostgreSQL only: enums, extensions, statements that
-- refuse a transaction, autocommit sections, the schema setting, the
-- advisory lock, streaming memory and connection failures. (What holds on
-- both drivers is in cli_spec and db_spec.)
local sh = require "spec.support.sh"

local m = sh.migration
local port = os.getenv("PG_TEST_PORT")
local pg = sh.backends()[2]

local function project(files)
  return sh.project_on(pg, files)
end

local function heads(p)
  return (p:json("current")).heads
end

describe("luamig CLI on PostgreSQL only", function()
  it("has a server (LUAMIG_TEST_PG) that luamig reaches", function()
    assert.is_not_nil(os.getenv("LUAMIG_TEST_PG"), "LUAMIG_TEST_PG is not set: run through ./test.sh")
    local p = sh.project_on(pg)
    assert.are.same({}, heads(p))
    assert.matches("^1[0-9]+\n$", p:sql("SHOW server_version_num"))
  end)

  it("creates enums and adds values: outside a transaction, or in an autocommit section", function()
    local p = project({
      ["1.lua"] = m("e1", nil, [[
        assert(not db:has_enum "mood")
        db:exec "CREATE TYPE mood AS ENUM ('sad', 'ok')"
        db:exec "CREATE TABLE person (name TEXT, current_mood mood)"
        assert(db:has_enum "mood" and db:has_enum "public.mood" and not db:has_enum "other.mood")]],
        "db:exec 'DROP TABLE person; DROP TYPE mood'"),
      ["2.lua"] = m("e2", "e1", "db:exec \"ALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy'\"", "",
        "transactional = false"),
      -- PostgreSQL >= 12 adds a value inside a transaction, but it cannot be used there
      ["3.lua"] = m("e3", "e2", [[
        db:exec "ALTER TYPE mood ADD VALUE 'ecstatic'"
        db:exec("INSERT INTO person VALUES ('ann', 'ecstatic')")]], ""),
    })
    local code, _, err = p:luamig("upgrade")
    assert.are.equal(1, code)
    assert.matches("pg 55P04: unsafe use of new value \"ecstatic\" of enum type mood", err)
    assert.matches("\na new enum value cannot be used in the transaction that added it: add it inside " ..
      "db:autocommit%(function%(db%) %.%.%. end%) or in an earlier migration\nthe step was rolled back", err)
    assert.are.same({ "e2" }, heads(p))
    assert.are.equal("sad,ok,happy\n", p:sql("SELECT string_agg(v::text, ',') FROM unnest(enum_range(NULL::mood)) v"))

    p:write("migrations/3.lua", m("e3", "e2", [[
        db:autocommit(function(d) d:exec "ALTER TYPE mood ADD VALUE 'ecstatic'" end)
        db:exec("INSERT INTO person VALUES ('ann', 'ecstatic')")]], ""))
    p:ok("upgrade")
    assert.are.equal("ann|ecstatic\n", p:sql("SELECT * FROM person"))
    p:ok("downgrade base")
    assert.are.equal("f\n", p:sql("SELECT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'mood')"))
  end)

  it("CREATE INDEX CONCURRENTLY: refused in a transaction with advice, fine outside or in autocommit", function()
    local setup = m("i1", nil, [[
      db:exec "CREATE TABLE big (id INT, v TEXT)"
      db:exec "INSERT INTO big SELECT g, 'v' || g FROM generate_series(1, 1000) g"]], "db:exec 'DROP TABLE big'")
    local p = project({
      ["1.lua"] = setup,
      ["2.lua"] = m("i2", "i1", "db:exec 'CREATE INDEX CONCURRENTLY big_v ON big (v)'", ""),
    })
    local code, _, err = p:luamig("upgrade")
    assert.are.equal(1, code)
    assert.matches("pg 25001: CREATE INDEX CONCURRENTLY cannot run inside a transaction block\n" ..
      "this statement cannot run inside a transaction: set  transactional = false  in the migration, " ..
      "or wrap the statement in db:autocommit%(function%(db%) %.%.%. end%)\nthe step was rolled back", err)

    p:write("migrations/2.lua", m("i2", "i1", [[
      assert(not db:in_transaction())
      db:exec 'CREATE INDEX CONCURRENTLY big_v ON big (v)']], "db:exec 'DROP INDEX CONCURRENTLY big_v'",
      "transactional = false"))
    p:write("migrations/3.lua", m("i3", "i2", [[
      db:exec "CREATE TABLE audit (at TIMESTAMPTZ)"
      db:autocommit(function(d)
        assert(not d:in_transaction())
        d:exec 'CREATE INDEX CONCURRENTLY big_id ON big (id)'
        d:exec 'VACUUM big'
      end)
      assert(db:in_transaction(), "a new transaction after the section")
      db:exec "INSERT INTO audit VALUES (now())"]], "db:exec 'DROP TABLE audit; DROP INDEX big_id'"))
    p:ok("upgrade")
    assert.are.same({ "i3" }, heads(p))
    assert.are.equal("big_id big_v\n",
      p:sql("SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'big'"))
    p:ok("downgrade i1")
    assert.are.equal("\n", p:sql("SELECT string_agg(indexname, ' ') FROM pg_indexes WHERE tablename = 'big'"))
  end)

  it("a step that fails after an autocommit section says what was committed", function()
    local p = project({
      ["1.lua"] = m("a1", nil, [[
        db:exec "CREATE TABLE before_section (id INT)"
        db:autocommit(function(d) d:exec "CREATE TABLE in_section (id INT)" end)
        db:exec "CREATE TABLE after_section (id INT)"
        error("late")]]),
    })
    local code, _, err = p:luamig("upgrade")
    assert.are.equal(1, code)
    assert.matches("late\nthe part after its last db:autocommit section was rolled back, the rest was committed", err)
    assert.are.equal("before_section in_section luamig_version luamig_version_history\n", p:tables())
    assert.are.same({}, heads(p))
  end)

  it('refuses db:autocommit with transaction = "all" and inside db:transaction', function()
    local p = project({ ["1.lua"] = m("a1", nil, "db:autocommit(function() end)") })
    p:write("luamig.lua", 'return { transaction = "all" }\n')
    local code, _, err = p:luamig("upgrade")
    assert.are.equal(1, code)
    assert.matches('db:autocommit cannot run with transaction = "all"', err)
    p:remove("luamig.lua")
    p:write("migrations/1.lua", m("a1", nil, "db:transaction(function(d) d:autocommit(function() end) end)"))
    code, _, err = p:luamig("upgrade")
    assert.are.equal(1, code)
    assert.matches("migrations/1%.lua:6: db:autocommit cannot run inside db:transaction", err)
    assert.are.equal("luamig_version luamig_version_history\n", p:tables())
  end)

  it("CREATE EXTENSION IF NOT EXISTS and has_extension", function()
    local p = project()
    local why = sh.missing(p:sql("SELECT count(*) FROM pg_available_extensions WHERE name = 'citext'") == "1\n",
      "the citext extension on the test server")
    if why then pending(why) return end
    p:write("migrations/1.lua", m("x1", nil, [[
      assert(not db:has_extension "citext")
      db:exec "CREATE EXTENSION IF NOT EXISTS citext"
      assert(db:has_extension "citext")
      db:exec "CREATE TABLE users (email citext UNIQUE)"
      db:exec("INSERT INTO users VALUES (?)", "Ada@Example.org")
      assert(db:scalar("SELECT count(*) FROM users WHERE email = ?", "ada@example.ORG") == 1)]],
      "db:exec 'DROP TABLE users; DROP EXTENSION citext'"))
    p:ok("upgrade")
    p:ok("downgrade base")
    assert.are.equal("0\n", p:sql("SELECT count(*) FROM pg_extension WHERE extname = 'citext'"))
  end)

  it("the schema setting holds the version tables and unqualified names", function()
    local p = project({ ["1.lua"] = m("s1", nil, [[
      db:exec "CREATE TABLE things (id INT)"
      assert(db:has_table "things" and db:has_table "app.things" and not db:has_table "public.things")]],
      "db:exec 'DROP TABLE things'") })
    p:write("luamig.lua", 'return { schema = "app" }\n')
    p:ok("upgrade")
    assert.are.equal("luamig_version luamig_version_history things\n",
      p:sql("SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'app'"))
    assert.are.equal("0\n", p:sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"))
    assert.are.same({ "s1" }, heads(p))
    p:remove("luamig.lua")
    assert.are.same({}, heads(p), "the public schema has no version table of its own")
  end)

  it("read-only commands do not create the schema setting's schema", function()
    local p = project({ ["1.lua"] = m("s1", nil, "db:exec 'CREATE TABLE things (id INT)'") })
    p:write("luamig.lua", 'return { schema = "ro_app" }\n')
    local function schemas()
      return p:sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'ro_app'")
    end
    assert.are.same({}, heads(p))
    for _, cmd in ipairs({ "current", "status", "history", "show s1", "lint", "check" }) do
      p:luamig(cmd)
      assert.are.equal("0\n", schemas(), cmd .. " created the schema")
    end
    assert.are.equal("0\n", p:sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
    p:ok("upgrade")
    assert.are.equal("1\n", schemas())
    assert.are.same({ "s1" }, heads(p))
  end)

  it("lock_timeout: gives up naming who holds the lock, and changes nothing", function()
    local p = project(sh.chain(2))
    p:write("luamig.lua", "return { lock_timeout = 0.5 }\n")
    -- another session holds the runner's advisory lock for a while
    local holder = ("PGAPPNAME=holder psql %s -Xqc %s >/dev/null 2>&1 &"):format(sh.quote(p.url), sh.quote(
      "SELECT pg_advisory_lock(hashtext('luamig::luamig_version')); SELECT pg_sleep(4)"))
    assert(os.execute(holder))
    local held = false
    for _ = 1, 100 do
      -- (this database's locks only: other specs' runners share the server)
      if p:sql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = " ..
        "'advisory' AND l.granted AND a.application_name = 'holder' AND a.datname = current_database()") == "1\n" then
        held = true
        break
      end
      os.execute("sleep 0.05")
    end
    assert.is_true(held, "the holder session took the lock")
    local code, out, err = p:luamig("upgrade")
    assert.are.equal(6, code, out .. err) -- the lock-timeout exit code
    assert.matches('^luamig: timed out after 0%.5s waiting for the migration lock held by pid %d+ ' ..
      '%(application_name "holder", user postgres, connected since %d%d%d%d%-%d%d%-%d%d [%d:]+ %a+.-%); ' ..
      "wait for that run to finish, or raise lock_timeout\n$", err)
    assert.are.equal("\n", p:tables())
  end)

  it("a runner waiting for the lock does not deadlock another's CREATE INDEX CONCURRENTLY", function()
    local p = project({
      ["1.lua"] = m("c1", nil, "db:exec 'CREATE TABLE t (id INT); INSERT INTO t SELECT generate_series(1, 100)'"),
      ["2.lua"] = m("c2", "c1", "db:exec 'SELECT pg_sleep(0.5)'\ndb:exec 'CREATE INDEX CONCURRENTLY t_id ON t (id)'",
        nil, "transactional = false"),
    })
    p:ok("upgrade c1")
    local procs = {}
    for i = 1, 3 do
      procs[i] = ("( timeout 30 sh -c %s >%s/out%d 2>%s/err%d; echo $? >%s/rc%d ) &"):format(
        sh.quote(p:command("upgrade -q")), p.dir, i, p.dir, i, p.dir, i)
    end
    assert(os.execute("sh -c " .. sh.quote(table.concat(procs, "\n") .. "\nwait")))
    for i = 1, 3 do
      assert.are.equal("0\n", io.open(p.dir .. "/rc" .. i):read("a"), io.open(p.dir .. "/err" .. i):read("a"))
    end
    assert.are.same({ "c2" }, heads(p))
    assert.are.equal("t\n", p:sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id'::regclass"))
  end)

  it("streams a large result with bounded memory (db:rows in a migration, in and outside a transaction)", function()
    -- peak RSS after reading n rows of 200 bytes, from inside a migration
    local function peak(n, extra)
      local p = project({ ["1.lua"] = m("r1", nil, ([[
        local count = 0
        for row in db:rows("SELECT g, repeat('x', 200) AS pad FROM generate_series(1, ?) g", %d) do
          count = count + #row.pad
        end
        assert(count == %d * 200)
        for line in io.lines("/proc/self/status") do
          local kb = line:match("^VmHWM:%%s+(%%d+) kB")
          if kb then io.open(%q, "w"):write(kb) end
        end]]):format(n, n, "/tmp/luamig_hwm_" .. n), nil, extra) })
      p:ok("upgrade", "ASAN_OPTIONS=${ASAN_OPTIONS:-}:quarantine_size_mb=4")
      local kb = tonumber(io.open("/tmp/luamig_hwm_" .. n):read("a"))
      os.remove("/tmp/luamig_hwm_" .. n)
      return kb
    end
    for _, extra in ipairs({ "transactional = true", "transactional = false" }) do
      local small, large = peak(1000, extra), peak(500000, extra) -- 100 MB of rows
      assert.is_true(large - small < 20 * 1024, ("%s: peak RSS grew from %d kB to %d kB"):format(extra, small, large))
    end
  end)

  it("libpq is opened on first use: a missing one is one clear line, exit 2", function()
    local p = sh.project(sh.chain(1))
    local code, _, err = p:luamig("current --url postgresql://u:s3cret@127.0.0.1/db", "LUAMIG_LIBPQ=/nowhere/libpq.so")
    assert.are.equal(2, code)
    assert.matches("^luamig: PostgreSQL support needs libpq, which could not be loaded %(/nowhere/libpq%.so: " ..
      ".*%); install it %(Debian: apt%-get install libpq5%) or point LUAMIG_LIBPQ at it\n$", err)
    p:ok("upgrade", "LUAMIG_LIBPQ=/nowhere/libpq.so") -- SQLite runs never load it
  end)

  it("server down, wrong password and missing database: one line, exit 1, no password", function()
    local p = sh.project(sh.chain(1))
    local cases = {
      { "postgresql://bob:s3cret@127.0.0.1:1/app", 'at 127%.0%.0%.1:1, database "app": Connection refused' },
      { ("postgresql://luamig_pw:s3cret@127.0.0.1:%s/postgres"):format(port),
        'password authentication failed for user "luamig_pw"' },
      { ("postgresql://postgres@127.0.0.1:%s/nodb"):format(port), 'database "nodb" does not exist' },
      { ("host=127.0.0.1 port=%s user=luamig_pw password=s3cret dbname=postgres"):format(port),
        "password authentication failed" },
    }
    for _, c in ipairs(cases) do
      local code, out, err = p:luamig("upgrade --url " .. sh.quote(c[1]))
      assert.are.equal(1, code, err)
      assert.are.equal("", out)
      assert.matches("^luamig: cannot connect to PostgreSQL " .. ".*" .. c[2], err)
      assert.matches("^[^\n]+\n$", err)
      assert.not_matches("s3cret", err)
    end
  end)

  it("server warnings reach stderr as warnings; notices only with --debug", function()
    local p = project({
      ["1.lua"] = m("n1", nil, [[
        db:exec "DO $$ BEGIN RAISE WARNING 'the index is large'; END $$"
        db:exec "DROP TABLE IF EXISTS no_such_table"]], ""),
    })
    local code, _, err = p:luamig("upgrade")
    assert.are.equal(0, code, err)
    assert.matches("warning: the index is large\n", err, 1, true)
    assert.not_matches("no_such_table", err)
    p:ok("downgrade base")
    code, _, err = p:luamig("upgrade --debug")
    assert.are.equal(0, code, err)
    assert.matches("warning: the index is large\n", err, 1, true)
    assert.matches('notice: table "no_such_table" does not exist, skipping\n', err, 1, true)
  end)

  it("COPY through exec or query fails fast pointing to db:copy_in; the connection stays usable", function()
    -- a subprocess under timeout: a hang must fail this spec, not stall the suite
    local wrapper = os.tmpname()
    sh.write(wrapper, ("#!/bin/sh\nexec timeout 20 %s \"$@\"\n"):format(sh.quote(sh.bin)))
    assert(os.execute("chmod +x " .. sh.quote(wrapper)))
    local bin = sh.bin
    sh.bin = wrapper
    local okk, code, out, err = pcall(sh.lua, ([[
      local db = require("luamig.db.connect").open(%q, {})
      db:exec "CREATE TEMP TABLE t (a INT); INSERT INTO t VALUES (1)"
      for _, sql in ipairs({ "COPY t FROM STDIN", "COPY t TO STDOUT" }) do
        for _, method in ipairs({ "exec", "query", "scalar" }) do
          local okk, e = pcall(db[method], db, sql)
          assert(not okk and tostring(e):match("db:copy_in"), method .. ": " .. tostring(e))
          assert(db:scalar "SELECT count(*) FROM t" == 1)
        end
      end
      db:transaction(function(d) assert(not pcall(d.exec, d, "COPY t TO STDOUT")) end)
      print "done"
    ]]):format(os.getenv("LUAMIG_TEST_PG")))
    sh.bin = bin
    os.remove(wrapper)
    assert(okk, code)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("done\n", out)
  end)
end)
