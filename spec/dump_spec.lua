-- `luamig dump` and `dump --declared` on real databases: database A is
-- dumped, the dump applied to an empty database B with `upgrade head`; the
-- oracle (normalized `pg_dump --schema-only`, or SQLite's pragmas and
-- SQL text) of A equals B's; `luamig drill` passes on the dump; its
-- downgrade leaves B empty. Then the bad inputs.
local sh = require "spec.support.sh"
local oracle = require "spec.support.schema_oracle"

local PSQL = oracle.client "psql"
local ORACLE = oracle.SCHEMA

local function checked(cmd)
  local code, out, err = sh.run(cmd)
  assert(code == 0, cmd .. ": " .. err)
  return out
end

local function fresh_url(b, p)
  if b.name == "sqlite" then return "sqlite:///" .. p.dir .. "/" .. sh.tmpdir():match("([^/]+)$") .. ".db" end
  return b.fresh()
end

local function with(url, p, args)
  return p:luamig("--url " .. sh.quote(url) .. " " .. args)
end
local function ok_with(url, p, args)
  local code, out, err = with(url, p, args)
  if code ~= 0 then error(("luamig %s -> exit %d\nstdout: %s\nstderr: %s"):format(args, code, out, err), 2) end
  return out, err
end

-- Dump database `a` into a new project, apply it to a fresh database, and
-- check the round trip; returns the project and the dump's text.
local function round_trip(b, a)
  local p = sh.project()
  ok_with(a, p, "dump -o migrations/0001_baseline.lua")
  local text = sh.slurp(p.dir .. "/migrations/0001_baseline.lua")
  local target = fresh_url(b, p)
  ok_with(target, p, "upgrade head")
  assert.are.equal(ORACLE[b.name](a), ORACLE[b.name](target), "the oracle of A equals B's")
  ok_with(target, p, "drill")
  ok_with(target, p, "downgrade base")
  local empty = ORACLE[b.name](target)
  if b.name == "sqlite" then
    assert.are.equal("", empty, "the downgrade leaves B empty")
  else
    assert.is_nil(empty:match("CREATE [^\n]*"), "the downgrade leaves B empty")
  end
  return p, text
end

local EXAMPLES = { "school", "invoices", "autogen", "backfill", "sample" }

for _, b in ipairs(sh.backends()) do
  describe("luamig dump on " .. b.name, function()
    it("round-trips the repo's examples", function()
      for _, ex in ipairs(EXAMPLES) do
        local src = sh.project()
        checked(("cp -r %s/examples/%s/. %s/"):format(sh.quote(sh.source_dir), ex, sh.quote(src.dir)))
        local a = fresh_url(b, src)
        ok_with(a, src, "upgrade head")
        round_trip(b, a)
      end
    end)

    it("writes op calls where the op vocabulary says it, with a downgrade that drops it all in reverse", function()
      local src = sh.project()
      local a = fresh_url(b, src)
      src.url = a
      src:write("migrations/1.lua", sh.migration("a1", nil, [[
  op.create_table("authors", { { "id", "integer", primary_key = true }, { "name", "text", nullable = false } })
  op.create_table("books", { { "id", "integer", primary_key = true }, { "title", "text", nullable = false },
    { "author_id", "integer", references = "authors.id", on_delete = "CASCADE" } })
  op.create_index("ix_books_title", "books", { "title" })]]))
      src:ok("upgrade head")
      local _, text = round_trip(b, a)
      assert.matches('op.create_table("authors", {', text, 1, true)
      assert.matches('{ "name", "[Tt][Ee][Xx][Tt]", nullable = false },', text)
      assert.matches('op.create_index("ix_books_title", "books", { "title" })', text, 1, true)
      local up, down = text:match("function upgrade%(db%)(.-)\nend"), text:match("function downgrade%(db%)(.-)\nend")
      assert.is_true(up:find("authors", 1, true) < up:find("books", 1, true), "parents first")
      assert.is_true(down:find("ix_books_title", 1, true) < down:find('drop_table("books")', 1, true), "reverse order")
      assert.is_true(down:find('drop_table("books")', 1, true) < down:find('drop_table("authors")', 1, true),
        "children dropped first")
      assert.is_nil(text:match("down_revision = \""), "a root revision")
    end)

    it("prints the dump on stdout, and the declared schema that `check` agrees with", function()
      local src = sh.project()
      local a = fresh_url(b, src)
      src.url = a
      src:write("migrations/1.lua", sh.migration("a1", nil, [[
  op.create_enum("mood", { "sad", "ok" })
  op.create_table("people", { { "id", "integer", primary_key = true }, { "m", "mood", server_default = "'ok'" },
    { "email", "text", nullable = false, unique = true } })
  op.create_index("ix_people_m", "people", { "m" }, { where = "m = 'sad'" })
  db:exec "CREATE VIEW sad_people AS SELECT id FROM people WHERE m = 'sad'"]]))
      src:ok("upgrade head")
      local out = src:ok("dump")
      assert.matches("^%-%- the live schema, dumped\n", out)
      assert.matches("function upgrade(db)", out, 1, true)
      local p = sh.project()
      ok_with(a, p, "dump --declared -o schema.lua")
      local decl = sh.slurp(p.dir .. "/schema.lua")
      assert.matches('schema.table("people", {', decl, 1, true)
      assert.matches('schema.enum("mood", { "sad", "ok" })', decl, 1, true)
      ok_with(a, p, "dump -o migrations/0001_baseline.lua")
      local target = fresh_url(b, p)
      ok_with(target, p, "upgrade head")
      local out2 = ok_with(target, p, "check")
      assert.matches("The declared schema matches the migrations at head.", out2, 1, true)
      -- and the autogenerate loop goes on from there
      sh.write(p.dir .. "/schema.lua", decl:gsub('(schema.table%("people", {\n)', '%1  { "nick", "text" },\n'))
      ok_with(target, p, "revision --autogenerate -m nick")
      ok_with(target, p, "upgrade head")
      assert.are.equal(0, (with(target, p, "check")))
    end)

    it("refuses to overwrite a file", function()
      local p = sh.project()
      local a = fresh_url(b, p)
      ok_with(a, p, "upgrade head")
      sh.write(p.dir .. "/out.lua", "keep")
      local code, _, err = with(a, p, "dump -o out.lua")
      assert.are_not.equal(0, code)
      assert.matches("out.lua already exists", err, 1, true)
      assert.are.equal("keep", sh.slurp(p.dir .. "/out.lua"))
    end)
  end)
