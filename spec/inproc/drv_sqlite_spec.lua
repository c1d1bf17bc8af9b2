-- luamig.sqlite in the host against real SQLite files.
local sqlite = require "luamig.sqlite"
local null = require "luamig.null"
local support = require "spec.support.raised"
local raised = support.raised

describe("luamig.sqlite", function()
  local path, db
  local function open(opts)
    db = sqlite.open(path, opts)
    return db
  end
  before_each(function() path = support.tmpname() end)
  after_each(function()
    if db then db:close() end
    db = nil
    os.remove(path)
  end)

  it("readonly = true reads, refuses writes and creates nothing (a fleet's no-op check)", function()
    assert.is_not_nil(raised(function() open({ readonly = true }) end))
    assert.is_nil(io.open(path))
    open()
    db:exec "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)"
    db:close()
    open({ readonly = true })
    assert.are.equal(1, db:scalar "SELECT x FROM t")
    assert.are.equal("SQLITE_READONLY", raised(function() db:exec "INSERT INTO t VALUES (2)" end).code)
  end)

  it("runs under Lua 5.4", function()
    assert.are.equal("Lua 5.4", _VERSION)
  end)

  it("maps types both ways; NULL is an absent key", function()
    open()
    db:exec "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT, flag INTEGER)"
    db:exec("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", math.maxinteger, 1.5, "h\0llo", "\0\1\2\255", null, true)
    db:exec("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", math.mininteger, -0.25, "", "", nil, false)
    local rows = db:query "SELECT * FROM t ORDER BY i DESC"
    assert.are.equal(2, #rows)
    local a, b = rows[1], rows[2]
    assert.are.equal("integer", math.type(a.i))
    assert.are.equal(math.maxinteger, a.i)
    assert.are.equal(math.mininteger, b.i)
    assert.are.equal("float", math.type(a.r))
    assert.are.equal(1.5, a.r)
    assert.are.equal("h\0llo", a.s)
    assert.are.equal(5, #a.s)
    assert.are.equal("\0\1\2\255", a.b)
    assert.is_nil(a.n)
    assert.is_nil(b.n)
    assert.are.equal(1, a.flag)
    assert.are.equal(0, b.flag)
    -- the NULL column is absent, not a key holding a sentinel
    assert.are.same({ i = math.maxinteger, r = 1.5, s = "h\0llo", b = "\0\1\2\255", flag = 1 }, a)
  end)

  it("exec runs scripts, skips empty statements and returns affected rows", function()
    open()
    assert.are.equal(3, db:exec [[
      -- a comment
      CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);;
      INSERT INTO t (v) VALUES ('a'), ('b'), ('c');
      /* block comment */ ;
    ]])
    assert.are.equal(2, db:exec("UPDATE t SET v = ? WHERE id > ?", "z", 1))
    assert.are.equal(0, db:exec("SELECT * FROM t"))
    assert.are.equal(0, db:exec "   ")
  end)

  it("checks parameter counts and bindable values, naming the caller's line", function()
    open()
    db:exec "CREATE TABLE t (v)"
    local e, at = raised(function() db:exec("INSERT INTO t VALUES (?)") end)
    assert.are.equal(at .. "statement takes 1 parameter, 0 given", tostring(e))
    e, at = raised(function() db:exec("INSERT INTO t VALUES (?)", 1, 2) end)
    assert.are.equal(at .. "statement takes 1 parameter, 2 given", tostring(e))
    e, at = raised(function() db:exec("INSERT INTO t VALUES (?)", {}) end)
    assert.are.equal(at .. "parameter 1: cannot bind a table", tostring(e))
    e = raised(function() db:exec("SELECT ?; SELECT ?", 1) end)
    assert.matches("exec with parameters takes a single statement", tostring(e))
  end)

  it("trailing nil parameters bind as NULL", function()
    open()
    db:exec "CREATE TABLE t (a, b)"
    db:exec("INSERT INTO t VALUES (?, ?)", 1, nil)
    assert.are.same({ { a = 1 } }, db:query("SELECT * FROM t"))
  end)

  it("streams rows: an endless query can be iterated and left", function()
    open()
    local n = 0
    for row in db:rows "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c" do
      n = row.x
      if n == 5 then break end
    end
    assert.are.equal(5, n)
  end)

  it("breaking out of rows() releases the statement, so the table can be dropped", function()
    open()
    db:exec "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)"
    db:exec "BEGIN"
    for _ in db:rows "SELECT x FROM t" do break end -- luacheck: ignore 512
    db:exec "DROP TABLE t"
    db:exec "COMMIT"
    assert.are.same({}, db:query "SELECT name FROM sqlite_schema WHERE name = 't'")
  end)

  it("rows() with parameters, and writes while iterating (the backfill pattern)", function()
    open()
    db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, w INTEGER)"
    local ins = db:prepare "INSERT INTO t (v) VALUES (?)"
    for i = 1, 100 do ins:exec(i) end
    local set = db:prepare "UPDATE t SET w = ? WHERE id = ?"
    db:exec "BEGIN IMMEDIATE"
    for row in db:rows("SELECT id, v FROM t WHERE v > ?", 50) do set:exec(row.v * 2, row.id) end
    db:exec "COMMIT"
    assert.are.same({ { s = 7550, n = 50 } }, db:query "SELECT sum(w) AS s, count(w) AS n FROM t")
  end)

  it("prepared statements are reusable, closable twice, and refuse use once closed", function()
    open()
    db:exec "CREATE TABLE t (v)"
    local s = db:prepare "INSERT INTO t VALUES (?)"
    for i = 1, 3 do assert.are.equal(1, s:exec(i)) end
    local q = db:prepare "SELECT v FROM t WHERE v >= ? ORDER BY v"
    assert.are.equal(2, #q:query(2))
    for row in q:rows(1) do if row.v == 2 then break end end
    local seen = {}
    for row in q:rows(1) do seen[#seen + 1] = row.v end
    assert.are.same({ 1, 2, 3 }, seen)
    do local tmp <close> = db:prepare "SELECT 1" end -- luacheck: ignore tmp
    s:close()
    s:close()
    local e, at = raised(function() s:exec(4) end)
    assert.are.equal(at .. "statement is closed", tostring(e))
  end)

  it("a closed connection refuses use; closing twice is harmless", function()
    open()
    local s = db:prepare "SELECT 1"
    db:close()
    db:close()
    local e, at = raised(function() s:query() end)
    assert.are.equal(at .. "connection is closed", tostring(e))
  end)

  it("raises error objects with driver, code, message, sql and the caller's line", function()
    open()
    db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)"
    db:exec("INSERT INTO t (v) VALUES (?)", "a")
    local e, at = raised(function() db:exec("INSERT INTO t (v) VALUES (?)", "a") end)
    assert.are.equal("table", type(e))
    assert.are.same({ "db", "sqlite", "SQLITE_CONSTRAINT_UNIQUE", "UNIQUE constraint failed: t.v" },
      { e.kind, e.driver, e.code, e.message })
    assert.are.equal("INSERT INTO t (v) VALUES (?)", e.sql)
    assert.are.equal(at .. "sqlite SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed: t.v", tostring(e))
    e, at = raised(function() db:exec("INSERT INTO nope VALUES (1)") end)
    assert.are.equal(at .. "sqlite SQLITE_ERROR: no such table: nope", tostring(e))
  end)

  it("reports transaction state", function()
    open()
    assert.is_false(db:in_transaction())
    db:exec "BEGIN IMMEDIATE"
    assert.is_true(db:in_transaction())
    db:exec "ROLLBACK"
    assert.is_false(db:in_transaction())
  end)

  it("enforces foreign keys unless turned off", function()
    local schema = "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p INTEGER REFERENCES p(id))"
    open():exec(schema)
    local e = raised(function() db:exec "INSERT INTO c VALUES (42)" end)
    assert.matches("FOREIGN KEY constraint failed", tostring(e))
    db:close()
    os.remove(path)
    open({ foreign_keys = false }):exec(schema)
    assert.are.equal(1, db:exec "INSERT INTO c VALUES (42)")
  end)

  it("leaves the journal mode as the user set it", function()
    assert.is_true(os.execute(("sqlite3 %s 'PRAGMA journal_mode = WAL; CREATE TABLE x (a)' >/dev/null"):format(path)))
    open()
    assert.are.equal("wal", db:query("PRAGMA journal_mode")[1].journal_mode)
    db:close()
    os.remove(path .. "-wal")
    os.remove(path .. "-shm")
  end)

  it("fails to open a missing directory or a non-database with one clear line", function()
    local e = raised(function() sqlite.open("/nonexistent/dir/x.db") end)
    assert.matches('cannot open database "/nonexistent/dir/x.db": unable to open database file$', tostring(e))
    local f = assert(io.open(path, "wb"))
    f:write(string.rep("not a database ", 100))
    f:close()
    e = raised(function() sqlite.open(path) end)
    assert.matches("SQLITE_NOTADB: cannot open database .*file is not a database$", tostring(e))
    assert.not_matches("\n", tostring(e))
  end)

  it("SQL with a NUL byte and NaN parameters are errors, not silently truncated or NULL", function()
    open()
    db:exec "CREATE TABLE p (x)"
    local e = raised(function() db:exec "CREATE TABLE a (x)\0; DROP TABLE p" end)
    assert.matches("SQL text holds a NUL byte %(at byte 19%)", e)
    assert.are.equal(1, db:scalar "SELECT count(*) FROM sqlite_master WHERE name IN ('a', 'p')")
    raised(function() db:query "SELECT 1\0" end)
    raised(function() db:prepare "SELECT 1\0" end)
    local at
    e, at = raised(function() db:exec("INSERT INTO p VALUES (?)", 0 / 0) end)
    assert.are.equal(at .. "parameter 1: cannot bind NaN", e)
    assert.are.equal(0, db:scalar "SELECT count(*) FROM p")
  end)
end)
