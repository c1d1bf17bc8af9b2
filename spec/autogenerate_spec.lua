-- `revision --autogenerate`, `check` against the declared schema, and the
-- errors of a declared schema, through the binary on both drivers.
local sh = require "spec.support.sh"

local SCHEMA_V1 = [[
schema.enum("mood", { "sad", "ok" })
schema.table("orgs", {
  { "id", "integer", primary_key = true },
  { "name", "string(80)", nullable = false },
})
schema.table("users", {
  { "id", "integer", primary_key = true },
  { "org_id", "integer" },
  { "email", "text", nullable = false },
  { "mood", "mood" },
}, { constraints = {
  { type = "foreign_key", name = "fk_users_org", columns = { "org_id" }, references = "orgs", ref_columns = { "id" } },
  { type = "check", name = "ck_users_email", condition = "length(email) > 3" },
} })
schema.index("ix_users_email", "users", { "email" }, { unique = true })
schema.view("v_emails", "SELECT email FROM users")
]]

-- v1 changed: a value added in the middle of the enum, a table and a column
-- renamed, a column dropped (destructive), a type narrowed (destructive).
local SCHEMA_V2 = [[
schema.enum("mood", { "sad", "meh", "ok" })
schema.table("orgs", {
  { "id", "integer", primary_key = true },
  { "title", "string(40)", nullable = false, renamed_from = "name" },
})
schema.table("people", {
  { "id", "integer", primary_key = true },
  { "org_id", "integer" },
  { "email", "text", nullable = false },
}, { renamed_from = "users", constraints = {
  { type = "foreign_key", name = "fk_users_org", columns = { "org_id" }, references = "orgs", ref_columns = { "id" } },
} })
schema.index("ix_users_email", "people", { "email" }, { unique = true })
]]

