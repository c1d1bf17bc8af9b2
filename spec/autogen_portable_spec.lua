-- The migration autogenerate writes for a portable schema.lua runs on both
-- backends: generated against SQLite, applied to PostgreSQL, and the other
-- way round, reaching the declared schema (check exits 0).
local sh = require "spec.support.sh"

local SQLITE, PG = sh.backends()[1], sh.backends()[2]

local SCHEMA = [[
schema.enum("course_level", { "beginner", "advanced" })
schema.table("courses", {
  { "id", "integer", primary_key = true, autoincrement = true },
  { "title", "string(255)", nullable = false },
  { "level", "course_level", default = "beginner" },
  { "starts_at", "timestamptz" },
  { "price", "numeric(10,2)", server_default = "0" },
  { "published", "boolean", default = false },
})
schema.index("ix_courses_title", "courses", { "title" })
]]

local function newest(p)
  local last
  for f in io.popen("ls " .. sh.quote(p.dir .. "/migrations")):lines() do last = f end
  return sh.slurp(p.dir .. "/migrations/" .. last)
end

-- Generate on project `from`, copy the migration to `to`, upgrade and check there.
local function across(from, to)
  from:write("schema.lua", SCHEMA)
  from:ok("upgrade head")
  from:ok('revision --autogenerate -m "courses"')
  local text = newest(from)
  to:write("schema.lua", SCHEMA)
  to:write("migrations/001_courses.lua", text)
  to:ok("upgrade head")
  assert.matches("matches the migrations at head", to:ok("check"))
  -- and the rows number themselves on both
  to:sql("INSERT INTO courses (title) VALUES ('a')")
  assert.matches("1", to:sql("SELECT id FROM courses"))
  return text
end

describe("portable autogenerate output", function()
  it("generated against PostgreSQL runs on SQLite", function()
    local text = across(sh.project_on(PG), sh.project_on(SQLITE))
    assert.matches('"string%(255%)"', text)
    assert.not_matches("character varying", text)
    -- a new table's columns in the declared order
    local at = {}
    for _, c in ipairs({ "id", "title", "level", "starts_at", "price", "published" }) do
      at[#at + 1] = assert(text:find('{ "' .. c .. '"', 1, true), c)
    end
    for i = 2, #at do assert.is_true(at[i - 1] < at[i]) end
    assert.not_matches("::", text)
  end)

  it("generated against SQLite runs on PostgreSQL, ids still numbered by the database", function()
    local text = across(sh.project_on(SQLITE), sh.project_on(PG))
    assert.matches('"timestamptz"', text)
    assert.not_matches("DATETIME", text)
    assert.matches("autoincrement = true", text)
  end)

  it("says in a comment when a declared type is one backend's own, and the other refuses it", function()
    local pg = sh.project_on(PG)
    pg:write("schema.lua", 'schema.table("docs", {\n  { "id", "integer", primary_key = true },\n' ..
      '  { "body", "jsonb" },\n})\n')
    pg:ok("upgrade head")
    pg:ok('revision --autogenerate -m "docs"')
    local text = newest(pg)
    assert.matches("%-%- NOTE: column docs%.body: type jsonb is not portable", text)
    local lite = sh.project_on(SQLITE)
    lite:write("migrations/001_docs.lua", text)
    local code, _, err = lite:luamig("upgrade head")
    assert.are_not.equal(0, code)
    assert.matches('unknown type "jsonb"', err)
  end)

  for _, pair in ipairs({ { PG, SQLITE }, { SQLITE, PG } }) do
    it(("re-adds a dropped column in its portable type: generated on %s, downgraded on %s"):format(pair[1].name,
      pair[2].name), function()
      local base = sh.migration("a0base", nil, 'op.create_table("events", { { "id", "integer", primary_key = true }, ' ..
        '{ "title", "string(80)" }, { "at", "timestamp" }, { "amount", "numeric(10,2)" }, { "raw", "bytes" }, ' ..
        '{ "ratio", "float" }, { "keep", "text" } })')
      local from = sh.project_on(pair[1], { ["000_a0base.lua"] = base })
      from:write("schema.lua", 'schema.table("events", { { "id", "integer", primary_key = true }, { "keep", "text" } })\n')
      from:ok("upgrade head")
      from:ok('revision --autogenerate -m "drop"')
      local text = newest(from)
      local down = text:match("function downgrade.*")
      for _, t in ipairs({ '"string(80)"', '"timestamp"', '"numeric(10,2)"', '"bytes"', '"float"' }) do
        assert.matches(t, down, 1, true)
      end
      local to = sh.project_on(pair[2], { ["000_a0base.lua"] = base, ["001_drop.lua"] = text })
      to:ok("upgrade head")
      to:ok("downgrade a0base")
      assert.are.equal("id,keep,title,at,amount,raw,ratio", -- (a column added back goes last)
        (to:sql(pair[2].name == "sqlite" and "SELECT group_concat(name, ',') FROM pragma_table_info('events')"
          or "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns " ..
            "WHERE table_name = 'events'"):gsub("%s+$", "")))
    end)
  end
end)
