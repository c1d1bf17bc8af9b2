-- `luamig lint` against the real servers. PostgreSQL: the corpus
-- (spec/support/lint_corpus.lua) — each hazard reported with its rule, lock
-- mode and file:line, each safe twin with nothing, a Lua-built statement
-- like a literal one; observed rewrites are pg_class.relfilenode changes
-- (varchar widening is not one); a failing migration is reported and the
-- lint goes on; the target database is never touched. SQLite: table
-- rebuilds with their row counts, the write lock. Both: --fail-on, --json,
-- suppression; 50 migrations lint in one run.
local sh = require "spec.support.sh"
local corpus = require "spec.support.lint_corpus"

local function pg_project()
  local p = sh.project_on(sh.backends()[2])
  corpus.write(p.dir)
  return p
end

-- The corpus linted after its base migration, on 200 synthetic rows per table.
local linted
local function corpus_doc()
  if not linted then
    local p = pg_project()
    local doc, code, err = p:json("lint " .. corpus.id(0) .. ":head --rows 200")
    linted = { doc = doc, code = code, err = err, p = p }
  end
  return linted.doc, linted.code, linted.err
end

-- A CHECK no row's values meet (nor NULL, a default or another row's value) stops `lint --rows`, naming it.
local function refused_check(backend)
  local p = sh.project_on(backend, {
    ["1.lua"] = sh.migration("i00000000001", nil,
      "db:exec 'CREATE TABLE never (id integer PRIMARY KEY, n integer NOT NULL, CONSTRAINT never_neg CHECK (n < 0))'"),
    ["2.lua"] = sh.migration("i00000000002", "i00000000001", "db:exec 'SELECT 1'"),
  })
  p:ok("upgrade i00000000001")
  local code, out, err = p:luamig("lint --rows 10")
  assert.are.equal(2, code, out .. err)
  assert.matches("%-%-rows cannot fill table never: .*never_neg.*; seed it with %-%-with%-seeds", err)
end

local function by_revision(doc)
  local out = {}
  for _, m in ipairs(doc.migrations) do out[m.revision] = m end
  return out
end

