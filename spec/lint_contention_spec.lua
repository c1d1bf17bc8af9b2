-- `luamig lint --contention` on a real PostgreSQL server (issue 29's
-- proof, with a 2 s long transaction to keep the suite short): an ADD
-- COLUMN ... DEFAULT now() with no lock_timeout queues behind the long
-- transaction and the workload's reads wait about as long, an error naming
-- the lock and file:line; the same with lock_timeout 200ms and retries
-- gives up again and again, the reads waiting about 200 ms per attempt;
-- the safe twins (CREATE INDEX CONCURRENTLY, a NOT VALID foreign key) make
-- no read wait, though CONCURRENTLY waits for the long transaction's
-- snapshot (seen from a second connection polling pg_locks).
local sh = require "spec.support.sh"

local LONG_TX_MS = 2000

local function m(n, body, extra)
  return sh.migration(("k%011d"):format(n), n > 1 and ("k%011d"):format(n - 1) or nil, body, nil, extra)
end

describe("luamig lint --contention", function()
  it("measures the reads and writes that wait behind each statement, and the statement's own queueing", function()
    local p = sh.project_on(sh.backends()[2], {
      ["1.lua"] = m(1, "db:exec 'CREATE TABLE users (id integer PRIMARY KEY, name text)'\n" ..
        "db:exec 'CREATE TABLE orders (id integer PRIMARY KEY, user_id integer)'"),
      ["2.lua"] = m(2, "db:exec 'ALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT now()'"),
      ["3.lua"] = m(3, "db:exec 'ALTER TABLE users ADD COLUMN seen2 timestamptz DEFAULT now()'",
        'lock_timeout = "200ms"\nlock_retries = 6'),
      ["4.lua"] = m(4, "db:exec 'CREATE INDEX CONCURRENTLY users_name ON users (name)'",
        'transactional = false\nlock_timeout = "10s"'),
      ["5.lua"] = m(5, "db:exec 'ALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) " ..
        "REFERENCES users (id) NOT VALID'", 'lock_timeout = "10s"'),
    })
    p:ok("upgrade k00000000001")
    local doc, code, err = p:json(("lint --rows 500 --contention --long-tx %dms --max-wait 500ms"):format(LONG_TX_MS))
    assert.are.equal(1, code, err)
    local function statements(i) return doc.migrations[i].contention.statements end

    -- no lock_timeout: queued behind the long transaction, and the reads behind it
    local st = statements(1)[1]
    assert.are.equal("migrations/2.lua:6", st.where)
    -- (it starts once the long transaction holds its locks and the workload runs: on a loaded machine some
    -- of the 2 s have passed; the reads queued behind it wait as long as it did)
    assert.is_true(st.queued_ms >= 0.5 * LONG_TX_MS, tostring(st.queued_ms))
    assert.is_true(st.reads.max >= 0.8 * st.queued_ms, st.reads.max .. " vs " .. st.queued_ms)
    assert.is_true(st.writes.max >= 0.8 * st.queued_ms, st.writes.max .. " vs " .. st.queued_ms)
    local f = doc.migrations[1].findings
    local rules = {}
    for _, x in ipairs(f) do rules[x.rule] = x end
    assert.are.same({ "migrations/2.lua:6", "ACCESS EXCLUSIVE", "users" },
      { rules.contention.where, rules.contention.lock, rules.contention.relation })
    assert.matches("reads waited up to %d+ ms .* behind ACCESS EXCLUSIVE on users, which queued %d+ ms behind " ..
      "the long transaction", rules.contention.message)
    assert.matches("lock_timeout", rules.contention.recipe)

    -- lock_timeout 200ms and retries: each attempt gives up, the reads wait about that long, never the whole time
    local attempts = statements(2)
    assert.is_true(#attempts >= 2, #attempts .. " attempts")
    for i, a in ipairs(attempts) do
      assert.are.equal("migrations/3.lua:7", a.where)
      if i < #attempts then assert.is_true(a.gave_up) end
      assert.is_true((a.reads.max or 0) < LONG_TX_MS / 2, tostring(a.reads.max))
    end
    assert.are.equal("ok", doc.migrations[2].result)

    -- the safe twins: no read waits; CONCURRENTLY waited for the long transaction's snapshot
    for i = 3, 4 do
      for _, s in ipairs(statements(i)) do
        assert.is_true((s.reads.max or 0) < 500, tostring(s.reads.max))
        assert.are.equal(0, s.reads.failed or 0)
      end
      for _, x in ipairs(doc.migrations[i].findings) do assert.are_not.equal("contention", x.rule) end
    end
    local queued = statements(3)[1].queued_ms
    assert.is_true(queued > 0)
    -- the workload read all through CONCURRENTLY's wait (the NOT VALID foreign key
    -- can be over before a read lands, on a slow build or a loaded machine)
    assert.is_true(statements(3)[1].reads.n > 0)
    -- CONCURRENTLY's own locks, seen by a second connection polling pg_locks for lint's backend
    local cic = doc.migrations[3].observed.outside[1]
    assert.are.equal("migrations/4.lua:7", cic.where)
    assert.are.same({ relation = "users", mode = "SHARE UPDATE EXCLUSIVE",
      blocks = "DDL, VACUUM and CREATE INDEX CONCURRENTLY" }, cic.locks[1])
    assert.is_true(cic.wait_ms >= 0.5 * queued, cic.wait_ms .. " vs " .. queued)
    assert.matches("%(virtualxid%)", cic.waited_for[1])
  end)

  it("refuses --long-tx without --contention, and a bad duration", function()
    local p = sh.project_on(sh.backends()[2], { ["1.lua"] = m(1, "db:exec 'CREATE TABLE t (n integer)'") })
    local code, _, err = p:luamig("lint --long-tx 2s")
    assert.are.equal(2, code)
    assert.matches("%-%-long%-tx goes with %-%-contention", err)
    code, _, err = p:luamig("lint --contention --max-wait soon")
    assert.are.equal(2, code)
    assert.matches('%-%-max%-wait must be a PostgreSQL duration such as "2s"', err)
  end)
end)
