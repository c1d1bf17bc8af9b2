-- The seed plugin does not destroy or pollute data by accident: --reset
-- without a terminal needs --yes, and a seed file that declares no `env`
-- runs in dev and test only.
local sh = require "spec.support.sh"

local m = sh.migration

for _, b in ipairs(sh.backends()) do
  describe("seed safety on " .. b.name, function()
    local function project()
      local p = sh.project_on(b, {
        ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE people (name TEXT PRIMARY KEY)'",
          "db:exec 'DROP TABLE people'"),
      })
      assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/seeds")))
      p:write("seeds/01_people.lua", 'tables = { "people" }\nfunction seed(_, h)\n' ..
        '  h.upsert("people", { { name = "ann" }, { name = "bob" } }, { "name" })\nend\n')
      p:write("seeds/02_prod.lua", 'env = { "prod" }\nfunction seed(_, h)\n' ..
        '  h.upsert("people", { { name = "prod-admin" } }, { "name" })\nend\n')
      p:ok("upgrade")
      return p
    end

    it("--reset without a terminal refuses unless --yes, and empties nothing", function()
      local p = project()
      p:ok("seed")
      p:sql("INSERT INTO people (name) VALUES ('keep-me')")
      local code, out, err = p:luamig("seed --reset", "</dev/null")
      assert.are.equal(2, code, out .. err)
      assert.matches("--reset would delete every row of people, and stdin is not a terminal: pass --yes", err, 1, true)
      assert.are.equal("3\n", p:sql("SELECT count(*) FROM people"), "nothing deleted")
      local doc, jcode = p:json("seed --reset", "</dev/null")
      assert.are.equal(2, jcode)
      assert.matches("pass --yes", doc.error.message, 1, true)
      p:ok("seed --reset --yes", "</dev/null")
      assert.are.equal("2\n", p:sql("SELECT count(*) FROM people"), "keep-me went with --reset --yes")
    end)

    it("a seed file without env runs in dev and test only; --env prod runs only the prod ones", function()
      local p = project()
      p:ok("seed")
      local doc = p:json("seed --env prod --reset --yes")
      assert.are.same({}, doc.reset, "--reset leaves the tables of seeds that do not run alone")
      assert.are.same({ "skipped", "ran" }, { doc.seeds[1].status, doc.seeds[2].status })
      assert.matches("declares no env", doc.seeds[1].reason, 1, true)
      assert.are.equal("3\n", p:sql("SELECT count(*) FROM people"))
      p:sql("DELETE FROM people WHERE name <> 'prod-admin'")
      local out = p:ok("seed", "LUAMIG_ENV=staging")
      assert.matches("skipped  01_people  (declares no env, so it runs in dev and test only)", out, 1, true)
      assert.are.equal("1\n", p:sql("SELECT count(*) FROM people"))
      p:ok("seed --env test")
      assert.are.equal("3\n", p:sql("SELECT count(*) FROM people"))
      p:ok("seed")
      assert.are.equal("3\n", p:sql("SELECT count(*) FROM people"), "dev is the default")
    end)
  end)
end
