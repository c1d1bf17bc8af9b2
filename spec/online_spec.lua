-- op.online.* (issue 26): one migration file, both drivers. Expand adds the
-- new shape and keeps old and new in sync both ways, contract removes the
-- old shape, downgrade before contract undoes the expand.
local sh = require "spec.support.sh"

local TABLE = [[
  db:exec(("CREATE TABLE orders (id %s PRIMARY KEY, customer_name TEXT NOT NULL, price_cents INTEGER NOT NULL)")
    :format(db.dialect == "sqlite" and "INTEGER" or "serial"))
  for i = 1, 40 do db:exec("INSERT INTO orders (customer_name, price_cents) VALUES (?, ?)", "c" .. i, i * 100 + 1) end]]

-- expand only: contract, downgrade and uncontract are generated from the online ops
local ONLINE = [[
-- rename, retype, add a NOT NULL column
revision = "onl00002"
down_revision = "tab00001"
transactional = false
lock_timeout = "500ms"
function expand(db)
  op.online.rename_column("orders", "customer_name", "buyer", { nullable = false })
  op.online.alter_column("orders", "price_cents", "price", { type = "numeric(12,2)", up = "price_cents / 100.0",
    down = "CAST(round(price * 100) AS INTEGER)", nullable = false })
  op.online.add_column("orders", "note", { type = "text", nullable = false, backfill = "'order ' || id" })
  op.online.create_index("orders_buyer_idx", "orders", { "buyer" })
end
]]

local function project(backend, config)
  local p = sh.project_on(backend, { ["1.lua"] = sh.migration("tab00001", nil, TABLE, 'db:exec "DROP TABLE orders"'),
    ["2.lua"] = ONLINE })
  if config then p:write("luamig.lua", "return " .. config .. "\n") end
  return p
end

-- price_cents with a default and a check: what alter_column's uncontract restores
local SHAPED = TABLE:gsub("price_cents INTEGER NOT NULL", "price_cents INTEGER NOT NULL DEFAULT 0 CHECK (price_cents >= 0)")

local RETYPE = [[
revision = "onl00002"
down_revision = "tab00001"
transactional = false
local function retype()
  op.online.alter_column("orders", "price_cents", "price", { type = "numeric(12,2)", up = "price_cents / 100.0",
    down = "CAST(round(price * 100) AS INTEGER)", nullable = false })
end
function expand(db) retype() end
]]

-- price_cents's type, NOT NULL, default and checks, as the catalog says
local function old_shape(p)
  if p.backend.name == "sqlite" then
    return { p:sql("SELECT type, \"notnull\", dflt_value FROM pragma_table_info('orders') WHERE name = 'price_cents'"),
      p:sql("SELECT sql LIKE '%CHECK (price_cents >= 0)%' FROM sqlite_master WHERE name = 'orders'") }
  end
  return { p:sql("SELECT format_type(atttypid, atttypmod), attnotnull, pg_get_expr(adbin, adrelid) FROM pg_attribute " ..
    "LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum WHERE attrelid = 'orders'::regclass AND " ..
    "attname = 'price_cents'"), p:sql("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE " ..
    "conrelid = 'orders'::regclass ORDER BY 1") }
end

local function columns(p)
  if p.backend.name == "sqlite" then return p:sql("SELECT group_concat(name, ' ') FROM pragma_table_info('orders')") end
  return p:sql("SELECT string_agg(attname, ' ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'orders'::regclass " ..
    "AND attnum > 0 AND NOT attisdropped")
end

local function price(p, where)
  return p:sql(("SELECT buyer || ' ' || CAST(price * 100 AS INTEGER) || ' ' || note FROM orders WHERE %s"):format(where))
end

