-- Declared functions, triggers and sequences (PostgreSQL), through the
-- binary: declare -> revision --autogenerate -> upgrade head -> check ->
-- drill; compared through the catalog's normalized definitions.
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
    local dv, alter, cv = up:find("DROP MATERIALIZED VIEW", 1, true), up:find("alter_column", 1, true),
      up:find("CREATE MATERIALIZED VIEW", 1, true)
    assert.truthy(dv and alter and cv, text)
    assert.is_true(dv < alter and alter < cv, text)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
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
