-- The luamig command end to end: the real binary (embedded runner) in fresh
-- project directories; everything that touches a database runs on both
-- drivers (a SQLite file, and a fresh database on the test PostgreSQL server).
local sh = require "spec.support.sh"
local cjson = require "cjson"

local m = sh.migration

local function three(backend)
  return (backend and sh.project_on or function(_, f) return sh.project(f) end)(backend, {
    ["1_a.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id INTEGER, v TEXT)'", "db:exec 'DROP TABLE a'"),
    ["2_b.lua"] = m("bbbb00000002", "aaaa00000001", "db:exec 'CREATE TABLE b (id INTEGER)'", "db:exec 'DROP TABLE b'"),
    ["3_c.lua"] = m("cccc00000003", "bbbb00000002", "db:exec \"INSERT INTO a (v) VALUES ('c')\"",
      "db:exec \"DELETE FROM a WHERE v = 'c'\""),
  })
end

local function heads(p)
  return (p:json("current")).heads
end

describe("luamig CLI", function()
  it("prints its version (every command's --help: spec/inproc/help_spec.lua, driven by the registry)", function()
    local p = sh.project()
    assert.matches("^luamig %d+%.%d+%.%d+ %(Lua 5%.4%)", p:ok("--version"))
  end)


  it("the examples/school project runs up, down to base and up again as copied", function()
    local p = sh.project()
    assert(os.execute(("cp -r %s/examples/school/. %s/"):format(sh.quote(sh.source_dir), sh.quote(p.dir))))
    p:ok("upgrade head")
    local code, out = sh.run(("sqlite3 %s/school.db 'SELECT display_name FROM teachers ORDER BY id'"):format(
      sh.quote(p.dir)))
    assert.are.same({ 0, "Lovelace, Ada\nTuring, Alan\n" }, { code, out })
    p:ok("downgrade base")
    assert.are.equal(3, #(p:json("upgrade")).steps)
    assert.matches("3 revisions round%-trip%.", p:ok("drill"))
  end)

  it("init scaffolds a project, revision chains new files, upgrade applies them", function()
    local p = sh.project()
    local out = p:ok("init app")
    assert.matches("created app/luamig.lua", out)
    assert.is_truthy(io.open(p.dir .. "/app/migrations"))
    local code, _, err = p:luamig("init app")
    assert.are.equal(2, code)
    assert.matches("already exists", err)

    local cfg = "-c app/luamig.lua"
    local first = p:json(cfg .. " revision -m 'create users'")
    assert.matches("^%x+$", first.revision)
    assert.are.equal(12, #first.revision)
    assert.are.same({}, first.down_revisions)
    assert.matches("^app/migrations/" .. first.revision .. "_create_users%.lua$", first.path)
    local second = p:json(cfg .. " revision -m 'add email' --rev-id feed00000002")
    assert.are.same({ first.revision }, second.down_revisions)
    assert.are.same({ "feed00000002" }, (p:json(cfg .. " heads")).heads)
    -- the templates are valid migrations: they apply (to app/luamig.db, as the config says? no: the
    -- config's url is relative to the current directory, like every sqlite:/// URL)
    local up = p:json(cfg .. " upgrade")
    assert.are.equal(2, #up.steps)
    assert.are.same({ "feed00000002" }, up.heads)
  end)


  it("rejects unknown revisions, missing targets and bad options with exit 2", function()
    local p = three()
    local code, out, err = p:luamig("upgrade zzzz")
    assert.are.same({ 2, "" }, { code, out })
    local _
    assert.are.equal("luamig: unknown revision zzzz; `luamig history` lists the revisions\n", err)
    code, _, err = p:luamig("upgrade +9")
    assert.are.equal(2, code)
    assert.matches("%+9 goes past head", err)
    code, _, err = p:luamig("downgrade")
    assert.are.equal(2, code)
    assert.matches("downgrade needs a TARGET", err)
    code, _, err = p:luamig("downgrade -1")
    assert.are.equal(2, code)
    assert.matches("%-1 goes past base", err)
    code, _, err = p:luamig("upgrade --nope")
    assert.are.equal(2, code)
    assert.matches("unknown option '%-%-nope'", err)
    code, _, err = p:luamig("frobnicate")
    assert.are.equal(2, code)
    assert.matches("unknown command 'frobnicate'", err)
    local doc, jcode = p:json("upgrade zzzz")
    assert.are.equal(2, jcode)
    assert.are.equal("revision", doc.error.kind)
  end)

  describe("refuses broken migration files, naming file and line, running nothing", function()
    local function refuses(files, pattern)
      local p = sh.project(files)
      local code, out, err = p:luamig("upgrade")
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.matches(pattern, err)
      assert.are.equal(1, select(2, err:gsub("\n", ""))) -- one line
      local f = io.open(p.dir .. "/luamig.db")
      if f then
        f:close()
        assert.are.equal("\n", p:tables())
      end
    end
    local good = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id INTEGER)'")

    it("a syntax error", function()
      refuses({ ["1.lua"] = good, ["2.lua"] = "revision = 'b'\nfunction upgrade(db)\n  db:exec(\nend\n" },
        "^luamig: migrations/2%.lua:4: unexpected symbol near 'end'")
    end)
    it("an error while loading", function()
      refuses({ ["1.lua"] = good, ["2.lua"] = "revision = 'b'\nlocal x = nil + 1\n" },
        "^luamig: migrations/2%.lua:2: attempt to perform arithmetic on a nil value")
    end)
    it("no revision", function()
      refuses({ ["1.lua"] = good, ["2.lua"] = "function upgrade(db) end\n" },
        "^luamig: migrations/2%.lua:1: no revision id: add  revision = \"%x+\"")
    end)
    it("no upgrade", function()
      refuses({ ["1.lua"] = good, ["2.lua"] = "revision = 'b'\ndown_revision = 'aaaa00000001'\n" },
        "^luamig: migrations/2%.lua:1: no upgrade%(db%) function defined")
    end)
    it("a repeated revision id", function()
      refuses({ ["1.lua"] = good, ["2.lua"] = good },
        "^luamig: migrations/2%.lua:2: revision aaaa00000001 is already used by migrations/1%.lua:2")
    end)
    it("a dangling down_revision", function()
      refuses({ ["1.lua"] = good, ["2.lua"] = m("bbbb", "nothere", "") },
        "^luamig: migrations/2%.lua:2: down_revision nothere does not exist")
    end)
    it("a cycle", function()
      refuses({ ["1.lua"] = m("x1", "y1", ""), ["2.lua"] = m("y1", "x1", ""), ["3.lua"] = good },
        "^luamig: migrations/1%.lua:2: revision x1 is part of a cycle %(x1, y1%)")
    end)
    it("a bad down_revision type", function()
      refuses({ ["1.lua"] = "revision = 'a'\ndown_revision = 5\nfunction upgrade() end\n" },
        "^luamig: migrations/1%.lua:2: down_revision must be a string")
    end)
  end)


  it("branches, merges, labels: heads -v, branches, merge, revision --head/--splice/--branch-label/--depends-on", function()
    local p = sh.project({ ["1.lua"] = m("root00000001", nil, "") })
    local x = p:json("revision -m 'x one' --rev-id xone00000002 --branch-label x")
    assert.are.same({ "root00000001" }, x.down_revisions)
    local code, _, err = p:luamig("revision -m 'not a head' --head root00000001")
    assert.are.equal(2, code)
    assert.matches("root00000001 is not a head revision; pass %-%-splice to start a new branch from it", err)
    p:ok("revision -m 'y one' --rev-id yone00000003 --head root00000001 --splice --branch-label y")
    code, _, err = p:luamig("revision -m 'which head?'")
    assert.are.equal(2, code)
    assert.matches("there are several heads %(xone00000002, yone00000003%): pass %-%-head REV or LABEL@head, " ..
      "or `luamig merge %-m MSG heads` first", err)
    p:ok("revision -m 'x two' --rev-id xtwo00000004 --head x@head --depends-on y")
    local h = p:json("heads")
    assert.are.same({ "xtwo00000004", "yone00000003" }, h.heads) -- in file-name order
    assert.matches("xtwo00000004 %(x, head%)  x two\n  Parents:  xone00000002  %[depends on y%]", p:ok("heads -v"))
    assert.matches("root00000001 %(branchpoint%)  .*\n  %-> xone00000002\n  %-> yone00000003", p:ok("branches"))

    code, _, err = p:luamig("upgrade")
    assert.are.equal(2, code)
    assert.matches("head is ambiguous: there are several heads %(xtwo00000004, yone00000003%); " ..
      "name one revision, use LABEL@head for one branch, or heads for all of them", err)
    local up = p:json("upgrade y@head")
    assert.are.same({ "root00000001", "yone00000003" }, { up.steps[1].revision, up.steps[2].revision })
    p:ok("upgrade heads")
    assert.are.same({ "xtwo00000004" }, heads(p), "y is implied by x's dependency on it")
    -- heads is one revision here (y is x's dependency): nothing to merge
    code, _, err = p:luamig("merge -m 'join' --rev-id mrge00000005 heads")
    assert.are.equal(2, code)
    assert.matches("merge needs two or more revisions; heads names only xtwo00000004", err, 1, true)
    local merged = p:json("revision -m 'join' --rev-id mrge00000005 --head xtwo00000004")
    assert.are.same({ "xtwo00000004" }, merged.down_revisions)
    code, _, err = p:luamig("merge -m 'twice' xtwo00000004")
    assert.are.equal(2, code)
    assert.matches("xtwo00000004 is not a head revision", err)
    local hist = p:ok("history")
    assert.matches("%* xone00000002 %-> xtwo00000004 %(x%) %(current%)  x two  %[depends on y%]", hist)
    assert.matches("  xtwo00000004 %-> mrge00000005 %(x, head%)  join", hist)
    assert.matches("<base> %-> root00000001 %(branchpoint%)", hist)
    assert.matches("%* root00000001 %-> yone00000003 %(y, head%)", hist)
  end)

  it("keeps what it learnt from migration files in a cache, and notices a changed file", function()
    local p = sh.project({ ["1.lua"] = m("aaaa00000001", nil, ""), ["2.lua"] = m("bbbb00000002", "aaaa00000001", "") })
    local cache = sh.tmpdir()
    local env = "XDG_CACHE_HOME=" .. sh.quote(cache)
    local function age(name, secs) -- modified `secs` seconds ago, so that the cache trusts it
      assert(os.execute(("touch -d '-%d seconds' %s/migrations/%s"):format(secs, sh.quote(p.dir), name)))
    end
    age("1.lua", 10)
    age("2.lua", 10)
    assert.are.same({ "bbbb00000002" }, (p:json("heads", env)).heads)
    local _, files = sh.run("ls " .. sh.quote(cache .. "/luamig"))
    assert.matches("^%x+%-%d+%.tsv\n$", files)
    assert.are.same({ "bbbb00000002" }, (p:json("heads", env)).heads) -- from the cache's memo
    -- same size, new parent: a second root; the cache must not hide it
    p:write("migrations/2.lua", m("bbbb00000002", nil, "") .. "-- pad to the same length.\n")
    age("2.lua", 5)
    assert.are.same({ "aaaa00000001", "bbbb00000002" }, (p:json("heads", env)).heads)
    p:ok("upgrade heads", env) -- scripts known from the cache still run
    assert.are.equal("2\n", p:sql("SELECT count(*) FROM luamig_version"))
    sh.write(select(1, (cache .. "/luamig/" .. files:gsub("\n", ""))), "garbage\n\0\1")
    assert.are.same({ "aaaa00000001", "bbbb00000002" }, (p:json("heads", env)).heads)
    assert.are.same({ "aaaa00000001", "bbbb00000002" }, (p:json("heads", "LUAMIG_CACHE=off")).heads)
  end)

  describe("database URLs", function()
    it("come from --url, LUAMIG_URL, DATABASE_URL, the config, then sqlite:///luamig.db", function()
      local p = three()
      p:write("luamig.lua", 'return { url = "sqlite:///from_config.db" }\n')
      p:ok("upgrade aaaa --url sqlite:///from_flag.db", "LUAMIG_URL=sqlite:///from_env.db")
      p:ok("upgrade bbbb", "LUAMIG_URL=sqlite:///from_env.db DATABASE_URL=sqlite:///from_dburl.db")
      p:ok("upgrade cccc", "DATABASE_URL=sqlite:///from_dburl.db")
      p:ok("stamp aaaa")
      p:remove("luamig.lua")
      p:ok("stamp bbbb")
      local function at(url) return (p:json("current --url " .. url)).heads[1] end
      assert.are.equal("aaaa00000001", at("sqlite:///from_flag.db"))
      assert.are.equal("bbbb00000002", at("sqlite:///from_env.db"))
      assert.are.equal("cccc00000003", at("sqlite:///from_dburl.db"))
      assert.are.equal("aaaa00000001", at("sqlite:///from_config.db"))
      assert.are.equal("bbbb00000002", at("sqlite:///luamig.db"))
      assert.are.equal("bbbb00000002", at("sqlite:///" .. p.dir .. "/luamig.db")) -- sqlite:////abs/path
    end)

    it("a bad URL is one clear line, exit 2, without the password", function()
      local p = three()
      for _, url in ipairs({ "mysql://bob:s3cret@db.example.org/app", "sqlite://nohost.db", "just-a-word" }) do
        local code, out, err = p:luamig("upgrade --url " .. sh.quote(url))
        assert.are.equal(2, code, url)
        assert.are.equal("", out)
        assert.not_matches("s3cret", err)
        assert.matches("^luamig: [^\n]+\n$", err)
      end
      local _, _, err = p:luamig("upgrade --url mysql://bob:s3cret@db.example.org/app")
      assert.matches('unsupported database URL scheme "mysql" in "mysql://bob:%*%*%*@db%.example%.org/app"', err)
      assert.is_nil(io.open(p.dir .. "/luamig.db"))
    end)

    it("an unopenable SQLite file is exit 1 naming the path", function()
      local p = three()
      local code, _, err = p:luamig("upgrade --url sqlite:////no/such/dir/x.db")
      assert.are.equal(1, code)
      assert.are.equal('luamig: cannot open database "/no/such/dir/x.db": unable to open database file\n', err)
    end)
  end)

  describe("config", function()
    it("rejects unknown keys, bad values, broken files and a missing -c file (exit 2)", function()
      local p = three()
      local cases = {
        { 'return { migration = "m" }', "luamig.lua: unknown setting 'migration'; did you mean 'migrations'%?" },
        { 'return { transaction = "some" }', "setting 'transaction' must be \"per%-migration\" or \"all\"" },
        { 'return {', "luamig.lua:1: unexpected symbol near <eof>" },
        { 'return 5', "luamig.lua must return a table" },
      }
      for _, c in ipairs(cases) do
        p:write("luamig.lua", c[1])
        local code, _, err = p:luamig("current")
        assert.are.equal(2, code, c[1])
        assert.matches(c[2], err)
      end
      local code, _, err = p:luamig("current -c nothere.lua")
      assert.are.equal(2, code)
      assert.matches("config file nothere.lua not found", err)
    end)
  end)
end)

for _, b in ipairs(sh.backends()) do
  describe("luamig CLI on " .. b.name, function()
    it("applies the repo's sample migrations (SQLite: with the default URL)", function()
      local p = sh.project_on(b)
      assert(os.execute(("cp %s/migrations/*.lua %s/migrations/"):format(sh.quote(sh.sample_dir), sh.quote(p.dir))))
      local out = p:ok("upgrade head")
      assert.matches("upgrade   3f1a9c0d2b7e  Create teachers  %d+%.%d ms", out)
      assert.matches("6 steps; the database is now at d2f4a6c8e0b1%.", out)
      assert.not_matches("\27%[", out) -- no colour off a TTY
      assert.are.equal("Analytical Engines|3\nComputability|2\n",
        p:sql("SELECT title, lesson_count FROM courses ORDER BY title"))
      assert.are.equal("3\n", p:sql("SELECT count(*) FROM enrollments"))
      -- the repo's seeds fill it with sample data; twice changes nothing
      assert(os.execute(("cp -r %s/seeds %s/"):format(sh.quote(sh.sample_dir), sh.quote(p.dir))))
      p:ok("seed")
      local counts = "SELECT (SELECT count(*) FROM teachers), (SELECT count(*) FROM courses), " ..
        "(SELECT count(*) FROM students), (SELECT count(*) FROM enrollments) > 50"
      local first = p:sql(counts)
      assert.matches("^12|22|52|[1t]", first)
      p:ok("seed")
      assert.are.equal(first, p:sql(counts))
      p:ok("downgrade base")
      assert.are.equal("luamig_version luamig_version_history\n", p:tables())
    end)


    it("the examples/invoices project (op only) runs up, down and up again as copied", function()
      local p = sh.project_on(b)
      assert(os.execute(("cp -r %s/examples/invoices/. %s/"):format(sh.quote(sh.source_dir), sh.quote(p.dir))))
      p:ok("upgrade head")
      if b.name == "sqlite" then p.url = "sqlite:///" .. p.dir .. "/invoices.db" end -- the example's own URL
      local sql = "SELECT number, status, due_on FROM invoices ORDER BY number"
      local out = b.name == "sqlite" and select(2, sh.run(("sqlite3 %s/invoices.db %s"):format(sh.quote(p.dir),
        sh.quote(sql)))) or p:sql(sql)
      assert.are.equal("2026-001|paid|2026-12-31\n2026-002|sent|2026-12-31\n2026-003|draft|2026-12-31\n", out)
      p:ok("downgrade base")
      assert.are.equal(3, #(p:json("upgrade")).steps)
      -- CI drills the examples: every downgrade round-trips, and the scripted drill passes
      assert.matches("3 revisions round%-trip%.", p:ok("drill"))
      assert.matches("drills/void_status%.lua: 2 steps, 0 failed", p:ok("drill drills/void_status.lua"))
    end)

    it("the examples/backfill project loads rows in bulk and backfills them with progress", function()
      local p = sh.project_on(b)
      assert(os.execute(("cp -r %s/examples/backfill/. %s/"):format(sh.quote(sh.source_dir), sh.quote(p.dir))))
      local out, err = p:ok("upgrade", "ROWS=3000")
      assert.matches("%(2940 rows backfilled%)", out)
      assert.matches("backfill people: 2940/2940 %(100%%%)", err)
      if b.name == "sqlite" then p.url = "sqlite:///" .. p.dir .. "/people.db" end
      assert.are.equal("3000|2940\n", p:sql("SELECT count(*), count(full_name) FROM people"))
      assert.matches("2 revisions round%-trip%.", (p:ok("drill", "ROWS=500")))
    end)

    it("moves up and down by id, prefix, +N, -N and base; current/heads/check follow", function()
      local p = three(b)
      local doc = p:json("upgrade bbbb")
      assert.are.same({ "aaaa00000001", "bbbb00000002" }, { doc.steps[1].revision, doc.steps[2].revision })
      assert.are.equal("up", doc.steps[1].direction)
      assert.are.equal("number", type(doc.steps[1].ms))
      assert.are.same({ "bbbb00000002" }, doc.heads)

      local out, code = p:json("check")
      assert.are.equal(3, code)
      assert.is_false(out.at_head)
      assert.are.same({ "cccc00000003" }, out.pending)

      p:ok("upgrade +1")
      assert.are.same({ "cccc00000003" }, heads(p))
      assert.are.equal(0, (select(2, p:json("check"))))
      doc = p:json("downgrade -2")
      assert.are.same({ "cccc00000003", "bbbb00000002" }, { doc.steps[1].revision, doc.steps[2].revision })
      assert.are.equal("down", doc.steps[1].direction)
      assert.are.same({ "aaaa00000001" }, heads(p))
      assert.are.equal("a\n", p:tables():match("^(a) ") .. "\n")
      p:ok("downgrade base")
      assert.are.same({}, heads(p))
      assert.are.equal("base (no revision applied)\n", p:ok("current"))
      p:ok("upgrade")
      assert.matches("^cccc00000003  migration cccc00000003\n$", p:ok("current"))
      -- upgrading to an ancestor of where we are is a no-op
      assert.are.equal(0, #(p:json("upgrade aaaa")).steps)
    end)

    it("history, show and status describe revisions with --json shapes from SPEC", function()
      local p = three(b)
      p:ok("upgrade bbbb")
      local h = p:json("history")
      assert.are.equal(3, #h.revisions)
      local c, rb, a = h.revisions[1], h.revisions[2], h.revisions[3]
      assert.are.same({ "cccc00000003", false, true, { "bbbb00000002" } },
        { c.revision, c.applied, c.is_head, c.down_revisions })
      assert.are.same({ true, false }, { rb.applied, rb.is_head })
      assert.are.same({}, a.down_revisions)
      assert.are.equal("migration cccc00000003", c.message)
      assert.matches("%* aaaa00000001 %-> bbbb00000002 %(current%)", p:ok("history"))
      assert.are.equal(2, #(p:json("history -r aaaa:bbbb")).revisions)
      assert.are.equal(2, #(p:json("history -r -1:")).revisions) -- from one below the head, up (as Alembic)

      local st = p:json("status")
      assert.are.same({ "cccc00000003" }, st.pending)
      assert.are.equal(2, #st.applied)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", st.applied[1].applied_at)
      assert.are.equal("number", type(st.applied[1].ms))
      assert.matches("2 applied, 1 pending", p:ok("status"))

      local s = p:json("show bbbb")
      assert.are.same({ "bbbb00000002", true, { "cccc00000003" } }, { s.revision, s.applied, s.children })
      assert.matches("Parents:   aaaa00000001", p:ok("show bbbb"))
    end)

    it("stamp sets the version without running anything", function()
      local p = three(b)
      local doc = p:json("stamp head")
      assert.are.same({ "cccc00000003" }, doc.heads)
      assert.are.equal("luamig_version luamig_version_history\n", p:tables())
      p:ok("stamp base")
      assert.are.same({}, heads(p))
      p:ok("stamp aaaa")
      p:ok("upgrade bbbb") -- runs only b: a was stamped, not created
      assert.are.equal("b luamig_version luamig_version_history\n", p:tables())
    end)

    it("-q keeps results but drops progress lines", function()
      local p = three(b)
      assert.are.equal("", p:ok("upgrade -q"))
      assert.are.equal("cccc00000003  migration cccc00000003\n", p:ok("current -q"))
    end)


    it("a failing step rolls back with its version row; a rerun after the fix reaches head", function()
      local p = three(b)
      p:write("migrations/4_d.lua", m("dddd00000004", "cccc00000003",
        "db:exec 'CREATE TABLE half (id INTEGER)'\ndb:exec 'INSERT INTO half VALUES (1)'\ndb:exec 'INSERT INTO nope VALUES (1)'",
        "db:exec 'DROP TABLE half'"))
      local code, out, err = p:luamig("upgrade")
      assert.are.equal(1, code)
      assert.matches("upgrade   cccc00000003", out) -- the earlier steps committed
      assert.matches("^luamig: upgrade dddd00000004 %(migrations/4_d%.lua%) failed: migrations/4_d%.lua:8: " ..
        b.errors.no_table:gsub("%p", "%%%0") .. "\nthe step was rolled back; the database is still at cccc00000003\n$", err)
      assert.are.same({ "cccc00000003" }, heads(p))
      assert.is_nil(p:tables():match("half"))
      local st = p:json("status")
      assert.are.same({ "dddd00000004", "up", true }, { st.failed.revision, st.failed.direction, st.failed.transactional })
      assert.matches("failed dddd00000004 upgrade failed at .*" .. b.errors.no_table:gsub("%p", "%%%0") ..
        "; it was rolled back", p:ok("status"))

      p:write("migrations/4_d.lua", m("dddd00000004", "cccc00000003", "db:exec 'CREATE TABLE half (id INTEGER)'",
        "db:exec 'DROP TABLE half'"))
      p:ok("upgrade")
      assert.are.same({ "dddd00000004" }, heads(p))
      assert.is_nil((p:json("status")).failed)
    end)

    it("a failing step outside a transaction says so and is recorded", function()
      local p = three(b)
      p:write("migrations/4_d.lua", m("dddd00000004", "cccc00000003",
        "db:exec 'CREATE TABLE half (id INTEGER)'\nerror('boom')", nil, "transactional = false"))
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code)
      assert.matches("migrations/4_d%.lua:7: boom\n" ..
        "it ran outside a transaction: check the schema, then rerun or `luamig stamp`", err)
      assert.matches("half", p:tables()) -- the half-done DDL stayed: that is what the message warns about
      local st = p:json("status")
      assert.is_false(st.failed.transactional)
      assert.matches("it ran outside a transaction", p:ok("status"))
    end)

    it('transaction = "all" leaves the database where the run started when any step fails', function()
      local p = three(b)
      p:write("luamig.lua", 'return { transaction = "all" }\n')
      p:ok("upgrade aaaa")
      p:write("migrations/4_d.lua", m("dddd00000004", "cccc00000003", "error('late failure')"))
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code)
      assert.matches("late failure\nthe run was rolled back", err)
      assert.are.same({ "aaaa00000001" }, heads(p))
      assert.is_nil(p:tables():match("b "))
      p:remove("migrations/4_d.lua")
      assert.are.equal(2, #(p:json("upgrade")).steps)
    end)

    it("refuses to downgrade through a migration without downgrade(), before running anything", function()
      local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id INTEGER)'",
        "db:exec 'DROP TABLE a'"),
        ["2.lua"] = m("bbbb00000002", "aaaa00000001", "db:exec 'CREATE TABLE b (id INTEGER)'") })
      p:ok("upgrade")
      local code, _, err = p:luamig("downgrade base")
      assert.are.equal(2, code)
      assert.matches("migrations/2%.lua: revision bbbb00000002 has no downgrade%(db%)", err)
      assert.are.same({ "bbbb00000002" }, heads(p))
    end)

    it("reports and warns about a migration changed after it was applied", function()
      local p = three(b)
      p:ok("upgrade")
      local f = assert(io.open(p.dir .. "/migrations/2_b.lua", "a"))
      f:write("-- edited\n")
      f:close()
      local st = p:json("status")
      assert.are.equal(1, #st.drifted)
      assert.are.equal("bbbb00000002", st.drifted[1].revision)
      assert.matches("drifted bbbb00000002: migrations/2_b.lua changed after it was applied", p:ok("status"))
      local _, err = p:ok("upgrade")
      assert.matches("warning: migrations/2_b%.lua %(bbbb00000002%) changed after it was applied", err)
    end)

    it("6 runners started at once apply every migration exactly once", function()
      local p = sh.project_on(b, sh.chain(25))
      local procs = {}
      for i = 1, 6 do
        procs[i] = ("( %s >out%d 2>err%d; echo $? >rc%d ) &"):format(p:command("upgrade -q"), i, i, i)
      end
      assert(os.execute("sh -c " .. sh.quote(table.concat(procs, "\n") .. "\nwait")))
      for i = 1, 6 do
        local rc = io.open(p.dir .. "/rc" .. i):read("a")
        local err = io.open(p.dir .. "/err" .. i):read("a")
        assert.are.equal("0\n", rc, err)
      end
      assert.are.equal("25|25\n",
        p:sql("SELECT count(*), count(DISTINCT revision) FROM luamig_version_history WHERE status = 'ok'"))
      assert.are.same({ "a00000000025" }, heads(p))
    end)

    it("runners started at once run each step outside a transaction exactly once too (run-wide lock)", function()
      local files = { ["000.lua"] = m("a00000000000", nil, "db:exec 'CREATE TABLE ran (id TEXT)'") }
      local prev = "a00000000000"
      for i = 1, 8 do
        local id = ("b%011d"):format(i)
        files[("%03d.lua"):format(i)] = m(id, prev, ([[
local t = os.clock() + 0.02
while os.clock() < t do end -- a slow step: widen the window another runner could slip into
db:exec("INSERT INTO ran VALUES (?)", %q)]]):format(id), nil, "transactional = false")
        prev = id
      end
      local p = sh.project_on(b, files)
      local procs = {}
      for i = 1, 4 do
        procs[i] = ("( %s >%s/out%d 2>%s/err%d; echo $? >%s/rc%d ) &"):format(p:command("upgrade -q"), p.dir, i,
          p.dir, i, p.dir, i)
      end
      assert(os.execute("sh -c " .. sh.quote(table.concat(procs, "\n") .. "\nwait")))
      for i = 1, 4 do
        assert.are.equal("0\n", io.open(p.dir .. "/rc" .. i):read("a"), io.open(p.dir .. "/err" .. i):read("a"))
      end
      assert.are.equal("8|8\n", p:sql("SELECT count(*), count(DISTINCT id) FROM ran"))
    end)

    it("honours migrations and version_table settings", function()
      local p = three(b)
      assert(os.execute(("mv %s/migrations %s/db"):format(sh.quote(p.dir), sh.quote(p.dir))))
      p:write("luamig.lua", 'return { migrations = "db", version_table = "schema_version" }\n')
      p:ok("upgrade")
      assert.are.equal("cccc00000003\n", p:sql("SELECT version_num FROM schema_version"))
    end)

    it("--json errors are JSON documents too, and human text never reaches stdout with --json", function()
      local p = three(b)
      local doc = p:json("upgrade")
      assert.are.equal(3, #doc.steps)
      local raw = select(2, p:luamig("upgrade --json"))
      assert.are.same({ steps = {}, heads = { "cccc00000003" } }, (function()
        local d = cjson.decode(raw)
        return { steps = #d.steps == 0 and {} or d.steps, heads = d.heads }
      end)())
      assert.matches('"steps":%[%]', raw)
    end)
  end)
end
