-- Autogenerate's online-safe output on PostgreSQL: changes to tables that
-- already exist are written so that no write waits long (indexes
-- CONCURRENTLY in a db:autocommit section, checks and foreign keys NOT VALID
-- then VALIDATE, NOT NULL through a validated CHECK, unique keys USING a
-- concurrently built index, enum values committed first, a lock_timeout),
-- so `lint --fail-on error --rows 10000` passes; the file still runs on
-- SQLite. --offline-ddl (or the config's offline_ddl) writes the plain form.
local sh = require "spec.support.sh"

local SQLITE, PG = sh.backends()[1], sh.backends()[2]

local BEFORE = sh.migration("a0base", nil, [[
op.create_enum("mood", { "ok", "sad" })
op.create_table("customers", { { "id", "integer", primary_key = true } })
op.create_table("orders", { { "id", "integer", primary_key = true }, { "status", "text" },
  { "customer_id", "integer" }, { "qty", "integer" }, { "code", "text" }, { "feel", "mood" } })
op.create_index("ix_orders_code", "orders", { "code" })]])

local SCHEMA = [[
schema.enum("mood", { "ok", "meh", "sad" })
schema.table("customers", { { "id", "integer", primary_key = true } })
schema.table("orders", {
  { "id", "integer", primary_key = true },
  { "status", "text" },
  { "customer_id", "integer", references = "customers.id" },
  { "qty", "integer", nullable = false },
  { "code", "text" },
  { "feel", "mood" },
}, { constraints = {
  { type = "check", name = "ck_orders_qty", condition = "qty >= 0" },
  { type = "unique", name = "uq_orders_status", columns = { "status" } },
} })
schema.index("ix_orders_status", "orders", { "status" })
]]

local function newest(p)
  local last
  for f in io.popen("ls " .. sh.quote(p.dir .. "/migrations")):lines() do last = f end
  return sh.slurp(p.dir .. "/migrations/" .. last), last
end

local function generated(b, args, config)
  local p = sh.project_on(b, { ["000_a0base.lua"] = BEFORE })
  if config then p:write("luamig.lua", config) end
  p:write("schema.lua", SCHEMA)
  p:ok("upgrade head")
  p:ok('revision --autogenerate -m "online" ' .. (args or ""))
  return p, newest(p)
end

-- check matches at head; the drill passes; down one step and up again, and check still matches.
local function round_trip(p)
  assert.matches("matches the migrations at head", p:ok("check"))
  p:ok("drill")
  p:ok("downgrade -1")
  p:ok("upgrade head")
  assert.matches("matches the migrations at head", p:ok("check"))
end

describe("online-safe autogenerate", function()
  it("on PostgreSQL passes lint --fail-on error --rows 10000, reaches the declared schema and goes back", function()
    if not PG then return pending("no PostgreSQL") end
    local p, text = generated(PG)
    assert.matches('lock_timeout = "2s"', text, 1, true)
    assert.matches("transactional = true", text, 1, true)
    assert.matches("db:autocommit(function()", text, 1, true)
    assert.matches('op.create_index("ix_orders_status", "orders", { "status" }, { concurrently = true })', text, 1, true)
    assert.matches('op.drop_index("ix_orders_code", { concurrently = true })', text, 1, true)
    assert.matches('"qty >= 0", { not_valid = true })', text, 1, true)
    assert.matches('op.validate_constraint("ck_orders_qty", "orders")', text, 1, true)
    assert.matches('{ "customer_id" }, { "id" }, { not_valid = true })', text, 1, true)
    assert.matches('op.create_unique_constraint("uq_orders_status", "orders", { "status" }, { concurrently = true })',
      text, 1, true)
    assert.matches('IS NOT NULL", { not_valid = true })', text, 1, true)
    assert.matches('op.alter_column("orders", "qty", { nullable = false })', text, 1, true)
    assert.matches('op.add_enum_value("mood", "meh"', text, 1, true)
    local out = p:ok("lint --fail-on error --rows 10000")
    assert.not_matches("error %[", out)
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    p:ok("downgrade -1")
    p:ok("upgrade head")
    assert.matches("matches the migrations at head", p:ok("check"))
    -- the same file runs on SQLite (the online forms mean nothing there)
    local s = sh.project_on(SQLITE, { ["000_a0base.lua"] = BEFORE })
    s:write("schema.lua", SCHEMA)
    s:write("migrations/001_online.lua", text)
    s:ok("upgrade head")
    assert.matches("matches the migrations at head", s:ok("check"))
    s:ok("downgrade a0base")
  end)

  it("--offline-ddl and offline_ddl = true write the plain form, which lint reports", function()
    if not PG then return pending("no PostgreSQL") end
    for _, how in ipairs({ { "--offline-ddl" }, { "", "return { offline_ddl = true }" } }) do
      local p, text = generated(PG, how[1], how[2])
      assert.not_matches("concurrently", text)
      assert.not_matches("autocommit", text)
      assert.not_matches("not_valid", text)
      assert.not_matches("lock_timeout", text)
      local code, out = p:luamig("lint --fail-on error --rows 100")
      assert.are_not.equal(0, code)
      assert.matches("create%-index", out)
      p:ok("upgrade head")
      assert.matches("matches the migrations at head", p:ok("check"))
    end
  end)

  -- tickets(id) with 2500 rows, then `no` declared with a sequence's nextval as default
  local function numbered(pk, not_null)
    local p = sh.project_on(PG)
    local cols = pk == "id" and '{ "id", "integer", primary_key = true }, { "kind", "integer" }' or
      '{ "id", "integer" }, { "kind", "integer" }'
    local opts = pk == "id" and "" or ', { constraints = { { type = "primary_key", columns = { "id", "kind" } } } }'
    p:write("schema.lua", ('schema.table("tickets", { %s }%s)\n'):format(cols, opts))
    p:ok('revision --autogenerate -m "tickets"')
    p:ok("upgrade head")
    p:sql("INSERT INTO tickets (id, kind) SELECT i, i % 3 FROM generate_series(1, 2500) AS i")
    p:write("schema.lua", ('schema.sequence("ticket_no", {})\nschema.table("tickets", { %s,\n' ..
      '  { "no", "bigint", server_default = "nextval(\'ticket_no\')"%s } }%s)\n'):format(cols,
      not_null and ", nullable = false" or "", opts))
    return p
  end
  local function upgrade_text(p, message)
    local name = io.popen("ls " .. sh.quote(p.dir .. "/migrations") .. " | grep " .. (message or "numbered")):read("l")
    return sh.slurp(p.dir .. "/migrations/" .. name):match("function upgrade(.-)function downgrade")
  end

  it("adds a column with a volatile default without a rewrite: added bare, default set, rows filled in batches, " ..
    "NOT NULL proved by a check", function()
    if not PG then return pending("no PostgreSQL") end
    local p = numbered("id", true)
    p:ok('revision --autogenerate -m "numbered"')
    local up = upgrade_text(p)
    assert.not_matches("WARNING", up)
    local lines = {}
    for l in up:gmatch("[^\n]+") do
      if l:match("%S") and not l:match("^%s*%-%-") then lines[#lines + 1] = l:match("^%s*(.-)%s*$") end
    end
    local text = table.concat(lines, "\n")
    assert.matches(table.concat({
      'op.add_column("tickets", { "no", "bigint" }, { if_not_exists = true })',
      'op.alter_column("tickets", "no", { server_default = "nextval(\'ticket_no\')" })',
      "db:autocommit(function()",
      'luamig.backfill { key = "id", set = { no = "nextval(\'ticket_no\')" }, table = "tickets", ' ..
        'where = "\\"no\\" IS NULL" }',
      "end)",
      'op.create_check_constraint("ck_no_', }, "\n"), text, 1, true)
    assert.matches('op.alter_column("tickets", "no", { nullable = false })', text, 1, true)
    local out = p:ok("lint --fail-on error --rows 10000")
    assert.not_matches("error %[", out)
    p:ok("upgrade head")
    assert.are.equal("2500|2500|2500|0\n", p:sql("SELECT count(*), count(no), count(DISTINCT no), " ..
      "(SELECT count(*) FROM luamig_backfill) FROM tickets"))
    assert.are.equal("YES|NO\n", p:sql("SELECT CASE WHEN column_default LIKE 'nextval%' THEN 'YES' END, is_nullable " ..
      "FROM information_schema.columns WHERE table_name = 'tickets' AND column_name = 'no'"))
    round_trip(p)
  end)

  it("keeps the column with a volatile default one add_column under a WARNING without a one-column key, " ..
    "and with --offline-ddl", function()
    if not PG then return pending("no PostgreSQL") end
    for _, case in ipairs({ { "id, kind", "" }, { "id", "--offline-ddl" } }) do
      local p = numbered(case[1] == "id" and "id" or "composite")
      p:ok('revision --autogenerate -m "numbered" ' .. case[2])
      local up = upgrade_text(p)
      assert.matches("%-%- WARNING: adds tickets%.no with a volatile default %(nextval%(%)%)", up)
      assert.matches('op.add_column("tickets", { "no", "bigint", server_default = ', up, 1, true)
      assert.not_matches("luamig.backfill {", up, 1, true)
      p:ok("upgrade head")
      assert.are.equal("2500|2500\n", p:sql("SELECT count(no), count(DISTINCT no) FROM tickets"))
      assert.matches("matches the migrations at head", p:ok("check"))
    end
  end)

  -- tickets (2500 rows; key `id`, or (id, kind)) and notes referring to it, then declared with wider types
  local function widened(pk)
    local p = sh.project_on(PG)
    local key = pk == "id" and ', primary_key = true' or ''
    local opts = pk == "id" and "" or ', { constraints = { { type = "primary_key", columns = { "id", "kind" } } } }'
    local function declare(int, text)
      p:write("schema.lua", ('schema.table("tickets", { { "id", %q%s }, { "kind", %q, nullable = false },\n' ..
        '  { "label", %q } }%s)\nschema.index("ix_tickets_label", "tickets", { "label" })\n'):format(int, key, int,
        text, opts) .. (pk == "id" and ('schema.table("notes", { { "id", "integer", primary_key = true }, ' ..
        '{ "ticket_id", %q, references = "tickets.id" } })\n'):format(int) or ""))
    end
    declare("integer", "text")
    p:ok('revision --autogenerate -m "tickets"')
    p:ok("upgrade head")
    p:sql("INSERT INTO tickets (id, kind, label) SELECT i, i % 3, 'l' || i FROM generate_series(1, 2500) AS i")
    declare("bigint", "string(40)")
    return p
  end

  it("changes a column's type without a rewrite: op.online.retype_column by the table's key", function()
    if not PG then return pending("no PostgreSQL") end
    local p = widened("id")
    p:ok('revision --autogenerate -m "widen"')
    local up = upgrade_text(p, "widen")
    assert.not_matches("rewrite", up)
    for _, line in ipairs({ 'op.online.retype_column("tickets", "id", "bigint", { key = "id" })',
      'op.online.retype_column("tickets", "kind", "bigint", { key = "id" })',
      'op.online.retype_column("tickets", "label", "string(40)", { key = "id" })',
      'op.online.retype_column("notes", "ticket_id", "bigint", { key = "id" })' }) do
      assert.matches(line, up:match("db:autocommit%(function%(%)\n(.-)\n  end%)"), 1, true)
    end
    local out = p:ok("lint --fail-on error --rows 10000")
    assert.not_matches("error %[", out)
    assert.not_matches("warning %[drop%]", out)
    p:ok("upgrade head")
    assert.are.equal("2500|2500|2500\n", p:sql("SELECT count(*), count(DISTINCT label), sum(kind) FROM tickets"))
    round_trip(p)
  end)

  it("keeps the type change one alter_column under a WARNING without a one-column key, and with --offline-ddl",
    function()
    if not PG then return pending("no PostgreSQL") end
    for _, case in ipairs({ { "composite", "", "has no one%-column primary key for op.online.retype_column" },
      { "id", "--offline-ddl" } }) do
      local p = widened(case[1])
      p:ok('revision --autogenerate -m "widen" ' .. case[2])
      local up = upgrade_text(p, "widen")
      assert.not_matches("op.online.retype_column(", up, 1, true)
      assert.matches('op.alter_column("tickets", "kind", { type = "bigint"', up, 1, true)
      if case[3] then assert.matches("%-%- WARNING: changes tickets%.kind from integer to bigint, which makes " ..
        "PostgreSQL rewrite the table under ACCESS EXCLUSIVE; tickets " .. case[3], up) end
      p:ok("upgrade head")
      assert.matches("matches the migrations at head", p:ok("check"))
    end
  end)

  it("keeps a type change to a domain with checks one alter_column under a WARNING (a shadow column of it is " ..
    "rewritten too)", function()
    if not PG then return pending("no PostgreSQL") end
    local p = sh.project_on(PG)
    local function declare(ty)
      p:write("schema.lua", 'schema.domain("pos", { type = "bigint", checks = { "VALUE > 0" } })\n' ..
        ('schema.table("t", { { "id", "integer", primary_key = true }, { "n", %q } })\n'):format(ty))
    end
    declare("integer")
    p:ok('revision --autogenerate -m "t"')
    p:ok("upgrade head")
    declare("pos")
    p:ok('revision --autogenerate -m "domain"')
    local up = upgrade_text(p, "domain")
    assert.matches("-- WARNING: changes t.n to domain pos, whose checks make PostgreSQL rewrite the table", up, 1, true)
    assert.matches('op.alter_column("t", "n", { type = "pos"', up, 1, true)
    assert.not_matches("op.online.retype_column(", up, 1, true)
  end)

  it("keeps the config's lock_timeout, and SQLite's output plain", function()
    local p, text = generated(PG or SQLITE, "", 'return { migration_timeouts = { lock_timeout = "5s" } }')
    assert.not_matches("lock_timeout", text)
    local _, plain = generated(SQLITE)
    assert.not_matches("autocommit", plain)
    assert.not_matches("lock_timeout", plain)
    p:ok("upgrade head")
  end)
end)
