-- `luamig drill` on both drivers: a correct chain round-trips; each seeded
-- defect (a downgrade that forgets an index, a column, an enum, a
-- constraint; an upgrade that cannot run twice) fails naming the object;
-- the target database is never touched; scripted drills.
local sh = require "spec.support.sh"

local m = sh.migration

local base_table = m("aaaa00000001", nil,
  "op.create_table('orders', { { 'id', 'integer', primary_key = true }, { 'status', 'text' } })",
  "op.drop_table('orders')")

local function defect(up, down, extra)
  return { ["1.lua"] = base_table, ["2.lua"] = m("bbbb00000002", "aaaa00000001", up, down, extra) }
end

for _, b in ipairs(sh.backends()) do
  describe("luamig drill on " .. b.name, function()
    it("walks the repo's sample migrations: every revision round-trips; the target is untouched", function()
      local p = sh.project_on(b)
      assert(os.execute(("cp %s/migrations/*.lua %s/migrations/"):format(sh.quote(sh.sample_dir), sh.quote(p.dir))))
      -- the drill's process id names its scratch database: record it (exec keeps it)
      local pid_file = p.dir .. "/drill.pid"
      local doc, code, err = p:json("drill", ("sh -c 'echo $$ > %s; exec \"$@\"' sh"):format(sh.quote(pid_file)))
      assert.are.equal(0, code, err)
      assert.is_true(doc.ok)
      assert.are.equal(6, #doc.steps)
      assert.are.same({ "3f1a9c0d2b7e", "ok" }, { doc.steps[1].revision, doc.steps[1].result })
      assert.are.equal("number", type(doc.steps[1].down_ms))
      assert.matches("6 revisions round%-trip%.", p:ok("drill"))
      if b.name == "sqlite" then
        assert.is_nil(io.open(p.dir .. "/luamig.db"), "the target database was not even created")
      else
        assert.are.equal("0\n", p:sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
        local pid = sh.slurp(pid_file):match("%d+")
        assert.are.equal("0\n", p:sql(("SELECT count(*) FROM pg_database WHERE datname LIKE 'luamig_drill_%s_%%'")
          :format(pid)), "the drill's own scratch database was dropped")
      end
    end)

    local cases = {
      { "an index left behind", defect("op.create_index('ix_orders_status', 'orders', { 'status' })", ""),
        "index [%w.]*ix_orders_status still exists after downgrade of bbbb00000002" },
      { "a column left behind", defect("op.add_column('orders', { 'total', 'integer' })", ""),
        "column [%w.]*orders%.total still exists after downgrade of bbbb00000002" },
      { "an enum left behind", defect("op.create_enum('order_state', { 'new', 'paid' })", ""),
        "enum [%w.]*order_state still exists after downgrade of bbbb00000002" },
      { "a constraint left behind", defect("op.create_unique_constraint('uq_orders_status', 'orders', { 'status' })",
        ""), "unique constraint .* on [%w.]*orders still exists after downgrade of bbbb00000002" },
      { "a downgrade that drops too much", defect("op.add_column('orders', { 'note', 'text' })",
        "op.drop_column('orders', 'note')\nop.drop_column('orders', 'status')"),
        "column [%w.]*orders%.status is missing after downgrade of bbbb00000002" },
      { "an upgrade that cannot run again", {
        ["1.lua"] = m("aaaa00000001", nil, "op.create_table('settings', { { 'k', 'text', primary_key = true } })",
          "op.drop_table('settings')"),
        ["2.lua"] = m("bbbb00000002", "aaaa00000001", "op.execute(\"INSERT INTO settings VALUES ('theme')\")", "") },
        "bbbb00000002.*failed" },
    }
    for _, c in ipairs(cases) do
      it("catches " .. c[1], function()
        local p = sh.project_on(b, c[2])
        local code, out, err = p:luamig("drill")
        assert.are.equal(1, code, out .. err)
        assert.matches(c[3], out)
        assert.matches("Drill failed at bbbb00000002%.", out)
        local doc = p:json("drill")
        assert.is_false(doc.ok)
        assert.are.same({ "aaaa00000001", "bbbb00000002" }, { doc.steps[1].revision, doc.steps[2].revision })
        assert.are.equal("failed", doc.steps[2].result)
      end)
    end

    it("notes the column order a downgrade could not keep; --strict-order fails on it", function()
      local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil,
        "op.create_table('orders', { { 'id', 'integer', primary_key = true }, { 'status', 'text' }, { 'note', 'text' } })",
        "op.drop_table('orders')"),
        ["2.lua"] = m("bbbb00000002", "aaaa00000001", "op.drop_column('orders', 'status')",
          "op.add_column('orders', { 'status', 'text' })") })
      local code, out, err = p:luamig("drill")
      assert.are.equal(0, code, out .. err)
      assert.matches("note: table [%w.]*orders: column order %(id, status, note%) became %(id, note, status%) after " ..
        "downgrade of bbbb00000002 %(a column added back goes last%)", out)
      assert.matches("2 revisions round%-trip%.", out)
      local doc = p:json("drill")
      assert.is_true(doc.ok)
      assert.are.equal(1, #doc.steps[2].notes)
      code, out = p:luamig("drill --strict-order")
      assert.are.equal(1, code, out)
      assert.matches("table [%w.]*orders: column order %(id, status, note%) became %(id, note, status%)", out)
      assert.matches("Drill failed at bbbb00000002%.", out)
    end)

    it("fails on column order a migration could have kept", function()
      local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil,
        "op.create_table('orders', { { 'id', 'integer', primary_key = true }, { 'a', 'text' }, { 'b', 'text' } })",
        "op.drop_table('orders')"),
        ["2.lua"] = m("bbbb00000002", "aaaa00000001", "op.drop_table('orders')",
          "op.create_table('orders', { { 'id', 'integer', primary_key = true }, { 'b', 'text' }, { 'a', 'text' } })") })
      local code, out = p:luamig("drill")
      assert.are.equal(1, code, out)
      assert.matches("column order %(id, a, b%) became %(id, b, a%)", out)
    end)

    it("--with-seeds: seeds run before each step; a downgrade that destroys rows fails, naming the table", function()
      local p = sh.project_on(b)
      local sample = sh.quote(sh.sample_dir)
      assert(os.execute(("cp %s/migrations/*.lua %s/migrations/ && cp -r %s/seeds %s/"):format(sample, sh.quote(p.dir), sample,
        sh.quote(p.dir))))
      local doc, code, err = p:json("drill --with-seeds")
      assert.are.equal(0, code, err)
      assert.is_true(doc.ok)
      -- a downgrade that empties a table it did not fill
      p:write("migrations/zz.lua", m("ffff00000009", "d2f4a6c8e0b1", "db:exec 'CREATE TABLE scratch (id INTEGER)'",
        "db:exec 'DROP TABLE scratch'\ndb:exec 'DELETE FROM enrollments'"))
      local code2, out = p:luamig("drill --with-seeds")
      assert.are.equal(1, code2)
      assert.matches("table " .. (b.name == "sqlite" and "" or "public%.") ..
        "enrollments lost %d+ of %d+ rows across the round trip of ffff00000009", out)
    end)

    it("--with-seeds: a downgrade that rewrites values (not rows) fails, naming the table", function()
      local p = sh.project_on(b, {
        ["1.lua"] = m("aaaa00000001", nil,
          "op.create_table('words', { { 'id', 'integer', primary_key = true }, { 'x', 'text' } })",
          "op.drop_table('words')"),
        ["2.lua"] = m("bbbb00000002", "aaaa00000001", "op.add_column('words', { 'y', 'text' })",
          "op.drop_column('words', 'y')\ndb:exec 'UPDATE words SET x = lower(x)'"),
      })
      assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/seeds")))
      p:write("seeds/01_words.lua", 'requires = "aaaa00000001"\ntables = { "words" }\nfunction seed(db)\n' ..
        '  db:exec "INSERT INTO words (id, x) VALUES (1, \'Alpha\'), (2, \'beta\'), (3, \'Gamma\')"\nend\n')
      local code, out, err = p:luamig("drill --with-seeds")
      assert.are.equal(1, code, out .. err)
      local name = b.name == "sqlite" and "words" or "public%.words"
      assert.matches("table " .. name .. ": 3 rows, but their contents changed across the round trip of bbbb00000002",
        out)
      -- a downgrade that keeps the values passes
      p:write("migrations/2.lua", m("bbbb00000002", "aaaa00000001", "op.add_column('words', { 'y', 'text' })",
        "op.drop_column('words', 'y')"))
      p:ok("drill --with-seeds")
    end)

    it("--with-seeds: a seed whose tables do not exist yet is told about requires", function()
      local p = sh.project_on(b, { ["1.lua"] = base_table })
      assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/seeds")))
      p:write("seeds/01_orders.lua", 'tables = { "orders" }\nfunction seed(db)\n' ..
        '  db:exec "INSERT INTO orders (id) VALUES (1)"\nend\n')
      local code, out, err = p:luamig("drill --with-seeds")
      assert.are.equal(1, code, out .. err)
      assert.matches("seed 01_orders %(seeds/01_orders%.lua%) failed and was rolled back: seeds/01_orders%.lua:3: ", out)
      assert.matches('; it ran before aaaa00000001 was applied (1 pending): a seed that needs the tables of a ' ..
        'revision declares requires = "<revision>" in seeds/01_orders.lua, and waits until that revision is applied',
        out, 1, true)
      -- with requires, it waits for its revision
      p:write("seeds/01_orders.lua", 'requires = "aaaa00000001"\ntables = { "orders" }\nfunction seed(db)\n' ..
        '  db:exec "INSERT INTO orders (id) VALUES (1)"\nend\n')
      p:ok("drill --with-seeds")
    end)

    it("walks branches and merges in graph order", function()
      local p = sh.project_on(b, {
        ["1.lua"] = base_table,
        ["2.lua"] = m("xone00000002", "aaaa00000001", "op.add_column('orders', { 'x', 'text' })",
          "op.drop_column('orders', 'x')"),
        ["3.lua"] = m("yone00000002", "aaaa00000001", "op.add_column('orders', { 'y', 'text' })",
          "op.drop_column('orders', 'y')"),
        ["4.lua"] = "revision = 'merg00000003'\ndown_revision = { 'xone00000002', 'yone00000002' }\n" ..
            "function upgrade(db) end\nfunction downgrade(db) end\n",
      })
      local doc, code, err = p:json("drill")
      assert.are.equal(0, code, err)
      local order = {}
      for i, st in ipairs(doc.steps) do order[i] = st.revision end
      assert.are.same({ "aaaa00000001", "yone00000002", "xone00000002", "merg00000003" }, order)
      doc = p:json("drill --from aaaa00000001 --to xone00000002")
      assert.are.equal(1, #doc.steps)
    end)

    it("runs drill scripts: upgrade, downgrade, snapshot, assert_same, db, step; a failed assertion names its line",
      function()
        local p = sh.project_on(b, defect("op.create_index('ix_orders_status', 'orders', { 'status' })",
          "op.drop_index('ix_orders_status')"))
        p:write("good.lua", [[
drill.step("schema round-trips", function()
  drill.upgrade("aaaa00000001")
  local before = drill.snapshot()
  drill.upgrade("head")
  drill.downgrade("-1")
  drill.assert_same(before, drill.snapshot(), "after -1")
end)
drill.step("data survives", function()
  drill.upgrade("head")
  drill.db:exec("INSERT INTO orders (id, status) VALUES (?, ?)", 1, "new")
  drill.downgrade("aaaa00000001")
  assert(drill.db:scalar("SELECT count(*) FROM orders") == 1)
end)
]])
        local doc, code, err = p:json("drill good.lua")
        assert.are.equal(0, code, err)
        assert.are.same({ "ok", "ok" }, { doc.steps[1].result, doc.steps[2].result })
        p:write("bad.lua", [[
drill.step("index is gone", function()
  local before = drill.snapshot()
  drill.upgrade("head")
  drill.assert_same(before, drill.snapshot(), "upgrade changed nothing?")
end)
]])
        local code2, out2 = p:luamig("drill bad.lua")
        assert.are.equal(1, code2)
        assert.matches("bad%.lua:4: upgrade changed nothing%?: table [%w.]*orders still exists", out2)
      end)

    if b.name == "postgresql" then
      it("without the CREATEDB privilege: one message saying what is needed, or --scratch-url", function()
        local p = sh.project_on(b, { ["1.lua"] = base_table })
        local url = ("postgresql://luamig_pw:right-pw@127.0.0.1:%s/postgres"):format(os.getenv("PG_TEST_PORT"))
        local code, _, err = p:luamig("drill --url " .. sh.quote(url))
        assert.are.equal(1, code)
        assert.matches("cannot create a scratch database for the drill %(.*permission denied to create database.*%); " ..
          "the drill needs the CREATEDB privilege %(ALTER ROLE %.%.%. CREATEDB%), or pass %-%-scratch%-url URL", err)
        assert.not_matches("right%-pw", err)
        local doc, code2, err2 = p:json("drill --url " .. sh.quote(url) .. " --scratch-url " .. sh.quote(p.url))
        assert.are.equal(0, code2, err2)
        assert.is_true(doc.ok)
      end)
    end

    it("--keep keeps the scratch database; --scratch-url may not be the target", function()
      local p = sh.project_on(b, { ["1.lua"] = base_table })
      local doc = p:json("drill --keep")
      assert.is_string(doc.scratch)
      if b.name == "sqlite" then
        assert.is_truthy(io.open(doc.scratch), "kept: " .. doc.scratch)
        os.remove(doc.scratch)
      else
        local name = doc.scratch:match("dbname=([%w_]+)$")
        assert.are.equal("1\n", p:sql(("SELECT count(*) FROM pg_database WHERE datname = '%s'"):format(name)))
        p:sql("DROP DATABASE " .. name)
      end
      local target = p.url or "sqlite:///luamig.db"
      local code, _, err = p:luamig("drill --scratch-url " .. sh.quote(target) .. " --url " .. sh.quote(target))
      assert.are.equal(2, code)
      assert.matches("%-%-scratch%-url is the target database", err)
    end)
  end)
end
