-- The scratch database of drill, lint, check and autogenerate is never the
-- configured one: not through a `?dbname=` in the target URL (libpq lets
-- it win over the path), not through a --scratch-url that names the target
-- in another spelling, not through a --scratch-url that already holds
-- tables. The scratch database goes on every path, Ctrl-C included, and
-- is named so that a later run drops the leftovers of a killed one (its pid
-- gone, on this host) and nothing else.
local sh = require "spec.support.sh"

local m = sh.migration
local pg = os.getenv("LUAMIG_TEST_PG") or ""
local hostport = pg:match("^postgres[%w]*://[^@/]*@?([^/]+)/") or "127.0.0.1:5432"
local port = hostport:match(":(%d+)$") or "5432"

local ORDERS = m("aaaa00000001", nil, "db:exec 'CREATE TABLE IF NOT EXISTS orders (id integer PRIMARY KEY, note text)'",
  "db:exec 'DROP TABLE orders'")
local PENDING = m("bbbb00000002", "aaaa00000001", "db:exec 'CREATE TABLE pending_t (id integer)'",
  "db:exec 'DROP TABLE pending_t'")
local FAILING = m("cccc00000003", "bbbb00000002", "db:exec 'SELECT * FROM no_such_table'", "")
-- A migration that runs until it is interrupted.
local ENDLESS = m("dddd00000004", "aaaa00000001", "while true do end", "")
local SCHEMA = [[
schema.table("orders", { { "id", "integer", primary_key = true }, { "note", "text" } })
schema.table("pending_t", { { "id", "integer" } })
schema.table("declared_only", { { "id", "integer", primary_key = true } })
]]

local function psql(url, sql)
  local code, out, err = sh.run(("psql %s -XtAq -v ON_ERROR_STOP=1 -c %s"):format(sh.quote(url), sh.quote(sql)))
  assert(code == 0, err)
  return out
end

-- The name of a fresh database and its URL.
local function fresh_db()
  local url = sh.fresh_pg()
  return url:match("/([%w_]+)$"), url
end

-- A process id that is not running any more.
local function dead_pid()
  local code, out = sh.run("sh -c 'echo $$'")
  assert(code == 0)
  return assert(tonumber(out:match("%d+")))
end

-- What the victim holds: its rows of orders, its version, its tables.
local function state(p)
  return {
    rows = p:sql("SELECT count(*) FROM orders"),
    version = p:sql("SELECT version_num FROM luamig_version"),
    tables = p:tables(),
  }
end

-- A project on `url` (nil: its own luamig.db, by an absolute URL) at
-- aaaa00000001, with three rows in orders; then the pending migration and
-- the declared schema are added.
local function victim_project(url, backend)
  local p = sh.project({ ["001.lua"] = ORDERS })
  p.url, p.backend = url or ("sqlite:///" .. p.dir .. "/luamig.db"), backend
  p:ok("upgrade head")
  p:sql("INSERT INTO orders VALUES (1, 'a'), (2, 'b'), (3, 'c')")
  p:write("migrations/002.lua", PENDING)
  p:write("schema.lua", SCHEMA)
  local before = state(p)
  assert.are.same({ rows = "3\n", version = "aaaa00000001\n", tables = "luamig_version luamig_version_history orders\n" },
    before)
  return p, before
end

