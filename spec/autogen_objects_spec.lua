-- Declared functions, triggers, sequences, policies and row-level security,
-- domains and comments (PostgreSQL), through the binary: declare ->
-- revision --autogenerate -> upgrade head -> check -> drill; compared
-- through the catalog's normalized definitions. SQLite refuses what it has not.
local sh = require "spec.support.sh"

-- The text of the migration `revision --autogenerate -m msg` wrote.
local function written(p, msg)
  for f in io.popen("ls " .. sh.quote(p.dir .. "/migrations")):lines() do
    if f:match("_" .. msg .. "%.lua$") then return sh.slurp(p.dir .. "/migrations/" .. f) end
  end
  error("no migration " .. msg)
end

local PG = sh.backends()[2]
local SQLITE = sh.backends()[1]

local SCHEMA = [[
schema.sequence("order_no", { start = 100, increment = 5 })
schema.func("touch", [=[
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated := now(); RETURN NEW; END $$]=])
schema.table("items", {
  { "id", "integer", primary_key = true },
  { "no", "bigint", server_default = "nextval('order_no')" },
  { "updated", "timestamptz" },
})
schema.trigger("items_touch", [=[
create   trigger items_touch before update on items
  for each row execute function touch()]=])
schema.materialized_view("item_count", "SELECT count(*) AS n FROM items")
schema.comment("function touch()", "stamps items.updated")
schema.comment("sequence order_no", "order numbers")
schema.comment("trigger items_touch on items", "keeps updated current")
]]

describe("autogenerate of declared functions, triggers and sequences on PostgreSQL", function()
  it("creates them in dependency order, check passes, a changed body is a replace", function()
    local p = sh.project_on(PG)
    p:write("schema.lua", SCHEMA)
    p:ok('revision --autogenerate -m "objects"')
    local text = written(p, "objects")
    local seq, fn, tbl, trg = text:find("CREATE SEQUENCE", 1, true), text:find("FUNCTION", 1, true),
      text:find("create_table", 1, true), text:find("CREATE TRIGGER", 1, true)
    assert.truthy(seq and fn and tbl and trg, text)
    assert.is_true(seq < tbl and fn < trg and tbl < trg, text)
    assert.truthy(text:find("CREATE MATERIALIZED VIEW", 1, true) > tbl, text)
    local cf, ct = text:find("COMMENT ON FUNCTION", 1, true), text:find("COMMENT ON TRIGGER", 1, true)
    assert.truthy(cf and ct and text:find("COMMENT ON SEQUENCE", 1, true), text)
    assert.is_true(fn < cf and trg < ct, text)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
    -- whitespace and casing differences outside a function's body (kept as written) are no change
    p:write("schema.lua", (SCHEMA:gsub("create   trigger", "CREATE TRIGGER")
      :gsub("CREATE FUNCTION touch%(%) RETURNS trigger LANGUAGE plpgsql",
        "create or replace function touch ( )\n  returns TRIGGER\n  language PLPGSQL")))
    assert.matches("No changes", p:ok('revision --autogenerate -m "again"'))
    -- a changed materialized view is dropped and made anew
    p:write("schema.lua", (SCHEMA:gsub("count%(%*%) AS n", "count(id) AS n")))
    p:ok('revision --autogenerate -m "mv"')
    text = written(p, "mv")
    assert.matches("DROP MATERIALIZED VIEW", text)
    assert.matches("CREATE MATERIALIZED VIEW", text)
    p:ok("upgrade head")
    p:write("schema.lua", SCHEMA)
    p:ok('revision --autogenerate -m "mvback"')
    p:ok("upgrade head")
    -- a changed comment is a change
    p:write("schema.lua", (SCHEMA:gsub("order numbers", "order no.")))
    local code, out = p:luamig("check")
    assert.are.equal(5, code, out)
    assert.matches("COMMENT ON SEQUENCE", out)
    -- a changed body is a replace, not a drop
    p:write("schema.lua", (SCHEMA:gsub("now%(%)", "clock_timestamp()")))
    code, out = p:luamig("check")
    assert.are.equal(5, code, out)
    p:ok('revision --autogenerate -m "body"')
    text = written(p, "body")
    assert.matches("CREATE OR REPLACE FUNCTION", text)
    assert.not_matches("DROP FUNCTION", text:match("upgrade(.-)downgrade") or text)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    -- a changed sequence is altered; undeclared objects are dropped, the trigger before its function
    p:write("schema.lua", (SCHEMA:gsub("increment = 5", "increment = 7")))
    p:ok('revision --autogenerate -m "seq"')
    assert.matches("ALTER SEQUENCE", written(p, "seq"))
    p:ok("upgrade head")
    p:write("schema.lua", 'schema.table("items", {\n  { "id", "integer", primary_key = true },\n' ..
      '  { "no", "bigint" },\n  { "updated", "timestamptz" },\n})\n')
    p:ok('revision --autogenerate -m "drop"')
    text = written(p, "drop")
    local up = text:match("upgrade(.-)downgrade") or text
    local dt, df = up:find("DROP TRIGGER", 1, true), up:find("DROP FUNCTION", 1, true)
    assert.truthy(dt and df and up:find("DROP SEQUENCE", 1, true) and up:find("DROP MATERIALIZED VIEW", 1, true), text)
    assert.is_true(dt < df, text)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
  end)
end)