for _, backend in ipairs(sh.backends()) do
  describe("op.online on " .. backend.name, function()
    it("expand syncs both ways; contract drops the old shape", function()
      local p = project(backend, "{ still_written = 0 }")
      p:ok("upgrade head")
      assert.are.equal("id customer_name price_cents buyer price note\n", columns(p))
      assert.are.equal("c7 701 order 7\n", price(p, "id = 7")) -- backfilled
      -- the old application: old names
      p:sql("INSERT INTO orders (customer_name, price_cents) VALUES ('old app', 1234)")
      p:sql("UPDATE orders SET customer_name = 'old upd', price_cents = 999 WHERE id = 1")
      -- the new application: new names
      p:sql("INSERT INTO orders (buyer, price) VALUES ('new app', 56.78)")
      p:sql("UPDATE orders SET buyer = 'new upd', price = 7.77 WHERE id = 2")
      assert.are.equal("old app 1234 order 41\n", price(p, "id = 41"))
      assert.are.equal("old upd 999 order 1\n", price(p, "id = 1"))
      assert.are.equal("new app 5678 order 42\n", price(p, "id = 42"))
      assert.are.equal("new upd|777\n", p:sql("SELECT customer_name, price_cents FROM orders WHERE id = 2"))
      assert.are.equal("new app|5678\n", p:sql("SELECT customer_name, price_cents FROM orders WHERE id = 42"))
      p:ok("contract")
      assert.are.equal("id buyer price note\n", columns(p))
      assert.are.equal("new upd 777 order 2\n", price(p, "id = 2"))
      p:sql("INSERT INTO orders (buyer, price, note) VALUES ('after', 1.5, 'order 43')")
      assert.are.equal("after 150 order 43\n", price(p, "id = 43"))
      local code = p:luamig("downgrade base")
      assert.are.equal(2, code) -- contracted, no uncontract(db): refused
    end)

    it("one pass per table: the three ops' backfills are one checkpointed pass (each batch sets every new " ..
      "column), resumed after a failure mid-pass", function()
      local p = project(backend, "{ still_written = 0 }")
      -- the note's backfill fails on row 25 while fail_here has a row
      local boom = backend.name == "sqlite"
        and "json(CASE WHEN id = 25 AND EXISTS (SELECT 1 FROM fail_here) THEN 'x' || id ELSE '1' END)"
        or "1 / (id - 25 + CASE WHEN EXISTS (SELECT 1 FROM fail_here) THEN 0 ELSE 1000 END)"
      p:write("migrations/2.lua", ([[
revision = "onl00002"
down_revision = "tab00001"
transactional = false
function expand(db)
  op.online.rename_column("orders", "customer_name", "buyer", { batch_size = 10 })
  op.online.alter_column("orders", "price_cents", "price", { type = "numeric(12,2)", up = "price_cents / 100.0",
    down = "CAST(round(price * 100) AS INTEGER)", nullable = false, batch_size = 10 })
  op.online.add_column("orders", "note", { type = "text", nullable = false, batch_size = 10,
    backfill = "'order ' || id || CASE WHEN %s IS NULL THEN 'x' ELSE '' END" })
end
]]):format(boom))
      p:ok("upgrade tab00001")
      p:sql("CREATE TABLE fail_here (x INTEGER)")
      p:sql("INSERT INTO fail_here VALUES (1)")
      local code, _, err = p:luamig("upgrade head")
      assert.are.equal(1, code)
      assert.matches("backfill online orders (buyer, price, note) failed:", err, 1, true)
      assert.matches("(20 rows committed; a rerun resumes after id = 20)", err, 1, true)
      -- one checkpoint; the committed batches set all three columns, the others none
      assert.are.equal("online orders (buyer, price, note)|20\n", p:sql("SELECT name, rows_done FROM luamig_backfill"))
      assert.are.equal("20|20\n", p:sql("SELECT count(CASE WHEN buyer IS NOT NULL AND price IS NOT NULL AND " ..
        "note IS NOT NULL THEN 1 END), count(CASE WHEN buyer IS NULL AND price IS NULL AND note IS NULL THEN 1 END) " ..
        "FROM orders"))
      p:sql("DELETE FROM fail_here")
      assert.matches("backfill online orders (buyer, price, note): resuming after id = 20 (20 rows done)",
        p:ok("upgrade head"), 1, true)
      assert.are.equal("c7 701 order 7\n", price(p, "id = 7"))
      assert.are.equal("c33 3301 order 33\n", price(p, "id = 33"))
      assert.are.equal("40\n", p:sql("SELECT count(*) FROM orders WHERE note = 'order ' || id AND buyer = customer_name " ..
        "AND CAST(round(price * 100) AS INTEGER) = price_cents"))
      p:ok("contract")
      assert.are.equal("id buyer price note\n", columns(p))
    end)

    it("one pass per table resumes after kill -9: every row exactly right", function()
      local p = project(backend, "{ still_written = 0 }")
      p:write("migrations/2.lua", [[
revision = "onl00002"
down_revision = "tab00001"
transactional = false
local slow = { batch_size = 10, sleep_ms = 20 }
function expand(db)
  op.online.rename_column("orders", "customer_name", "buyer", slow)
  op.online.alter_column("orders", "price_cents", "price", { type = "numeric(12,2)", up = "price_cents / 100.0",
    down = "CAST(round(price * 100) AS INTEGER)", nullable = false, batch_size = 10, sleep_ms = 20 })
  op.online.add_column("orders", "note", { type = "text", nullable = false, backfill = "'order ' || id",
    batch_size = 10, sleep_ms = 20 })
end
]])
      p:ok("upgrade tab00001")
      p:sql("INSERT INTO orders (customer_name, price_cents) SELECT customer_name, price_cents FROM orders")
      for _ = 1, 3 do p:sql("INSERT INTO orders (customer_name, price_cents) SELECT customer_name, price_cents FROM orders") end
      local pid = p:spawn("upgrade head")
      assert.truthy(sh.poll(function()
        local ok, out = pcall(p.sql, p, "SELECT rows_done FROM luamig_backfill")
        return ok and (tonumber(out) or 0) >= 30
      end), "no batch was committed")
      assert(os.execute("kill -9 " .. pid))
      assert.truthy(sh.poll(function() return not os.execute("kill -0 " .. pid .. " 2>/dev/null") end))
      local done = tonumber(p:sql("SELECT rows_done FROM luamig_backfill WHERE name = 'online orders (buyer, price, note)'"))
      assert.is_true(done >= 30 and done < 640, "killed midway: " .. tostring(done))
      -- each committed batch set the three columns at once
      assert.are.equal(("%d|%d\n"):format(done, 640 - done), p:sql("SELECT count(CASE WHEN buyer IS NOT NULL AND " ..
        "price IS NOT NULL AND note IS NOT NULL THEN 1 END), count(CASE WHEN buyer IS NULL AND price IS NULL AND " ..
        "note IS NULL THEN 1 END) FROM orders"))
      assert.matches("resuming after id = %d+", p:ok("upgrade head"))
      assert.are.equal("640\n", p:sql("SELECT count(*) FROM orders WHERE note = 'order ' || id AND buyer = customer_name " ..
        "AND CAST(round(price * 100) AS INTEGER) = price_cents"))
      assert.are.equal("0\n", p:sql("SELECT count(*) FROM luamig_backfill"))
    end)

    it("downgrade before contract undoes the expand (generated from the online ops)", function()
      local p = project(backend)
      p:ok("upgrade head")
      p:ok("downgrade -1")
      assert.are.equal("id customer_name price_cents\n", columns(p))
      p:sql("INSERT INTO orders (customer_name, price_cents) VALUES ('x', 1)") -- no trigger left behind
      assert.are.equal("x|1\n", p:sql("SELECT customer_name, price_cents FROM orders WHERE id = 41"))
    end)

    it("contract refuses to drop a column still written through its old name; --force contracts", function()
      local p = project(backend)
      p:ok("upgrade head")
      p:sql("UPDATE orders SET customer_name = 'still' WHERE id = 3")
      local code, _, err = p:luamig("contract")
      assert.are.equal(1, code)
      assert.matches("2.lua:7: contract would drop orders.customer_name, which is still written", err, 1, true)
      assert.matches("contract --force", err, 1, true)
      assert.matches("nothing ran", err, 1, true)
      assert.is_nil(err:find("it ran outside a transaction", 1, true))
      assert.are.equal("id customer_name price_cents buyer price note\n", columns(p)) -- nothing ran
      assert.are.equal("expanded", p:json("current").revisions[1].phase)
      p:ok("contract --force")
      assert.are.equal("id buyer price note\n", columns(p))
      assert.are.equal("still 301 order 3\n", price(p, "id = 3"))
    end)

    it("contract goes through while only the new names are written (the sync into the old ones is no write " ..
      "through them)", function()
      local p = project(backend)
      p:ok("upgrade head")
      p:sql("UPDATE orders SET buyer = 'newer', price = 9.99 WHERE id = 3")
      p:sql("INSERT INTO orders (buyer, price, note) VALUES ('newest', 1.5, 'n')")
      p:ok("contract")
      assert.are.equal("id buyer price note\n", columns(p))
      assert.are.equal("newer 999 order 3\n", price(p, "id = 3"))
    end)

    it("drill rehearses expand -> downgrade -> expand -> contract, and with uncontract(db) " ..
      "expand -> contract -> downgrade", function()
      local p = project(backend)
      local out = p:ok("drill")
      assert.matches("2.lua has no uncontract(db): once contracted it cannot be downgraded", out, 1, true)
      p:write("migrations/2.lua", ([[
revision = "onl00002"
down_revision = "tab00001"
transactional = false
function expand(db) op.online.rename_column("orders", "price_cents", "cents", { nullable = false }) end
function uncontract(db) op.online.rename_column("orders", "price_cents", "cents", { nullable = false }) end
]]))
      out = p:ok("drill")
      assert.matches("2 revisions round-trip", out, 1, true)
      assert.is_nil(out:find("uncontract", 1, true))
    end)

    it("uncontract(db) undoes add_column's contract (the old app's rows get the backfill again); " ..
      "alter_column's is refused", function()
      local p = project(backend, "{ still_written = 0 }")
      p:write("migrations/2.lua", [[
revision = "onl00002"
down_revision = "tab00001"
transactional = false
local function shape()
  op.online.add_column("orders", "note", { type = "text", nullable = false, backfill = "'order ' || id" })
end
function expand(db) shape() end
function uncontract(db) shape() end
]])
      p:ok("upgrade head --contract")
      p:ok("downgrade tab00001") -- uncontract, then the downgrade
      assert.are.equal("id customer_name price_cents\n", columns(p))
      p:ok("upgrade head --contract")
      p:sql("INSERT INTO orders (customer_name, price_cents, note) VALUES ('x', 1, 'n')")
      -- uncontract alone (the downgrade of a later step fails): the old application's insert gets its note
      p:write("migrations/2.lua", (sh.slurp(p.dir .. "/migrations/2.lua"):gsub("function uncontract%(db%) shape%(%) end",
        "function uncontract(db) shape() end\nfunction downgrade(db) db:exec \"SELECT * FROM no_such_table\" end")))
      assert.are.equal(1, (p:luamig("downgrade tab00001")))
      p:sql("INSERT INTO orders (customer_name, price_cents) VALUES ('old app', 2)")
      assert.are.equal("order 42\n", p:sql("SELECT note FROM orders WHERE customer_name = 'old app'"))
    end)

    it("uncontract(db) undoes alter_column's contract exactly: the old column of its old shape (type, default, " ..
      "NOT NULL, check), filled through `down`, kept in sync again", function()
      local p = sh.project_on(backend, { ["1.lua"] = sh.migration("tab00001", nil, SHAPED, 'db:exec "DROP TABLE orders"'),
        ["2.lua"] = RETYPE .. "function uncontract(db) retype() end\n" ..
          'function downgrade(db) db:exec "SELECT * FROM no_such_table" end\n' })
      p:write("luamig.lua", "return { still_written = 0 }\n")
      p:ok("upgrade tab00001")
      local before = old_shape(p)
      p:ok("upgrade head --contract")
      assert.are.equal("id customer_name price\n", columns(p))
      p:sql("UPDATE orders SET price = 12.34 WHERE id = 5") -- the new application, after contract
      -- uncontract runs, then the downgrade fails (transactional = false: the uncontract stays)
      assert.are.equal(1, (p:luamig("downgrade tab00001")))
      assert.are.equal("id customer_name price price_cents\n", columns(p))
      assert.are.equal("1234|12.34\n701|7.01\n", p:sql("SELECT price_cents, price FROM orders WHERE id IN (5, 7) ORDER BY id"))
      -- the sync runs both ways again: the old application writes cents, the new one prices
      p:sql("INSERT INTO orders (customer_name, price_cents) VALUES ('old app', 250)")
      p:sql("UPDATE orders SET price = 9.99 WHERE id = 6")
      p:sql("UPDATE orders SET price_cents = 4242 WHERE id = 8")
      local rows = p:sql("SELECT price_cents, CAST(price AS TEXT) FROM orders WHERE id IN (41, 6, 8) ORDER BY id DESC")
      assert.are.equal("250|2.5\n4242|42.42\n999|9.99\n", (rows:gsub("(%.%d)0\n", "%1\n")))
      -- the downgrade proper: the table is as before the expand, the old column of its old shape
      p:write("migrations/2.lua", RETYPE .. "function uncontract(db) retype() end\n")
      p:ok("downgrade tab00001")
      assert.are.equal("id customer_name price_cents\n", columns(p))
      assert.are.same(before, old_shape(p))
      assert.is_false(pcall(p.sql, p, "INSERT INTO orders (customer_name, price_cents) VALUES ('neg', -1)")) -- the check
      assert.is_false(pcall(p.sql, p, "INSERT INTO orders (customer_name, price_cents) VALUES ('null', NULL)"))
      assert.are.equal("0\n", p:sql("INSERT INTO orders (customer_name) VALUES ('dflt'); " ..
        "SELECT price_cents FROM orders WHERE customer_name = 'dflt'"))
    end)

    it("uncontract(db) of rename_column fills the old column from the new one, then gives it its default", function()
      local p = sh.project_on(backend, { ["1.lua"] = sh.migration("tab00001", nil, SHAPED, 'db:exec "DROP TABLE orders"'),
        ["2.lua"] = [[
revision = "onl00002"
down_revision = "tab00001"
transactional = false
local function shape() op.online.rename_column("orders", "price_cents", "cents") end
function expand(db) shape() end
function uncontract(db) shape() end
function downgrade(db) db:exec "SELECT * FROM no_such_table" end
]] })
      p:write("luamig.lua", "return { still_written = 0 }\n")
      p:ok("upgrade head --contract")
      assert.are.equal(1, (p:luamig("downgrade tab00001"))) -- uncontract ran, the downgrade failed
      assert.are.equal("701|701\n", p:sql("SELECT price_cents, cents FROM orders WHERE id = 7"))
      p:sql("INSERT INTO orders (customer_name) VALUES ('dflt')")
      assert.are.equal("0|0\n", p:sql("SELECT price_cents, cents FROM orders WHERE customer_name = 'dflt'"))
    end)

    it("downgrade after rename_column's expand gives the old column back its NOT NULL (without nullable = false)",
      function()
      local p = project(backend)
      p:write("migrations/2.lua", 'revision = "onl00002"\ndown_revision = "tab00001"\ntransactional = false\n' ..
        'function expand(db) op.online.rename_column("orders", "customer_name", "buyer") end\n')
      local out = p:ok("drill")
      assert.matches("2 revisions round-trip", out, 1, true)
    end)

    it("an op.online refusal inside a hand-written uncontract(db) names its line and why, not a failure mid-run",
      function()
      local p = project(backend, "{ still_written = 0 }")
      p:write("migrations/2.lua", [[
revision = "onl00002"
down_revision = "tab00001"
transactional = false
function expand(db) op.online.drop_column("orders", "customer_name") end
function uncontract(db)
  op.online.drop_column("orders", "customer_name")
end
]])
      p:ok("upgrade head --contract")
      local code, _, err = p:luamig("downgrade tab00001")
      assert.are.equal(1, code)
      assert.matches("2.lua:6: op.online.drop_column: its contract cannot be undone by luamig (the dropped column's " ..
        "data is gone); write uncontract(db) without it", err, 1, true)
      assert.matches("refused at migrations/2.lua:6, before op.online.drop_column did anything", err, 1, true)
      assert.is_nil(err:find("it ran outside a transaction", 1, true))
    end)

    it("upgrade --sql prints every statement of each phase, labelled, for the fresh state", function()
      local p = project(backend)
      local out = p:ok("upgrade head --sql")
      local expand = assert(out:match("\n%-%- expand onl00002: .-\n(.-)\n%-%- contract phases"), out)
      local contract = assert(out:match("\n%-%- contract onl00002: .-\n(.*)$"), out)
      -- expand: the new columns, the sync triggers, the backfills (batches depend on live data: a comment)
      assert.matches('ALTER TABLE "orders" ADD COLUMN "price" numeric(12,2);', expand, 1, true)
      assert.matches('ALTER TABLE "orders" ADD COLUMN "buyer" ', expand, 1, true)
      assert.matches('CREATE TRIGGER[^\n]* "?luamig_sync_orders_price', expand)
      assert.matches('%-%- [^\n]*batch boundaries depend on live data', expand)
      assert.matches('\n%-%-   UPDATE "orders" SET "price" = price_cents / 100.0 WHERE %("price" IS NULL%) AND "id" >= ' ..
        ':first AND "id" <= :last;', expand)
      assert.matches('\n%-%-   UPDATE "orders" SET "note" = \'order \' || id WHERE', expand)
      assert.matches("%-%- [^\n]*lock_timeout[^\n]*retried", expand)
      assert.is_nil(expand:find("indisvalid", 1, true)) -- (no INVALID leftover in the fresh state)
      assert.is_nil(out:find("luamig_backfill", 1, true)) -- (no checkpoint)
      -- contract: the triggers and the old columns go
      assert.matches('DROP TRIGGER IF EXISTS "luamig_sync_orders_price', contract, 1, true)
      if backend.name == "postgresql" then
        assert.matches('CREATE INDEX CONCURRENTLY "orders_buyer_idx" ON "orders"', expand, 1, true)
        assert.matches('CREATE OR REPLACE FUNCTION "luamig_sync_orders_price"()', expand, 1, true)
        assert.matches('ALTER TABLE "orders" DROP COLUMN "price_cents";', contract, 1, true)
        assert.matches('ALTER TABLE "orders" DROP COLUMN "customer_name";', contract, 1, true)
      else
        assert.matches('%-%- [^\n]*orders is rebuilt here[^\n]*drop column price_cents', contract)
      end
      assert.are.equal("", (p:tables():gsub("%s", ""))) -- nothing ran
    end)

    it("lint lints each phase apart", function()
      local p = project(backend)
      p:ok("upgrade tab00001")
      local doc = p:json("lint")
      local phases = {}
      for _, m in ipairs(doc.migrations) do phases[#phases + 1] = m.revision .. ":" .. tostring(m.phase) end
      assert.are.same({ "onl00002:expand", "onl00002:contract" }, phases)
    end)

    it("upgrade head --contract runs both phases in one go", function()
      local p = project(backend, "{ still_written = 0 }")
      p:ok("upgrade head --contract")
      assert.are.equal("id buyer price note\n", columns(p))
      assert.are.equal("complete", p:json("current").revisions[1].phase)
    end)
  end)
end

describe("op.online on postgresql only", function()
  local pg = sh.backends()[2]

  it("create_index drops an INVALID leftover of a killed build and builds it again", function()
    local p = project(pg)
    p:ok("upgrade tab00001")
    p:sql("CREATE INDEX orders_buyer_idx ON orders (id); UPDATE pg_index SET indisvalid = false " ..
      "WHERE indexrelid = 'orders_buyer_idx'::regclass")
    p:ok("upgrade head")
    assert.are.equal("t|CREATE INDEX orders_buyer_idx ON public.orders USING btree (buyer)\n",
      p:sql("SELECT indisvalid, pg_get_indexdef(indexrelid) FROM pg_index WHERE indexrelid = 'orders_buyer_idx'::regclass"))
  end)

  it("an online op that builds CONCURRENTLY in a transactional migration is refused, naming the line", function()
    local p = sh.project_on(pg, { ["1.lua"] = sh.migration("tab00001", nil, TABLE),
      ["2.lua"] = 'revision = "ix000002"\ndown_revision = "tab00001"\nfunction expand(db)\n' ..
        '  op.online.create_index("ix", "orders", { "id" })\nend\n' })
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(1, code)
    assert.matches("2.lua:4: op.online.create_index builds an index CONCURRENTLY", err, 1, true)
  end)

  it("NOT NULL without a scan under ACCESS EXCLUSIVE: CHECK NOT VALID, VALIDATE, then SET NOT NULL and the helper " ..
    "checks dropped in one transaction", function()
    local p = project(pg, "{ still_written = 0 }")
    p:ok("upgrade head")
    assert.are.equal("", p:sql("SELECT conname FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'c'"))
    assert.are.equal("t|3\n", p:sql("SELECT bool_and(attnotnull), count(*) FROM pg_attribute WHERE attrelid = " ..
      "'orders'::regclass AND attname IN ('buyer', 'price', 'note')"))
    p:ok("contract")
    assert.are.equal("t|3\n", p:sql("SELECT bool_and(attnotnull), count(*) FROM pg_attribute WHERE attrelid = " ..
      "'orders'::regclass AND attname IN ('buyer', 'price', 'note')"))
  end)

  -- another session holds `mode` on orders for 1.2 s (once granted)
  local function hold(p, mode)
    os.execute(("psql %s -Xqc %s >/dev/null 2>&1 &"):format(sh.quote(p.url),
      sh.quote(("BEGIN; LOCK TABLE orders IN %s MODE; SELECT pg_sleep(1.2); COMMIT;"):format(mode))))
    assert.truthy(sh.poll(function()
      return p:sql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'orders' " ..
        ("AND l.mode = '%sLock' AND l.granted AND l.pid <> pg_backend_pid()"):format(mode:gsub("^%a", string.upper)
        :gsub(" (%a)", string.upper))) == "1\n"
    end))
  end

  it("each DDL statement waits at most lock_timeout, and is retried with backoff, naming who held the table", function()
    local p = project(pg)
    p:ok("upgrade tab00001")
    -- an application's transaction holds the table a moment: expand's first ALTER times out and retries
    hold(p, "row exclusive")
    local _, err = p:ok("upgrade head")
    assert.matches("lock_timeout; retrying in 0.5s (attempt 2 of 11): ALTER TABLE", err, 1, true)
    assert.matches("%(waiting on pid %d+ %(client backend: BEGIN; LOCK TABLE orders IN row exclusive MODE.*; " ..
      "RowExclusiveLock for [%d.]+s%)%)", err)
    assert.are.equal("c7 701 order 7\n", price(p, "id = 7"))
  end)

  it("maintenance on the table (a VACUUM, autovacuum: SHARE UPDATE EXCLUSIVE) is waited out before the DDL " ..
    "queues for its lock, without a lock_timeout retry", function()
    local p = project(pg)
    p:ok("upgrade tab00001")
    hold(p, "share update exclusive")
    local _, err = p:ok("upgrade head")
    assert.is_nil(err:find("lock_timeout", 1, true), err)
    assert.are.equal("c7 701 order 7\n", price(p, "id = 7"))
  end)
end)

