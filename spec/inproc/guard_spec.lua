-- The transaction guard (luamig.Db:guard, the driver's set_guarded flag) on
-- both drivers: while the runner holds the guard, a
-- statement of a migration's (here: this spec's, not the runner's code)
-- cannot end the transaction unnoticed, whatever its chunk name; only the
-- Db's holder (the runner, never a migration) lifts it.
local sh = require "spec.support.sh"
local connect = require "luamig.db.connect"
local fixtures = require "spec.support.fixtures"

for _, b in ipairs(sh.backends()) do
  describe("the transaction guard on " .. b.name, function()
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

    -- Refused before anything is sent, on both drivers: the transaction stays
    -- open, so the runner rolls the whole step back.
    local refused = {
      { "COMMIT", "COMMIT" }, { "rollback transaction", "ROLLBACK" }, { "BEGIN", "BEGIN" }, { "end", "END", sqlite = "COMMIT" },
      { "  -- a note\n\tCommit", "COMMIT" }, { "INSERT INTO t VALUES (1); COMMIT", "COMMIT" },
    }
    if b.name == "postgresql" then
      for _, case in ipairs({
        { "ABORT", "ABORT" }, { "start  transaction", "START TRANSACTION" }, { "COMMIT AND CHAIN", "COMMIT" },
        { "rollback work", "ROLLBACK" }, { "/* a /* nested */ ; comment */ end", "END" },
        { "PREPARE TRANSACTION 'x'", "PREPARE TRANSACTION" }, { "COMMIT PREPARED 'x'", "COMMIT PREPARED" },
        { "ROLLBACK PREPARED 'x'", "ROLLBACK PREPARED" },
        { "INSERT INTO t VALUES (1); SELECT ';', $$;$$, E'\\';' -- ;\n; COMMIT; INSERT INTO t VALUES (2)", "COMMIT" },
      }) do refused[#refused + 1] = case end
    end
    for _, case in ipairs(refused) do
      it("refuses " .. case[1]:gsub("%s+", " ") .. " before it runs, naming it and the caller's line", function()
        db:exec "BEGIN"
        db:exec "INSERT INTO t VALUES (0)"
        db:guard(true)
        local ok, err = pcall(db.exec, db, case[1])
        assert.is_false(ok)
        assert.matches("guard_spec%.lua:%d+: " .. (case[b.name] or case[2]) ..
          " would end the migration's transaction %(so it was refused%)", tostring(err))
        assert.is_true(db:in_transaction())
        -- PostgreSQL gets the whole string at once: nothing of it was sent
        -- (SQLite runs a script one statement at a time; the step's rollback undoes them)
        if b.name == "postgresql" then assert.are.equal(1, db:scalar "SELECT count(*) FROM t") end
        db:guard(false)
        db:exec "ROLLBACK"
      end)
    end

    it("refuses it through every method that sends SQL", function()
      db:exec "BEGIN"
      db:guard(true)
      for name, call in pairs({
        query = function() return db:query "COMMIT" end, scalar = function() return db:scalar "COMMIT" end,
        first = function() return db:first "COMMIT" end, rows = function() for _ in db:rows "COMMIT" do end end,
        exec_params = function() return db:exec("COMMIT", nil) end,
        prepare = function() return db:prepare "COMMIT" end,
      }) do
        local ok, err = pcall(call)
        assert.is_false(ok, name)
        assert.matches("COMMIT would end the migration's transaction", tostring(err), nil, nil, name)
        assert.is_true(db:in_transaction(), name)
      end
      db:guard(false)
      if b.name == "postgresql" then -- (SQLite's authorizer sees statements only as they are prepared)
        local stmt = db:prepare "COMMIT" -- prepared before the guard, run under it
        db:guard(true)
        assert.matches("COMMIT would end", tostring(select(2, pcall(stmt.exec, stmt))))
        assert.is_true(db:in_transaction())
        stmt:close()
        db:guard(false)
      end
      db:exec "ROLLBACK"
    end)

    if b.name == "postgresql" then
      it("looks only at statement starts: quotes, comments and function bodies are not statements", function()
        db:exec "BEGIN"
        db:exec "SAVEPOINT x"
        db:guard(true)
        for _, sql in ipairs({
          "ROLLBACK TO SAVEPOINT x", "rollback work to x", "SELECT 'COMMIT; ROLLBACK'", 'SELECT 1 AS "x; COMMIT"',
          "SELECT E'it\\'s; COMMIT'",
          "SELECT $$; COMMIT$$, $q$ $$; END $q$", "-- COMMIT\nSELECT 1", "/* /* */ ; COMMIT */ SELECT 1",
          "CREATE PROCEDURE p() LANGUAGE plpgsql AS $body$ BEGIN COMMIT; END $body$",
          "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END; " ..
            "END; SELECT f(1)",
          "SELECT 1 AS commit; SELECT 2 AS rollback",
          "PREPARE q AS SELECT 1; DEALLOCATE q", "RELEASE SAVEPOINT x; SAVEPOINT x",
        }) do
          local ok, err = pcall(db.exec, db, sql)
          assert.is_true(ok, sql .. ": " .. tostring(err))
          assert.is_true(db:in_transaction(), sql)
        end
        assert.are.equal(1, db:scalar "SELECT count(*) FROM pg_proc WHERE proname = 'p'")
        db:guard(false)
        db:exec "ROLLBACK"
      end)
    end

    it("stops a COMMIT sent by db:scalar or db:first", function()
      db:exec "BEGIN"
      db:guard(true)
      for _, call in ipairs({ db.scalar, db.first }) do
        local ok, err = pcall(call, db, "COMMIT")
        assert.is_false(ok)
        assert.matches("%.lua:%d+: COMMIT %a+ %a* ?the migration's transaction", tostring(err))
        if not db:in_transaction() then db:exec "BEGIN" end
      end
      db:guard(false)
      db:exec "ROLLBACK"
    end)

    it("stops a COMMIT or ROLLBACK queued through db:pipeline, ", function()
      for _, sql in ipairs({ "COMMIT", "ROLLBACK" }) do
        db:exec "BEGIN"
        db:guard(true)
        local ok, err = pcall(db.pipeline, db, function(p)
          p:exec("INSERT INTO t VALUES (?)", 1)
          p:exec(sql) -- the line named
          p:exec("INSERT INTO t VALUES (?)", 2)
        end)
        assert.is_false(ok)
        assert.matches("%.lua:%d+: " .. sql .. " would end the migration's transaction", tostring(err))
        assert.is_true(db:in_transaction(), "refused before it is sent")
        assert.are.equal(1, db:scalar "SELECT count(*) FROM t", "what was queued before it ran")
        db:guard(false)
        if db:in_transaction() then db:exec "ROLLBACK" end
        db:exec "DELETE FROM t"
      end
    end)

    it("lets a pipeline's savepoints be under the guard", function()
      db:exec "BEGIN"
      db:guard(true)
      db:pipeline(function(p)
        p:exec "SAVEPOINT a"
        p:exec("INSERT INTO t VALUES (?)", 1)
        p:exec "ROLLBACK TO SAVEPOINT a"
        p:exec("INSERT INTO t VALUES (?)", 2)
      end)
      assert.is_true(db:in_transaction())
      assert.are.equal(2, db:scalar "SELECT sum(x) FROM t")
      db:guard(false)
      db:exec "ROLLBACK"
    end)

    it("lets prepared statements, queries and savepoints be; a chunk name does not lift it", function()
      db:exec "BEGIN"
      db:guard(true)
      db:exec "SAVEPOINT a"
      db:exec "RELEASE SAVEPOINT a"
      assert.are.equal(0, db:scalar "SELECT count(*) FROM t")
      for _, name in ipairs({ "@argparse.lua", "@lua/luamig/run/runner.lua", "@lua/x.lua", "=[C]" }) do
        local ok, err = pcall(load("local db = ...; db:exec 'COMMIT'", name), db)
        assert.is_false(ok, name)
        assert.matches("COMMIT would end the migration's transaction", tostring(err), nil, nil, name)
      end
      assert.is_true(db:in_transaction())
      db:guard(false)
      db:exec "COMMIT"
      assert.is_false(db:in_transaction())
    end)
  end)
end
