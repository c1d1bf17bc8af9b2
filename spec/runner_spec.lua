-- luamig.run.runner on real databases (both backends): the step context a
-- migration sees, options left as the caller passed them, foreign keys on
-- SQLite relaxed only for migrations that may rebuild tables (and checked
-- before they commit), errors naming the migration's line.
local sh = require "spec.support.sh"
local cjson = require "cjson"

local m = sh.migration

-- A Lua script (run by sh.lua) that opens a session on the project and
-- calls runner.run; `body` may use s (the session), opts and runner, and
-- prints what the spec checks.
local function session_script(p, body)
  return ([[
local dir, url = %q, %q
local config = require "luamig.project.config"
local cfg = config.load(nil)
cfg.migrations = dir .. "/migrations"
local db, dialect = require("luamig.db.connect").open(url, cfg)
local list = require("luamig.revision.scripts").load_dir(cfg.migrations)
local s = { db = db, dialect = dialect, config = cfg, graph = require("luamig.revision.graph").new(list),
  log = require("luamig.util.log").new({ quiet = true }) }
local runner = require "luamig.run.runner"
local plan = require "luamig.revision.plan"
local cjson = require "cjson"
%s
]]):format(p.dir, p.url or ("sqlite:///" .. p.dir .. "/luamig.db"), body)
end

local function run_script(p, body)
  local code, out, err = sh.lua(session_script(p, body))
  assert(code == 0, err)
  return out
end

for _, b in ipairs(sh.backends()) do
  describe("runner on " .. b.name, function()
    it("gives each migration its own step context: revision, op bound to db, transactional flag", function()
      local p = sh.project_on(b, {
        ["1.lua"] = m("aaaa00000001", nil, [[
  seen_1 = { op = op ~= nil, luamig = luamig.backfill ~= nil }
  op.create_table("t1", { { "id", "integer", primary_key = true } })
  luamig.backfill({ table = "t1", set = function() return nil end })]]),
        ["2.lua"] = m("aaaa00000002", "aaaa00000001", [[
  op.execute("INSERT INTO t1 (id) VALUES (1)")]], nil, "transactional = false"),
      })
      local out = run_script(p, [[
local opts = { direction = "up", plan = function(heads) return plan.upgrade(s.graph, heads, "heads") end }
local steps = {}
opts.on_step = function(step) steps[#steps + 1] = step.revision .. ":" .. tostring(step.transactional) end
local before = {}
for k, v in pairs(opts) do before[k] = v end
local heads = runner.run(s, opts)
local same = true
for k, v in pairs(opts) do if before[k] ~= v then same = false end end
for k in pairs(before) do if opts[k] == nil then same = false end end
print(cjson.encode({ heads = heads, steps = steps, unchanged = same,
  rows = db:scalar("SELECT count(*) FROM t1") }))
]])
      local r = cjson.decode(out)
      assert.are.same({ "aaaa00000002" }, r.heads)
      assert.are.same({ "aaaa00000001:true", "aaaa00000002:false" }, r.steps)
      assert.is_true(r.unchanged, "runner.run changed its caller's options")
      assert.are.equal(1, r.rows)
    end)

    it("leaves op unbound between steps: a migration that keeps op for later cannot use it", function()
      local p = sh.project_on(b, {
        ["1.lua"] = m("aaaa00000001", nil, [[
  keep = op
  op.create_table("t1", { { "id", "integer", primary_key = true } })]]),
      })
      local out = run_script(p, [[
runner.run(s, { direction = "up", plan = function(heads) return plan.upgrade(s.graph, heads, "heads") end })
local ok, err = pcall(function() return s.graph.revs.aaaa00000001.upgrade(db) end)
print(ok, err)
]])
      assert.matches("^false\t.*op%.create_table is only available while a migration runs", out)
    end)

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
  fk_during = db:scalar "PRAGMA foreign_keys"
  op.add_column("parent", { "name", "text", unique = true })]]),
      ["3.lua"] = m("aaaa00000003", "aaaa00000002", [[
  fk_plain = db:scalar "PRAGMA foreign_keys"]]),
    })
    p:ok("upgrade")
    assert.are.equal("1\n", p:sql("SELECT count(*) FROM child"))

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
