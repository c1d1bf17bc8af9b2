-- The `db` handle's Lua half (luamig.db + dialects) through luamig.db.connect,
-- on both drivers against real databases: first, scalar, transaction and
-- savepoints, autocommit sections, introspection, quoting.
local connect = require "luamig.db.connect"
local sh = require "spec.support.sh"
local support = require "spec.support.raised"
local fixtures = require "spec.support.fixtures"

-- The values of column `col` of a query's rows, in order.
local function column(db, sql, col)
  local vals = {}
  for r in db:rows(sql) do vals[#vals + 1] = r[col] end
  return vals
end

for _, b in ipairs(sh.backends()) do describe("db handle on " .. b.name, function()
  local db, url, remove
  before_each(function()
    url, remove = fixtures.fresh_url(b)
    db = connect.open(url, { foreign_keys = true })
  end)
  after_each(function()
    db:close()
    remove()
  end)

  it("first and scalar return the first row / first column, or nil", function()
    db:exec "CREATE TABLE t (b TEXT, a INTEGER); INSERT INTO t VALUES ('x', 1), ('y', 2)"
    assert.are.equal("y", db:first("SELECT * FROM t ORDER BY a DESC").b)
    assert.is_nil(db:first("SELECT * FROM t WHERE a > ?", 5))
    assert.are.equal("x", db:scalar("SELECT b, a FROM t ORDER BY a")) -- the first column, not any column
    assert.are.equal(2, db:scalar("SELECT a FROM t WHERE b = ?", "y"))
    assert.is_nil(db:scalar("SELECT a FROM t WHERE a > 9"))
    assert.is_nil(db:scalar("SELECT NULL"))
    assert.are.equal("integer", math.type(db:scalar("SELECT count(*) FROM t")))
  end)

  it("transaction commits, rolls back on error and re-raises, and nests as savepoints", function()
    db:exec "CREATE TABLE t (v INTEGER)"
    assert.are.same({ "r1", 2 }, { db:transaction(function(d) d:exec("INSERT INTO t VALUES (1)") return "r1", 2 end) })
    assert.is_false(db:in_transaction())
    local mine = { custom = true }
    local okk, e = pcall(db.transaction, db, function(d)
      d:exec "INSERT INTO t VALUES (2)"
      error(mine)
    end)
    assert.is_false(okk)
    assert.are.equal(mine, e) -- the error object re-raised as is
    assert.is_false(db:in_transaction())
    db:transaction(function(d)
      d:exec "INSERT INTO t VALUES (3)"
      assert.has_error(function()
        d:transaction(function(d2)
          d2:exec "INSERT INTO t VALUES (4)"
          d2:exec "INSERT INTO nope VALUES (1)"
        end)
      end)
      assert.is_true(d:in_transaction(), "outer transaction still open")
      d:transaction(function(d2) d2:exec "INSERT INTO t VALUES (5)" end)
    end)
    assert.are.same({ 1, 3, 5 }, column(db, "SELECT v FROM t ORDER BY v", "v"))
  end)

  it("a failed COMMIT (deferred foreign key) rolls back and raises", function()
    db:exec [=[CREATE TABLE p (id INTEGER PRIMARY KEY);
      CREATE TABLE c (p INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)]=]
    local e = support.raised(function()
      db:transaction(function(d) d:exec "INSERT INTO c VALUES (42)" end)
    end)
    assert.is_false(db:in_transaction(), "rolled back")
    assert.are.equal(0, db:scalar "SELECT count(*) FROM c")
    assert.matches(b.name == "sqlite" and "SQLITE_CONSTRAINT_FOREIGNKEY: FOREIGN KEY constraint failed"
      or 'pg 23503: insert or update on table "c" violates foreign key constraint', tostring(e))
  end)

  it("autocommit commits what came before, runs outside a transaction, then begins anew", function()
    db:exec "CREATE TABLE t (v INTEGER)"
    db:exec "BEGIN"
    db:exec "INSERT INTO t VALUES (1)"
    local r1, r2 = db:autocommit(function(d)
      assert.is_false(d:in_transaction())
      d:exec "VACUUM"
      return "done", 2
    end)
    assert.are.same({ "done", 2 }, { r1, r2 })
    assert.is_true(db:in_transaction())
    db:exec "INSERT INTO t VALUES (2)"
    db:exec "ROLLBACK"
    assert.are.equal(1, db:scalar "SELECT count(*) FROM t", "the part before the section was committed")
    -- outside a transaction it just runs; an error is re-raised as is
    local mine = { mine = true }
    local okk, e = pcall(db.autocommit, db, function() error(mine) end)
    assert.is_false(okk)
    assert.are.equal(mine, e)
    assert.is_false(db:in_transaction())
    e = support.raised(function() db:transaction(function(d) d:autocommit(function() end) end) end)
    assert.matches("cannot run inside db:transaction", tostring(e))
    assert.is_false(db:in_transaction())
  end)

  it("copy_in inserts many rows (COPY on PostgreSQL), awkward values intact; a failing source inserts nothing",
    function()
      db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, f DOUBLE PRECISION, b BOOLEAN)"
      local odd = "tab\there, line\nbreak, back\\slash, cr\r, ünïcode, \\N"
      local rows = { { id = 1, s = odd, f = 0.1, b = true }, { id = 2, b = false }, { id = 3, s = "", f = -1e300 } }
      assert.are.equal(3, db:copy_in("t", { "id", "s", "f", "b" }, rows))
      local r = db:first "SELECT * FROM t WHERE id = 1"
      assert.are.equal(odd, r.s)
      assert.are.equal(0.1, r.f)
      assert.are.equal(b.name == "sqlite" and 1 or true, r.b)
      assert.is_nil(db:first("SELECT * FROM t WHERE id = 2").s)
      assert.are.equal("", db:first("SELECT * FROM t WHERE id = 3").s)
      local i = 3
      local n = db:copy_in("t", { "id", "s" }, function()
        i = i + 1
        if i <= 5003 then return { id = i, s = "r" .. i } end
      end)
      assert.are.equal(5000, n)
      assert.are.equal(5003, db:scalar "SELECT count(*) FROM t")
      local e = support.raised(function()
        db:transaction(function(d)
          local k = 0
          d:copy_in("t", { "id" }, function()
            k = k + 1
            if k > 1500 then error("source broke") end
            return { id = 10000 + k }
          end)
        end)
      end)
      assert.matches("source broke", tostring(e))
      assert.are.equal(5003, db:scalar "SELECT count(*) FROM t")
    end)

  it("introspects tables, columns and indexes", function()
    db:exec "CREATE TABLE users (id INTEGER, Email TEXT); CREATE INDEX users_email ON users (Email)"
    assert.is_true(db:has_table "users")
    assert.is_false(db:has_table "nope")
    assert.is_true(db:has_column("users", "email"))
    assert.is_false(db:has_column("users", "phone"))
    assert.is_false(db:has_column("nope", "id"))
    assert.is_true(db:has_index "users_email")
    assert.is_false(db:has_index "users_id")
    assert.are.equal(b.name, db.backend)
    assert.are.equal(b.name, db:public().dialect)
  end)

  it("quotes identifiers and literals safely", function()
    assert.are.equal('"we""ird"', db:quote_ident 'we"ird')
    assert.are.equal("'it''s'", db:quote_literal "it's")
    assert.are.equal("NULL", db:quote_literal(nil))
    assert.are.equal("42", db:quote_literal(42))
    assert.are.equal("TRUE", db:quote_literal(true))
    local name = 'odd "table"; DROP'
    db:exec("CREATE TABLE " .. db:quote_ident(name) .. " (v TEXT)")
    db:exec("INSERT INTO " .. db:quote_ident(name) .. " VALUES (" .. db:quote_literal("a'); --") .. ")")
    assert.are.equal("a'); --", db:scalar("SELECT v FROM " .. db:quote_ident(name)))
    assert.has_error(function() db:quote_literal {} end)
    assert.has_error(function() db:quote_ident "" end)
  end)

  it("copy_in refuses a table or NaN value, naming the column and the row", function()
    db:exec "CREATE TABLE t (id INTEGER, v TEXT, f DOUBLE PRECISION)"
    local e = support.raised(function() db:copy_in("t", { "id", "v" }, { { id = 1, v = "a" }, { id = 2, v = {} } }) end)
    assert.matches('row 2, column "v": cannot store a table', tostring(e))
    e = support.raised(function() db:copy_in("t", { "id", "f" }, { { id = 1, f = 0 / 0 } }) end)
    assert.matches('row 1, column "f": cannot store NaN', tostring(e))
    assert.are.equal(0, db:scalar "SELECT count(*) FROM t")
  end)
end) end
