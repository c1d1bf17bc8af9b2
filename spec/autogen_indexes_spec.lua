-- Declared indexes in full (access method, operator classes, expressions,
-- order, INCLUDE, partial), identifier limits, through the binary:
-- declare -> revision --autogenerate -> upgrade head -> check -> drill.
local sh = require "spec.support.sh"

local function migrations(p)
  local out = {}
  for f in io.popen("ls " .. sh.quote(p.dir .. "/migrations")):lines() do out[#out + 1] = f end
  return out
end

-- declare `schema_text`, autogenerate, upgrade, then check and drill pass.
local function round_trip(p, schema_text)
  p:write("schema.lua", schema_text)
  p:ok("upgrade head")
  p:ok('revision --autogenerate -m "declared"')
  local files = migrations(p)
  local text = sh.slurp(p.dir .. "/migrations/" .. files[#files])
  p:ok("upgrade head")
  assert.matches("matches the migrations at head", p:ok("check"))
  p:ok("drill")
  assert.matches("No changes", p:ok('revision --autogenerate -m "again"'))
  return text
end

local PG = sh.backends()[2]
local SQLITE = sh.backends()[1]

describe("autogenerate of index methods and expressions on PostgreSQL", function()
  it("round-trips a GiST ltree, a GIN jsonb_path_ops and an expression index", function()
    local p = sh.project_on(PG)
    local text = round_trip(p, [[
schema.extension("ltree")
schema.table("nodes", {
  { "id", "integer", primary_key = true },
  { "path", "ltree" },
  { "body", "jsonb" },
  { "email", "text" },
})
schema.index("ix_nodes_path", "nodes", { "path" }, { using = "gist" })
schema.index("ix_nodes_body", "nodes", { { "body", opclass = "jsonb_path_ops" } }, { using = "gin" })
schema.index("ix_nodes_kind", "nodes", { { expr = "body ->> 'kind'" }, { "id", order = "desc", nulls = "last" } })
schema.index("ix_nodes_email", "nodes", { { expr = "lower(email)" } }, { unique = true, include = { "id" },
  where = "email IS NOT NULL" })
]])
    assert.matches('using = "gist"', text)
    assert.matches('opclass = "jsonb_path_ops"', text)
    assert.matches('expr = "', text)
    assert.matches('include = { "id" }', text)
    -- a changed method is a change: check says so
    p:write("schema.lua", (sh.slurp(p.dir .. "/schema.lua"):gsub('using = "gist"', 'using = "btree"')))
    local code, out = p:luamig("check")
    assert.are.equal(5, code, out)
    assert.matches("ix_nodes_path", out)
    -- so is a changed operator class
    p:write("schema.lua", (sh.slurp(p.dir .. "/schema.lua"):gsub('using = "btree"', 'using = "gist"')
      :gsub(', opclass = "jsonb_path_ops"', "")))
    code, out = p:luamig("check")
    assert.are.equal(5, code, out)
    assert.matches("ix_nodes_body", out)
  end)

  it("refuses an identifier longer than 63 bytes, naming it and the line", function()
    local p = sh.project_on(PG)
    local long = ("x"):rep(64)
    p:write("schema.lua", ('schema.table("t", {\n  { "id", "integer", primary_key = true },\n  { %q, "text" },\n})\n')
      :format(long))
    local code, _, err = p:luamig('revision --autogenerate -m x')
    assert.are.equal(2, code, err)
    assert.matches("schema.lua:1:", err)
    assert.matches(long, err)
    assert.matches("63", err)
    p:write("schema.lua", 'schema.table("t", { { "id", "integer", primary_key = true } })\n' ..
      ('schema.index(%q, "t", { "id" })\n'):format(long))
    code, _, err = p:luamig('revision --autogenerate -m x')
    assert.are.equal(2, code, err)
    assert.matches("schema.lua:2:", err)
    assert.matches(long, err)
    -- an op in a migration too
    p:remove("schema.lua")
    p:write("migrations/001_a.lua", sh.migration("a1", nil, ('op.create_table(%q, { { "id", "integer" } })'):format(long)))
    code, _, err = p:luamig("upgrade head")
    assert.are_not.equal(0, code, err)
    assert.matches("001_a.lua:%d+:", err)
    assert.matches(long, err)
    assert.not_matches("xxx", p.backend.tables(p))
  end)
end)

describe("autogenerate of expression and partial indexes on SQLite", function()
  it("round-trips them", function()
    local p = sh.project_on(SQLITE)
    local text = round_trip(p, [[
schema.table("posts", {
  { "id", "integer", primary_key = true },
  { "body", "text" },
  { "email", "text" },
})
schema.index("ix_posts_kind", "posts", { { expr = "json_extract(body, '$.kind')" }, { "id", order = "desc" } })
schema.index("ix_posts_email", "posts", { { expr = "lower(email)" } }, { unique = true, where = "email IS NOT NULL" })
]])
    assert.matches('expr = "', text)
    assert.matches('order = "desc"', text)
  end)

  it("refuses an unknown index option, naming the line", function()
    local p = sh.project_on(SQLITE)
    p:write("schema.lua", 'schema.table("t", { { "id", "integer", primary_key = true } })\n' ..
      'schema.index("ix", "t", { { "id", ordr = "desc" } })\n')
    local code, _, err = p:luamig('revision --autogenerate -m x')
    assert.are.equal(2, code, err)
    assert.matches("schema.lua:2:", err)
    assert.matches('"ordr"', err)
    p:write("schema.lua", 'schema.table("t", { { "id", "integer", primary_key = true } })\n' ..
      'schema.index("ix", "t", { "id" }, { usng = "gin" })\n')
    code, _, err = p:luamig('revision --autogenerate -m x')
    assert.are.equal(2, code, err)
    assert.matches("schema.lua:2:", err)
    assert.matches('did you mean "using"', err)
  end)
end)
