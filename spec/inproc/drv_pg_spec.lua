-- luamig.pg in the host against the PostgreSQL server of LUAMIG_TEST_PG
-- (test.sh starts one). A missing server fails, it does not skip. Also the
-- pipeline (db:pipeline's driver half) and the one-round-trip reads.
local pg = require "luamig.pg"
local connect = require "luamig.db.connect"
local null = require "luamig.null"
local raised = require("spec.support.raised").raised

local url = os.getenv("LUAMIG_TEST_PG")
local schema_n = 0

describe("luamig.pg", function()
  -- Each test gets `db` inside a fresh schema, dropped afterwards.
  local db, schema
  before_each(function()
    assert.is_not_nil(url, "LUAMIG_TEST_PG is not set: run the specs through ./test.sh, which starts a server")
    schema_n = schema_n + 1
    schema = ("spec_%d_%d"):format(os.time() % 100000, schema_n)
    db = connect.open(url, {})
    db:exec(("CREATE SCHEMA %s; SET search_path TO %s"):format(schema, schema))
  end)
  after_each(function()
    if not db then return end
    if db:is_closed() then db = pg.connect(url) end
    db:exec(("DROP SCHEMA %s CASCADE"):format(schema))
    db:close()
    db = nil
  end)

  it("has a server to test against (LUAMIG_TEST_PG)", function()
    assert.is_not_nil(url)
    assert.are.equal(1, db:scalar "SELECT 1")
  end)

  it("maps types both ways; NULL is an absent key; numeric stays exact text", function()
    db:exec [=[CREATE TABLE t (i8 BIGINT, i4 INT, i2 SMALLINT, f DOUBLE PRECISION, b BOOLEAN, n NUMERIC,
      s TEXT, by BYTEA, j JSONB, ts TIMESTAMPTZ, u UUID)]=]
    db:exec("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", math.maxinteger, -7, 3, 1.5, true,
      "12345678901234567890.000000001", "héllo", "\0\1\2\255", '{"a": 1}', "2026-11-25T12:00:00Z",
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    db:exec("INSERT INTO t (i8, s, b) VALUES (?, ?, ?)", math.mininteger, null, false)
    local a = db:first "SELECT * FROM t WHERE i8 > 0"
    assert.are.equal("integer", math.type(a.i8))
    assert.are.equal(math.maxinteger, a.i8)
    assert.are.equal(-7, a.i4)
    assert.are.equal("integer", math.type(a.i2))
    assert.are.equal(1.5, a.f)
    assert.is_true(a.b)
    assert.are.equal("12345678901234567890.000000001", a.n)
    assert.are.equal("héllo", a.s)
    assert.are.equal("\0\1\2\255", a.by)
    assert.are.equal('{"a": 1}', a.j)
    assert.are.equal("string", type(a.ts))
    assert.are.equal("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", a.u)
    assert.are.same({ i8 = math.mininteger, b = false }, db:first "SELECT * FROM t WHERE i8 < 0")
    assert.are.equal("\0x", db:scalar("SELECT ?::bytea", "\0x"))
  end)

  it("rewrites ? outside strings, identifiers, comments and dollar quotes; $n passes through", function()
    db:exec [=[CREATE TABLE "we?rd" ("c?" TEXT, v TEXT)]=]
    db:exec([=[INSERT INTO "we?rd" ("c?", v) VALUES ('?', ?) -- a ? here
    ]=], "one")
    db:exec([=[/* ? /* nested ? */ */ INSERT INTO "we?rd" VALUES (E'it\'s ?', ?)]=], "two")
    db:exec([=[INSERT INTO "we?rd" VALUES ($tag$ ? $$ ? $tag$, ?)]=], "three")
    assert.are.equal(3, db:scalar([=[SELECT count(*) FROM "we?rd" WHERE v IN (?, ?, ?)]=], "one", "two", "three"))
    assert.are.equal("it's ?", db:scalar('SELECT "c?" FROM "we?rd" WHERE v = $1', "two"))
    assert.are.equal(" ? $$ ? ", db:scalar('SELECT "c?" FROM "we?rd" WHERE v = ?', "three"))
  end)

  it("exec runs scripts (summing rows changed) and returns affected rows", function()
    assert.are.equal(3, db:exec [=[CREATE TABLE t (v INT); INSERT INTO t VALUES (1), (2); INSERT INTO t VALUES (3)]=])
    assert.are.equal(3, db:exec("UPDATE t SET v = v + ?", 10))
    assert.are.equal(2, db:exec("DELETE FROM t WHERE v > ?", 11))
  end)

  it("streams rows through a cursor inside a transaction, writing while iterating", function()
    db:exec "CREATE TABLE t (id INT PRIMARY KEY, v INT)"
    db:exec "INSERT INTO t SELECT g, NULL FROM generate_series(1, 1234) g"
    db:transaction(function()
      local set = db:prepare "UPDATE t SET v = ? WHERE id = ?"
      local n = 0
      for row in db:rows("SELECT id FROM t WHERE id <= ? ORDER BY id", 5000) do
        set:exec(row.id * 2, row.id)
        n = n + 1
      end
      assert.are.equal(1234, n)
      for row in db:rows "SELECT id FROM t ORDER BY id" do
        if row.id == 3 then break end -- closes the cursor
      end
      assert.are.equal(0, db:scalar "SELECT count(*) FROM pg_cursors WHERE name LIKE 'luamig_cur_%'")
    end)
    assert.are.equal(1234 * 1235, db:scalar "SELECT sum(v) FROM t")
    local n = 0
    for _ in db:rows "SELECT id FROM t" do n = n + 1 end -- outside a transaction too
    assert.are.equal(1234, n)
  end)

  it("prepared statements are reusable, closable twice, and refuse use once closed", function()
    db:exec "CREATE TABLE t (a INT, b TEXT)"
    local st = db:prepare "INSERT INTO t VALUES (?, ?)"
    for i = 1, 5 do assert.are.equal(1, st:exec(i, "x" .. i)) end
    local q = db:prepare "SELECT b FROM t WHERE a >= ? ORDER BY a"
    assert.are.equal(3, #q:query(3))
    assert.are.equal("x5", q:query(5)[1].b)
    local seen = {}
    for r in q:rows(4) do seen[#seen + 1] = r.b end
    assert.are.same({ "x4", "x5" }, seen)
    assert.has_error(function() st:exec(1) end)
    st:close(); st:close()
    local e, at = raised(function() st:exec(1, "y") end)
    assert.are.equal(at .. "statement is closed", tostring(e))
    assert.are.equal(1, db:scalar "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'luamig_stmt_%'")
  end)

  it("raises error objects with SQLSTATE, message, detail and the caller's line", function()
    db:exec "CREATE TABLE t (id INT PRIMARY KEY)"
    db:exec("INSERT INTO t VALUES (?)", 1)
    local e = raised(function() db:exec("INSERT INTO t VALUES (?)", 1) end)
    assert.are.same({ "db", "pg", "23505" }, { e.kind, e.driver, e.code })
    assert.are.equal("Key (id)=(1) already exists.", e.detail)
    assert.are.equal("INSERT INTO t VALUES ($1)", e.sql)
    local at
    e, at = raised(function() db:exec "SELEC 1" end)
    local want = at .. 'pg 42601: syntax error at or near "SELEC"'
    assert.are.equal(want, tostring(e):sub(1, #want))
  end)

  it("a failed connection names host, port and database, never the password", function()
    local e = raised(function() pg.connect "postgresql://bob:s3cret@127.0.0.1:1/nodb" end)
    assert.matches('cannot connect to PostgreSQL at 127%.0%.0%.1:1, database "nodb": Connection refused', tostring(e))
    assert.not_matches("s3cret", tostring(e))
    e = raised(function() pg.connect "host=127.0.0.1 port=1 user=bob password=s3cret dbname nodb" end)
    assert.matches("invalid PostgreSQL connection string", tostring(e))
    assert.not_matches("s3cret", tostring(e))
  end)

  it("a closed connection refuses use; closing twice is harmless", function()
    db:close(); db:close()
    assert.is_true(db:is_closed())
    local e = raised(function() db:exec "SELECT 1" end)
    assert.matches("connection is closed", tostring(e))
  end)

  it("a string that is not text (NUL, invalid UTF-8) is bytes for bytea and an error for text", function()
    db:exec "CREATE TABLE t (s TEXT, b BYTEA)"
    db:exec("INSERT INTO t (b) VALUES (?)", "a\0b")
    db:exec("INSERT INTO t (b) VALUES (?)", "\255\254")
    assert.are.same({ "a\0b", "\255\254" }, { db:scalar "SELECT b FROM t ORDER BY b LIMIT 1",
      db:scalar "SELECT b FROM t ORDER BY b DESC LIMIT 1" })
    for _, bad in ipairs({ "a\0b", "\255\254" }) do
      local e = raised(function() db:exec("INSERT INTO t (s) VALUES (?)", bad) end)
      assert.matches("^22", e.code)
    end
    assert.are.equal(0, db:scalar "SELECT count(*) FROM t WHERE s IS NOT NULL")
    local st = db:prepare "INSERT INTO t (s) VALUES (?)"
    raised(function() st:exec "x\0y" end)
    assert.are.equal("plain", db:scalar("SELECT ?::text", "plain"))
  end)

  it("NaN, tables and SQL with a NUL byte are refused, naming the caller's line", function()
    db:exec "CREATE TABLE t (f DOUBLE PRECISION)"
    local e, at = raised(function() db:exec("INSERT INTO t VALUES (?)", 0 / 0) end)
    assert.are.equal(at .. "parameter 1: cannot bind NaN", e)
    e, at = raised(function() db:exec("INSERT INTO t VALUES (?)", {}) end)
    assert.are.equal(at .. "parameter 1: cannot bind a table", e)
    e = raised(function() db:exec "CREATE TABLE a (x INT)\0; DROP TABLE t" end)
    assert.matches("SQL text holds a NUL byte %(at byte 23%)", e)
    assert.are.equal(0, db:scalar "SELECT count(*) FROM t")
  end)

  it("refuses a notice handler's call on its own connection instead of waiting forever", function()
    local got = {}
    db:on_notice(function(_, message)
      local ok, err = pcall(db.scalar, db, "SELECT 1")
      got[#got + 1] = message .. ": " .. tostring(ok) .. ": " .. tostring(err)
    end)
    db:exec "BEGIN"
    db:exec "DO $$ BEGIN RAISE WARNING 'careful now'; END $$"
    db:on_notice(nil)
    assert.are.equal(1, #got)
    assert.matches("^careful now: false: .*a notice handler cannot use the connection whose notice it handles", got[1])
    assert.are.equal(1, db:scalar "SELECT 1")
    db:exec "ROLLBACK"
  end)

  it("forwards notices to on_notice with their severity", function()
    local got = {}
    db:on_notice(function(severity, message) got[#got + 1] = severity .. ": " .. message end)
    db:exec "DROP TABLE IF EXISTS no_such_table"
    db:exec "DO $$ BEGIN RAISE WARNING 'careful now'; END $$"
    db:on_notice(nil)
    db:exec "DO $$ BEGIN RAISE WARNING 'not shown'; END $$"
    assert.are.same({ 'NOTICE: table "no_such_table" does not exist, skipping', "WARNING: careful now" }, got)
  end)

  it("pipeline: sends without waiting; any other call reads the results first", function()
    db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"
    local ins = db:prepare "INSERT INTO t (id, v) VALUES (?, ?)"
    local first = db:pipeline_send(ins, 1, "v")
    for i = 2, 2500 do assert.are.equal(first + i - 1, db:pipeline_send(ins, i, "v")) end
    assert.are.equal(2500, db:scalar "SELECT count(*) FROM t")
    assert.are.equal(2500, db:pipeline_sync())
    assert.are.equal(0, db:pipeline_sync())
  end)

  it("pipeline: inside a transaction, the first failure is raised; what follows it is not run", function()
    db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"
    local ins = db:prepare "INSERT INTO t (id, v) VALUES (?, ?)"
    local ok, err = pcall(db.transaction, db, function()
      db:pipeline(function(p)
        for i = 1, 3000 do p:exec(ins, i, i == 1500 and null or "v") end
        p:exec("INSERT INTO t (id, v) VALUES (?, ?)", 1, "dup") -- fails too, but later
      end)
    end)
    assert.is_false(ok)
    assert.are.equal("23502", err.code)
    assert.are.same({ 1500, null, n = 2 }, err.params)
    assert.matches("%(in the pipelined statement INSERT INTO t %(id, v%) VALUES %(%$1, %$2%), parameters %(1500, NULL%)%)$",
      err.message) -- (err.where, the line of p:exec, is checked by spec/pipeline_spec.lua: here the runner's files are on disk)
    assert.is_false(db:in_transaction())
    assert.are.equal(0, db:scalar "SELECT count(*) FROM t")
  end)

  it("pipeline: a Lua error in db:transaction with a failed statement in flight rolls back and is the error raised",
    function()
      db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"
      local ok, err = pcall(db.transaction, db, function()
        db:pipeline_send("INSERT INTO t (id, v) VALUES (?, ?)", 1, "a")
        db:pipeline_send("INSERT INTO t (id, v) VALUES (?, ?)", 2, null)
        error("mine", 0)
      end)
      assert.is_false(ok)
      assert.are.equal("mine", err)
      assert.is_false(db:in_transaction())
      assert.are.equal(0, db:scalar "SELECT count(*) FROM t")
    end)

  it("pipeline: a connection lost with statements in flight raises, it does not drop them silently", function()
    local pid = db:scalar "SELECT pg_backend_pid()"
    local other = connect.open(url, {})
    db:pipeline_send "SELECT pg_sleep(0.2)"
    db:pipeline_send "SELECT 1"
    other:exec("SELECT pg_terminate_backend(?)", pid)
    other:close()
    local ok, err = pcall(db.pipeline_sync, db)
    assert.is_false(ok)
    assert.are.equal("db", err.kind)
    db:close() -- after_each reconnects
  end)

  it("pipeline: a statement closed while the pipeline runs is deallocated once it ends", function()
    db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"
    local name_count = "SELECT count(*) FROM pg_prepared_statements"
    local before = db:scalar(name_count)
    local ins = db:prepare "INSERT INTO t (id, v) VALUES (?, ?)"
    db:pipeline_send(ins, 1, "a")
    ins:close()
    assert.are.equal(1, db:pipeline_sync())
    assert.are.equal(before, db:scalar(name_count))
  end)

  it("db:first and db:scalar take one round trip, with no cursor", function()
    db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"
    db:exec "INSERT INTO t SELECT x, 'v' || x FROM generate_series(1, 3) x"
    -- (the protocol's unnamed portal is listed too, as "")
    assert.are.same({ n = 0 }, db:first "SELECT count(*) AS n FROM pg_cursors WHERE name <> ''")
    assert.are.same({ id = 2, v = "v2" }, db:first("SELECT * FROM t WHERE id >= ? ORDER BY id", 2))
    assert.is_nil(db:first "SELECT * FROM t WHERE false")
    assert.are.equal(0, db:scalar "SELECT count(*) FROM pg_cursors WHERE name <> ''")
    local ok, err = pcall(db.first, db, "SELECT 1 / (id - 2) FROM t ORDER BY id")
    assert.is_false(ok)
    assert.are.equal("22012", err.code)
    assert.are.equal(1, db:scalar "SELECT 1") -- the connection is usable
  end)
end)