-- op.online.retype_column: a type change under the column's own name, in one step
describe("op.online.retype_column", function()
  local pg = sh.backends()[2]

  -- orders (serial key, price_cents NOT NULL DEFAULT 0 with a check, a comment, three indexes over it), and
  -- a table referring to the key; `up`: the retype migration's body
  local BASE = [[
  db:exec("CREATE TABLE orders (id serial PRIMARY KEY, customer_name text NOT NULL, price_cents integer NOT NULL " ..
    "DEFAULT 0 CONSTRAINT price_ok CHECK (price_cents >= 0 AND price_cents < id * 1000))")
  db:exec "CREATE INDEX orders_price ON orders (price_cents) INCLUDE (customer_name)"
  db:exec "CREATE UNIQUE INDEX orders_price_name ON orders (price_cents, lower(customer_name)) WHERE price_cents > 0"
  db:exec "ALTER TABLE orders ADD CONSTRAINT orders_name_price UNIQUE (customer_name, price_cents)"
  db:exec "COMMENT ON COLUMN orders.price_cents IS 'in cents'"
  db:exec "CREATE TABLE lines (id serial PRIMARY KEY, order_id integer NOT NULL REFERENCES orders (id) ON DELETE CASCADE)"
  db:exec "INSERT INTO orders (customer_name, price_cents) SELECT 'c' || g, g * 100 + 1 FROM generate_series(1, 3000) g"
  db:exec "INSERT INTO lines (order_id) SELECT g FROM generate_series(1, 3000, 3) g"]]

  local function retyping(up, down)
    return sh.project_on(pg, { ["1.lua"] = sh.migration("tab00001", nil, BASE, 'db:exec "DROP TABLE lines, orders"'),
      ["2.lua"] = 'revision = "rt000002"\ndown_revision = "tab00001"\ntransactional = false\n' ..
        'lock_timeout = "2s"\nfunction upgrade(db)\n' .. up .. '\nend\nfunction downgrade(db)\n' .. (down or "") ..
        '\nend\n' })
  end

  -- what hangs on orders, type names aside
  local function shape(p)
    return p:sql([[
SELECT 'index', pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid IN ('orders'::regclass, 'lines'::regclass)
UNION ALL SELECT 'constraint ' || conname, pg_get_constraintdef(oid) || ' ' || convalidated FROM pg_constraint
  WHERE conrelid IN ('orders'::regclass, 'lines'::regclass)
UNION ALL SELECT 'column ' || attname, attnotnull || ' ' || coalesce(pg_get_expr(adbin, adrelid), '') || ' ' ||
  coalesce(col_description(attrelid, attnum), '') FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid
  AND adnum = attnum WHERE attrelid = 'orders'::regclass AND attnum > 0 AND NOT attisdropped
UNION ALL SELECT 'owns', pg_get_serial_sequence('orders', 'id')
ORDER BY 1, 2]])
  end
  local function types(p)
    return p:sql("SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attname) FROM " ..
      "pg_attribute WHERE attrelid = 'orders'::regclass AND attnum > 0 AND NOT attisdropped")
  end

  it("on PostgreSQL moves every index, key, check, default, comment, owned sequence and foreign key to the new " ..
    "column, keeps the rows, and goes back", function()
    if not pg then return pending("no PostgreSQL") end
    local p = retyping([[
  op.online.retype_column("orders", "id", "bigint")
  op.online.retype_column("orders", "price_cents", "bigint", { batch_size = 700 })
  op.online.retype_column("orders", "price_cents", "bigint") -- (of that type already: nothing to do)]], [[
  op.online.retype_column("orders", "price_cents", "integer")
  op.online.retype_column("orders", "id", "integer")]])
    p:ok("upgrade tab00001")
    local before, rows = shape(p), p:sql("SELECT md5(string_agg(id || customer_name || price_cents, ',' ORDER BY id)) " ..
      "FROM orders")
    local _, err = p:ok("upgrade head")
    assert.matches("backfill online orders (price_cents_luamig_new): 3000/3000", err, 1, true)
    assert.are.equal("customer_name text, id bigint, price_cents bigint\n", types(p))
    assert.are.equal(before, shape(p))
    assert.are.equal(rows, p:sql("SELECT md5(string_agg(id || customer_name || price_cents, ',' ORDER BY id)) FROM orders"))
    assert.are.equal("3001\n", p:sql("INSERT INTO orders (customer_name) VALUES ('new') RETURNING id"))
    assert.are.equal("", p:sql("SELECT relname FROM pg_class WHERE relname LIKE '%luamig_new%' UNION ALL " ..
      "SELECT attname FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname LIKE '%luamig%' UNION ALL " ..
      "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'luamig%'"))
    p:ok("downgrade tab00001")
    assert.are.equal("customer_name text, id integer, price_cents integer\n", types(p))
    p:sql("DELETE FROM orders WHERE id = 3001")
    assert.are.equal(before, shape(p))
    local out = p:ok("drill")
    assert.matches("note: table public.orders: column order", out, 1, true)
  end)

  it("refuses, naming the line and what it cannot move, before anything changes", function()
    if not pg then return pending("no PostgreSQL") end
    local p = retyping('  db:exec "CREATE VIEW cheap AS SELECT id FROM orders WHERE price_cents < 500"\n' ..
      '  op.online.retype_column("orders", "price_cents", "bigint")')
    p:ok("upgrade tab00001")
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(1, code)
    assert.matches("2.lua:7: op.online.retype_column(orders, price_cents): view cheap depends on orders.price_cents " ..
      "(drop it first and create it again after)", err, 1, true)
    assert.are.equal("price_cents integer\n", p:sql("SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM " ..
      "pg_attribute WHERE attrelid = 'orders'::regclass AND attname LIKE 'price%'"))
    local q = sh.project_on(pg, { ["1.lua"] = sh.migration("tab00001", nil, BASE),
      ["2.lua"] = 'revision = "rt000002"\ndown_revision = "tab00001"\nfunction upgrade(db)\n' ..
        '  op.online.retype_column("orders", "price_cents", "bigint")\nend\n' })
    q:ok("upgrade tab00001")
    code, _, err = q:luamig("upgrade head")
    assert.are.equal(1, code)
    assert.matches("2.lua:4: op.online.retype_column commits as it goes", err, 1, true)
    -- upgrade --sql cannot read what hangs on the column; expand cannot hold a one-step change
    local r = retyping('  op.online.retype_column("orders", "price_cents", "bigint")')
    code, _, err = r:luamig("upgrade tab00001:head --sql")
    assert.are_not.equal(0, code)
    assert.matches("2.lua:6: op.online.retype_column reads what hangs on orders.price_cents", err, 1, true)
    local e = sh.project_on(pg, { ["1.lua"] = sh.migration("tab00001", nil, BASE),
      ["2.lua"] = 'revision = "rt000002"\ndown_revision = "tab00001"\ntransactional = false\nfunction expand(db)\n' ..
        '  op.online.retype_column("orders", "price_cents", "bigint")\nend\n' })
    e:ok("upgrade tab00001")
    code, _, err = e:luamig("upgrade head")
    assert.are.equal(1, code)
    assert.matches("2.lua:5: op.online.retype_column changes the column in one step: call it in upgrade(db) or " ..
      "downgrade(db), not in expand(db)", err, 1, true)
  end)
end)