local function only_migration(p)
  local out = {}
  for f in io.popen("ls " .. sh.quote(p.dir .. "/migrations")):lines() do out[#out + 1] = f end
  return out
end

local function newest(p, before)
  local seen = {}
  for _, f in ipairs(before) do seen[f] = true end
  for _, f in ipairs(only_migration(p)) do
    if not seen[f] then return sh.slurp(p.dir .. "/migrations/" .. f), f end
  end
end

for _, b in ipairs(sh.backends()) do describe("autogenerate on " .. b.name, function()
  it("writes the migration to the declared schema, then nothing; check gates on it; the drill is clean", function()
    local p = sh.project_on(b)
    p:write("schema.lua", SCHEMA_V1)
    p:ok("upgrade head") -- (creates the SQLite file: check opens the database read-only)
    local code, out = p:luamig("check")
    assert.are.equal(5, code, out)
    assert.matches("differs from the migrations at head", out)
    assert.matches('op.create_table%("users"', out)
    out = p:ok('revision --autogenerate -m "first"')
    assert.matches("Created migrations/", out)
    local text = newest(p, {})
    assert.matches('op.create_enum%("mood", { "sad", "ok" }%)', text)
    -- parents first: orgs before users; dropped in the reverse order
    assert.is_true(text:find('create_table("orgs"', 1, true) < text:find('create_table("users"', 1, true))
    local down = text:match("function downgrade.*")
    assert.is_true(down:find('drop_table("users")', 1, true) < down:find('drop_table("orgs")', 1, true))
    p:ok("upgrade head")
    out = p:ok('revision --autogenerate -m "again"')
    assert.matches("No changes", out)
    assert.are.equal(1, #only_migration(p))
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok('revision --autogenerate --allow-empty -m "empty"')
    assert.are.equal(2, #only_migration(p))

    local before = only_migration(p)
    p:write("schema.lua", SCHEMA_V2)
    local _, err = p:ok('revision --autogenerate -m "second"')
    text = newest(p, before)
    assert.matches('op.rename_table%("users", "people", { primary_key = true }%)', text)
    assert.matches('new_name = "title"', text)
    assert.matches('op.add_enum_value%("mood", "meh", { after = "sad" }%)', text)
    assert.matches("WARNING: destructive: drops column people.mood", text)
    assert.matches("warning: .*drops column people.mood", err)
    assert.matches("warning: .*changes orgs.title from .* which can lose data", err)
    assert.matches('CREATE VIEW', text:match("function downgrade.*")) -- (the downgrade recreates the view)
    if b.name == "sqlite" then
      assert.matches('op.batch_alter_table%("people", function%(b%)', text)
    else
      -- a new enum value must commit before use: a db:autocommit section
      assert.matches('db:autocommit%(function%(%)\n    op.add_enum_value%("mood", "meh"', text)
      -- (a type change that rewrites the table: a shadow column swapped in, see autogen_online_spec)
      assert.matches('op.online.retype_column("orgs", "title", "string(40)", { key = "id" })', text, 1, true)
    end
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    assert.matches("No changes", p:ok("revision --autogenerate -m third --against-db"))
    p:ok("drill")
  end)

  it("takes the declared schema from another database with --from-url", function()
    local dev = sh.project_on(b)
    dev:ok("init .")
    dev:write("migrations/0001_dev.lua", sh.migration("a0001", nil,
      'op.create_table("notes", { { "id", "integer", primary_key = true }, { "body", "text" } })'))
    dev:ok("upgrade head")
    local p = sh.project_on(b)
    local out = p:ok("revision --autogenerate -m notes --from-url " ..
      sh.quote(dev.url or ("sqlite:///" .. dev.dir .. "/luamig.db")))
    assert.matches("Created", out)
    local text = newest(p, {})
    assert.matches('op.create_table%("notes"', text)
  end)

  it("builds tables whose foreign keys form a cycle: the constraints come after the tables", function()
    local p = sh.project_on(b)
    p:write("schema.lua", [[
schema.table("a", {
  { "id", "integer", primary_key = true },
  { "b_id", "integer", references = "b.id" },
})
schema.table("b", {
  { "id", "integer", primary_key = true },
  { "a_id", "integer" },
}, { constraints = {
  { type = "foreign_key", name = "fk_b_a", columns = { "a_id" }, references = "a", ref_columns = { "id" } },
} })
schema.table("c", {
  { "id", "integer", primary_key = true },
  { "parent", "integer", references = "c" },
})
]])
    p:ok('revision --autogenerate -m cycle')
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
    -- a constraint the database refuses names its declaration's file:line
    p:write("schema.lua", [[
schema.table("a", {
  { "id", "integer", primary_key = true },
  { "b_id", "integer", references = "b.id" },
})
schema.table("b", {
  { "id", "integer", primary_key = true },
  { "a_id", "text" },
}, { constraints = {
  { type = "foreign_key", name = "fk_b_a", columns = { "a_id" }, references = "a", ref_columns = { "nope" } },
} })
]])
    local code, _, err = p:luamig("revision --autogenerate -m broken")
    assert.are.equal(2, code, err)
    assert.matches("^luamig: schema%.lua:5: ", err)
  end)
end) end

describe("autogenerate of a primary key change under a foreign key", function()
  it("drops a dropped table's foreign key before, and adds a new table's after, the key changes", function()
    local p = sh.project_on(sh.backends()[2] or sh.backends()[1])
    local parent = [[
schema.table("t1", {
  { "id", "integer", primary_key = true },
  { "c3", "smallint", nullable = false%s },
})
]]
    local child = [[
schema.table("t10", {
  { "id", "integer", primary_key = true },
  { "c11", "integer", references = "t1.id" },
})
]]
    p:write("schema.lua", parent:format("") .. child)
    p:ok('revision --autogenerate -m "a"')
    p:ok("upgrade head")
    p:write("schema.lua", parent:format(", primary_key = true"))
    p:ok('revision --autogenerate -m "b"')
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
  end)

  it("drops a kept table's foreign key to it before the key changes (the key's index holds it)", function()
    local p = sh.project_on(sh.backends()[2] or sh.backends()[1])
    local decl = [[
schema.table("t1", { { "id", "integer", primary_key = true }, { "c3", "smallint", nullable = false%s } })
schema.table("t10", { { "id", "integer", primary_key = true }, { "c11", "integer"%s } })
]]
    p:write("schema.lua", decl:format("", ', references = "t1.id"'))
    p:ok('revision --autogenerate -m "a"')
    p:ok("upgrade head")
    p:write("schema.lua", decl:format(", primary_key = true", ""))
    p:ok('revision --autogenerate -m "b"')
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("drill")
  end)
end)

describe("autogenerate's output", function()
  it("is the same file every run: renames and dropped indexes in name order, not hash order", function()
    local p = sh.project_on(sh.backends()[1])
    local tables, renamed = {}, {}
    for i = 1, 4 do
      tables[i] = ('schema.table("a%d", { { "id", "integer", primary_key = true }, { "c%d", "integer" }, ' ..
        '{ "d%d", "integer" } })\nschema.index("ix_a%d_c", "a%d", { "c%d" })\nschema.index("ix_a%d_d", "a%d", ' ..
        '{ "d%d" })'):format(i, i, i, i, i, i, i, i, i)
      renamed[i] = ('schema.table("b%d", { { "id", "integer", primary_key = true }, { "e%d", "integer", ' ..
        'renamed_from = "c%d" }, { "f%d", "integer", renamed_from = "d%d" } }, { renamed_from = "a%d" })')
        :format(i, i, i, i, i, i)
    end
    p:write("schema.lua", table.concat(tables, "\n"))
    p:ok('revision --autogenerate -m "a"')
    p:ok("upgrade head")
    p:write("schema.lua", table.concat(renamed, "\n"))
    local first
    for _ = 1, 6 do -- (each run a process of its own, with its own string hash seed)
      p:ok('revision --autogenerate -m "b"')
      local name = io.popen("ls " .. sh.quote(p.dir .. "/migrations") .. " | grep _b.lua"):read("l")
      local body = sh.slurp(p.dir .. "/migrations/" .. name):match("function upgrade.*")
      os.remove(p.dir .. "/migrations/" .. name)
      first = first or body
      assert.are.equal(first, body)
    end
  end)
end)

describe("autogenerate of raw SQL objects", function()
  it("creates, compares and drops a trigger declared as SQL", function()
    local p = sh.project_on(sh.backends()[1])
    p:write("schema.lua", [[
schema.table("t", { { "id", "integer", primary_key = true }, { "n", "integer" } })
schema.sql("t_touch", "CREATE TRIGGER t_touch AFTER INSERT ON t BEGIN UPDATE t SET n = 1 WHERE id = new.id; END")
]])
    p:ok('revision --autogenerate -m "trigger"')
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:write("schema.lua", 'schema.table("t", { { "id", "integer", primary_key = true }, { "n", "integer" } })\n')
    local code, out = p:luamig("check")
    assert.are.equal(5, code, out)
    assert.matches('DROP TRIGGER \\"t_touch\\"', out)
    assert.matches("differs from the migrations at head (1 change;", out, 1, true)
  end)
end)

describe("a declared schema with a mistake", function()
  local function fails(schema_text, pattern, line)
    local p = sh.project()
    p:write("schema.lua", schema_text)
    local code, _, err = p:luamig("revision --autogenerate -m x", "LUAMIG_URL=sqlite:///" .. p.dir .. "/db.sqlite")
    assert.are.equal(2, code, err)
    assert.matches("schema.lua:" .. line .. ":", err)
    assert.matches(pattern, err)
  end

  it("names the file and line, with a suggestion for an unknown key or type", function()
    fails('schema.table("a", {\n  { "id", "integer", primary_key = true },\n})\nschema.table("b", {\n' ..
      '  { "x", "text", nulable = false },\n})\n', 'unknown key "nulable" %(did you mean "nullable"%?%)', 4)
    fails('\nschema.table("b", { { "x", "txet" } })\n', 'unknown type "txet" %(did you mean "text"%?%)', 2)
    fails('schema.tabel("b", {})\n', "schema.tabel does not exist %(did you mean schema.table%?%)", 1)
    fails('schema.table("b", { { "x", "text" } }, { renamed_frm = "a" })\n', 'did you mean "renamed_from"', 1)
  end)

  it("names both tables of a foreign key to a table it does not declare", function()
    fails('schema.table("orders", {\n  { "id", "integer", primary_key = true },\n' ..
      '  { "customer_id", "integer", references = "customers.id" },\n})\n',
      "table orders: column customer_id: foreign key references table customers, which is not declared", 1)
  end)

  it("says there is no declared schema when schema.lua declares nothing", function()
    local p = sh.project()
    p:ok("init .")
    local code, _, err = p:luamig("revision --autogenerate -m x")
    assert.are.equal(2, code, err)
    assert.matches("no declared schema", err)
    p:ok("upgrade head")
    p:ok("check") -- (nothing declared: nothing to compare)
  end)
end)
