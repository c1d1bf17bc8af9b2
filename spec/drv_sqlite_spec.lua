-- luamig.sqlite through the real host against real SQLite files.
local sh = require "spec.support.sh"

--- Run a Lua snippet in the host with `db` open on a fresh temp file.
local function run(body, opts)
  local path = os.tmpname()
  os.remove(path)
  local src = ([[
local sqlite = require "luamig.sqlite"
local null = require "luamig.null"
local db = sqlite.open(%q, %s)
]]):format(path, opts or "nil") .. body
  local code, out, err = sh.lua(src)
  os.remove(path)
  return code, out, err
end

local function ok(body, opts)
  local code, out, err = run(body, opts)
  assert.are.equal("", err)
  assert.are.equal(0, code)
  return out
end

describe("luamig.sqlite", function()
  it("runs under Lua 5.4, in the host too", function()
    assert.are.equal("Lua 5.4", _VERSION)
    assert.are.equal("Lua 5.4\n", ok "print(_VERSION)")
  end)

  it("maps types both ways; NULL is an absent key", function()
    ok [[
      db:exec "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT, flag INTEGER)"
      db:exec("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
        math.maxinteger, 1.5, "h\0llo", "\0\1\2\255", null, true)
      db:exec("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", math.mininteger, -0.25, "", "", nil, false)
      local rows = db:query "SELECT * FROM t ORDER BY i DESC"
      assert(#rows == 2)
      local a, b = rows[1], rows[2]
      assert(math.type(a.i) == "integer" and a.i == math.maxinteger)
      assert(b.i == math.mininteger)
      assert(math.type(a.r) == "float" and a.r == 1.5)
      assert(a.s == "h\0llo" and #a.s == 5)
      assert(a.b == "\0\1\2\255")
      assert(a.n == nil and b.n == nil)
      assert(a.flag == 1 and b.flag == 0)
      local keys = 0
      for _ in pairs(a) do keys = keys + 1 end
      assert(keys == 5, "NULL column must be absent, got " .. keys .. " keys")
    ]]
  end)

  it("exec runs scripts, skips empty statements and returns affected rows", function()
    local out = ok [==[
      print(db:exec [[
        -- a comment
        CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);;
        INSERT INTO t (v) VALUES ('a'), ('b'), ('c');
        /* block comment */ ;
      ]])
      print(db:exec("UPDATE t SET v = ? WHERE id > ?", "z", 1))
      print(db:exec("SELECT * FROM t"))
      print(db:exec "   ")
    ]==]
    assert.are.equal("3\n2\n0\n0\n", out)
  end)

  it("checks parameter counts and bindable values, naming the caller's line", function()
    local code, _, err = run [[
      db:exec "CREATE TABLE t (v)"
      db:exec("INSERT INTO t VALUES (?)")
    ]]
    assert.are.equal(1, code)
    assert.matches("%.lua:5: statement takes 1 parameter, 0 given", err)
    code, _, err = run [[
      db:exec "CREATE TABLE t (v)"
      db:exec("INSERT INTO t VALUES (?)", 1, 2)
    ]]
    assert.are.equal(1, code)
    assert.matches(":5: statement takes 1 parameter, 2 given", err)
    code, _, err = run [[
      db:exec "CREATE TABLE t (v)"
      db:exec("INSERT INTO t VALUES (?)", {})
    ]]
    assert.are.equal(1, code)
    assert.matches(":5: parameter 1: cannot bind a table", err)
    code, _, err = run [[
      db:exec("SELECT ?; SELECT ?", 1)
    ]]
    assert.are.equal(1, code)
    assert.matches("exec with parameters takes a single statement", err)
  end)

  it("trailing nil parameters bind as NULL", function()
    ok [[
      db:exec "CREATE TABLE t (a, b)"
      db:exec("INSERT INTO t VALUES (?, ?)", 1, nil)
      local r = db:query("SELECT * FROM t")[1]
      assert(r.a == 1 and r.b == nil)
    ]]
  end)

  it("streams rows: an endless query can be iterated and left", function()
    local out = ok [[
      local n = 0
      for row in db:rows "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c" do
        n = row.x
        if n == 5 then break end
      end
      print(n)
    ]]
    assert.are.equal("5\n", out)
  end)

  it("breaking out of rows() releases the statement, so the table can be dropped", function()
    ok [[
      db:exec "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)"
      db:exec "BEGIN"
      for row in db:rows "SELECT x FROM t" do break end
      db:exec "DROP TABLE t"
      db:exec "COMMIT"
      assert(#db:query "SELECT name FROM sqlite_schema WHERE name = 't'" == 0)
    ]]
  end)

  it("rows() with parameters, and writes while iterating (the backfill pattern)", function()
    local out = ok [[
      db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, w INTEGER)"
      local ins = db:prepare "INSERT INTO t (v) VALUES (?)"
      for i = 1, 100 do ins:exec(i) end
      local set = db:prepare "UPDATE t SET w = ? WHERE id = ?"
      db:exec "BEGIN IMMEDIATE"
      for row in db:rows("SELECT id, v FROM t WHERE v > ?", 50) do set:exec(row.v * 2, row.id) end
      db:exec "COMMIT"
      print(db:query("SELECT sum(w) AS s, count(w) AS n FROM t")[1].s, db:query("SELECT count(w) AS n FROM t")[1].n)
    ]]
    assert.are.equal("7550\t50\n", out)
  end)

  it("prepared statements are reusable, closable twice, and refuse use once closed", function()
    local code, out, err = run [[
      db:exec "CREATE TABLE t (v)"
      local s = db:prepare "INSERT INTO t VALUES (?)"
      for i = 1, 3 do assert(s:exec(i) == 1) end
      local q = db:prepare "SELECT v FROM t WHERE v >= ? ORDER BY v"
      assert(#q:query(2) == 2)
      for row in q:rows(1) do if row.v == 2 then break end end
      local seen = {}
      for row in q:rows(1) do seen[#seen + 1] = row.v end
      assert(table.concat(seen, ",") == "1,2,3", table.concat(seen, ","))
      do local tmp <close> = db:prepare "SELECT 1" end
      s:close()
      s:close()
      print("closed")
      s:exec(4)
    ]]
    assert.are.equal("closed\n", out)
    assert.are.equal(1, code)
    assert.matches(":17: statement is closed", err)
  end)

  it("a closed connection refuses use; closing twice is harmless", function()
    local code, _, err = run [[
      local s = db:prepare "SELECT 1"
      db:close()
      db:close()
      s:query()
    ]]
    assert.are.equal(1, code)
    assert.matches(":7: connection is closed", err)
  end)

  it("raises error objects with driver, code, message, sql and the caller's line", function()
    local out = ok [[
      db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)"
      db:exec("INSERT INTO t (v) VALUES (?)", "a")
      local okk, e = pcall(db.exec, db, "INSERT INTO t (v) VALUES (?)", "a")
      assert(not okk and type(e) == "table")
      print(e.kind, e.driver, e.code, e.message)
      print(e.sql)
      print(tostring(e))
      okk, e = pcall(db.exec, db, "INSERT INTO nope VALUES (1)")
      print(tostring(e))
    ]]
    assert.matches("db\tsqlite\tSQLITE_CONSTRAINT_UNIQUE\tUNIQUE constraint failed: t.v\n", out, 1, true)
    assert.matches("INSERT INTO t (v) VALUES (?)\n", out, 1, true)
    assert.matches("%.lua:6: sqlite SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed: t.v\n", out)
    assert.matches("%.lua:11: sqlite SQLITE_ERROR: no such table: nope\n", out)
  end)

  it("reports transaction state", function()
    assert.are.equal("false\ttrue\tfalse\n", ok [[
      local a = db:in_transaction()
      db:exec "BEGIN IMMEDIATE"
      local b = db:in_transaction()
      db:exec "ROLLBACK"
      print(a, b, db:in_transaction())
    ]])
  end)

  it("enforces foreign keys unless turned off", function()
    local schema = [[
      db:exec "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p INTEGER REFERENCES p(id))"
      print(pcall(db.exec, db, "INSERT INTO c VALUES (42)"))
    ]]
    assert.matches("^false\t.*FOREIGN KEY constraint failed", ok(schema))
    assert.matches("^true\t1", ok(schema, "{ foreign_keys = false }"))
  end)

  it("leaves the journal mode as the user set it", function()
    local path = os.tmpname()
    assert(os.execute(("sqlite3 %s 'PRAGMA journal_mode = WAL; CREATE TABLE x (a)' >/dev/null"):format(path)))
    local code, out = sh.lua(([[
      local db = require("luamig.sqlite").open(%q)
      print(db:query("PRAGMA journal_mode")[1].journal_mode)
    ]]):format(path))
    os.remove(path)
    os.remove(path .. "-wal")
    os.remove(path .. "-shm")
    assert.are.equal(0, code)
    assert.are.equal("wal\n", out)
  end)

  it("fails to open a missing directory or a non-database with one clear line", function()
    local code, _, err = sh.lua [[require("luamig.sqlite").open("/nonexistent/dir/x.db")]]
    assert.are.equal(1, code)
    assert.matches('cannot open database "/nonexistent/dir/x.db": unable to open database file\n$', err)
    local junk = os.tmpname()
    sh.write(junk, string.rep("not a database ", 100))
    code, _, err = sh.lua(([[require("luamig.sqlite").open(%q)]]):format(junk))
    os.remove(junk)
    assert.are.equal(1, code)
    assert.matches("SQLITE_NOTADB: cannot open database .*file is not a database\n$", err)
  end)

  it("SQL with a NUL byte and NaN parameters are errors, not silently truncated or NULL", function()
    ok [[
      db:exec "CREATE TABLE p (x)"
      local okk, e = pcall(db.exec, db, "CREATE TABLE a (x)\0; DROP TABLE p")
      assert(not okk and tostring(e):match("NUL byte"), tostring(e))
      assert(db:scalar "SELECT count(*) FROM sqlite_master WHERE name IN ('a', 'p')" == 1)
      assert(not pcall(db.query, db, "SELECT 1\0"))
      assert(not pcall(db.prepare, db, "SELECT 1\0"))
      okk, e = pcall(db.exec, db, "INSERT INTO p VALUES (?)", 0/0)
      assert(not okk and tostring(e):match("parameter 1: cannot bind NaN"), tostring(e))
      assert(db:scalar "SELECT count(*) FROM p" == 0)
    ]]
  end)
end)