describe("autogenerate of a declared trigger on SQLite", function()
  it("creates it after its table, check passes, a changed trigger is recreated", function()
    local p = sh.project_on(SQLITE)
    local decl = [[
schema.table("items", { { "id", "integer", primary_key = true }, { "n", "integer" } })
schema.trigger("items_n", [=[CREATE TRIGGER items_n AFTER INSERT ON items
  BEGIN UPDATE items SET n = 1 WHERE id = NEW.id; END]=])
]]
    p:write("schema.lua", decl)
    p:ok('revision --autogenerate -m "objects"')
    local text = written(p, "objects")
    assert.is_true(text:find("create_table", 1, true) < text:find("CREATE TRIGGER", 1, true), text)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
    p:write("schema.lua", (decl:gsub("n = 1", "n = 2")))
    local code, out = p:luamig("check")
    assert.are.equal(5, code, out)
    p:ok('revision --autogenerate -m "again"')
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
  end)
end)

-- The upgrade part of a migration's text.
local function upgrade_of(text) return text:match("function upgrade(.-)function downgrade") or text end

-- `revision --autogenerate -m msg`; returns `before(x, y)`, which asserts that in its upgrade the first step
-- (op.* call) matching pattern x comes before the first matching y, and the steps' text.
local function generate(p, msg)
  p:ok(('revision --autogenerate -m "%s"'):format(msg))
  local list = {}
  for line in upgrade_of(written(p, msg)):gmatch("[^\n]+") do
    if line:match("^%s*op%.") then list[#list + 1] = line end
  end
  local all = table.concat(list, "\n")
  local function at(what)
    for i, l in ipairs(list) do if l:find(what) then return i end end
    error(("no step matching %s in\n%s"):format(what, all))
  end
  return function(x, y) assert.is_true(at(x) < at(y), x .. " before " .. y .. " in\n" .. all) end, all
end

-- upgrade head; check then finds the declared schema there.
local function upgraded(p)
  p:ok("upgrade head")
  assert.matches("matches the migrations at head", p:ok("check"))
end

local RLS = [[
schema.table("docs", {
  { "id", "integer", primary_key = true },
  { "owner", "text", nullable = false },
}, { row_security = true })
schema.policy("docs_own", "docs", { command = "select", roles = { "public" }, using = "owner = current_user" })
schema.policy("docs_add", "docs", { command = "insert", as = "restrictive", with_check = "owner = current_user" })
schema.view("doc_ids", "SELECT id FROM docs")
schema.materialized_view("doc_count", "SELECT count(*) AS n FROM docs")
schema.comment("table docs", "documents")
schema.comment("column docs.owner", "who wrote it")
schema.comment("policy docs_own on docs", "readers see their own")
schema.comment("view doc_ids", "the ids")
schema.comment("materialized view doc_count", "how many")
]]

describe("autogenerate of declared policies, row-level security and comments on PostgreSQL", function()
  it("creates policies after their table, compares them through the catalog, alters or recreates a changed one",
    function()
      local p = sh.project_on(PG)
      p:write("schema.lua", RLS)
      p:ok('revision --autogenerate -m "rls"')
      local text = written(p, "rls")
      local tbl, rls, pol = text:find("create_table", 1, true), text:find("ENABLE ROW LEVEL SECURITY", 1, true),
        text:find("CREATE POLICY", 1, true)
      assert.truthy(tbl and rls and pol, text)
      assert.is_true(tbl < rls and tbl < pol, text)
      for _, c in ipairs({ "COMMENT ON TABLE", "COMMENT ON COLUMN", "COMMENT ON POLICY", "COMMENT ON VIEW",
        "COMMENT ON MATERIALIZED VIEW" }) do
        assert.truthy(text:find(c, 1, true), c .. "\n" .. text)
      end
      p:ok("upgrade head")
      assert.are.equal("t", p:sql("SELECT relrowsecurity FROM pg_class WHERE relname = 'docs'"):match("%S+"))
      assert.matches("matches the migrations at head", p:ok("check"))
      p:ok("drill")
      -- the catalog's words, not the text: spacing and case are no change
      p:write("schema.lua", (RLS:gsub('"owner = current_user" }', '"(owner=CURRENT_USER)" }')))
      assert.matches("No changes", p:ok('revision --autogenerate -m "same"'))
      -- a changed USING is an ALTER POLICY
      p:write("schema.lua", (RLS:gsub('using = "owner = current_user"', 'using = "owner = current_user OR id < 0"')))
      local code, out = p:luamig("check")
      assert.are.equal(5, code, out)
      p:ok('revision --autogenerate -m "using"')
      text = written(p, "using")
      assert.matches("ALTER POLICY", upgrade_of(text))
      assert.not_matches("DROP POLICY", upgrade_of(text))
      p:ok("upgrade head")
      assert.matches("matches the migrations at head", p:ok("check"))
      -- a changed command is a drop and a create
      p:write("schema.lua", (RLS:gsub('command = "select"', 'command = "all"')))
      p:ok('revision --autogenerate -m "cmd"')
      text = upgrade_of(written(p, "cmd"))
      assert.truthy(text:find("DROP POLICY", 1, true) and text:find("CREATE POLICY", 1, true), text)
      p:ok("upgrade head")
      assert.matches("matches the migrations at head", p:ok("check"))
      -- changed comments; row-level security off; policies gone (dropped before the table changes)
      p:write("schema.lua", (RLS:gsub('"documents"', '"papers"'):gsub('"who wrote it"', '"author"')))
      p:ok('revision --autogenerate -m "comments"')
      text = upgrade_of(written(p, "comments"))
      assert.truthy(text:find("COMMENT ON TABLE", 1, true) and text:find("COMMENT ON COLUMN", 1, true), text)
      p:ok("upgrade head")
      p:write("schema.lua", 'schema.table("docs", {\n  { "id", "integer", primary_key = true },\n' ..
        '  { "owner", "text", nullable = false },\n})\n')
      p:ok('revision --autogenerate -m "off"')
      text = upgrade_of(written(p, "off"))
      assert.truthy(text:find("DISABLE ROW LEVEL SECURITY", 1, true) and text:find("DROP POLICY", 1, true), text)
      p:ok("upgrade head")
      assert.matches("matches the migrations at head", p:ok("check"))
      p:ok("drill")
    end)
end)

local DOMAIN = [[
schema.domain("amount", { type = "numeric(12,2)", default = "0", not_null = true, checks = { "VALUE >= 0" } })
schema.table("invoices", {
  { "id", "integer", primary_key = true },
  { "total", "amount" },
})
schema.comment("domain amount", "money")
]]

describe("autogenerate of a declared domain on PostgreSQL", function()
  it("creates it before the tables that use it, alters a changed one, drops it after them", function()
    local p = sh.project_on(PG)
    p:write("schema.lua", DOMAIN)
    p:ok('revision --autogenerate -m "dom"')
    local text = written(p, "dom")
    local dom, tbl = text:find("CREATE DOMAIN", 1, true), text:find("create_table", 1, true)
    assert.truthy(dom and tbl and text:find("COMMENT ON DOMAIN", 1, true), text)
    assert.is_true(dom < tbl, text)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
    -- the catalog's words: spacing and case are no change
    p:write("schema.lua", (DOMAIN:gsub('"VALUE >= 0"', '"(value>=0)"')))
    assert.matches("No changes", p:ok('revision --autogenerate -m "same"'))
    -- a changed check, default and NOT NULL through ALTER DOMAIN
    p:write("schema.lua", (DOMAIN:gsub('"VALUE >= 0"', '"VALUE >= 0", "VALUE < 1000000"')
      :gsub('default = "0", not_null = true', 'default = "1"')))
    local code, out = p:luamig("check")
    assert.are.equal(5, code, out)
    p:ok('revision --autogenerate -m "alter"')
    text = upgrade_of(written(p, "alter"))
    assert.truthy(text:find("ALTER DOMAIN", 1, true), text)
    assert.is_nil(text:find("DROP DOMAIN", 1, true), text)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
    -- no longer declared: dropped after the column that uses it
    p:write("schema.lua", 'schema.table("invoices", {\n  { "id", "integer", primary_key = true },\n})\n')
    p:ok('revision --autogenerate -m "gone"')
    text = upgrade_of(written(p, "gone"))
    local col, drop = text:find("drop_column", 1, true), text:find("DROP DOMAIN", 1, true)
    assert.truthy(col and drop, text)
    assert.is_true(col < drop, text)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
  end)
end)

describe("autogenerate of a declared sequence's start", function()
  it("restarts a sequence no one has used at its new start, leaves a used one's next value", function()
    local p = sh.project_on(PG)
    local decl = 'schema.sequence("fresh", { start = 100 })\nschema.sequence("used", { start = 100 })\n' ..
      'schema.table("t", { { "id", "integer", primary_key = true } })\n'
    p:write("schema.lua", decl)
    p:ok('revision --autogenerate -m "seq"')
    p:ok("upgrade head")
    assert.are.equal("100", p:sql("SELECT nextval('used')"):match("%d+"))
    p:write("schema.lua", (decl:gsub("start = 100", "start = 500")))
    p:ok('revision --autogenerate -m "start"')
    p:ok("upgrade head")
    assert.are.equal("500", p:sql("SELECT nextval('fresh')"):match("%d+"))
    assert.are.equal("101", p:sql("SELECT nextval('used')"):match("%d+"))
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
  end)
end)

describe("autogenerate of an SQL function declared before the table it reads", function()
  it("creates it before the table (its body checked once the table exists)", function()
    local p = sh.project_on(PG)
    p:write("schema.lua", [[
schema.func("item_count", [=[CREATE FUNCTION item_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM items $$]=])
schema.table("items", { { "id", "integer", primary_key = true }, { "n", "bigint", server_default = "item_count()" } })
]])
    p:ok('revision --autogenerate -m "fn"')
    local text = written(p, "fn")
    assert.is_true(text:find("FUNCTION", 1, true) < text:find("create_table", 1, true), text)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
  end)
end)

describe("autogenerate of a column type change under a view on PostgreSQL", function()
  it("drops the views that use the table first and makes them anew after", function()
    local p = sh.project_on(PG)
    local decl = [[
schema.table("items", { { "id", "integer", primary_key = true }, { "n", "smallint" } })
schema.view("item_n", "SELECT id, n FROM items")
schema.materialized_view("item_total", "SELECT sum(n) AS total FROM items")
]]
    p:write("schema.lua", decl)
    p:ok('revision --autogenerate -m "views"')
    p:ok("upgrade head")
    p:write("schema.lua", (decl:gsub('"smallint"', '"bigint"')))
    p:ok('revision --autogenerate -m "wider"')
    local text = written(p, "wider")
    local up = text:match("upgrade(.-)downgrade") or text
    -- (the type change is op.online.retype_column: see autogen_online_spec)
    local dv, alter, cv = up:find("DROP MATERIALIZED VIEW", 1, true), up:find("retype_column", 1, true),
      up:find("CREATE MATERIALIZED VIEW", 1, true)
    assert.truthy(dv and alter and cv, text)
    assert.is_true(dv < alter and alter < cv, text)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
  end)

  it("drops the views over those views first, dependents first, and makes them anew in order", function()
    local p = sh.project_on(PG)
    local decl = [[
schema.table("items", { { "id", "integer", primary_key = true }, { "n", "smallint" } })
schema.view("item_n", "SELECT id, n FROM items")
schema.view("item_big", "SELECT id, n FROM item_n WHERE n > 1")
schema.materialized_view("item_big_total", "SELECT sum(n) AS total FROM item_big")
schema.view("item_report", "SELECT total FROM item_big_total")
schema.comment("view item_big", "the big ones")
]]
    p:write("schema.lua", decl)
    generate(p, "views")
    upgraded(p)
    p:write("schema.lua", (decl:gsub('"smallint"', '"bigint"')))
    local before, all = generate(p, "wider")
    before("DROP VIEW %W*item_report", "DROP MATERIALIZED VIEW")
    before("DROP MATERIALIZED VIEW", "DROP VIEW %W*item_big")
    before("DROP VIEW %W*item_big", "DROP VIEW %W*item_n")
    before("DROP VIEW %W*item_n", "retype_column")
    before("retype_column", "CREATE VIEW %W*item_n")
    before("CREATE VIEW %W*item_n", "CREATE VIEW %W*item_big")
    before("CREATE VIEW %W*item_big", "CREATE MATERIALIZED VIEW")
    before("CREATE MATERIALIZED VIEW", "CREATE VIEW %W*item_report")
    assert.truthy(all:find("COMMENT ON VIEW", 1, true), all)
    upgraded(p)
    p:ok("drill")
  end)

  it("does so for an enum value dropped under a view (the enum's columns are recast)", function()
    local p = sh.project_on(PG)
    local decl = [[
schema.enum("mood", { "sad", "ok", "meh" })
schema.table("items", { { "id", "integer", primary_key = true }, { "mood", "mood" } })
schema.materialized_view("item_mood", "SELECT id, mood FROM items")
]]
    p:write("schema.lua", decl)
    p:ok('revision --autogenerate -m "views"')
    p:ok("upgrade head")
    p:write("schema.lua", (decl:gsub(', "meh"', "")))
    p:ok('revision --autogenerate -m "fewer"')
    local up = written(p, "fewer"):match("upgrade(.-)downgrade")
    local dv, drop, cv = up:find("DROP MATERIALIZED VIEW", 1, true), up:find("drop_enum_value", 1, true),
      up:find("CREATE MATERIALIZED VIEW", 1, true)
    assert.truthy(dv and drop and cv, up)
    assert.is_true(dv < drop and drop < cv, up)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
  end)
end)

local ATOMIC = [[
schema.table("items", { { "id", "integer", primary_key = true }, { "n", "smallint" } })
schema.func("item_total", [=[CREATE FUNCTION item_total() RETURNS bigint LANGUAGE sql
  BEGIN ATOMIC SELECT sum(n) FROM items; END]=])
schema.func("plus_one", [=[CREATE FUNCTION plus_one(x bigint) RETURNS bigint LANGUAGE sql IMMUTABLE
  RETURN x + 1]=])
schema.func("item_next", [=[CREATE FUNCTION item_next() RETURNS bigint LANGUAGE sql
  RETURN plus_one((SELECT max(id) FROM items))]=])
schema.view("item_sum", "SELECT item_total() AS total, item_next() AS next")
schema.comment("function item_total()", "the sum of n")
]]

describe("autogenerate of functions with an SQL-standard body on PostgreSQL", function()
  it("creates them after the tables and views they name, drops or remakes them before the tables change", function()
    local p = sh.project_on(PG)
    p:write("schema.lua", ATOMIC)
    local before = generate(p, "atomic")
    before("create_table", "FUNCTION public.item_total")
    before("FUNCTION public.plus_one", "FUNCTION public.item_next")
    before("FUNCTION public.item_next", "CREATE VIEW %W*item_sum")
    before("FUNCTION public.item_total", "CREATE VIEW %W*item_sum")
    upgraded(p)
    p:ok("drill")
    -- a column the body reads changes type: the function (and the view calling it) is made anew around it
    p:write("schema.lua", (ATOMIC:gsub('"smallint"', '"integer"')))
    local all
    before, all = generate(p, "wider")
    before("DROP VIEW %W*item_sum", "DROP FUNCTION %W*item_total")
    before("DROP FUNCTION %W*item_total", "retype_column")
    before("retype_column", "CREATE OR REPLACE FUNCTION public.item_total")
    assert.truthy(all:find("COMMENT ON FUNCTION", 1, true), all)
    upgraded(p)
    -- a changed body naming a new column; then the table it read dropped with the function
    p:write("schema.lua", (ATOMIC:gsub('"smallint" }', '"integer" }, { "m", "integer" }'):gsub("sum%(n%)", "sum(n + m)")))
    before = generate(p, "body")
    before("add_column", "CREATE OR REPLACE FUNCTION public.item_total")
    upgraded(p)
    p:write("schema.lua", 'schema.table("other", { { "id", "integer", primary_key = true } })\n')
    before = generate(p, "gone")
    before("DROP FUNCTION %W*item_total", "drop_table")
    upgraded(p)
    p:ok("drill")
  end)
end)

local DOMAIN_FN = [[
schema.func("is_even", [=[CREATE FUNCTION is_even(x integer) RETURNS boolean LANGUAGE sql IMMUTABLE
  RETURN x % 2 = 0]=])
schema.func("is_small", [=[CREATE FUNCTION is_small(x integer) RETURNS boolean LANGUAGE plpgsql IMMUTABLE
  AS $$ BEGIN RETURN x < 1000; END $$]=])
schema.domain("even_int", { type = "integer", checks = { "is_even(VALUE) AND is_small(VALUE)" } })
schema.func("half", [=[CREATE FUNCTION half(x even_int) RETURNS integer LANGUAGE sql IMMUTABLE RETURN x / 2]=])
schema.table("nums", { { "id", "integer", primary_key = true }, { "n", "even_int" } })
]]

describe("autogenerate of a domain whose check calls a declared function", function()
  it("creates the functions it names before it, and a function taking it after it; drops in reverse", function()
    local p = sh.project_on(PG)
    p:write("schema.lua", DOMAIN_FN)
    local before = generate(p, "dom")
    before("FUNCTION public.is_even", "CREATE DOMAIN")
    before("FUNCTION public.is_small", "CREATE DOMAIN")
    before("CREATE DOMAIN", "FUNCTION public.half")
    before("CREATE DOMAIN", "create_table")
    upgraded(p)
    p:ok("drill")
    p:write("schema.lua", 'schema.table("nums", { { "id", "integer", primary_key = true } })\n')
    before = generate(p, "gone")
    before("DROP FUNCTION %W*half", "DROP DOMAIN")
    before("DROP DOMAIN", "DROP FUNCTION %W*is_even")
    upgraded(p)
    p:ok("drill")
  end)
end)

describe("declared objects SQLite has none of", function()
  it("refuses a policy and row-level security, naming the declaration", function()
    local p = sh.project_on(SQLITE)
    p:write("schema.lua", [[
schema.table("docs", { { "id", "integer", primary_key = true } })
schema.policy("docs_own", "docs", { using = "id > 0" })
]])
    local code, out, err = p:luamig('revision --autogenerate -m "rls"')
    assert.are_not.equal(0, code, out)
    assert.matches("schema.lua:2: schema.policy docs_own: SQLite has no row-level security policies", err, 1, true)
    p:write("schema.lua", 'schema.table("docs", { { "id", "integer", primary_key = true } }, { row_security = true })\n')
    code, out, err = p:luamig('revision --autogenerate -m "rls"')
    assert.are_not.equal(0, code, out)
    assert.matches("schema.lua:1: schema.table docs: SQLite has no row-level security", err, 1, true)
  end)
end)
