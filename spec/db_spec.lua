-- The `db` handle's Lua half (luamig.db + dialects) through luamig.connect,
-- on both drivers against real databases: first, scalar, transaction and
-- savepoints, autocommit sections, introspection, quoting.
local sh = require "spec.support.sh"

-- Runs `body` in the host with `db` connected to `url`.
local function run(url, body)
  local src = ([[
local connect = require "luamig.db.connect"
local config = require "luamig.project.config"
local null = require "luamig.null"
local db = connect.open(%q, { foreign_keys = true })
local DIALECT = %q
]]):format(url, url:match("^sqlite") and "sqlite" or "postgresql") .. body
  return sh.lua(src)
end

local function fresh(backend)
  if backend.name == "postgresql" then return sh.fresh_pg() end
  local path = os.tmpname()
  os.remove(path)
  return "sqlite:///" .. path
end

for _, b in ipairs(sh.backends()) do describe("db handle on " .. b.name, function()
  local url
  before_each(function() url = fresh(b) end)

  local function ok(body)
    local code, out, err = run(url, body)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    return out
  end

  it("first and scalar return the first row / first column, or nil", function()
    ok [[
      db:exec "CREATE TABLE t (b TEXT, a INTEGER); INSERT INTO t VALUES ('x', 1), ('y', 2)"
      assert(db:first("SELECT * FROM t ORDER BY a DESC").b == "y")
      assert(db:first("SELECT * FROM t WHERE a > ?", 5) == nil)
      assert(db:scalar("SELECT b, a FROM t ORDER BY a") == "x") -- the first column, not any column
      assert(db:scalar("SELECT a FROM t WHERE b = ?", "y") == 2)
      assert(db:scalar("SELECT a FROM t WHERE a > 9") == nil)
      assert(db:scalar("SELECT NULL") == nil)
      assert(math.type(db:scalar("SELECT count(*) FROM t")) == "integer")
    ]]
  end)

  it("transaction commits, rolls back on error and re-raises, and nests as savepoints", function()
    ok [[
      db:exec "CREATE TABLE t (v INTEGER)"
      assert(db:transaction(function(d) d:exec("INSERT INTO t VALUES (1)") return "r1", 2 end) == "r1")
      assert(not db:in_transaction())
      local okk, e = pcall(db.transaction, db, function(d)
        d:exec "INSERT INTO t VALUES (2)"
        error({ custom = true })
      end)
      assert(not okk and e.custom, "error object re-raised as is")
      assert(not db:in_transaction())
      db:transaction(function(d)
        d:exec "INSERT INTO t VALUES (3)"
        local inner_ok = pcall(d.transaction, d, function(d2)
          d2:exec "INSERT INTO t VALUES (4)"
          d2:exec "INSERT INTO nope VALUES (1)"
        end)
        assert(not inner_ok)
        assert(d:in_transaction(), "outer transaction still open")
        d:transaction(function(d2) d2:exec "INSERT INTO t VALUES (5)" end)
      end)
      local vals = {}
      for r in db:rows "SELECT v FROM t ORDER BY v" do vals[#vals + 1] = r.v end
      assert(table.concat(vals, ",") == "1,3,5", table.concat(vals, ","))
    ]]
  end)

  it("a failed COMMIT (deferred foreign key) rolls back and raises", function()
    local code, _, err = run(url, [[
      db:exec [=[CREATE TABLE p (id INTEGER PRIMARY KEY);
        CREATE TABLE c (p INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)]=]
      local okk, e = pcall(db.transaction, db, function(d) d:exec "INSERT INTO c VALUES (42)" end)
      assert(not okk)
      assert(not db:in_transaction(), "rolled back")
      assert(db:scalar "SELECT count(*) FROM c" == 0)
      error(e)
    ]])
    assert.are.equal(1, code)
    assert.matches(b.name == "sqlite" and "SQLITE_CONSTRAINT_FOREIGNKEY: FOREIGN KEY constraint failed"
      or 'pg 23503: insert or update on table "c" violates foreign key constraint', err)
  end)

  it("autocommit commits what came before, runs outside a transaction, then begins anew", function()
    ok [[
      db:exec "CREATE TABLE t (v INTEGER)"
      db:exec "BEGIN"
      db:exec "INSERT INTO t VALUES (1)"
      local r1, r2 = db:autocommit(function(d)
        assert(not d:in_transaction())
        d:exec "VACUUM"
        return "done", 2
      end)
      assert(r1 == "done" and r2 == 2 and db:in_transaction())
      db:exec "INSERT INTO t VALUES (2)"
      db:exec "ROLLBACK"
      assert(db:scalar "SELECT count(*) FROM t" == 1, "the part before the section was committed")
      -- outside a transaction it just runs; an error is re-raised as is
      local okk, e = pcall(db.autocommit, db, function() error({ mine = true }) end)
      assert(not okk and e.mine and not db:in_transaction())
      okk, e = pcall(db.transaction, db, function(d) d:autocommit(function() end) end)
      assert(not okk and e:match("cannot run inside db:transaction"), e)
      assert(not db:in_transaction())
    ]]
  end)

  it("copy_in inserts many rows (COPY on PostgreSQL), awkward values intact; a failing source inserts nothing",
    function()
      ok [[
        db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, f DOUBLE PRECISION, b BOOLEAN)"
        local odd = "tab\there, line\nbreak, back\\slash, cr\r, ünïcode, \\N"
        local rows = { { id = 1, s = odd, f = 0.1, b = true }, { id = 2, b = false }, { id = 3, s = "", f = -1e300 } }
        assert(db:copy_in("t", { "id", "s", "f", "b" }, rows) == 3)
        local r = db:first "SELECT * FROM t WHERE id = 1"
        assert(r.s == odd, r.s)
        assert(r.f == 0.1 and (r.b == true or r.b == 1))
        assert(db:first("SELECT * FROM t WHERE id = 2").s == nil)
        assert(db:first("SELECT * FROM t WHERE id = 3").s == "")
        local i = 3
        local n = db:copy_in("t", { "id", "s" }, function()
          i = i + 1
          if i <= 5003 then return { id = i, s = "r" .. i } end
        end)
        assert(n == 5000 and db:scalar "SELECT count(*) FROM t" == 5003)
        local okk, e = pcall(db.transaction, db, function(d)
          local k = 0
          d:copy_in("t", { "id" }, function()
            k = k + 1
            if k > 1500 then error("source broke") end
            return { id = 10000 + k }
          end)
        end)
        assert(not okk and tostring(e):match("source broke"), tostring(e))
        assert(db:scalar "SELECT count(*) FROM t" == 5003)
      ]]
    end)

  it("introspects tables, columns and indexes", function()
    ok [[
      db:exec "CREATE TABLE users (id INTEGER, Email TEXT); CREATE INDEX users_email ON users (Email)"
      assert(db:has_table "users" and not db:has_table "nope")
      assert(db:has_column("users", "email") and not db:has_column("users", "phone"))
      assert(not db:has_column("nope", "id"))
      assert(db:has_index "users_email" and not db:has_index "users_id")
      assert(db.dialect == DIALECT, db.dialect)
    ]]
  end)

  it("quotes identifiers and literals safely", function()
    ok [[
      assert(db:quote_ident 'we"ird' == '"we""ird"')
      assert(db:quote_literal "it's" == "'it''s'")
      assert(db:quote_literal(nil) == "NULL" and db:quote_literal(42) == "42" and db:quote_literal(true) == "TRUE")
      local name = 'odd "table"; DROP'
      db:exec("CREATE TABLE " .. db:quote_ident(name) .. " (v TEXT)")
      db:exec("INSERT INTO " .. db:quote_ident(name) .. " VALUES (" .. db:quote_literal("a'); --") .. ")")
      assert(db:scalar("SELECT v FROM " .. db:quote_ident(name)) == "a'); --")
      assert(not pcall(db.quote_literal, db, {}))
      assert(not pcall(db.quote_ident, db, ""))
    ]]
  end)

  it("copy_in refuses a table or NaN value, naming the column and the row", function()
    ok [[
      db:exec "CREATE TABLE t (id INTEGER, v TEXT, f DOUBLE PRECISION)"
      local okk, e = pcall(db.copy_in, db, "t", { "id", "v" }, { { id = 1, v = "a" }, { id = 2, v = {} } })
      assert(not okk and tostring(e):match('row 2, column "v": cannot store a table'), tostring(e))
      okk, e = pcall(db.copy_in, db, "t", { "id", "f" }, { { id = 1, f = 0/0 } })
      assert(not okk and tostring(e):match('row 1, column "f": cannot store NaN'), tostring(e))
      assert(db:scalar "SELECT count(*) FROM t" == 0)
    ]]
  end)
end) end
