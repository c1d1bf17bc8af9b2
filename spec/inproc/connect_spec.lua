-- luamig.db.connect: database URLs -> a target, and an open `db` handle.
local connect = require "luamig.db.connect"
local support = require "spec.support.raised"

-- The "config" error connect.parse raises for `url`.
local function bad(url)
  local e = support.raised(function() connect.parse(url) end)
  assert.are.equal("config", e.kind)
  return e.message
end

describe("connect.parse", function()
  it("accepts SQLite files, relative and absolute", function()
    assert.are.same({ backend = "sqlite", path = "relative.db" }, connect.parse "sqlite:///relative.db")
    assert.are.same({ backend = "sqlite", path = "dir/x.db" }, connect.parse "sqlite:///dir/x.db")
    assert.are.same({ backend = "sqlite", path = "/abs/path.db" }, connect.parse "sqlite:////abs/path.db")
  end)

  it("accepts both spellings of an in-memory SQLite database", function()
    assert.are.same({ backend = "sqlite", path = ":memory:" }, connect.parse "sqlite::memory:")
    assert.are.same({ backend = "sqlite", path = ":memory:" }, connect.parse "sqlite:///:memory:")
  end)

  it("passes PostgreSQL URLs and libpq key/value strings through as they are", function()
    for _, url in ipairs {
      "postgresql://user:pw@host:5432/db?sslmode=disable",
      "postgres://host/db",
      "postgresql:///db",
      "host=localhost dbname=app",
      "  dbname = app user=bob",
      "service_name=x",
    } do
      assert.are.same({ backend = "postgresql", conninfo = url }, connect.parse(url))
    end
  end)

  it("names a bad SQLite URL and lists the accepted forms", function()
    for _, url in ipairs { "sqlite:relative.db", "sqlite://x.db", "sqlite:///", "sqlite:" } do
      local msg = bad(url)
      assert.are.equal(1, msg:find(("bad SQLite URL %q: use sqlite:///relative.db"):format(url), 1, true), msg)
      assert.matches("sqlite::memory:, postgresql://user@host:port/db or a libpq connection string", msg, 1, true)
    end
  end)

  it("names an unsupported scheme, with the password redacted", function()
    local msg = bad "mysql://bob:s3cret@db.example/app"
    assert.are.equal(1, msg:find('unsupported database URL scheme "mysql" in "mysql://bob:***@db.example/app": ',
      1, true), msg)
    assert.not_matches("s3cret", msg)
    msg = bad "postgresq://u:hunter2@h/d"
    assert.matches('scheme "postgresq"', msg, 1, true)
    assert.not_matches("hunter2", msg)
  end)

  it("names a string it cannot read at all, with the password redacted", function()
    local msg = bad "just some words"
    assert.are.equal(1, msg:find('cannot read database URL "just some words": use sqlite:///relative.db', 1, true), msg)
    -- the scheme forgotten: user:password@host is still recognised as such
    for _, url in ipairs { "bob:s3cret@db.example:5432/app", "//bob:s3cret@host/db" } do
      msg = bad(url)
      assert.not_matches("s3cret", msg)
      assert.matches("bob:***@", msg, 1, true)
    end
    assert.are.equal("config", support.raised(function() connect.parse "" end).kind)
  end)
end)

describe("connect.open", function()
  it("opens SQLite with the dialect, foreign keys and busy time-out from the config", function()
    local db, dialect = connect.open("sqlite::memory:", { foreign_keys = true, lock_timeout = 2.5 })
    assert.are.equal("sqlite", dialect.name)
    assert.are.equal(dialect, db.dialect)
    assert.are.equal("sqlite", db.backend)
    assert.are.equal("sqlite", db:public().dialect)
    assert.are.equal(1, db:scalar "PRAGMA foreign_keys")
    assert.are.equal(2500, db:scalar "PRAGMA busy_timeout")
    assert.are.equal(1, db:scalar "SELECT 1") -- the Lua methods are installed
    db:close()
    db = connect.open("sqlite::memory:", { foreign_keys = false })
    assert.are.equal(0, db:scalar "PRAGMA foreign_keys")
    db:close()
  end)

  it("opens PostgreSQL from LUAMIG_TEST_PG", function()
    local url = assert(os.getenv "LUAMIG_TEST_PG", "LUAMIG_TEST_PG is not set: run the specs through ./test.sh")
    local db, dialect = connect.open(url, {})
    assert.are.equal("postgresql", dialect.name)
    assert.are.equal(dialect, db.dialect)
    assert.are.equal("postgresql", db:public().dialect)
    assert.are.equal(1, db:scalar "SELECT 1")
    db:close()
  end)

  it("a SQLite file it cannot open is a connect error naming the file", function()
    local e = support.raised(function() connect.open("sqlite:////nonexistent/dir/x.db", {}) end)
    assert.are.equal("connect", e.kind)
    assert.matches('cannot open database "/nonexistent/dir/x.db"', e.message, 1, true)
  end)

  it("a server it cannot reach is a connect error without the password", function()
    for _, url in ipairs {
      "postgresql://bob:s3cret@127.0.0.1:1/nodb",
      "host=127.0.0.1 port=1 user=bob password=s3cret dbname=nodb",
    } do
      local e = support.raised(function() connect.open(url, {}) end)
      assert.are.equal("connect", e.kind)
      assert.matches('cannot connect to PostgreSQL at 127.0.0.1:1, database "nodb"', e.message, 1, true)
      assert.not_matches("s3cret", tostring(e))
    end
  end)

  it("a bad URL is the config error of connect.parse", function()
    local e = support.raised(function() connect.open("mysql://bob:s3cret@h/db", {}) end)
    assert.are.equal("config", e.kind)
    assert.not_matches("s3cret", tostring(e))
  end)
end)
