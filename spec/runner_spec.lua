-- The runner through the luamig command, on real databases (both
-- backends): errors naming the migration's line, foreign keys on SQLite
-- relaxed only for migrations that may rebuild tables (and checked before
-- they commit). The step context itself: spec/inproc/runner_spec.lua.
local sh = require "spec.support.sh"

local m = sh.migration

for _, b in ipairs(sh.backends()) do
  describe("runner on " .. b.name, function()
    it("names the migration's line when an op is misused", function()
      local p = sh.project_on(b, {
        ["1.lua"] = m("aaaa00000001", nil, [[
  op.create_table("t1", { { "id", "integer", primary_key = true } })
  op.alter_column("nope", "id", { nullable = false, type = "bigint" })]]),
      })
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code)
      -- line 7: the op.alter_column call (sh.migration's header is 5 lines)
      assert.matches("failed: migrations/1%.lua:7: ", err)
      assert.are.equal("", (p:tables():gsub("luamig_version%S*", ""):gsub("%s", "")))
    end)
  end)
end

describe("runner on sqlite", function()
  local b = sh.backends()[1]

  it("relaxes foreign keys for a migration using op and checks them before it commits", function()
    local p = sh.project_on(b, {
      ["1.lua"] = m("aaaa00000001", nil, [[
  db:exec "CREATE TABLE parent (id INTEGER PRIMARY KEY)"
  db:exec "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE)"
  db:exec "INSERT INTO parent VALUES (1)"
  db:exec "INSERT INTO child VALUES (1, 1)"]]),
      -- a rebuild of parent drops its old copy: with foreign keys enforced the cascade would empty child
      ["2.lua"] = m("aaaa00000002", "aaaa00000001", [[
  db:exec "CREATE TABLE fk_seen (rev TEXT, fk INTEGER)"
  db:exec("INSERT INTO fk_seen VALUES ('2', ?)", db:scalar "PRAGMA foreign_keys")
  op.add_column("parent", { "name", "text", unique = true })]]),
      ["3.lua"] = m("aaaa00000003", "aaaa00000002", [[
  db:exec("INSERT INTO fk_seen VALUES ('3', ?)", db:scalar "PRAGMA foreign_keys")]]),
    })
    p:ok("upgrade")
    assert.are.equal("1\n", p:sql("SELECT count(*) FROM child"))
    -- relaxed in the op migration's step only
    assert.are.equal("2|0\n3|1\n", p:sql("SELECT rev, fk FROM fk_seen ORDER BY rev"))

    -- a migration using op that leaves a dangling row is refused before it commits
    p:write("migrations/4.lua", m("aaaa00000004", "aaaa00000003", [[
  op.execute("INSERT INTO child VALUES (2, 99)")]]))
    local code, _, err = p:luamig("upgrade")
    assert.are.equal(1, code)
    assert.matches("foreign key violated: a row of child %(rowid 2%) references a missing row of parent", err)
    assert.are.equal("1\n", p:sql("SELECT count(*) FROM child"))
  end)

  it("runs each step with the set-up it needs, with transaction = \"all\" too", function()
    for _, tx in ipairs({ "per-migration", "all" }) do
      local p = sh.project_on(b, {
        ["1.lua"] = m("aaaa00000001", nil, [[
  db:exec "CREATE TABLE fk_seen (rev TEXT, fk INTEGER)"
  db:exec("INSERT INTO fk_seen VALUES ('1', ?)", db:scalar "PRAGMA foreign_keys")]]),
        ["2.lua"] = m("aaaa00000002", "aaaa00000001", [[
  op.execute("INSERT INTO fk_seen VALUES ('2', " .. db:scalar "PRAGMA foreign_keys" .. ")")]]),
        ["3.lua"] = m("aaaa00000003", "aaaa00000002", [[
  db:exec("INSERT INTO fk_seen VALUES ('3', ?)", db:scalar "PRAGMA foreign_keys")]]),
      })
      p:write("luamig.lua", ('return { transaction = %q }'):format(tx))
      p:ok("upgrade")
      -- per migration: only the op migration is relaxed; one transaction: the whole run is
      local want = tx == "all" and "1|0\n2|0\n3|0\n" or "1|1\n2|0\n3|1\n"
      assert.are.equal(want, p:sql("SELECT rev, fk FROM fk_seen ORDER BY rev"), tx)
    end
  end)
end)
