-- Offline SQL (luamig.run.offline, `upgrade --sql`): the migrations run
-- against a recorder through the same step context as online, on both
-- backends' SQL; what needs the database is refused, naming the file.
local sh = require "spec.support.sh"

local m = sh.migration

for _, b in ipairs(sh.backends()) do
  describe("offline SQL for " .. b.name, function()
    it("records each migration's op calls and version updates, one transaction each", function()
      local p = sh.project_on(b, {
        ["1.lua"] = m("aaaa00000001", nil, [[
  op.create_table("t1", { { "id", "integer", primary_key = true }, { "name", "string(20)" } })
  op.bulk_insert("t1", { { id = 1, name = "o'k" } })]]),
        ["2.lua"] = m("aaaa00000002", "aaaa00000001", [[
  op.create_index("ix_t1_name", "t1", { "name" })]], nil, "transactional = false"),
      })
      local out = p:ok("upgrade --sql head")
      assert.matches("%-%- luamig upgrade head %(" .. b.name .. "%)", out)
      assert.matches('CREATE TABLE "t1"', out)
      assert.matches([[INSERT INTO "t1" %("id", "name"%) VALUES %(1, 'o''k'%);]], out)
      local first = out:find("-- up aaaa00000001", 1, true)
      local second = out:find("-- up aaaa00000002", 1, true)
      assert.truthy(first and second and first < second)
      -- the transactional step is wrapped, the other one is not
      assert.matches("^%s*BEGIN;", out:sub(first):match("\n(.-)\n%-%- up aaaa00000002") .. "")
      assert.is_nil(out:sub(second):find("BEGIN;", 1, true))
      assert.matches('CREATE INDEX "ix_t1_name" ON "t1"', out:sub(second))
      -- nothing ran: the database has no tables
      assert.are.equal("", (p:tables():gsub("%s", "")))
    end)

    it("writes the history rows, with checksums, that a live run writes", function()
      local files = {
        ["1.lua"] = m("aaaa00000001", nil, 'op.create_table("t1", { { "id", "integer", primary_key = true } })',
          'op.drop_table("t1")'),
        ["2.lua"] = m("aaaa00000002", "aaaa00000001", 'op.create_index("ix_t1", "t1", { "id" })',
          'op.drop_index("ix_t1")', "transactional = false"),
      }
      local live, dba = sh.project_on(b, files), sh.project_on(b, files)
      local function script(p, args)
        local path = p.dir .. "/script.sql"
        sh.write(path, p:ok(args))
        local code, _, err = b.run_file(p, path)
        assert.are.equal(0, code, err)
      end
      local rows = "SELECT revision, direction, status, checksum, transactional, error FROM luamig_version_history " ..
        "ORDER BY id"
      live:ok("upgrade head")
      script(dba, "upgrade --sql head")
      assert.are.equal(live:sql(rows), dba:sql(rows))
      assert.are.equal(live:ok("history"), dba:ok("history"))
      for _, x in ipairs(dba:json("status").applied) do
        assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", x.applied_at)
      end
      live:ok("downgrade aaaa00000001")
      script(dba, "downgrade --sql head:aaaa00000001")
      assert.are.equal(live:sql(rows), dba:sql(rows))
      live:ok("upgrade head")
      script(dba, "upgrade --sql aaaa00000001:head")
      assert.are.equal(live:sql(rows), dba:sql(rows))
      assert.are.equal(4, select(2, live:sql(rows):gsub("\n", ""))) -- up, up, down, up
      -- a later edit of an applied file is drift, as on the live database
      for _, p in ipairs({ live, dba }) do
        p:ok("check --fail-on-drift")
        p:write("migrations/1.lua", files["1.lua"] .. "-- edited\n")
        local code, out = p:luamig("check --fail-on-drift")
        assert.are.equal(4, code, out)
        assert.matches("aaaa00000001", out)
      end
    end)

    it("refuses a migration that needs query results, naming it, and exits 1", function()
      local p = sh.project_on(b, {
        ["1.lua"] = m("aaaa00000001", nil, [[
  if db:has_table("t1") then return end]]),
      })
      local code, _, err = p:luamig("upgrade --sql head")
      assert.are.equal(1, code)
      assert.matches("migrations/1%.lua needs the database %(db:has_table%), which %-%-sql cannot give", err)
    end)

    it("prints a server-side luamig.backfill as its batch UPDATE, and refuses one with a Lua set function", function()
      local p = sh.project_on(b, {
        ["1.lua"] = m("aaaa00000001", nil, [[
  op.create_table("t1", { { "id", "integer", primary_key = true }, { "name", "text" } })
  db:autocommit(function()
    luamig.backfill { table = "t1", set = { name = "'r' || id" }, where = "name IS NULL", batch_size = 500 }
  end)]]),
      })
      local out = p:ok("upgrade --sql head")
      assert.matches([[-- backfill t1 (name) through luamig.backfill: the rows with id up to max(id) when it starts, ]] ..
        "in batches of 500 id, each in its own transaction, checkpointed (a rerun resumes)", out, 1, true)
      assert.matches([[--   UPDATE "t1" SET "name" = 'r' || id WHERE (name IS NULL) AND "id" >= :first AND "id" <= :last;]],
        out, 1, true)
      -- the script runs, and records the step, whether the migration is transactional or not
      for _, extra in ipairs({ "", "transactional = false" }) do
        local dba = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, [[
  op.create_table("t1", { { "id", "integer", primary_key = true }, { "name", "text" } })
  db:autocommit(function() db:exec("INSERT INTO t1 (id) VALUES (1)") end)]], nil, extra) })
        local path = dba.dir .. "/script.sql"
        sh.write(path, dba:ok("upgrade --sql head"))
        local code, _, err = b.run_file(dba, path)
        assert.are.equal(0, code, err)
        assert.matches("aaaa00000001", dba:ok("current"))
        assert.are.equal("1\n", dba:sql("SELECT count(*) FROM t1"))
      end
      p:write("migrations/1.lua", m("aaaa00000001", nil, [[
  op.create_table("t1", { { "id", "integer", primary_key = true }, { "name", "text" } })
  luamig.backfill { table = "t1", set = function(row) return { name = "r" .. row.id } end }]]))
      local code, _, err = p:luamig("upgrade --sql head")
      assert.are.equal(1, code)
      assert.matches("migrations/1%.lua:7: luamig%.backfill with set = function%(row%) needs the database, which " ..
        "%-%-sql cannot give; write set = { column = \"SQL expression\" }, or run it against a database", err)
    end)
  end)
