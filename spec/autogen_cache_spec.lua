-- The snapshot cache of `check` and `revision --autogenerate`: an unchanged
-- history (and schema.lua) is not built again on a scratch database (here:
-- a TMPDIR where no scratch file can be made, which only a cache hit
-- survives), and editing a migration or schema.lua is seen at once.
local sh = require "spec.support.sh"

local SQLITE = sh.backends()[1]

local function migration(cols)
  return sh.migration("a0base", nil, ('op.create_table("t", { { "id", "integer", primary_key = true }%s })'):format(cols))
end

local DECLARED = 'schema.table("t", { { "id", "integer", primary_key = true }, { "a", "text" } })\n'

describe("the snapshot cache", function()
  it("skips the scratch replay while nothing changed, and sees an edited migration or schema.lua", function()
    local cache = sh.tmpdir()
    local env = "XDG_CACHE_HOME=" .. sh.quote(cache)
    local no_scratch = env .. " TMPDIR=" .. sh.quote(cache .. "/missing")
    local p = sh.project_on(SQLITE, { ["000_a0base.lua"] = migration(', { "a", "text" }') })
    p:write("schema.lua", DECLARED)
    p:ok("upgrade head", env)
    assert.matches("matches the migrations at head", p:ok("check", env))
    -- warm: no scratch database needed
    assert.matches("matches the migrations at head", p:ok("check", no_scratch))
    assert.matches("No changes", p:ok("revision --autogenerate -m none", no_scratch))
    -- an edited migration: the history is replayed again, and the change seen
    p:write("migrations/000_a0base.lua", migration(', { "a", "text" }, { "b", "integer" }'))
    local code = p:luamig("check", no_scratch)
    assert.are_not.equal(0, code)
    local _, out, err = p:luamig("check", env)
    assert.matches("column t.b", out .. err)
    -- an edited schema.lua likewise
    p:write("schema.lua", DECLARED:gsub('{ "a", "text" }', '{ "a", "text" }, { "b", "integer" }'))
    assert.are_not.equal(0, (p:luamig("check", no_scratch)))
    assert.matches("matches the migrations at head", p:ok("check", env))
    assert.matches("matches the migrations at head", p:ok("check", no_scratch))
    -- LUAMIG_CACHE=off always builds
    assert.are_not.equal(0, (p:luamig("check", no_scratch .. " LUAMIG_CACHE=off")))
    os.execute("rm -rf " .. sh.quote(cache))
  end)

  it("sees an edited file a migration reads (op.execute_file)", function()
    local cache = sh.tmpdir()
    local env = "XDG_CACHE_HOME=" .. sh.quote(cache)
    local p = sh.project_on(SQLITE, { ["000_a0base.lua"] = sh.migration("a0base", nil, 'op.execute_file("sql/t.sql")') })
    os.execute("mkdir -p " .. sh.quote(p.dir .. "/sql"))
    p:write("sql/t.sql", "CREATE TABLE t (id integer PRIMARY KEY, a text);\n")
    p:write("schema.lua", DECLARED)
    p:ok("upgrade head", env)
    assert.matches("matches the migrations at head", p:ok("check", env))
    p:write("sql/t.sql", "CREATE TABLE t (id integer PRIMARY KEY, a text, b integer);\n")
    local _, out, err = p:luamig("check", env)
    assert.matches("column t.b", out .. err)
    os.execute("rm -rf " .. sh.quote(cache))
  end)
end)
