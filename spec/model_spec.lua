-- The complete schema model seen through the command line (PostgreSQL):
-- drills name leftovers of any kind in any schema; the config's `schemas`
-- limits what is compared; a schema the role cannot read is named, never
-- silently left out.
local sh = require "spec.support.sh"

local m = sh.migration
local pg = sh.backends()[2]

-- Drills here run on a fresh database of their own (--scratch-url), so that
-- they create no luamig_drill_* database while drill_spec counts those.
local function drill(args)
  return "drill --scratch-url " .. sh.quote(sh.fresh_pg()) .. (args and (" " .. args) or "")
end

describe("the schema model on PostgreSQL", function()
  if not pg then return end

  it("has drills name a function, domain, view, trigger and sequence left behind in a second schema", function()
    local p = sh.project_on(pg, {
      ["1.lua"] = m("aaaa00000001", nil, [[
        db:exec "CREATE SCHEMA billing"
        db:exec "CREATE TABLE billing.invoices (id int PRIMARY KEY, day date)"]],
        "db:exec 'DROP SCHEMA billing CASCADE'"),
      ["2.lua"] = m("bbbb00000002", "aaaa00000001", [==[
        db:exec [[CREATE OR REPLACE FUNCTION billing.last_day(d timestamp) RETURNS date LANGUAGE sql
          AS $$ SELECT (date_trunc('month', d) + interval '1 month - 1 day')::date $$]]
        db:exec "CREATE DOMAIN billing.amount AS numeric CHECK (VALUE >= 0)"
        db:exec "CREATE SEQUENCE billing.numbers"
        db:exec "CREATE VIEW billing.recent AS SELECT id FROM billing.invoices"
        db:exec "ALTER TABLE billing.invoices ALTER day SET DEFAULT now()"]==],
        "db:exec 'DROP VIEW billing.recent'"),
    })
    local code, out = p:luamig(drill())
    assert.are.equal(1, code, out)
    assert.matches("function billing%.last_day%(timestamp without time zone%) still exists after downgrade of " ..
      "bbbb00000002", out)
    assert.matches("domain billing%.amount still exists after downgrade of bbbb00000002", out)
    assert.matches("sequence billing%.numbers still exists after downgrade of bbbb00000002", out)
    assert.matches("column billing%.invoices%.day: default NULL became now%(%) after downgrade of bbbb00000002", out)
    assert.not_matches("view billing%.recent", out)
  end)

  it("has drills with seeds count the rows of tables in a second schema", function()
    local p = sh.project_on(pg, {
      ["1.lua"] = m("aaaa00000001", nil, [[
        db:exec "CREATE SCHEMA billing"
        db:exec "CREATE TABLE billing.invoices (id int PRIMARY KEY)"]], "db:exec 'DROP SCHEMA billing CASCADE'"),
      ["2.lua"] = m("bbbb00000002", "aaaa00000001", "db:exec 'CREATE TABLE notes (id int)'",
        "db:exec 'DROP TABLE notes'\ndb:exec 'DELETE FROM billing.invoices'"),
    })
    assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/seeds")))
    p:write("seeds/01_invoices.lua", [[
requires = "aaaa00000001"
tables = { "billing.invoices" }
function seed(db) db:exec "INSERT INTO billing.invoices VALUES (1), (2) ON CONFLICT DO NOTHING" end
]])
    local code, out, err = p:luamig(drill("--with-seeds"))
    assert.are.equal(1, code, out .. err)
    assert.matches("table billing%.invoices lost 2 of 2 rows across the round trip of bbbb00000002", out)
  end)

  it("compares only the schemas the config lists", function()
    local p = sh.project_on(pg, {
      ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE SCHEMA IF NOT EXISTS scratch'",
        "-- leaves scratch behind"),
    })
    local code, out = p:luamig(drill())
    assert.are.equal(1, code, out)
    assert.matches("schema scratch still exists after downgrade of aaaa00000001", out)
    p:write("luamig.lua", "return { schemas = { 'public' } }")
    assert.matches("1 revision", p:ok(drill()))
  end)

  it("names a schema the role cannot read, and reads the others when the config leaves it out", function()
    local p = sh.project_on(pg, {})
    local role = ("luamig_reader_%d"):format(os.time() % 100000 + math.random(1000))
    p:sql(("CREATE ROLE %s LOGIN; CREATE SCHEMA secret; CREATE TABLE secret.t (x int); " ..
      "CREATE TABLE public.open (x int); GRANT SELECT ON public.open TO %s"):format(role, role))
    local url = p.url:gsub("//[^@/]*@", "//" .. role .. "@")
    local function snapshot(opts)
      return sh.lua(([[
local db = require("luamig.db.connect").open(%q, %s)
local s = db:schema()
print((s.tables.open and "open" or "-") .. " " .. (s.tables["secret.t"] and "secret" or "-"))
]]):format(url, opts))
    end
    local code, out, err = snapshot("{}")
    assert.are_not.equal(0, code, out)
    assert.matches("cannot snapshot schema secret: role " .. role .. " has no USAGE privilege on it", err)
    code, out, err = snapshot("{ schemas = { 'public' } }")
    assert.are.equal(0, code, err)
    assert.are.equal("open -\n", out)
    p:sql("DROP OWNED BY " .. role .. "; DROP ROLE " .. role)
  end)
end)