describe("scratch databases on postgresql", function()
  local backend = sh.backends()[2]

  describe("a target URL whose query string names the database (?dbname=)", function()
    -- the URL's path is the maintenance database; libpq connects to the victim
    local function project()
      local name = fresh_db()
      return victim_project(("postgresql://postgres@%s/postgres?dbname=%s"):format(hostport, name), backend)
    end

    it("drill leaves the target's rows and version alone", function()
      local p, before = project()
      local code, out, err = p:luamig("drill")
      assert.are.same(before, state(p))
      assert.are.equal(0, code, out .. err)
      assert.matches("2 revisions round%-trip%.", out)
    end)

    it("lint leaves the target's rows and version alone, a failing migration included", function()
      local p, before = project()
      p:write("migrations/003.lua", FAILING)
      local doc, code, err = p:json("lint")
      assert.are.same(before, state(p))
      assert.are.equal(1, code, err)
      assert.are.same({ "bbbb00000002", "cccc00000003" }, { doc.migrations[1].revision, doc.migrations[2].revision })
      assert.are.same({ "ok", "failed" }, { doc.migrations[1].result, doc.migrations[2].result })
    end)

    it("check leaves the target's rows and version alone", function()
      local p, before = project()
      local code, out, err = p:luamig("check")
      assert.are.same(before, state(p))
      assert.are.equal(3, code, out .. err)
      assert.matches("declared_only", out)
    end)

    it("revision --autogenerate leaves the target's rows and version alone", function()
      local p, before = project()
      local code, out, err = p:luamig('revision --autogenerate -m "declared only"')
      assert.are.same(before, state(p))
      assert.are.equal(0, code, out .. err)
      local _, files = sh.run("cat " .. sh.quote(p.dir) .. "/migrations/*declared_only*.lua")
      assert.matches("declared_only", files)
    end)
  end)

  describe("--scratch-url naming the target in another spelling is refused", function()
    local name, url, p, before
    setup(function()
      url = sh.fresh_pg(true)
      name = url:match("/([%w_]+)$")
      p, before = victim_project(url, backend)
    end)
    teardown(function()
      sh.run(("psql %s -qc %s"):format(sh.quote(pg), sh.quote("DROP DATABASE IF EXISTS " .. name)))
    end)
    local spellings = {
      { "an extra query parameter", function() return url .. "?application_name=x" end },
      { "a key/value string", function() return ("host=127.0.0.1 port=%s user=postgres dbname=%s"):format(port, name) end },
      { "another host name", function() return ("postgresql://postgres@localhost:%s/%s"):format(port, name) end },
      { "?dbname= in the query string", function()
        return ("postgresql://postgres@%s/postgres?dbname=%s"):format(hostport, name)
      end },
    }
    for _, s in ipairs(spellings) do
      for _, command in ipairs({ "drill", "lint" }) do
        it(("%s: %s"):format(command, s[1]), function()
          local code, out, err = p:luamig(command .. " --scratch-url " .. sh.quote(s[2]()))
          assert.are.same(before, state(p))
          assert.are.equal(2, code, out .. err)
          assert.matches("%-%-scratch%-url is the target database", err)
        end)
      end
    end
  end)

  describe("a --scratch-url that is not empty is refused", function()
    it("one holding a table", function()
      local p = sh.project_on(backend, { ["001.lua"] = ORDERS })
      local _, other = fresh_db()
      psql(other, "CREATE TABLE keep_me (x int); INSERT INTO keep_me VALUES (1), (2)")
      local code, out, err = p:luamig("drill --scratch-url " .. sh.quote(other))
      assert.are.equal(2, code, out .. err)
      assert.matches("%-%-scratch%-url is not empty: it holds keep_me; give an empty database", err)
      assert.are.equal("2\n", psql(other, "SELECT count(*) FROM keep_me"))
    end)

    it("one holding luamig's version table", function()
      local p = sh.project_on(backend, { ["001.lua"] = ORDERS })
      local _, other = fresh_db()
      psql(other, "CREATE TABLE luamig_version (version_num text)")
      local code, out, err = p:luamig("lint base:head --scratch-url " .. sh.quote(other))
      assert.are.equal(2, code, out .. err)
      assert.matches("%-%-scratch%-url is not empty: it holds luamig_version %(luamig's version table", err)
    end)
  end)

  it("Ctrl-C: the scratch database is dropped; kill -9: the next run drops it", function()
    local p = sh.project_on(backend, { ["001.lua"] = ORDERS, ["004.lua"] = ENDLESS })
    local function scratch_of(pid)
      return ("SELECT count(*) FROM pg_database WHERE datname LIKE 'luamig\\_drill\\_%d\\_%%'"):format(pid)
    end
    local pid = tonumber((sh.spawn(p, "drill")))
    assert.is_truthy(sh.poll(function() return psql(pg, scratch_of(pid)) == "1\n" end), "no scratch database")
    assert(os.execute("kill -INT " .. pid))
    assert.are_not.equal(0, sh.exit_code(p))
    assert.matches("interrupted", sh.slurp(p.dir .. "/out") .. sh.slurp(p.dir .. "/err"))
    assert.are.equal("0\n", psql(pg, scratch_of(pid)))

    pid = tonumber((sh.spawn(p, "drill")))
    assert.is_truthy(sh.poll(function() return psql(pg, scratch_of(pid)) == "1\n" end), "no scratch database")
    assert(os.execute("kill -9 " .. pid))
    sh.exit_code(p)
    assert.are.equal("1\n", psql(pg, scratch_of(pid)))
    p:remove("migrations/004.lua")
    p:ok("drill")
    assert.are.equal("0\n", psql(pg, scratch_of(pid)))
  end)

  it("a later run drops the scratch databases its host's killed runs left, and nothing else", function()
    local p = sh.project_on(backend, { ["001.lua"] = ORDERS })
    -- this host's tag, from the name of a kept scratch database
    local doc = p:json("drill --keep")
    local kept = assert(doc.scratch:match("luamig_drill_[%w_]+"), doc.scratch)
    local tag = kept:match("^luamig_drill_%d+_(%x+)_%x+_kept$")
    psql(pg, "DROP DATABASE " .. kept)
    assert.is_string(tag, kept)
    local dead = dead_pid()
    local other_tag = tag == "00000000" and "11111111" or "00000000"
    local names = {
      dead = ("luamig_drill_%d_%s_0123abcd"):format(dead, tag),
      live = ("luamig_drill_1_%s_0123abcd"):format(tag), -- pid 1 is always running
      other_host = ("luamig_drill_%d_%s_0123abcd"):format(dead, other_tag),
      kept = ("luamig_drill_%d_%s_0123abcd_kept"):format(dead, tag),
      legacy = ("luamig_drill_%d_0123abcd"):format(dead),
    }
    finally(function()
      for _, n in pairs(names) do psql(pg, "DROP DATABASE IF EXISTS " .. n) end
    end)
    for _, n in pairs(names) do psql(pg, "CREATE DATABASE " .. n) end
    p:ok("drill")
    local left = psql(pg, "SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database " ..
      "WHERE datname LIKE 'luamig\\_drill\\_%'")
    local set = {}
    for n in left:gmatch("%S+") do set[n] = true end
    assert.is_nil(set[names.dead], left)
    for _, k in ipairs({ "live", "other_host", "kept", "legacy" }) do
      assert.is_true(set[names[k]], k .. " was dropped: " .. left)
    end
  end)
end)

