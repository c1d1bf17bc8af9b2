-- luamig.pg through the real host against the PostgreSQL server that
-- test.sh starts (LUAMIG_TEST_PG). A missing server fails, it does not skip.
local sh = require "spec.support.sh"

local url = os.getenv("LUAMIG_TEST_PG")
local schema_n = 0

-- Runs `body` with `db` connected, inside a fresh schema dropped afterwards.
local function run(body)
  schema_n = schema_n + 1
  local schema = ("spec_%d_%d"):format(os.time() % 100000, schema_n)
  local src = ([[
local pg = require "luamig.pg"
local null = require "luamig.null"
local db = require("luamig.db.connect").open(%q, {})
db:exec "CREATE SCHEMA %s; SET search_path TO %s"
local ok, e = xpcall(function()
]]):format(url, schema, schema) .. body .. ([[
end, function(e) return e end)
db:exec "DROP SCHEMA %s CASCADE"
if not ok then error(e, 0) end
]]):format(schema)
  return sh.lua(src)
end

local function ok(body)
  local code, out, err = run(body)
  assert.are.equal("", err)
  assert.are.equal(0, code)
  return out
end

describe("luamig.pg", function()
  it("has a server to test against (LUAMIG_TEST_PG)", function()
    assert.is_not_nil(url, "LUAMIG_TEST_PG is not set: run the specs through ./test.sh, which starts a server")
  end)

  it("maps types both ways; NULL is an absent key; numeric stays exact text", function()
    ok [[
      db:exec [=[CREATE TABLE t (i8 BIGINT, i4 INT, i2 SMALLINT, f DOUBLE PRECISION, b BOOLEAN, n NUMERIC,
        s TEXT, by BYTEA, j JSONB, ts TIMESTAMPTZ, u UUID)]=]
      db:exec("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", math.maxinteger, -7, 3, 1.5, true,
        "12345678901234567890.000000001", "héllo", "\0\1\2\255", '{"a": 1}', "2026-11-25T12:00:00Z",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
      db:exec("INSERT INTO t (i8, s, b) VALUES (?, ?, ?)", math.mininteger, null, false)
      local a = db:first "SELECT * FROM t WHERE i8 > 0"
      assert(math.type(a.i8) == "integer" and a.i8 == math.maxinteger)
      assert(a.i4 == -7 and math.type(a.i2) == "integer" and a.f == 1.5 and a.b == true)
      assert(a.n == "12345678901234567890.000000001")
      assert(a.s == "héllo" and a.by == "\0\1\2\255" and a.j == '{"a": 1}')
      assert(type(a.ts) == "string" and a.u == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
      local b = db:first "SELECT * FROM t WHERE i8 < 0"
      assert(b.i8 == math.mininteger and b.b == false and b.s == nil and b.n == nil)
      assert(db:scalar("SELECT ?::bytea", "\0x") == "\0x")
    ]]
  end)

  it("rewrites ? outside strings, identifiers, comments and dollar quotes; $n passes through", function()
    ok [[
      db:exec [=[CREATE TABLE "we?rd" ("c?" TEXT, v TEXT)]=]
      db:exec([=[INSERT INTO "we?rd" ("c?", v) VALUES ('?', ?) -- a ? here
      ]=], "one")
      db:exec([=[/* ? /* nested ? */ */ INSERT INTO "we?rd" VALUES (E'it\'s ?', ?)]=], "two")
      db:exec([=[INSERT INTO "we?rd" VALUES ($tag$ ? $$ ? $tag$, ?)]=], "three")
      assert(db:scalar([=[SELECT count(*) FROM "we?rd" WHERE v IN (?, ?, ?)]=], "one", "two", "three") == 3)
      assert(db:scalar('SELECT "c?" FROM "we?rd" WHERE v = $1', "two") == "it's ?")
      assert(db:scalar('SELECT "c?" FROM "we?rd" WHERE v = ?', "three") == " ? $$ ? ")
    ]]
  end)

  it("exec runs scripts (summing rows changed) and returns affected rows", function()
    ok [[
      assert(db:exec [=[CREATE TABLE t (v INT); INSERT INTO t VALUES (1), (2); INSERT INTO t VALUES (3)]=] == 3)
      assert(db:exec("UPDATE t SET v = v + ?", 10) == 3)
      assert(db:exec("DELETE FROM t WHERE v > ?", 11) == 2)
    ]]
  end)

  it("streams rows through a cursor inside a transaction, writing while iterating", function()
    ok [[
      db:exec "CREATE TABLE t (id INT PRIMARY KEY, v INT)"
      db:exec "INSERT INTO t SELECT g, NULL FROM generate_series(1, 1234) g"
      db:transaction(function()
        local set = db:prepare "UPDATE t SET v = ? WHERE id = ?"
        local n = 0
        for row in db:rows("SELECT id FROM t WHERE id <= ? ORDER BY id", 5000) do
          set:exec(row.id * 2, row.id)
          n = n + 1
        end
        assert(n == 1234, n)
        for row in db:rows "SELECT id FROM t ORDER BY id" do
          if row.id == 3 then break end -- closes the cursor
        end
        local cursors = db:scalar "SELECT count(*) FROM pg_cursors WHERE name LIKE 'luamig_cur_%'"
        assert(cursors == 0, "open cursors: " .. cursors)
      end)
      assert(db:scalar "SELECT sum(v) FROM t" == 1234 * 1235)
      local n = 0
      for _ in db:rows "SELECT id FROM t" do n = n + 1 end -- outside a transaction too
      assert(n == 1234)
    ]]
  end)

  it("prepared statements are reusable, closable twice, and refuse use once closed", function()
    ok [[
      db:exec "CREATE TABLE t (a INT, b TEXT)"
      local st = db:prepare "INSERT INTO t VALUES (?, ?)"
      for i = 1, 5 do assert(st:exec(i, "x" .. i) == 1) end
      local q = db:prepare "SELECT b FROM t WHERE a >= ? ORDER BY a"
      assert(#q:query(3) == 3 and q:query(5)[1].b == "x5")
      local seen = {}
      for r in q:rows(4) do seen[#seen + 1] = r.b end
      assert(table.concat(seen, ",") == "x4,x5")
      assert(not pcall(st.exec, st, 1))
      st:close(); st:close()
      local okk, e = pcall(st.exec, st, 1, "y")
      assert(not okk and e:match("statement is closed"), e)
      assert(db:scalar "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'luamig_stmt_%'" == 1)
    ]]
  end)

  it("raises error objects with SQLSTATE, message, detail and the caller's line", function()
    local code, _, err = run [[
      db:exec "CREATE TABLE t (id INT PRIMARY KEY)"
      db:exec("INSERT INTO t VALUES (?)", 1)
      local okk, e = pcall(db.exec, db, "INSERT INTO t VALUES (?)", 1)
      assert(not okk)
      assert(e.kind == "db" and e.driver == "pg" and e.code == "23505", tostring(e))
      assert(e.detail == "Key (id)=(1) already exists.", e.detail)
      assert(e.sql == "INSERT INTO t VALUES ($1)")
      db:exec "SELEC 1"
    ]]
    assert.are.equal(1, code)
    assert.matches('^/[^\n]+%.lua:%d+: pg 42601: syntax error at or near "SELEC"', err)
  end)

  it("a failed connection names host, port and database, never the password", function()
    local code, _, err = sh.lua [[
      local pg = require "luamig.pg"
      local okk, e = pcall(pg.connect, "postgresql://bob:s3cret@127.0.0.1:1/nodb")
      assert(not okk)
      print(tostring(e))
      okk, e = pcall(pg.connect, "host=127.0.0.1 port=1 user=bob password=s3cret dbname nodb")
      assert(not okk)
      print(tostring(e))
    ]]
    assert.are.equal(0, code, err)
    local out = select(2, sh.lua [[
      local pg = require "luamig.pg"
      print(select(2, pcall(pg.connect, "postgresql://bob:s3cret@127.0.0.1:1/nodb")))
      print(select(2, pcall(pg.connect, "host=127.0.0.1 port=1 user=bob password=s3cret dbname nodb")))
    ]])
    assert.not_matches("s3cret", out)
    assert.matches('cannot connect to PostgreSQL at 127%.0%.0%.1:1, database "nodb": Connection refused', out)
    assert.matches("invalid PostgreSQL connection string", out)
  end)

  it("a closed connection refuses use; closing twice is harmless", function()
    ok [[
      db:close(); db:close()
      assert(db:is_closed())
      local okk, e = pcall(db.exec, db, "SELECT 1")
      assert(not okk and e:match("connection is closed"))
      db = pg.connect(os.getenv("LUAMIG_TEST_PG")) -- for the schema clean-up
    ]]
  end)

  it("a string that is not text (NUL, invalid UTF-8) is bytes for bytea and an error for text", function()
    ok [[
      db:exec "CREATE TABLE t (s TEXT, b BYTEA)"
      db:exec("INSERT INTO t (b) VALUES (?)", "a\0b")
      db:exec("INSERT INTO t (b) VALUES (?)", "\255\254")
      local rows = db:query "SELECT b FROM t ORDER BY b"
      assert(rows[1].b == "a\0b" and rows[2].b == "\255\254", rows[1].b)
      for _, bad in ipairs({ "a\0b", "\255\254" }) do
        local okk, e = pcall(db.exec, db, "INSERT INTO t (s) VALUES (?)", bad)
        assert(not okk and e.code:match("^22"), tostring(e))
      end
      assert(db:scalar "SELECT count(*) FROM t WHERE s IS NOT NULL" == 0)
      local st = db:prepare "INSERT INTO t (s) VALUES (?)"
      assert(not pcall(st.exec, st, "x\0y"))
      assert(db:scalar("SELECT ?::text", "plain") == "plain")
    ]]
  end)

  it("NaN, tables and SQL with a NUL byte are refused with a clear error", function()
    ok [[
      db:exec "CREATE TABLE t (f DOUBLE PRECISION)"
      local okk, e = pcall(db.exec, db, "INSERT INTO t VALUES (?)", 0/0)
      assert(not okk and tostring(e):match("parameter 1: cannot bind NaN"), tostring(e))
      okk, e = pcall(db.exec, db, "INSERT INTO t VALUES (?)", {})
      assert(not okk and tostring(e):match("parameter 1: cannot bind a table"), tostring(e))
      okk, e = pcall(db.exec, db, "CREATE TABLE a (x INT)\0; DROP TABLE t")
      assert(not okk and tostring(e):match("NUL byte"), tostring(e))
      assert(db:scalar "SELECT count(*) FROM t" == 0)
    ]]
  end)

  it("forwards notices to on_notice with their severity", function()
    local out = ok [[
      db:on_notice(function(severity, message) print(severity .. ": " .. message) end)
      db:exec "DROP TABLE IF EXISTS no_such_table"
      db:exec "DO $$ BEGIN RAISE WARNING 'careful now'; END $$"
      db:on_notice(nil)
      db:exec "DO $$ BEGIN RAISE WARNING 'not shown'; END $$"
    ]]
    assert.are.equal('NOTICE: table "no_such_table" does not exist, skipping\nWARNING: careful now\n', out)
  end)

  it("COPY through exec or query fails fast pointing to db:copy_in; the connection stays usable", function()
    -- under timeout: a hang must fail this spec, not stall the suite
    local wrapper = os.tmpname()
    sh.write(wrapper, ("#!/bin/sh\nexec timeout 20 %s \"$@\"\n"):format(sh.quote(sh.bin)))
    assert(os.execute("chmod +x " .. sh.quote(wrapper)))
    local bin = sh.bin
    sh.bin = wrapper
    local okk, code, out, err = pcall(run, [[
      db:exec "CREATE TABLE t (a INT); INSERT INTO t VALUES (1)"
      for _, sql in ipairs({ "COPY t FROM STDIN", "COPY t TO STDOUT" }) do
        for _, method in ipairs({ "exec", "query", "scalar" }) do
          local okk, e = pcall(db[method], db, sql)
          assert(not okk and tostring(e):match("db:copy_in"), method .. ": " .. tostring(e))
          assert(db:scalar "SELECT count(*) FROM t" == 1)
        end
      end
      db:transaction(function(d)
        assert(not pcall(d.exec, d, "COPY t TO STDOUT"))
      end)
      print "done"
    ]])
    sh.bin = bin
    os.remove(wrapper)
    assert(okk, code)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("done\n", out)
  end)
end)
