-- The lint rules' reading of SQL text (luamig.tools.lint.rules), on the
-- statement shapes the corpus does not spell: IF EXISTS, ONLY, quoted and
-- schema-qualified names, DROP without COLUMN, and the look-alikes that
-- must not be reported (DROP DEFAULT, DROP CONSTRAINT, RENAME CONSTRAINT,
-- CONCURRENTLY). Observation-only rules are the corpus's (spec/lint_spec.lua).
local rules = require "luamig.tools.lint.rules"

local function found(sql, existing)
  local out = rules.check({ { sql = sql, where = "m.lua:1" } },
    { existing = existing or { users = true, Big = true }, ignore = {}, lock_of = function() end })
  local ids = {}
  for i, f in ipairs(out) do ids[i] = f.rule .. ":" .. f.relation end
  return ids
end

describe("lint rules", function()
  it("find the table behind IF EXISTS, ONLY, quotes and a schema", function()
    assert.are.same({ "drop:users" }, found("DROP TABLE IF EXISTS users"))
    assert.are.same({ "drop:users" }, found("ALTER TABLE IF EXISTS ONLY users DROP COLUMN x"))
    assert.are.same({ "drop:users" }, found("alter table users drop x"))
    assert.are.same({ "create-index:Big" }, found('CREATE UNIQUE INDEX IF NOT EXISTS i ON ONLY "Big" (x)'))
    assert.are.same({ "rename:users" }, found("ALTER TABLE public.users RENAME TO u2"))
  end)

  it("report volatile defaults and serials from the text, constraints by their kind", function()
    assert.are.same({ "add-column-rewrite:users" }, found("ALTER TABLE users ADD COLUMN id2 bigserial"))
    assert.are.same({ "add-column-rewrite:users" }, found("ALTER TABLE users ADD c int DEFAULT random()"))
    assert.are.same({ "unique-constraint:users" }, found("ALTER TABLE users ADD CONSTRAINT k PRIMARY KEY (id)"))
    assert.are.same({ "constraint-not-valid:users" }, found("ALTER TABLE users ADD CHECK (id > 0)"))
  end)

  it("report an exclusion constraint on an existing table, and a name PostgreSQL would truncate on any", function()
    local long = ("n"):rep(64)
    assert.are.same({ "exclusion-constraint:users" },
      found("ALTER TABLE users ADD CONSTRAINT x EXCLUDE USING gist (r WITH &&)"))
    assert.are.same({ "long-identifier:fresh" }, found(("CREATE TABLE fresh (%s integer)"):format(long)))
    assert.are.same({ "long-identifier:fresh" }, found(('CREATE UNLOGGED TABLE fresh ("%s" integer)'):format(long)))
    assert.are.same({}, found(("CREATE TABLE fresh (%s integer) -- %s"):format(long:sub(1, 63), long)))
    assert.are.same({}, found(("CREATE TABLE fresh (c text DEFAULT '%s')"):format(long)))
    assert.are.same({}, found("CREATE TABLE fresh (r tstzrange, EXCLUDE USING gist (r WITH &&))"))
  end)

  it("leave look-alikes, new tables and suppressed rules alone", function()
    assert.are.same({}, found("ALTER TABLE users ALTER COLUMN x DROP DEFAULT"))
    assert.are.same({}, found("ALTER TABLE users DROP CONSTRAINT x"))
    assert.are.same({}, found("ALTER TABLE users RENAME CONSTRAINT a TO b"))
    assert.are.same({}, found("CREATE INDEX CONCURRENTLY i ON users (x)"))
    assert.are.same({}, found("ALTER TABLE users ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES b (id) NOT VALID"))
    assert.are.same({}, found("ALTER TABLE users ADD COLUMN c text DEFAULT 'random()'"))
    assert.are.same({}, found("CREATE INDEX i ON fresh (x)"))
    assert.are.same({}, found("DROP TABLE users -- luamig:lint ignore drop"))
  end)
end)
