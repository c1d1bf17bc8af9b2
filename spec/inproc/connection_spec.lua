-- luamig.Db, the connection object (issue 23 item 1): each connection owns its
-- state (two open side by side do not share it), the drivers' method tables
-- stay as the C modules made them, a statement hook sees every way of
-- sending SQL, and the `db` user code gets holds only the README's methods.
local sh = require "spec.support.sh"
local connect = require "luamig.db.connect"
local fixtures = require "spec.support.fixtures"
local rules = require "luamig.tools.lint.rules"

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = tostring(k) end
  table.sort(out)
  return out
end

for _, b in ipairs(sh.backends()) do
  describe("luamig.Db on " .. b.name, function()
    local url, remove, db, other
    before_each(function()
      url, remove = fixtures.fresh_url(b)
      db = connect.open(url, {})
      db:exec "CREATE TABLE t (x int)"
    end)
    after_each(function()
      if db then db:close() end
      if other then other:close() end
      other = nil
      remove()
    end)

    it("leaves the driver's method table as the C module made it", function()
      local driver = require(b.name == "sqlite" and "luamig.sqlite" or "luamig.pg")
      local before = keys(driver.Conn)
      other = connect.open(url, {})
      other:transaction(function() other:exec "INSERT INTO t VALUES (1)" end)
      assert.are.same(before, keys(driver.Conn))
      assert.is_nil(driver.Conn.transaction)
      assert.is_nil(driver.Conn.guard_transaction)
    end)

    it("keeps transaction depth, autocommit sections and refusals per connection", function()
      other = connect.open(url, {})
      db:transaction(function()
        assert.are.equal(1, db.depth)
        assert.are.equal(0, other.depth)
        local ok, err = pcall(db.autocommit, db, function() end)
        assert.is_false(ok)
        assert.matches("cannot run inside db:transaction", err)
        other:autocommit(function() end) -- the other connection is not inside one
      end)
      assert.are.equal(0, db.depth)
      assert.are.equal(0, db.sections)
      assert.are.equal(1, other.sections)
      other:refuse_autocommit("not now")
      assert.matches("not now", select(2, pcall(other.autocommit, other, function() end)))
      db:autocommit(function() end)
      assert.are.equal(1, db.sections)
    end)

    it("lifts its own guard for db:autocommit's COMMIT and BEGIN, and for nothing else", function()
      db.dialect.begin_locked(db)
      db:guard(true)
      db:exec "INSERT INTO t VALUES (1)"
      db:autocommit(function(d) d:exec "INSERT INTO t VALUES (2)" end)
      assert.is_true(db:in_transaction())
      assert.is_true(db.guarded)
      local ok, err = pcall(db.exec, db, "COMMIT")
      assert.is_false(ok)
      assert.matches("connection_spec%.lua:%d+: COMMIT would end the migration's transaction", tostring(err))
      db:end_step()
      assert.is_false(db.guarded)
      db:exec "ROLLBACK"
      assert.are.equal(2, db:scalar "SELECT count(*) FROM t") -- both committed by the section's COMMIT
    end)

    it("releases a pipeline a suspended coroutine left open, and the step's enums, when the step ends", function()
      local co = coroutine.create(function()
        db:pipeline(function(p)
          p:exec("INSERT INTO t VALUES (?)", 1)
          coroutine.yield()
        end)
      end)
      assert.is_true(coroutine.resume(co))
      assert.matches("already running", select(2, pcall(db.pipeline, db, function() end)))
      db.step_enums.mood = true
      db:end_step()
      assert.are.same({}, db.step_enums)
      assert.are.equal(1, db:pipeline(function(p) p:exec("INSERT INTO t VALUES (?)", 2) end))
      assert.are.equal(3, db:scalar "SELECT sum(x) FROM t")
    end)

    it("shows every way of sending SQL to its statement hook", function()
      local seen = {}
      db.on_statement = function(sql, run)
        seen[#seen + 1] = sql
        return run()
      end
      db:exec "INSERT INTO t VALUES (1)"
      db:query "SELECT 1 AS q"
      db:scalar "SELECT 2"
      db:first "SELECT 3"
      for _ in db:rows "SELECT 4" do end -- luacheck: ignore 512
      local s = db:prepare "INSERT INTO t VALUES (?)"
      s:exec(5)
      assert.are.same({ { x = 5 } }, db:prepare("SELECT x FROM t WHERE x = ?"):query(5))
      db:pipeline(function(p)
        p:exec("INSERT INTO t VALUES (?)", 6)
        p:exec(s, 7)
      end)
      db.on_statement = nil
      db:exec "SELECT 8"
      local q = b.name == "sqlite" and "?" or "$1" -- (a prepared statement's SQL as the driver holds it)
      local want = { "INSERT INTO t VALUES (1)", "SELECT 1 AS q", "SELECT 2", "SELECT 3", "SELECT 4",
        "INSERT INTO t VALUES (" .. q .. ")", "SELECT x FROM t WHERE x = " .. q, "INSERT INTO t VALUES (?)",
        "INSERT INTO t VALUES (" .. q .. ")" }
      assert.are.same(want, seen)
      assert.are.equal(19, db:scalar "SELECT sum(x) FROM t")
    end)

    it("gives user code only the README's methods, none reaching the connection itself", function()
      local pub = db:public()
      local want = { "autocommit", "backend", "copy_in", "dialect", "exec", "first", "has_column", "has_index",
        "has_table", "in_transaction", "pipeline", "prepare", "query", "quote_ident", "quote_literal", "rows", "scalar", "schema",
        "transaction" }
      if b.name == "postgresql" then
        want[#want + 1] = "has_enum"
        want[#want + 1] = "has_extension"
        table.sort(want)
      end
      assert.are.same(want, keys(pub))
      assert.are.equal(b.name, pub.dialect)
      assert.is_false(getmetatable(pub))
      pub:transaction(function(d)
        assert.are.equal(pub, d)
        d:exec "INSERT INTO t VALUES (1)"
      end)
      pub:pipeline(function(p)
        assert.are.same({ "exec", "sync" }, keys(p))
        p:exec("INSERT INTO t VALUES (?)", 2)
      end)
      assert.are.equal(2, pub:copy_in("t", { "x" }, { { 3 }, { 4 } }))
      assert.are.equal(10, pub:scalar "SELECT sum(x) FROM t")
      assert.is_false(db:is_closed())
    end)
  end)
end

describe("lint's ignore markers", function()
  it("name the code line after the comment, with exact ids, never from inside a string", function()
    local src = table.concat({
      "-- luamig:lint ignore create-index",         -- 1
      "",                                           -- 2
      "db:exec 'CREATE INDEX a ON t (x)'",          -- 3: create-index
      "local s = [[",                               -- 4
      "-- luamig:lint ignore drop",                 -- 5 (a string)
      "]] .. '-- luamig:lint ignore rename'",       -- 6
      "db:exec 'x' -- luamig:lint ignore rename",   -- 7: rename
      "--[[ luamig:lint ignore drop ]] x = 1",      -- 8 (a long comment)
      "-- luamig:lint ignore create-indexes, drop", -- 9
      "f()",                                        -- 10
    }, "\n")
    local m = rules.markers(src)
    assert.are.same({ [3] = { ["create-index"] = true }, [7] = { rename = true },
      [10] = { ["create-indexes"] = true, drop = true } }, m)
    local ctx = { ignore = {}, source = src }
    assert.is_true(rules.ignored("create-index", { where = "m.lua:3" }, ctx))
    assert.is_false(rules.ignored("create-index", { where = "m.lua:10" }, ctx))
    assert.is_false(rules.ignored("drop", { where = "m.lua:6" }, ctx))
    assert.is_true(rules.ignored("drop", { where = "m.lua:4", sql = "DROP x -- luamig:lint ignore drop" }, ctx))
    assert.is_false(rules.ignored("drop", { where = "m.lua:4", sql = "DROP x -- luamig:lint ignore drops" }, ctx))
  end)
end)
