-- db:guard_transaction on both drivers: while the runner holds the guard, a
-- statement of a migration's (here: this spec's, not the runner's code)
-- cannot end the transaction unnoticed; only the guard's key disarms it.
local sh = require "spec.support.sh"
local connect = require "luamig.db.connect"
local fixtures = require "spec.support.fixtures"

for _, b in ipairs(sh.backends()) do
  describe("db:guard_transaction on " .. b.name, function()
    local db, remove
    before_each(function()
      local url
      url, remove = fixtures.fresh_url(b)
      db = connect.open(url, {})
      db:exec "CREATE TABLE t (x int)"
    end)
    after_each(function()
      db:close()
      remove()
    end)

    for _, sql in ipairs({ "COMMIT", "ROLLBACK", "INSERT INTO t VALUES (1); COMMIT" }) do
      it("stops " .. sql .. " naming the statement and the caller's line", function()
        db:exec "BEGIN"
        db:exec "INSERT INTO t VALUES (0)"
        local key = db:guard_transaction()
        local ok, err = pcall(db.exec, db, sql)
        assert.is_false(ok)
        local verb = b.name == "sqlite" and "would end" or "ended"
        assert.matches("guard_spec%.lua:%d+: %u+ " .. verb .. " the migration's transaction", tostring(err))
        assert.are.equal(b.name == "sqlite", db:in_transaction(), "SQLite refuses it before it runs")
        db:guard_transaction(key)
        if db:in_transaction() then db:exec "ROLLBACK" end
      end)
    end

    it("stops a COMMIT sent by db:scalar or db:first", function()
      db:exec "BEGIN"
      local key = db:guard_transaction()
      for _, call in ipairs({ db.scalar, db.first }) do
        local ok, err = pcall(call, db, "COMMIT")
        assert.is_false(ok)
        assert.matches("%.lua:%d+: COMMIT %a+ %a* ?the migration's transaction", tostring(err))
        if not db:in_transaction() then db:exec "BEGIN" end
      end
      db:guard_transaction(key)
      db:exec "ROLLBACK"
    end)

    it("stops a COMMIT or ROLLBACK queued through db:pipeline, ", function()
      for _, sql in ipairs({ "COMMIT", "ROLLBACK" }) do
        db:exec "BEGIN"
        local key = db:guard_transaction()
        local ok, err = pcall(db.pipeline, db, function(p)
          p:exec("INSERT INTO t VALUES (?)", 1)
          p:exec(sql) -- the line named
          p:exec("INSERT INTO t VALUES (?)", 2)
        end)
        assert.is_false(ok)
        assert.matches("%.lua:%d+: " .. sql .. " %a+ %a* ?the migration's transaction", tostring(err))
        db:guard_transaction(key)
        if db:in_transaction() then db:exec "ROLLBACK" end
        db:exec "DELETE FROM t"
      end
    end)

    it("lets a pipeline's savepoints be under the guard", function()
      db:exec "BEGIN"
      local key = db:guard_transaction()
      db:pipeline(function(p)
        p:exec "SAVEPOINT a"
        p:exec("INSERT INTO t VALUES (?)", 1)
        p:exec "ROLLBACK TO SAVEPOINT a"
        p:exec("INSERT INTO t VALUES (?)", 2)
      end)
      assert.is_true(db:in_transaction())
      assert.are.equal(2, db:scalar "SELECT sum(x) FROM t")
      db:guard_transaction(key)
      db:exec "ROLLBACK"
    end)

    it("lets prepared statements, queries and savepoints be; only its key disarms it", function()
      db:exec "BEGIN"
      local key = db:guard_transaction()
      db:exec "SAVEPOINT a"
      db:exec "RELEASE SAVEPOINT a"
      assert.are.equal(0, db:scalar "SELECT count(*) FROM t")
      assert.is_false(pcall(db.guard_transaction, db, {}))
      assert.is_true(db:in_transaction())
      db:guard_transaction(key)
      db:exec "COMMIT"
      assert.is_false(db:in_transaction())
    end)
  end)
end