end

describe("luamig dump on sqlite", function()
  it("keeps the table's SQL text where the op vocabulary cannot say it (STRICT, WITHOUT ROWID, generated columns)",
    function()
      local p = sh.project()
      local a = fresh_url(sh.backends()[1], p)
      checked(("sqlite3 %s %s"):format(sh.quote(a:match("^sqlite:///(.+)$")), sh.quote([[
CREATE TABLE kv (k TEXT PRIMARY KEY, v ANY) STRICT;
CREATE TABLE pairs (a INTEGER, b INTEGER, PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE boxes (w REAL, h REAL, area REAL GENERATED ALWAYS AS (w * h) STORED, half REAL AS (w / 2));
CREATE TABLE counters (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL DEFAULT 0);
CREATE INDEX ix_boxes_area ON boxes (area DESC);
CREATE VIEW big_boxes AS SELECT * FROM boxes WHERE area > 10;
CREATE VIEW biggest AS SELECT max(area) AS a FROM big_boxes;
CREATE TRIGGER tr_count AFTER INSERT ON boxes BEGIN UPDATE counters SET n = n + 1; END;]])))
      local _, text = round_trip(sh.backends()[1], a)
      assert.matches('op.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v ANY) STRICT")', text, 1, true)
      assert.matches("WITHOUT ROWID", text, 1, true)
      assert.matches("GENERATED ALWAYS AS (w * h) STORED", text, 1, true)
      assert.matches("AUTOINCREMENT", text, 1, true)
      assert.is_true(text:find("CREATE VIEW big_boxes", 1, true) < text:find("CREATE VIEW biggest", 1, true))
    end)
end)

describe("luamig dump on postgresql", function()
  local pg = sh.backends()[2]
  if not pg then return end

  local function psql(url, sql)
    return checked(("%s %s -XqAt -v ON_ERROR_STOP=1 -c %s"):format(PSQL, sh.quote(url), sh.quote(sql)))
  end
  local function psql_file(url, path)
    return checked(("%s %s -XqAt -v ON_ERROR_STOP=1 -f %s"):format(PSQL, sh.quote(url), sh.quote(path)))
  end

  it("round-trips the catalog corpus's schema: functions, domains, triggers, partitions, views, materialized views",
    function()
      local a = pg.fresh()
      psql_file(a, sh.source_dir .. "/spec/fixtures/catalog_base_pg.sql")
      local _, text = round_trip(pg, a)
      -- dependency order from the catalog
      local function at(s) return assert(text:find(s, 1, true), s) end
      assert.is_true(at('CREATE SCHEMA \\"billing\\"') < at("CREATE DOMAIN"))
      assert.is_true(at("CREATE DOMAIN") < at('CREATE TABLE \\"billing\\".\\"invoices\\"'))
      assert.is_true(at('CREATE TABLE \\"billing\\".\\"events\\"') < at("PARTITION OF"))
      assert.is_true(at("CREATE OR REPLACE FUNCTION billing.touch()") < at("CREATE TRIGGER trg_touch"))
      assert.is_true(at('CREATE TABLE \\"billing\\".\\"invoices\\"') < at("CREATE MATERIALIZED VIEW"))
      local p = sh.project()
      ok_with(a, p, "dump --declared -o schema.lua")
      -- functions, triggers and sequences in their own forms, not schema.sql text
      local decl = sh.slurp(p.dir .. "/schema.lua")
      assert.matches('schema.func("billing.touch()", "CREATE OR REPLACE FUNCTION billing.touch()', decl, 1, true)
      assert.matches('schema.trigger("trg_touch", "CREATE TRIGGER trg_touch', decl, 1, true)
      assert.matches('schema.sequence("counter", {', decl, 1, true)
      -- domains and views too (a materialized view with an index stays schema.sql)
      assert.matches('schema.domain("billing.amount", {', decl, 1, true)
      assert.matches('schema.view("billing.open_invoices", ', decl, 1, true)
      assert.matches('schema.view("big_orders", ', decl, 1, true)
      ok_with(a, p, "dump -o migrations/0001_baseline.lua")
      local b = pg.fresh()
      ok_with(b, p, "upgrade head")
      local code, out, err = with(b, p, "check")
      assert.are.equal(0, code, out .. err)
    end)

  it("writes views, materialized views, policies, domains and their comments in their declared forms", function()
    local a = pg.fresh()
    psql(a, [[
CREATE DOMAIN amount AS numeric(12,2) DEFAULT 0 NOT NULL CONSTRAINT amount_pos CHECK (VALUE >= 0);
COMMENT ON DOMAIN amount IS 'money';
CREATE TABLE docs (id int PRIMARY KEY, owner text NOT NULL, total amount);
COMMENT ON TABLE docs IS 'documents';
COMMENT ON COLUMN docs.owner IS 'who wrote it';
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_own ON docs AS RESTRICTIVE FOR SELECT USING (owner = current_user);
COMMENT ON POLICY docs_own ON docs IS 'own rows';
CREATE VIEW doc_ids AS SELECT id FROM docs;
COMMENT ON VIEW doc_ids IS 'ids';
CREATE MATERIALIZED VIEW doc_count AS SELECT count(*) AS n FROM docs;
COMMENT ON MATERIALIZED VIEW doc_count IS 'how many';]])
    local p = sh.project()
    ok_with(a, p, "dump --declared -o schema.lua")
    local decl = sh.slurp(p.dir .. "/schema.lua")
    for _, form in ipairs({ 'schema.domain("amount", {', 'schema.policy("docs_own", "docs", {', "row_security = true",
      'schema.view("doc_ids", ', 'schema.materialized_view("doc_count", ', 'schema.comment("DOMAIN ',
      'schema.comment("TABLE ', 'schema.comment("COLUMN ', 'schema.comment("POLICY ', 'schema.comment("VIEW ',
      'schema.comment("MATERIALIZED VIEW ' }) do
      assert.matches(form, decl, 1, true)
    end
    assert.is_nil(decl:find("schema.sql", 1, true), decl)
    -- the declared schema is the database's: check agrees with its dump, and autogenerate alone builds it
    ok_with(a, p, "dump -o migrations/0001_baseline.lua")
    local b = pg.fresh()
    ok_with(b, p, "upgrade head")
    local code, out, err = with(b, p, "check")
    assert.are.equal(0, code, out .. err)
    os.remove(p.dir .. "/migrations/0001_baseline.lua")
    local c = pg.fresh()
    ok_with(c, p, 'revision --autogenerate -m "all"')
    ok_with(c, p, "upgrade head")
    assert.are.equal(ORACLE.postgresql(a), ORACLE.postgresql(c), "the oracle of A equals C's")
    ok_with(c, p, "drill")
  end)

  it("round-trips a schema that uses extensions (uuid-ossp, pgcrypto, ltree, citext)", function()
    local a = pg.fresh()
    local why = sh.missing(psql(a, "SELECT count(*) FROM pg_available_extensions WHERE name IN " ..
      "('uuid-ossp', 'pgcrypto', 'ltree', 'citext')") == "4\n", "postgresql-contrib's uuid-ossp, pgcrypto, ltree, citext")
    if why then pending(why) return end
    psql(a, [[
CREATE EXTENSION "uuid-ossp"; CREATE EXTENSION pgcrypto; CREATE EXTENSION ltree; CREATE EXTENSION citext;
CREATE TABLE nodes (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(), path ltree NOT NULL, email citext UNIQUE,
  secret text DEFAULT encode(gen_random_bytes(8), 'hex'), tags citext[]);
CREATE INDEX ix_nodes_path ON nodes USING gist (path);
CREATE VIEW node_emails AS SELECT id, lower(email::text) AS e FROM nodes;]])
    local _, text = round_trip(pg, a)
    assert.is_true(text:find('op.create_extension("citext")', 1, true) < text:find('op.create_table("nodes"', 1, true))
  end)

  it("dumps every schema, or only those the config names", function()
    local a = pg.fresh()
    psql(a, "CREATE SCHEMA sales; CREATE SCHEMA audit; CREATE TABLE sales.orders (id int); CREATE TABLE audit.log (x int)")
    local p = sh.project()
    local all = ok_with(a, p, "dump")
    assert.truthy(all:find('op.create_table("sales.orders"', 1, true), all)
    assert.truthy(all:find('op.create_table("audit.log"', 1, true), all)
    p:write("luamig.lua", 'return { migrations = "migrations", schemas = { "sales" } }')
    local some = ok_with(a, p, "dump")
    assert.truthy(some:find('op.create_table("sales.orders"', 1, true), some)
    assert.is_nil(some:find("audit", 1, true))
  end)

  it("breaks a cycle of foreign keys by adding them after the tables", function()
    local a = pg.fresh()
    psql(a, [[
CREATE TABLE a (id int PRIMARY KEY, b_id int); CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);
ALTER TABLE a ADD CONSTRAINT a_b_fk FOREIGN KEY (b_id) REFERENCES b DEFERRABLE;]])
    local _, text = round_trip(pg, a)
    local last_table = select(2, text:find('.*op.create_table%("[ab]"'))
    assert.is_true(last_table < text:find("a_b_fk", 1, true) and last_table < text:find("b_a_id_fkey", 1, true))
  end)

  it("fails naming each object the model does not cover, or skips them naming each with --skip-unsupported",
    function()
      local a = pg.fresh()
      psql(a, [[CREATE TABLE t (x int);
CREATE FUNCTION eq3(int, int) RETURNS bool LANGUAGE sql AS 'SELECT $1 = $2';
CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = eq3);
CREATE TEXT SEARCH CONFIGURATION my_ts (COPY = simple);]])
      local p = sh.project()
      local code, out, err = with(a, p, "dump -o out.lua")
      assert.are.equal(1, code, out)
      assert.matches("operator ===(integer,integer)", err, 1, true)
      assert.matches("text search configuration my_ts", err, 1, true)
      assert.matches("--skip-unsupported", err, 1, true)
      assert.is_nil(io.open(p.dir .. "/out.lua"), "no file written")
      local _, err2 = ok_with(a, p, "dump --skip-unsupported -o migrations/0001_baseline.lua")
      assert.matches("skipped (not covered by the schema model): operator ===(integer,integer)", err2, 1, true)
      local text = sh.slurp(p.dir .. "/migrations/0001_baseline.lua")
      assert.matches('^%-%- Left out %(%-%-skip%-unsupported%)[^\n]*\n%-%-   operator ===%(integer,integer%)\n', text)
    end)

  it("names a function whose definition cannot be read back (its language is gone) and writes no file", function()
    local a = pg.fresh()
    psql(a, [[CREATE FUNCTION h() RETURNS language_handler AS 'plpgsql', 'plpgsql_call_handler' LANGUAGE C;
CREATE LANGUAGE mylang HANDLER h; CREATE FUNCTION lost() RETURNS int LANGUAGE mylang AS 'x';
DELETE FROM pg_language WHERE lanname = 'mylang';]])
    local p = sh.project()
    local code, _, err = with(a, p, "dump -o out.lua")
    assert.are.equal(1, code)
    assert.matches("cannot dump what cannot be read back: function public.lost() (its language is not installed)",
      err, 1, true)
    assert.is_nil(io.open(p.dir .. "/out.lua"), "no file")
  end)

  it("names what the role cannot read and writes no file", function()
    local a = pg.fresh()
    local role = "luamig_dump_" .. a:match("([^/]+)$")
    psql(a, ("CREATE SCHEMA hidden; CREATE TABLE hidden.t (x int); CREATE ROLE %s LOGIN; " ..
      "REVOKE ALL ON SCHEMA hidden FROM PUBLIC"):format(role))
    finally(function() psql(a, "DROP OWNED BY " .. role .. "; DROP ROLE " .. role) end)
    local p = sh.project()
    local as_role = a:gsub("//[^@/]+@", "//" .. role .. "@")
    local code, _, err = with(as_role, p, "dump -o out.lua")
    assert.are_not.equal(0, code)
    assert.matches("cannot snapshot schema hidden: role " .. role .. " has no USAGE privilege", err, 1, true)
    assert.is_nil(io.open(p.dir .. "/out.lua"), "no partial file")
  end)
end)