end

describe("offline SQL for sqlite enums", function()
  it("uses the enums created earlier in the same output", function()
    local p = sh.project({
      ["1.lua"] = m("aaaa00000001", nil, [[
  op.create_enum("mood", { "sad", "happy" })
  op.create_table("person", { { "id", "integer", primary_key = true }, { "m", "mood" } })]]),
    })
    local out = p:ok("upgrade --sql head")
    assert.matches([["m" mood CHECK %("m" IN %('sad', 'happy'%)%)]], out)
  end)
end)

-- Statements whose `?`, `;` or quotes sit in comments, strings, quoted names
-- or dollar quotes: the offline script must run to the same rows as a live
-- run (one SQL tokenizer serves both, src/sql_tokens.c).
local LEXING = {
  common = [[
  db:exec([=[CREATE TABLE t (k text, "a?" text, b text)]=])
  db:exec([=[INSERT INTO t (k, "a?") VALUES ('c1', ?) -- really?]=], "x")
  db:exec([=[INSERT INTO t (k, "a?", b) VALUES ('c2', ? /* ? */, ?)]=], "a2", "b2")
  db:exec([=[INSERT INTO t (k, "a?", b) VALUES ('c3', '?'';--', ?)]=], "b3")
  db:exec([=[INSERT INTO t (k, "a?") VALUES ('c4', 'x') -- trailing]=])
  db:exec([=[INSERT INTO t (k, "a?") VALUES ('c5', 'y');]=])]],
  postgresql = [[
  db:exec([=[INSERT INTO t (k, "a?", b) VALUES ('c6', E'\'?', ?)]=], "b6")
  db:exec([=[INSERT INTO t (k, "a?", b) VALUES ('c7', $$?$$, ?)]=], "b7")
  db:exec([=[INSERT INTO t (k, "a?", b) VALUES ('c8', $q$ ' ? $q$, ? /* /* ? */ ? */)]=], "b8")]],
  sqlite = [[
  db:exec([=[INSERT INTO t (k, [a?], b) VALUES ('c6', '`?`' /* ; */, ?)]=], "b6")]],
}

for _, b in ipairs(sh.backends()) do
  describe("offline SQL for " .. b.name .. " lexes as the database does", function()
    it("runs to the same rows as a live upgrade", function()
      local files = { ["1.lua"] = m("aaaa00000001", nil, LEXING.common .. "\n" .. LEXING[b.name]) }
      local live, script = sh.project_on(b, files), sh.project_on(b, files)
      live:ok("upgrade head")
      local out = script:ok("upgrade --sql head")
      assert.is_nil(out:find("reallyNULL", 1, true))
      assert.matches([[VALUES %('c1', 'x'%); %-%- really%?]], out)
      sh.write(script.dir .. "/up.sql", out)
      if b.name == "postgresql" then
        assert(sh.run(("psql %s -XqA -v ON_ERROR_STOP=1 -f %s"):format(sh.quote(script.url),
          sh.quote(script.dir .. "/up.sql"))) == 0)
      else
        local code, _, err = sh.run(("sqlite3 %s < %s"):format(sh.quote(script.dir .. "/luamig.db"),
          sh.quote(script.dir .. "/up.sql")))
        assert.are.equal(0, code, err)
      end
      local rows = 'SELECT k, "a?", b FROM t ORDER BY k'
      assert.are.equal(live:sql(rows), script:sql(rows))
      assert.truthy(live:sql(rows):find("c5|y|\n", 1, true))
    end)
  end)
end