describe("scratch databases on sqlite", function()
  local backend = sh.backends()[1]

  it("--scratch-url naming the target file in another spelling is refused", function()
    local p, before = victim_project(nil, backend)
    assert(os.execute(("cd %s && ln luamig.db hard.db && ln -s luamig.db soft.db && mkdir sub"):format(
      sh.quote(p.dir))))
    for _, url in ipairs({ "sqlite:///" .. p.dir .. "/./luamig.db", "sqlite:///" .. p.dir .. "/sub/../luamig.db",
      "sqlite:///" .. p.dir .. "/hard.db", "sqlite:///" .. p.dir .. "/soft.db", "sqlite:///luamig.db" }) do
      for _, command in ipairs({ "drill", "lint" }) do
        local code, out, err = p:luamig(command .. " --scratch-url " .. sh.quote(url))
        assert.are.same(before, state(p))
        assert.are.equal(2, code, url .. ": " .. out .. err)
        assert.matches("%-%-scratch%-url is the target database", err)
      end
    end
  end)

  it("a --scratch-url holding a table is refused; an in-memory one is fine", function()
    local p = sh.project({ ["001.lua"] = ORDERS })
    local other = p.dir .. "/other.db"
    assert(os.execute(("sqlite3 %s 'CREATE TABLE keep_me (x int); INSERT INTO keep_me VALUES (1)'"):format(
      sh.quote(other))))
    local code, out, err = p:luamig("drill --scratch-url " .. sh.quote("sqlite:///" .. other))
    assert.are.equal(2, code, out .. err)
    assert.matches("%-%-scratch%-url is not empty: it holds keep_me; give an empty database", err)
    p:ok("drill --scratch-url sqlite::memory:")
  end)

  it("Ctrl-C: the scratch file is removed; kill -9: the next run removes it", function()
    local p = sh.project({ ["001.lua"] = ORDERS, ["004.lua"] = ENDLESS })
    local tmp = sh.tmpdir()
    finally(function() os.execute("rm -rf " .. sh.quote(tmp)) end)
    local env = "TMPDIR=" .. sh.quote(tmp)
    local function files()
      local _, out = sh.run("ls " .. sh.quote(tmp))
      return out
    end
    local pid = tonumber((sh.spawn(p, "drill", env)))
    assert.is_truthy(sh.poll(function() return files():match("luamig_drill_" .. pid .. "_%x+_%x+%.db") end), files())
    assert(os.execute("kill -INT " .. pid))
    assert.are_not.equal(0, sh.exit_code(p))
    assert.matches("interrupted", sh.slurp(p.dir .. "/out") .. sh.slurp(p.dir .. "/err"))
    assert.are.equal("", files())

    pid = tonumber((sh.spawn(p, "drill", env)))
    assert.is_truthy(sh.poll(function() return files():match("luamig_drill_" .. pid .. "_%x+_%x+%.db") end), files())
    assert(os.execute("kill -9 " .. pid))
    sh.exit_code(p)
    assert.matches("luamig_drill_" .. pid, files())
    p:remove("migrations/004.lua")
    p:ok("drill", env)
    assert.are.equal("", files())
  end)

  it("scratch files go to $TMPDIR; a later run removes those its host's killed runs left, and nothing else", function()
    local p = sh.project({ ["001.lua"] = ORDERS })
    local tmp = sh.tmpdir()
    finally(function() os.execute("rm -rf " .. sh.quote(tmp)) end)
    local env = "TMPDIR=" .. sh.quote(tmp)
    local doc = p:json("drill --keep", env)
    local kept = doc.scratch
    assert.are.equal(tmp .. "/", kept:sub(1, #tmp + 1))
    local tag = kept:match("/luamig_drill_%d+_(%x+)_%x+_kept%.db$")
    assert.is_string(tag, kept)
    assert(os.execute("rm " .. sh.quote(kept) .. "*"))
    local dead = dead_pid()
    local files = {
      dead = ("luamig_drill_%d_%s_0123abcd.db"):format(dead, tag),
      dead_journal = ("luamig_drill_%d_%s_0123abcd.db-journal"):format(dead, tag),
      dead_lock = ("luamig_drill_%d_%s_0123abcd.db-luamig.lock"):format(dead, tag),
      live = ("luamig_drill_1_%s_0123abcd.db"):format(tag),
      other_host = ("luamig_drill_%d_%s_0123abcd.db"):format(dead, tag == "00000000" and "11111111" or "00000000"),
      kept = ("luamig_drill_%d_%s_0123abcd_kept.db"):format(dead, tag),
      unrelated = ("luamig_drill_%d_%s_0123abcd.db.bak"):format(dead, tag),
    }
    for _, f in pairs(files) do sh.write(tmp .. "/" .. f, "") end
    p:ok("drill", env)
    for _, k in ipairs({ "dead", "dead_journal", "dead_lock" }) do
      assert.is_nil(io.open(tmp .. "/" .. files[k]), k .. " was left")
    end
    for _, k in ipairs({ "live", "other_host", "kept", "unrelated" }) do
      assert.is_truthy(io.open(tmp .. "/" .. files[k]), k .. " was removed")
    end
    -- and the drill's own file is gone
    local code, out = sh.run("ls " .. sh.quote(tmp))
    assert.are.equal(0, code)
    local n = 0
    for _ in out:gmatch("[^\n]+") do n = n + 1 end
    assert.are.equal(4, n, out)
  end)
end)
