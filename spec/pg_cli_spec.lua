-- The luamig command against the PostgreSQL server test.sh starts.
local sh = require "spec.support.sh"

local url = os.getenv("LUAMIG_TEST_PG")
local port = os.getenv("PG_TEST_PORT")
local made = 0

-- A fresh database on the test server; returns its URL.
local function fresh_db()
  made = made + 1
  local name = ("luamig_cli_%d_%d"):format(os.time() % 100000, made)
  local code, _, err = sh.run(("psql %s -qc %s"):format(sh.quote(url), sh.quote("CREATE DATABASE " .. name)))
  assert(code == 0, err)
  return (url:gsub("/[^/]*$", "/" .. name))
end

describe("luamig CLI on PostgreSQL", function()
  it("has a server (LUAMIG_TEST_PG)", function()
    assert.is_not_nil(url, "LUAMIG_TEST_PG is not set: run through ./test.sh")
  end)

  it("applies and reverts the repo's sample migrations", function()
    local db = fresh_db()
    local p = sh.project()
    assert(os.execute(("cp %s/migrations/*.lua %s/migrations/"):format(sh.quote(sh.source_dir), sh.quote(p.dir))))
    local doc = p:json("upgrade --url " .. sh.quote(db))
    assert.are.equal(6, #doc.steps)
    local _, out = sh.run(("psql %s -tAc 'SELECT title, lesson_count FROM courses ORDER BY 1'"):format(sh.quote(db)))
    assert.are.equal("Analytical Engines|3\nComputability|2\n", out)
    p:ok("downgrade base --url " .. sh.quote(db))
    assert.are.same({}, (p:json("current --url " .. sh.quote(db))).heads)
  end)

  it("runners started at once apply every migration exactly once (advisory lock)", function()
    local db = fresh_db()
    local p = sh.project(sh.chain(20))
    local procs = {}
    for i = 1, 4 do
      procs[i] = ("( cd %s && %s upgrade -q --url %s >out%d 2>err%d; echo $? >rc%d ) &"):format(
        sh.quote(p.dir), sh.quote(sh.bin), sh.quote(db), i, i, i)
    end
    assert(os.execute("sh -c " .. sh.quote(table.concat(procs, "\n") .. "\nwait")))
    for i = 1, 4 do
      assert.are.equal("0\n", io.open(p.dir .. "/rc" .. i):read("a"), io.open(p.dir .. "/err" .. i):read("a"))
    end
    local _, out = sh.run(("psql %s -tAc %s"):format(sh.quote(db), sh.quote(
      "SELECT count(*), count(DISTINCT revision) FROM luamig_version_history WHERE status = 'ok'")))
    assert.are.equal("20|20\n", out)
  end)

  it("a failing step rolls back with its version row", function()
    local db = fresh_db()
    local p = sh.project({
      ["1.lua"] = sh.migration("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id INT)'"),
      ["2.lua"] = sh.migration("bbbb00000002", "aaaa00000001",
        "db:exec 'CREATE TABLE half (id INT)'\ndb:exec('INSERT INTO a VALUES (?)', 'x')"),
    })
    local code, _, err = p:luamig("upgrade --url " .. sh.quote(db))
    assert.are.equal(1, code)
    assert.matches('migrations/2%.lua:7: pg 22P02: invalid input syntax for type integer: "x"', err)
    assert.are.same({ "aaaa00000001" }, (p:json("current --url " .. sh.quote(db))).heads)
    local _, out = sh.run(("psql %s -tAc \"SELECT to_regclass('half') IS NULL\""):format(sh.quote(db)))
    assert.are.equal("t\n", out)
  end)

  it("server down, wrong password and missing database: one line, exit 1, no password", function()
    local p = sh.project(sh.chain(1))
    local cases = {
      { "postgresql://bob:s3cret@127.0.0.1:1/app", 'at 127%.0%.0%.1:1, database "app": Connection refused' },
      { ("postgresql://luamig_pw:s3cret@127.0.0.1:%s/postgres"):format(port),
        'password authentication failed for user "luamig_pw"' },
      { ("postgresql://postgres@127.0.0.1:%s/nodb"):format(port), 'database "nodb" does not exist' },
      { ("host=127.0.0.1 port=%s user=luamig_pw password=s3cret dbname=postgres"):format(port),
        "password authentication failed" },
    }
    for _, c in ipairs(cases) do
      local code, out, err = p:luamig("upgrade --url " .. sh.quote(c[1]))
      assert.are.equal(1, code, err)
      assert.are.equal("", out)
      assert.matches("^luamig: cannot connect to PostgreSQL " .. ".*" .. c[2], err)
      assert.matches("^[^\n]+\n$", err)
      assert.not_matches("s3cret", err)
    end
  end)
end)