describe("luamig lint on postgresql", function()
  it("reports each hazard of the corpus with its rule, lock mode and file:line, and nothing for the safe twins",
    function()
      local doc, code, err = corpus_doc()
      assert.are.equal(1, code, err)
      assert.is_false(doc.ok)
      assert.are.equal(#corpus.CASES - 1, #doc.migrations)
      local got = by_revision(doc)
      for i = 1, #corpus.CASES - 1 do
        local case, m = corpus.CASES[i + 1], got[corpus.id(i)]
        assert.is_table(m, case.name)
        assert.are.equal(#case.expect, #m.findings, case.name .. ": " .. require("cjson").encode(m.findings))
        for k, e in ipairs(case.expect) do
          local f = m.findings[k]
          assert.are.equal(e.rule, f.rule, case.name)
          assert.are.equal(("migrations/%s:%d"):format(corpus.file(i), corpus.line(e.line)), f.where, case.name)
          if e.lock then assert.are.equal(e.lock, f.lock, case.name) end
          assert.is_string(f.recipe)
          assert.is_string(f.blocks)
          assert.truthy(f.severity == "error" or f.severity == "warning")
        end
      end
    end)

  it("reports a statement the transaction refuses, with its error, and goes on with the next migration", function()
    local doc = corpus_doc()
    local got = by_revision(doc)
    local i = 0
    for k, c in ipairs(corpus.CASES) do if c.name == "refused" then i = k - 1 end end
    local m = got[corpus.id(i)]
    assert.are.equal("failed", m.result)
    assert.matches("25001", m.error)
    assert.are.equal(1, #m.refused)
    assert.are.equal(("migrations/%s:%d"):format(corpus.file(i), corpus.line(2)), m.refused[1].where)
    assert.are.equal("ok", got[corpus.id(i + 1)].result)
    local fails = 0
    for _, c in ipairs(corpus.CASES) do if c.fails then fails = fails + 1 end end
    assert.are.equal(fails, doc.failed)
  end)

  it("reports every lock with what it blocks, the strongest one's hold time, rewrites and validation scans", function()
    local got = by_revision((corpus_doc()))
    local function case(name)
      for k, c in ipairs(corpus.CASES) do if c.name == name then return got[corpus.id(k - 1)] end end
    end
    local fk = case("foreign_key").observed
    local modes = {}
    for _, l in ipairs(fk.locks) do modes[l.relation .. " " .. l.mode] = l.blocks end
    assert.are.equal("writes and DDL", modes["orders SHARE ROW EXCLUSIVE"])
    assert.are.equal("writes and DDL", modes["users SHARE ROW EXCLUSIVE"])
    assert.are.same({ "orders", "users" }, fk.scanned)
    assert.are.equal("SHARE ROW EXCLUSIVE", fk.strongest.mode)
    assert.is_true(fk.strongest.held_ms > 0)
    assert.are.same({ "users" }, case("type_rewrite").observed.rewritten)
    assert.are.same({}, case("varchar_widening").observed.rewritten)
    assert.are.same({}, case("varchar_widening").observed.scanned)
    assert.are.same({ "users" }, case("check_validate").observed.scanned)
    assert.are.same({}, case("set_not_null_after_check").observed.scanned)
    -- the migration's own SELECT and UPDATE scan users: not the DDL's doing
    assert.are.same({}, case("exclusive_last").observed.scanned)
    assert.are.same({ "orders" }, case("exclusion").observed.scanned)
    local unindexed = case("fk_no_index").observed.unindexed
    assert.are.same({ { constraint = "comments_user_id_fkey", relation = "comments", columns = "user_id",
      where = ("migrations/%s:%d"):format(corpus.file(32), corpus.line(2)),
      sql = "CREATE TABLE comments (id integer PRIMARY KEY, user_id integer REFERENCES users (id))" } }, unindexed)
    local v = case("check_validate").observed.strongest
    assert.are.same({ "SHARE UPDATE EXCLUSIVE", "DDL, VACUUM and CREATE INDEX CONCURRENTLY" }, { v.mode, v.blocks })
  end)

  it("calls a rewrite what pg_class.relfilenode says: widening a varchar is none, int to bigint is one", function()
    local p = sh.project_on(sh.backends()[2], {
      ["1.lua"] = sh.migration("r00000000001", nil, "db:exec 'CREATE TABLE t (n integer, s varchar(10))'"),
      ["2.lua"] = sh.migration("r00000000002", "r00000000001",
        "db:exec \"SET LOCAL lock_timeout = '1s'\"\ndb:exec 'ALTER TABLE t ALTER COLUMN s TYPE varchar(50)'"),
      ["3.lua"] = sh.migration("r00000000003", "r00000000002",
        "db:exec \"SET LOCAL lock_timeout = '1s'\"\ndb:exec 'ALTER TABLE t ALTER COLUMN n TYPE bigint'"),
    })
    p:ok("upgrade r00000000001")
    p:sql("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 10) g")
    local doc = p:json("lint")
    assert.are.same({}, doc.migrations[1].observed.rewritten)
    assert.are.same({}, doc.migrations[1].findings)
    assert.are.same({ "t" }, doc.migrations[2].observed.rewritten)
    assert.are.equal("type-rewrite", doc.migrations[2].findings[1].rule)
    -- the same statements, by hand on the target: the relfilenode agrees
    local function node() return p:sql("SELECT relfilenode FROM pg_class WHERE relname = 't'") end
    local n0 = node()
    p:sql("ALTER TABLE t ALTER COLUMN s TYPE varchar(50)")
    assert.are.equal(n0, node())
    p:sql("ALTER TABLE t ALTER COLUMN n TYPE bigint")
    assert.are_not.equal(n0, node())
  end)

  it("never touches the target database: its schema, rows and version are unchanged", function()
    local p = pg_project()
    p:ok("upgrade " .. corpus.id(0))
    p:sql("INSERT INTO users (name, email, age) SELECT 'u' || g, 'e' || g, g FROM generate_series(1, 20) g")
    local function state()
      return p:sql("SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns " ..
        "WHERE table_schema = 'public' ORDER BY 1, 2") ..
        p:sql("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1") ..
        p:sql("SELECT conname FROM pg_constraint ORDER BY 1") ..
        p:sql("SELECT count(*), sum(age) FROM users") .. p:sql("SELECT * FROM luamig_version") ..
        p:sql("SELECT count(*) FROM luamig_version_history")
    end
    local before = state()
    local doc, code = p:json("lint")
    assert.are.equal(1, code)
    assert.are.equal(#corpus.CASES - 1, #doc.migrations)
    assert.are.equal(before, state())
  end)

  it("--fail-on decides the exit code; lint.ignore and the ignore comment suppress a rule", function()
    local p = sh.project_on(sh.backends()[2], {
      ["1.lua"] = sh.migration("f00000000001", nil, "db:exec 'CREATE TABLE t (n integer)'"),
      ["2.lua"] = sh.migration("f00000000002", "f00000000001",
        "db:exec \"SET LOCAL lock_timeout = '1s'\"\ndb:exec 'ALTER TABLE t RENAME COLUMN n TO m'"),
    })
    p:ok("upgrade f00000000001")
    local out = p:ok("lint")
    assert.matches("2.lua:7 warning %[rename%]", out)
    assert.matches("1 migration linted: 0 errors, 1 warning, 0 failed%.", out)
    assert.are.equal(1, (p:luamig("lint --fail-on warning")))
    assert.are.equal(0, (p:luamig("lint --fail-on never")))
    local code, _, err = p:luamig("lint --fail-on sometimes")
    assert.are.equal(2, code)
    assert.matches("%-%-fail%-on must be error, warning or never %(got sometimes%)", err)
    code, _, err = p:luamig("lint --rows 0")
    assert.are.equal(2, code)
    assert.matches("%-%-rows must be a number from 1 %(got 0%)", err)
    code, _, err = p:luamig("lint --slow-ms -1")
    assert.are.equal(2, code)
    assert.matches("%-%-slow%-ms must be a number from 0 %(got %-1%)", err)
    p:write("luamig.lua", "return { lint = { ignore = { 'rename' } } }")
    assert.are.same({}, p:json("lint --fail-on warning").migrations[1].findings)
    p:write("luamig.lua", "return { lint = { ignore = { 'renam' } } }")
    code, _, err = p:luamig("lint")
    assert.are.equal(2, code)
    assert.matches("lint.ignore names no rule renam; did you mean rename%?", err)
    p:remove("luamig.lua")
    p:write("migrations/2.lua", sh.migration("f00000000002", "f00000000001",
      "-- luamig:lint ignore rename, lock-timeout\ndb:exec 'ALTER TABLE t RENAME COLUMN n TO m'"))
    assert.are.equal(0, (p:luamig("lint --fail-on warning")))
  end)

  -- a base table, then one migration per way of sending SQL (issue 22 item 11)
  local function index_via(body)
    return sh.project_on(sh.backends()[2], {
      ["1.lua"] = sh.migration("f00000000001", nil, "db:exec 'CREATE TABLE t (n integer, m integer, k integer)'"),
      ["2.lua"] = sh.migration("f00000000002", "f00000000001", "db:exec \"SET LOCAL lock_timeout = '1s'\"\n" .. body),
    })
  end

  for name, body in pairs({
    ["db:query"] = "db:query 'CREATE INDEX ti ON t (n)'",
    ["db:scalar"] = "db:scalar 'CREATE INDEX ti ON t (n)'",
    ["db:first"] = "db:first 'CREATE INDEX ti ON t (n)'",
    ["db:prepare():exec"] = "local s = db:prepare 'CREATE INDEX ti ON t (n)'\ns:exec()",
    ["p:exec"] = "db:pipeline(function(p) p:exec 'CREATE INDEX ti ON t (n)' end)",
  }) do
    it("sees a statement sent through " .. name, function()
      local p = index_via(body)
      p:ok("upgrade f00000000001")
      local m = p:json("lint").migrations[1]
      assert.are.equal(1, #m.findings, require("cjson").encode(m))
      assert.are.equal("create-index", m.findings[1].rule)
      assert.matches("^migrations/2%.lua:%d+$", m.findings[1].where)
    end)
  end

  it("takes an ignore comment for its exact rule id, on the statement after it only", function()
    local p = index_via(table.concat({
      "-- luamig:lint ignore create-indexes-someday",           -- 7: another id
      "db:exec 'CREATE INDEX t1 ON t (n)'",                      -- 8: reported
      "local note = [[",
      "-- luamig:lint ignore create-index",                      -- 10: inside a Lua string
      "]]",
      "db:exec 'CREATE INDEX t2 ON t (m)'",                      -- 12: reported
      "db:exec 'SELECT 1 -- luamig:lint ignore create-index'",  -- 13: another statement's SQL
      "db:exec 'CREATE INDEX t3 ON t (k)'",                      -- 14: reported
      "-- luamig:lint ignore rename, create-index",              -- 15
      "db:exec 'CREATE INDEX t4 ON t (n, m)'",                   -- 16: ignored
      "db:exec 'CREATE INDEX t5 ON t (m, n)'",                   -- 17: reported
      "db:exec 'CREATE INDEX t6 ON t (k, n) -- luamig:lint ignore create-index'", -- 18: its own SQL: ignored
    }, "\n"))
    p:ok("upgrade f00000000001")
    local lines = {}
    for _, f in ipairs(p:json("lint").migrations[1].findings) do
      assert.are.equal("create-index", f.rule)
      lines[#lines + 1] = tonumber(f.where:match(":(%d+)$"))
    end
    assert.are.same({ 8, 12, 14, 17 }, lines)
  end)

  -- the server's own log (pg_ctl -l beside the data directory, or the collector's file)
  local function server_log(p)
    return p:sql("SELECT pg_read_file(coalesce(current_setting('data_directory') || '/' || pg_current_logfile(), " ..
      "current_setting('data_directory') || '/../server.log'))")
  end

  it("--rows-from-target fills each table with the target's estimate, capped and scaled; the target logs only " ..
    "catalog queries", function()
      local p = sh.project_on(sh.backends()[2], {
        ["1.lua"] = sh.migration("t00000000001", nil,
          "db:exec 'CREATE TABLE secret_rows (id integer PRIMARY KEY, v text)'\n" ..
          "db:exec 'CREATE TABLE small_rows (id integer PRIMARY KEY)'"),
        ["2.lua"] = sh.migration("t00000000002", "t00000000001",
          "db:exec \"SET LOCAL lock_timeout = '1s'\"\ndb:exec 'ALTER TABLE secret_rows ALTER COLUMN id TYPE bigint'\n" ..
          "db:exec 'ALTER TABLE small_rows ADD COLUMN x text'"),
      })
      p:ok("upgrade t00000000001")
      p:sql("INSERT INTO secret_rows SELECT g, 'secret' FROM generate_series(1, 3000) g; " ..
        "INSERT INTO small_rows SELECT generate_series(1, 40); ANALYZE secret_rows; ANALYZE small_rows")
      local db = p.url:match("/([^/?]+)$")
      p:sql(("ALTER DATABASE %s SET log_statement = 'all'"):format(db))
      local marker = ("lint-marker-%d"):format(os.time())
      p:sql(("SELECT '%s'"):format(marker))
      local doc, code, err = p:json("lint --rows-from-target --rows-cap 1000")
      p:sql(("ALTER DATABASE %s RESET log_statement"):format(db))
      assert.are.equal(1, code, err) -- (type-rewrite)
      local m = doc.migrations[1]
      assert.are.same({ "secret_rows" }, m.observed.rewritten)
      assert.are.same({ ratio = 3, relation = "secret_rows", rows = 3000, filled = 1000 },
        { ratio = m.scaled.ratio, relation = m.scaled.relation, rows = m.scaled.rows, filled = m.scaled.filled })
      assert.is_true(math.abs(m.scaled.ms - 3 * m.ms) < 0.01)
      assert.matches("scaled x3%.0: secret_rows has about 3000 rows on the target, 1000 filled here",
        p:ok("lint --rows-from-target --rows-cap 1000 --fail-on never"))
      -- what the target's server logged for this lint: catalog queries, never a user table
      local log = server_log(p)
      local since = log:sub((select(2, log:find(marker, 1, true))))
      local statements = {}
      for line in since:gmatch("LOG:  ([^\n]*)") do -- (simple and extended protocol)
        statements[#statements + 1] = line:match("^statement: (.*)") or line:match("^execute [^:]*: (.*)")
      end
      local catalog = false
      for _, sql in ipairs(statements) do
        assert.is_nil(sql:find("secret_rows", 1, true), sql)
        assert.is_nil(sql:find("small_rows", 1, true), sql)
        if sql:find("reltuples", 1, true) then catalog = true end
      end
      assert.is_true(catalog, table.concat(statements, "\n"))
      assert.are.equal("3000\n", p:sql("SELECT count(*) FROM secret_rows")) -- (and the target is untouched)
    end)

  it("--rows fills the tables created earlier in the range too: base:head is linted with data", function()
    local p = sh.project_on(sh.backends()[2], {
      ["1.lua"] = sh.migration("b00000000001", nil,
        "db:exec 'CREATE TABLE parent (id integer PRIMARY KEY)'\n" ..
        "db:exec 'CREATE TABLE child (id integer PRIMARY KEY, parent_id integer NOT NULL REFERENCES parent (id))'"),
      ["2.lua"] = sh.migration("b00000000002", "b00000000001",
        "db:exec \"SET LOCAL lock_timeout = '1s'\"\ndb:exec 'ALTER TABLE child ALTER COLUMN id TYPE bigint'"),
    })
    local doc = p:json("lint base:head --rows 50 --fail-on never --keep")
    assert.are.same({ "child" }, doc.migrations[2].observed.rewritten)
    local name = doc.scratch:match("dbname=(%S+)") or doc.scratch:match("([^/?]+)$")
    finally(function() p:sql("DROP DATABASE IF EXISTS " .. name) end)
    local code, out, err = sh.run(("psql %s -XtAqc %s"):format(sh.quote((p.url:gsub("/[^/?]+$", "/" .. name))),
      sh.quote("SELECT (SELECT count(*) FROM parent), count(*) FROM child")))
    assert.are.equal(0, code, err)
    assert.are.equal("50|50\n", out)
  end)

  -- Tables of every shape the filler once left with one row (issue 25's autogenerate lint): unique columns of
  -- each type, unique columns with a default, a foreign key with a default naming no parent, a composite one,
  -- CHECKs of a table and of a domain (met by NULL, the default or a value past row N where the row's breaks them).
  -- The second migration counts what --rows 1000 put in them.
  local SHAPES = [[
CREATE TYPE mood AS ENUM ('a', 'b', 'c');
CREATE DOMAIN amount AS numeric(10,2);
CREATE TABLE parent (id integer PRIMARY KEY, code varchar(20) NOT NULL, UNIQUE (id, code));
CREATE TABLE typed (id integer PRIMARY KEY, at timestamptz NOT NULL UNIQUE, at2 timestamp UNIQUE, day date UNIQUE,
  doc jsonb UNIQUE, body json, blob bytea UNIQUE, u uuid UNIQUE, mood mood UNIQUE, flag boolean UNIQUE,
  price amount UNIQUE, tags text[] UNIQUE, t time UNIQUE, note varchar(80) NOT NULL, n numeric(10,2) NOT NULL);
CREATE TABLE defaulted (id integer PRIMARY KEY, n smallint NOT NULL DEFAULT 3 UNIQUE, s varchar(20) DEFAULT 'a',
  b bigint DEFAULT 0, made timestamptz NOT NULL DEFAULT now() UNIQUE);
CREATE UNIQUE INDEX defaulted_s ON defaulted (lower(s));
CREATE UNIQUE INDEX defaulted_b ON defaulted (b) WHERE b IS NOT NULL;
CREATE TABLE child (id integer PRIMARY KEY, parent_id integer NOT NULL DEFAULT 7 REFERENCES parent (id),
  pid integer, pcode varchar(20), FOREIGN KEY (pid, pcode) REFERENCES parent (id, code));
CREATE DOMAIN small AS integer CHECK (VALUE >= 0 AND VALUE < 1000);
CREATE DOMAIN not13 AS integer NOT NULL CHECK (VALUE <> 13);
CREATE TABLE checked (id integer PRIMARY KEY, s small NOT NULL DEFAULT 0, m small, k integer CHECK (k <> 13),
  p numeric(4,1) NOT NULL DEFAULT 1, q not13 UNIQUE);
ALTER TABLE checked ADD CONSTRAINT checked_p CHECK (p < 500) NOT VALID;
]]
  local COUNTS = [[
for _, t in ipairs({ "parent", "typed", "defaulted", "child", "checked" }) do
  local n = tonumber(db:scalar("SELECT count(*) FROM " .. t))
  if n ~= 1000 then error(t .. " has " .. n .. " rows") end
end
local linked = tonumber(db:scalar("SELECT count(DISTINCT parent_id) + count(DISTINCT (pid, pcode)) FROM child"))
if linked ~= 2000 then error("child refers to " .. linked .. " parent rows") end]]

  it("--rows fills unique columns of every type, unique columns with a default, foreign keys with one, checks", function()
    local p = sh.project_on(sh.backends()[2], {
      ["1.lua"] = sh.migration("f00000000001", nil, "db:exec [[" .. SHAPES .. "]]"),
      ["2.lua"] = sh.migration("f00000000002", "f00000000001", COUNTS),
    })
    p:ok("upgrade f00000000001")
    local doc, code, err = p:json("lint --rows 1000")
    assert.are.equal(0, code, err)
    assert.are.equal("ok", doc.migrations[1].result, doc.migrations[1].error)
  end)

  -- CHECKs on several columns: each row takes its own values where they meet the table's CHECKs, else the
  -- first combination that does, changing as few columns as it can (NULL, the default, the value of row g + N
  -- or of row 1), whatever the columns' order; a column left to its default counts with it.
  local CHECKED = [[
CREATE TABLE ranges (id integer PRIMARY KEY, lo integer NOT NULL, hi integer NOT NULL, CHECK (lo < hi));
CREATE TABLE slots (id integer PRIMARY KEY, ends_at timestamptz NOT NULL, starts_at timestamptz NOT NULL,
  CONSTRAINT slots_order CHECK (starts_at < ends_at));
CREATE TABLE booked (id integer PRIMARY KEY, made timestamptz NOT NULL DEFAULT now(), due timestamptz NOT NULL,
  seats integer NOT NULL CHECK (seats BETWEEN 1 AND 5), CHECK (made < due));
CREATE TABLE tiers (id integer PRIMARY KEY, a integer NOT NULL, b integer NOT NULL, c integer NOT NULL,
  CHECK (a < b), CHECK (b < c));
]]
  it("--rows fills tables whose CHECKs span several columns, and a range CHECK on 1000 rows", function()
    local p = sh.project_on(sh.backends()[2], {
      ["1.lua"] = sh.migration("h00000000001", nil, "db:exec [[" .. CHECKED .. "]]"),
      ["2.lua"] = sh.migration("h00000000002", "h00000000001", [[
for _, t in ipairs({ "ranges", "slots", "booked", "tiers" }) do
  local n = tonumber(db:scalar("SELECT count(*) FROM " .. t))
  if n ~= 1000 then error(t .. " has " .. n .. " rows") end
end
local spread = tonumber(db:scalar("SELECT count(DISTINCT lo) + count(DISTINCT hi) FROM ranges"))
if spread < 1000 then error("ranges has " .. spread .. " distinct values") end]]),
    })
    p:ok("upgrade h00000000001")
    local doc, code, err = p:json("lint --rows 1000")
    assert.are.equal(0, code, err)
    assert.are.equal("ok", doc.migrations[1].result, doc.migrations[1].error)
  end)

  it("--rows stops, naming the CHECK, where no NULL, default or other row's value meets it", function()
    refused_check(sh.backends()[2])
  end)

  it("--rows fills fewer rows, with a note, where a unique key cannot take N values: a NOT NULL boolean", function()
    local p = sh.project_on(sh.backends()[2], {
      ["1.lua"] = sh.migration("g00000000001", nil,
        "db:exec 'CREATE TABLE flags (id integer, on_ boolean NOT NULL, UNIQUE (on_))'"),
      ["2.lua"] = sh.migration("g00000000002", "g00000000001",
        "local n = db:scalar('SELECT count(*) FROM flags')\nif n ~= 2 then error('flags has ' .. n .. ' rows') end"),
    })
    p:ok("upgrade g00000000001")
    local doc, code, err = p:json("lint --rows 10")
    assert.are.equal(0, code, err)
    assert.are.same({ "--rows filled table flags with 2 rows, not 10: its unique key (on_) takes 2 values at most; " ..
      "seed it with --with-seeds" }, doc.notes)
    assert.matches("Note: --rows filled table flags with 2 rows, not 10", p:ok("lint --rows 10"), 1, true)
  end)

  it("lints 50 migrations, one scratch database for all (the time is reported: bench/lint.sh measures it)", function()
    local files, prev = {}, nil
    for i = 1, 50 do
      local id = ("s%011d"):format(i)
      files[("%03d.lua"):format(i)] = sh.migration(id, prev, i == 1 and "db:exec 'CREATE TABLE big (id integer)'" or
        ("db:exec \"SET LOCAL lock_timeout = '1s'\"\ndb:exec 'ALTER TABLE big ADD COLUMN c%d integer'"):format(i))
      prev = id
    end
    local p = sh.project_on(sh.backends()[2], files)
    p:ok("upgrade s00000000001")
    local t0 = os.time()
    local doc, code, err = p:json("lint --rows 1000")
    local took = os.time() - t0
    assert.are.equal(0, code, err)
    assert.are.equal(49, #doc.migrations)
    print(("\n  lint of 49 migrations on 1000 rows: about %d s"):format(took))
  end)
end)

-- squawk (npm's squawk-cli), when test.sh could install it: $SQUAWK,
-- build/npm, or PATH.
local function squawk()
  for _, c in ipairs({ os.getenv("SQUAWK") or "", sh.source_dir .. "/build/npm/node_modules/.bin/squawk" }) do
    if c ~= "" and sh.run("test -x " .. sh.quote(c)) == 0 then return c end
  end
  local code, out = sh.run("command -v squawk")
  if code == 0 then return (out:gsub("%s+$", "")) end
end

describe("luamig lint beside squawk", function()
  it("flags every lock or rewrite hazard squawk flags on the same SQL, except where the server shows otherwise",
    function()
      local bin = squawk()
      local why = sh.missing(bin, "squawk-cli (test.sh installs it from npm into build/npm)")
      if why then pending(why) return end
      local code, out, err = sh.run(("cd %s && SQUAWK=%s LUAMIG_BIN=%s ROWS=200 bash bench/lint.sh"):format(
        sh.quote(sh.source_dir), sh.quote(bin), sh.quote(sh.bin)))
      assert.are.equal(0, code, out .. err)
      assert.matches("| 017_varchar_widening | %- | %- | [^|]*changing%-column%-type[^|]* | observed: widening a varchar",
        out)
      assert.matches("| 016_type_rewrite | type%-rewrite %(ACCESS EXCLUSIVE%); rewrote users | E10, E5 | " ..
        "[^|]*changing%-column%-type", out)
      assert.matches("| 032_fk_no_index | fk%-index | E15 |", out)
      assert.matches("| 043_serial | prefer%-identity | E11 | [^|]*prefer%-identity", out)
      assert.not_matches("MISSED", out)
    end)
end)

describe("luamig lint on sqlite", function()
  local sqlite_corpus = require "spec.support.lint_corpus_sqlite"

  it("reports each hazard of its corpus with its rule, file:line and the write-lock span, nothing for the twins",
    function()
      local p = sh.project_on(sh.backends()[1])
      sqlite_corpus.write(p.dir)
      p:ok("upgrade " .. sqlite_corpus.id(0))
      local doc, code, err = p:json("lint --rows 2000 --fail-on never")
      assert.are.equal(0, code, err)
      assert.are.equal(#sqlite_corpus.CASES - 1, #doc.migrations)
      assert.is_true(#doc.migrations >= 25)
      for i = 1, #sqlite_corpus.CASES - 1 do
        local case, m = sqlite_corpus.CASES[i + 1], doc.migrations[i]
        assert.are.equal(sqlite_corpus.id(i), m.revision)
        assert.are.equal("ok", m.result, case.name)
        assert.are.equal(#case.expect, #m.findings, case.name .. ": " .. require("cjson").encode(m.findings))
        for k, e in ipairs(case.expect) do
          local f = m.findings[k]
          assert.are.equal(e.rule, f.rule, case.name)
          assert.are.equal(("migrations/%s:%d"):format(sqlite_corpus.file(i), sqlite_corpus.line(e.line)), f.where)
          assert.is_number(f.write_lock_ms, case.name)
          assert.matches("the migration held the write lock [%d.]+ ms", f.message)
        end
      end
    end)

  it("--contention: a process writing to the same file reports how long its writes waited for the write lock",
    function()
      local p = sh.project_on(sh.backends()[1], {
        ["1.lua"] = sh.migration("w00000000001", nil, "db:exec 'CREATE TABLE big (id integer PRIMARY KEY, v text)'"),
        ["2.lua"] = sh.migration("w00000000002", "w00000000001", "db:exec [[INSERT INTO big (v) " ..
          "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 300000) SELECT 'x' || g FROM s]]"),
      })
      p:ok("upgrade w00000000001")
      local doc, code, err = p:json("lint --rows 10 --contention --max-wait 10ms")
      assert.are.equal(1, code, err)
      local st = doc.migrations[1].contention.statements[1]
      assert.are.equal("migrations/2.lua:6", st.where)
      assert.is_true(st.writes.n >= 1)
      assert.are.equal(0, st.writes.failed)
      local f = doc.migrations[1].findings
      local rules = {}
      for _, x in ipairs(f) do rules[x.rule] = x end
      assert.matches("writes waited up to %d+ ms", rules.contention.message)
      assert.is_true(st.writes.max >= 0.3 * doc.migrations[1].ms, st.writes.max .. " vs " .. doc.migrations[1].ms)
      assert.is_table(rules["unbatched-write"])
    end)

  it("--rows fills unique columns of every type, enums and foreign keys with a default", function()
    local p = sh.project_on(sh.backends()[1], {
      ["1.lua"] = sh.migration("f00000000001", nil, [[
op.create_enum("mood", { "a", "b", "c" })
op.create_table("parent", { { "id", "integer", primary_key = true } })
op.create_table("typed", { { "id", "integer", primary_key = true }, { "day", "date", unique = true },
  { "at", "timestamp", unique = true }, { "doc", "json", unique = true }, { "blob", "bytes", unique = true },
  { "u", "uuid", unique = true }, { "mood", "mood" }, { "flag", "boolean", unique = true },
  { "n", "smallint", nullable = false, server_default = "3", unique = true },
  { "parent_id", "integer", nullable = false, server_default = "7", references = "parent.id" } })]]),
      ["2.lua"] = sh.migration("f00000000002", "f00000000001", [[
local n = db:scalar("SELECT count(*) FROM typed")
if n ~= 1000 then error("typed has " .. n .. " rows") end
n = db:scalar("SELECT count(DISTINCT parent_id) FROM typed")
if n ~= 1000 then error("typed refers to " .. n .. " parent rows") end]]),
    })
    p:ok("upgrade f00000000001")
    local doc, code, err = p:json("lint --rows 1000")
    assert.are.equal(0, code, err)
    assert.are.equal("ok", doc.migrations[1].result, doc.migrations[1].error)
  end)

  it("--rows fills tables with CHECKs: on one column (a range on 1000 rows), on several", function()
    local p = sh.project_on(sh.backends()[1], {
      ["1.lua"] = sh.migration("c00000000001", nil, [=[
db:exec [[CREATE TABLE orders (id integer PRIMARY KEY, qty integer NOT NULL CHECK (qty BETWEEN 1 AND 5),
  lo integer NOT NULL, hi integer NOT NULL, made datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  due datetime NOT NULL, "Weird" integer, CONSTRAINT orders_range CHECK (lo < hi), CHECK (made < due),
  CHECK ("Weird" IS NULL OR "Weird" > qty))]]]=]),
      ["2.lua"] = sh.migration("c00000000002", "c00000000001", [[
local n = db:scalar("SELECT count(*) FROM orders")
if n ~= 1000 then error("orders has " .. n .. " rows") end]]),
    })
    p:ok("upgrade c00000000001")
    local doc, code, err = p:json("lint --rows 1000")
    assert.are.equal(0, code, err)
    assert.are.equal("ok", doc.migrations[1].result, doc.migrations[1].error)
  end)

  it("--rows stops, naming the CHECK, where no NULL, default or other row's value meets it", function()
    refused_check(sh.backends()[1])
  end)

  local files = {
    ["1.lua"] = sh.migration("q00000000001", nil,
      "op.create_table('items', { { 'id', 'integer', primary_key = true }, { 'name', 'text' } })"),
    ["2.lua"] = sh.migration("q00000000002", "q00000000001", "op.add_column('items', { 'price', 'integer' })"),
    ["3.lua"] = sh.migration("q00000000003", "q00000000002",
      "op.alter_column('items', 'name', { nullable = false, server_default = \"''\" })"),
    ["4.lua"] = sh.migration("q00000000004", "q00000000003", "db:exec 'CREATE TABLE nope (id integer'"),
    ["5.lua"] = sh.migration("q00000000005", "q00000000004", "op.add_column('items', { 'qty', 'integer' })"),
  }

  it("reports a table rebuild with its row count and line; a plain ADD COLUMN reports nothing", function()
    local p = sh.project_on(sh.backends()[1], files)
    p:ok("upgrade q00000000001")
    local doc, code, err = p:json("lint --rows 300")
    assert.are.equal(1, code, err) -- 4.lua fails
    assert.are.same({}, doc.migrations[1].findings)
    local f = doc.migrations[2].findings
    assert.are.equal(1, #f, require("cjson").encode(f))
    assert.are.same({ "table-rebuild", "warning", "migrations/3.lua:6", "items" },
      { f[1].rule, f[1].severity, f[1].where, f[1].relation })
    assert.matches("copying 300 rows", f[1].message)
    assert.is_number(doc.migrations[2].observed.write_lock_ms)
    assert.are.equal("failed", doc.migrations[3].result)
    assert.matches("migrations/4.lua:6: sqlite SQLITE_ERROR: incomplete input", doc.migrations[3].error, 1, true)
    assert.are.equal("ok", doc.migrations[4].result)
    assert.are.equal("q00000000001\n", p:sql("SELECT version_num FROM luamig_version"))
    assert.are.equal("0\n", p:sql("SELECT count(*) FROM items"))
  end)

  it("names the statement that held the write lock longer than --slow-ms", function()
    local p = sh.project_on(sh.backends()[1], files)
    p:ok("upgrade q00000000001")
    local doc = p:json("lint q00000000001:q00000000003 --rows 300 --slow-ms 0 --fail-on never")
    local rules = {}
    for _, f in ipairs(doc.migrations[2].findings) do rules[#rules + 1] = f.rule .. " " .. f.where end
    assert.are.same({ "table-rebuild migrations/3.lua:6", "long-write-lock migrations/3.lua:6" }, rules)
    assert.is_true(doc.ok)
  end)
end)
