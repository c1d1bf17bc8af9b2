-- The scratch session's parts in the host: libpq's reading of a connection
-- string (luamig.pg.conninfo_parse) and the scratch one built from it, the
-- identity of a database, scratch names and which are leftovers
-- (luamig.host.pid_alive, luamig.host.hostname).
local pg = require "luamig.pg"
local host = require "luamig.host"
local scratch = require "luamig.run.scratch"
local pg_scratch = require "luamig.dialect.postgresql.scratch"
local connect = require "luamig.db.connect"

local url = os.getenv("LUAMIG_TEST_PG")

-- keyword -> value of what libpq reads in `conninfo`.
local function read(conninfo)
  local out = {}
  for _, kv in ipairs(pg.conninfo_parse(conninfo)) do out[kv[1]] = kv[2] end
  return out
end

describe("luamig.pg.conninfo_parse", function()
  it("reads URLs as libpq does: query options, percent-encoding, a dbname that wins over the path", function()
    assert.are.same({ user = "u", password = "p/w", host = "h", port = "5", dbname = "prod",
      application_name = "x" }, read("postgresql://u:p%2Fw@h:5/postgres?dbname=prod&application_name=x"))
    assert.are.same({ host = "h", dbname = "evil" }, read("postgresql://h/db?db%6Eame=evil"))
    assert.are.same({ host = "a", dbname = "x y", password = "a'b" }, read("host=a dbname='x y' password='a\\'b'"))
  end)

  it("raises a db error for a string libpq cannot read", function()
    local ok, e = pcall(pg.conninfo_parse, "postgresql://h/db?bogus=1")
    assert.is_false(ok)
    assert.are.equal("08001", e.code)
    assert.matches('invalid PostgreSQL connection string: invalid URI query parameter: "bogus"', e.message)
  end)
end)

describe("the scratch connection string", function()
  it("keeps the target's server, user, password and options; its dbname comes last and wins", function()
    for _, target in ipairs({ "postgresql://u:p%2Fw@h:5/postgres?dbname=prod&sslmode=disable",
      "postgresql://h/db?db%6Eame=prod", "host=h user=u password='a\\'b c' dbname=prod" }) do
      local c = pg_scratch.conninfo_for(target, "luamig_drill_1_ab_cd")
      assert.matches(" dbname=luamig_drill_1_ab_cd$", c)
      local got, want = read(c), read(target)
      want.dbname = "luamig_drill_1_ab_cd"
      assert.are.same(want, got)
    end
  end)

  it("does not show the password of a string libpq cannot read", function()
    local ok, e = pcall(pg_scratch.conninfo_for, "postgresql://u:Secr3t@h/db?bogus=1", "x")
    assert.is_false(ok)
    assert.is_nil(tostring(e):find("Secr3t", 1, true), tostring(e))
  end)
end)

describe("the identity of a database", function()
  it("PostgreSQL: one server and database however the URL is spelled; another database differs", function()
    assert.is_not_nil(url, "LUAMIG_TEST_PG is not set: run the specs through ./test.sh, which starts a server")
    local function id(u)
      local db = connect.open(u, {})
      local i = pg_scratch.identity(db)
      db:close()
      return i
    end
    local a, b = id(url), id(url .. "?application_name=other")
    assert.are.same(a.keys, b.keys)
    assert.are_not.same(a.keys, id((url:gsub("/[^/?]*$", "/template1"))).keys)
    assert.matches("^database postgres on the server with system identifier %d+$", a.shown)
  end)
end)

describe("scratch names", function()
  it("host: a live process, a gone one, this host's name", function()
    assert.is_true(host.pid_alive(host.getpid()))
    assert.is_true(host.pid_alive(1))
    local p = assert(io.popen("sh -c 'echo $$'"))
    local gone = tonumber(p:read("a"))
    p:close()
    assert.is_false(host.pid_alive(gone))
    assert.is_string(host.hostname())
    assert.has_error(function() host.pid_alive(0) end)
  end)

  it("a new name is unique, carries the pid and this host; a kept one is marked", function()
    local a, b = scratch.new_name(), scratch.new_name(true)
    assert.matches("^luamig_drill_" .. host.getpid() .. "_%x+_%x+$", a)
    assert.matches("^luamig_drill_" .. host.getpid() .. "_%x+_%x+_kept$", b)
    assert.are_not.equal(a, scratch.new_name())
    assert.is_true(#a <= 63)
  end)

  it("a leftover is exactly this host's pattern with a pid that is gone", function()
    local p = assert(io.popen("sh -c 'echo $$'"))
    local gone = tonumber(p:read("a"))
    p:close()
    local tag = scratch.new_name():match("^luamig_drill_%d+_(%x+)_")
    local other = tag == "00000000" and "11111111" or "00000000"
    local function name(pid, t, rand) return ("luamig_drill_%d_%s_%s"):format(pid, t, rand or "0123abcd") end
    assert.is_true(scratch.is_leftover(name(gone, tag)))
    assert.is_false(scratch.is_leftover(name(host.getpid(), tag)), "a live pid")
    assert.is_false(scratch.is_leftover(name(gone, other)), "another host")
    assert.is_false(scratch.is_leftover(name(gone, tag) .. "_kept"), "kept")
    assert.is_false(scratch.is_leftover(name(gone, tag, "0123")), "not this pattern")
    assert.is_false(scratch.is_leftover(("luamig_drill_%d_0123abcd"):format(gone)), "an older luamig's")
    assert.is_false(scratch.is_leftover("x" .. name(gone, tag)), "a prefix")
    assert.is_false(scratch.is_leftover(name(gone, tag) .. ".db"), "a suffix")
    assert.is_false(scratch.is_leftover(("luamig_drill_99999999999999999999_%s_0123abcd"):format(tag)), "no pid")
  end)
end)
