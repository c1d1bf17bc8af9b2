-- Plugins (loading, commands, hooks and their failures) and the shipped seed
-- plugin, through the luamig command on both drivers.
local sh = require "spec.support.sh"

local m = sh.migration

-- A plugin recording every hook call (and its argument) to hooks.log.
local RECORDER = [[
local function note(line)
  local f = assert(io.open("hooks.log", "a"))
  f:write(line, "\n")
  f:close()
end
return {
  name = "recorder",
  commands = {
    greet = {
      help = "Say hello.",
      args = { { "who", "Whom to greet." } },
      options = { { "--times", "How often.", "N" }, { "--shout", "Upper case.", flag = true } },
      run = function(ctx, args)
        local text = ("hello %s"):format(args.who)
        if args.shout then text = text:upper() end
        for _ = 1, tonumber(args.times or "1") do ctx.log:result(text) end
        return { greeted = args.who, tables = #ctx.db:query("SELECT 1 AS one") }
      end,
    },
  },
  hooks = {
    before_run = function(_, info) note("before_run " .. info.direction .. " " .. #info.plan) end,
    before_migration = function(_, step) note("before_migration " .. step.revision) end,
    after_migration = function(_, step) note("after_migration " .. step.revision .. " " .. step.direction) end,
    after_run = function(_, info) note("after_run " .. table.concat(info.heads, ",")) end,
    on_error = function(_, info) note("on_error " .. info.error:match("[^\n]*")) end,
  },
}
]]

local function two(b)
  local p = sh.project_on(b, {
    ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id INTEGER)'", "db:exec 'DROP TABLE a'"),
    ["2.lua"] = m("bbbb00000002", "aaaa00000001", "db:exec 'CREATE TABLE b (id INTEGER)'", "db:exec 'DROP TABLE b'"),
  })
  assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/plugins")))
  return p
end

local function read(p, name)
  return io.open(p.dir .. "/" .. name) and sh.slurp(p.dir .. "/" .. name) or ""
end

for _, b in ipairs(sh.backends()) do
  describe("plugins on " .. b.name, function()
    it("lists shipped and project plugins; their commands take arguments and options", function()
      local p = two(b)
      p:write("plugins/recorder.lua", RECORDER)
      local list = p:json("plugins")
      assert.are.same({ "recorder", "seed" }, { list.plugins[1].name, list.plugins[2].name })
      assert.are.same({ "greet" }, list.plugins[1].commands)
      assert.is_true(list.plugins[2].shipped)
      assert.matches("greet%s+Say hello%. %[plugin recorder%]", p:ok("--help"))
      assert.are.equal("HELLO WORLD\nHELLO WORLD\n", p:ok("greet world --times 2 --shout"))
      assert.are.equal("world", (p:json("greet world")).greeted)
      local code, _, err = p:luamig("greet")
      assert.are.equal(2, code)
      assert.matches("missing argument 'who'", err)
      code, _, err = p:luamig("greet x --nope")
      assert.are.equal(2, code)
      assert.matches("unknown option '%-%-nope'", err)
    end)

    it("runs hooks in order around a run and each migration; on_error when it fails", function()
      local p = two(b)
      p:write("plugins/recorder.lua", RECORDER)
      p:ok("upgrade")
      assert.are.equal("before_run up 2\nbefore_migration aaaa00000001\nafter_migration aaaa00000001 up\n" ..
        "before_migration bbbb00000002\nafter_migration bbbb00000002 up\nafter_run bbbb00000002\n", read(p, "hooks.log"))
      p:write("migrations/3.lua", m("cccc00000003", "bbbb00000002", "error('nope')"))
      os.remove(p.dir .. "/hooks.log")
      assert.are.equal(1, (p:luamig("upgrade")))
      assert.matches("^before_run up 1\nbefore_migration cccc00000003\non_error upgrade cccc00000003", read(p, "hooks.log"))
    end)

    it("an error in before_run stops the run before anything changes, naming the plugin's file and line", function()
      local p = two(b)
      p:write("plugins/guard.lua", 'return { name = "guard", hooks = {\n  before_run = function() error("frozen") end } }\n')
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code)
      assert.matches("plugin guard: hook before_run failed: plugins/guard%.lua:2: frozen", err)
      assert.are.same({}, (p:json("current")).heads)
      assert.are.equal("\n", p:tables(), "not even the version tables")
    end)

    it("an error in before_migration rolls that migration back; the ones before it stay", function()
      local p = two(b)
      p:write("plugins/guard.lua", 'return { name = "guard", hooks = { before_migration = function(_, s)\n' ..
        '  if s.revision == "bbbb00000002" then error("not b") end end } }\n')
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code)
      assert.matches("plugin guard: hook before_migration failed: plugins/guard%.lua:2: not b", err)
      assert.are.same({ "aaaa00000001" }, (p:json("current")).heads)
    end)

    it("refuses broken plugins: a syntax error, a built-in command's name, no run function", function()
      local p = two(b)
      local cases = {
        { "return {\n  name = ", "plugins/bad%.lua:2: unexpected symbol near <eof>" },
        { 'return { name = "bad", commands = { upgrade = { run = function() end } } }',
          "plugin plugins/bad%.lua: command 'upgrade' is built into luamig; rename it" },
        { 'return { name = "bad", commands = { x = { help = "x" } } }',
          "plugin plugins/bad%.lua: command 'x' needs run = function%(ctx, args%)" },
        { 'return { name = "bad", hooks = { before_everything = function() end } }', "unknown hook 'before_everything'" },
      }
      for _, c in ipairs(cases) do
        p:write("plugins/bad.lua", c[1])
        local code, _, err = p:luamig("upgrade")
        assert.are.equal(2, code, c[1])
        assert.matches(c[2], err)
        assert.are.same({}, (p:json("current")).heads, "nothing ran")
      end
    end)

    describe("seed", function()
      local function seeded(extra_seed)
        local p = sh.project_on(b, {
          ["1.lua"] = m("aaaa00000001", nil, [[
op.create_table("people", { { "id", "integer", primary_key = true, autoincrement = true },
  { "name", "text", nullable = false }, { "email", "text", nullable = false, unique = true } })
op.create_table("notes", { { "person_id", "integer", nullable = false, references = "people.id" },
  { "body", "text" }, { "on_day", "date" } }, { constraints = { { type = "primary_key", columns = { "person_id" } } } })]],
            "op.drop_table('notes')\nop.drop_table('people')"),
          ["2.lua"] = m("bbbb00000002", "aaaa00000001", "op.add_column('people', { 'city', 'text' })",
            "op.drop_column('people', 'city')"),
        })
        assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/seeds")))
        p:write("seeds/01_people.lua", [[
tables = { "people" }
function seed(_, h)
  local rows = {}
  for i = 1, 25 do
    local name = h.fake.name()
    rows[i] = { name = name, email = h.fake.email(name, i) }
  end
  h.upsert("people", rows, { "email" })
end
]])
        p:write("seeds/02_notes.lua", [[
tables = { "notes" }
function seed(db, h)
  for _, r in ipairs(db:query("SELECT id FROM people ORDER BY email")) do
    h.upsert("notes", { { person_id = r.id, body = h.fake.sentence(), on_day = h.fake.date() } }, { "person_id" })
  end
  assert(h.ref("people", { email = db:scalar("SELECT min(email) FROM people") }))
end
]])
        p:write("seeds/03_cities.lua", [[
requires = "bbbb00000002"
function seed(db, h) db:exec("UPDATE people SET city = ?", h.fake.word()) end
]])
        p:write("seeds/04_demo.lua", 'env = { "demo" }\nfunction seed(db) db:exec("DELETE FROM notes") end\n')
        if extra_seed then p:write("seeds/05_extra.lua", extra_seed) end
        return p
      end

      local function dump(p)
        return p:sql("SELECT p.name, p.email, n.body, n.on_day FROM people p JOIN notes n ON n.person_id = p.id " ..
          "ORDER BY p.email")
      end

      it("runs seeds in name order, twice without duplicates, with the same data on a fresh database", function()
        local p = seeded()
        local code, _, err = p:luamig("seed")
        assert.are.equal(1, code)
        assert.matches("the database is not at head %(2 pending: aaaa00000001, bbbb00000002%)", err)
        p:ok("upgrade aaaa")
        local out = p:ok("seed --force")
        assert.matches("ran      01_people.*ran      02_notes.*skipped  03_cities  %(needs revision bbbb00000002, " ..
          "which is not applied%).*skipped  04_demo  %(not for environment dev %(only demo%)%)", out)
        p:ok("upgrade")
        local doc = p:json("seed")
        assert.are.same({ "ran", "ran", "ran", "skipped" },
          { doc.seeds[1].status, doc.seeds[2].status, doc.seeds[3].status, doc.seeds[4].status })
        local first = dump(p)
        p:ok("seed")
        assert.are.equal("25|25\n", p:sql("SELECT count(*), count(DISTINCT email) FROM people"))
        assert.are.equal(first, dump(p), "idempotent")
        local other = seeded()
        other:ok("upgrade")
        other:ok("seed")
        assert.are.equal(first, dump(other), "deterministic across databases and runs")
        assert.matches("^[%a -]+|[%w.]+@example%.[a-z]+|%u[%l ]+%.|%d%d%d%d%-%d%d%-%d%d\n", first)
      end)

      it("--reset empties the seeded tables first; named seeds; --env; a failing seed rolls back", function()
        local p = seeded("function seed(db)\n  db:exec(\"DELETE FROM people\")\n" ..
          "  db:exec(\"INSERT INTO nowhere VALUES (1)\")\nend\n")
        p:ok("upgrade")
        p:ok("seed people")
        assert.are.equal("25\n", p:sql("SELECT count(*) FROM people"))
        assert.are.equal("0\n", p:sql("SELECT count(*) FROM notes"))
        p:sql("INSERT INTO people (name, email) VALUES ('extra', 'extra@x')")
        p:ok("seed --reset --yes 01_people")
        assert.are.equal("25\n", p:sql("SELECT count(*) FROM people"), "the extra row went with --reset")
        local code, _, err = p:luamig("seed nosuch")
        assert.are.equal(2, code)
        assert.matches("no seed named nosuch", err)
        p:ok("seed notes")
        p:ok("seed --env demo 04_demo")
        assert.are.equal("0\n", p:sql("SELECT count(*) FROM notes"))
        code, _, err = p:luamig("seed extra")
        assert.are.equal(1, code)
        assert.matches("seed 05_extra %(.*seeds/05_extra%.lua%) failed and was rolled back:", err)
        assert.are.equal("25\n", p:sql("SELECT count(*) FROM people"), "its DELETE was rolled back")
      end)

      it("a project plugin named seed overrides the shipped one", function()
        local p = seeded()
        assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/plugins")))
        p:write("plugins/myseed.lua", 'return { name = "seed", commands = { seed = { run = function(ctx)\n' ..
          '  ctx.log:result("my own seeding") end } } }\n')
        assert.are.equal("my own seeding\n", p:ok("seed"))
      end)
    end)
  end)
end
