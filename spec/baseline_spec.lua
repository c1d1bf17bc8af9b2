-- `luamig revision --baseline` on both drivers. Squash: a 30-migration
-- project becomes one root revision listing what it replaces; a fresh
-- database applies only it and has the same schema (the oracle) as before;
-- databases at revisions 5, 17 and 30 reach head, and the one at the last
-- replaced revision counts as at the baseline. Baseline of a live database,
-- with and without --stamp; a squash without the CREATEDB privilege.
local sh = require "spec.support.sh"
local oracle = require "spec.support.schema_oracle"

local BASELINE = "bbbbbbbbbbbb"

local function id(i) return ("a%011d"):format(i) end

-- Thirty migrations: tables, then columns and indexes on them.
local function thirty()
  local files = {}
  for i = 1, 30 do
    local up, down
    if i % 3 == 1 then
      up = ("op.create_table('t%d', { { 'id', 'integer', primary_key = true }, { 'name', 'text' } })"):format(i)
      down = ("op.drop_table('t%d')"):format(i)
    elseif i % 3 == 2 then
      up = ([[op.add_column('t%d', { 'c%d', 'text', server_default = "'x'" })]]):format(i - 1, i)
      down = ("op.drop_column('t%d', 'c%d')"):format(i - 1, i)
    else
      up = ("op.create_index('ix%d', 't%d', { 'name', 'c%d' })"):format(i, i - 2, i - 1)
      down = ("op.drop_index('ix%d')"):format(i)
    end
    files[("%03d_%s.lua"):format(i, id(i))] = sh.migration(id(i), i > 1 and id(i - 1) or nil, up, down)
  end
  return files
end

local function fresh_url(b, p, n)
  if b.name == "sqlite" then return ("sqlite:///%s/db%s.db"):format(p.dir, n) end
  return b.fresh()
end

local function at(p, url, args)
  return p:luamig("--url " .. sh.quote(url) .. " " .. args)
end
local function ok_at(p, url, args)
  local code, out, err = at(p, url, args)
  if code ~= 0 then error(("luamig %s -> exit %d\nstdout: %s\nstderr: %s"):format(args, code, out, err), 2) end
  return out
end

for _, b in ipairs(sh.backends()) do
  describe("luamig revision --baseline on " .. b.name, function()
    it("squashes 30 migrations: a fresh database applies only the baseline; databases at 5, 17 and 30 reach head",
      function()
        local p = sh.project(thirty())
        local before = fresh_url(b, p, "before")
        ok_at(p, before, "upgrade head")
        local schema = oracle.SCHEMA[b.name](before)
        local dbs = {}
        for _, k in ipairs({ 5, 17, 30 }) do
          dbs[k] = fresh_url(b, p, k)
          ok_at(p, dbs[k], "upgrade " .. id(k))
        end
        p.url = before
        local out = p:ok("revision --baseline -m squash --rev-id " .. BASELINE)
        assert.matches("a baseline replacing 30 revisions, a00000000001 .. a00000000030", out, 1, true)
        local text = sh.slurp(p.dir .. "/migrations/" .. BASELINE .. "_squash.lua")
        assert.matches('replaces      = { "a00000000001", "a00000000002", ', text, 1, true)
        assert.is_nil(text:match('down_revision = "'), "a root revision")

        -- a fresh database applies only the baseline, and has the same schema
        local fresh = fresh_url(b, p, "fresh")
        local up = ok_at(p, fresh, "upgrade head")
        assert.matches(BASELINE, up)
        assert.is_nil(up:match(id(1)), up)
        assert.are.equal(schema, oracle.SCHEMA[b.name](fresh))
        assert.matches("^" .. BASELINE, ok_at(p, fresh, "current"))

        -- at the last replaced revision: at the baseline, nothing runs
        assert.matches("^" .. BASELINE .. "  squash", ok_at(p, dbs[30], "current"))
        assert.matches("At head", ok_at(p, dbs[30], "check"))
        assert.is_nil(ok_at(p, dbs[30], "upgrade head"):match(id(30)))

        -- at 5 and 17: the old files up to 30, then it counts as the baseline
        for _, k in ipairs({ 5, 17 }) do
          local o = ok_at(p, dbs[k], "upgrade head")
          assert.matches(id(k + 1), o)
          assert.matches(id(30), o)
          assert.matches("^" .. BASELINE, ok_at(p, dbs[k], "current"))
          ok_at(p, dbs[k], "check")
          assert.are.equal(schema, oracle.SCHEMA[b.name](dbs[k]), "at " .. k)
        end

        -- a revision after the baseline reaches every database
        p:write("migrations/100_cccccccccccc.lua", sh.migration("cccccccccccc", BASELINE,
          "op.add_column('t1', { 'later', 'text' })", "op.drop_column('t1', 'later')"))
        for _, url in ipairs({ fresh, dbs[5], dbs[30] }) do
          ok_at(p, url, "upgrade head")
          assert.matches("^cccccccccccc", ok_at(p, url, "current"))
        end
        ok_at(p, dbs[30], "downgrade " .. BASELINE)
        assert.matches("^" .. BASELINE, ok_at(p, dbs[30], "current"))
        -- a database on the old files goes down through them
        local d = fresh_url(b, p, "down")
        ok_at(p, d, "upgrade " .. id(17))
        ok_at(p, d, "downgrade base")
        assert.matches("^base", ok_at(p, d, "current"))
      end)

    if b.name == "postgresql" then
      it("squash without the CREATEDB privilege: says what is missing and how to pass --scratch-url", function()
        local p = sh.project_on(b, { ["1.lua"] = sh.migration("aaaa00000001", nil,
          "op.create_table('orders', { { 'id', 'integer', primary_key = true } })", "op.drop_table('orders')") })
        local url = ("postgresql://luamig_pw:right-pw@127.0.0.1:%s/postgres"):format(os.getenv("PG_TEST_PORT"))
        local code, _, err = p:luamig("revision --baseline -m squash --url " .. sh.quote(url))
        assert.are.equal(1, code)
        assert.matches("revision %-%-baseline needs the CREATEDB privilege %(ALTER ROLE %.%.%. CREATEDB%), or pass " ..
          "%-%-scratch%-url URL of an empty database", err)
        assert.not_matches("right%-pw", err)
        assert.are.equal("1.lua\n", select(2, sh.run("ls " .. sh.quote(p.dir .. "/migrations"))), "nothing written")
        local scratch = b.fresh()
        p:ok("revision --baseline -m squash --url " .. sh.quote(url) .. " --scratch-url " .. sh.quote(scratch))
      end)
    end

    it("baselines a live database in a project without migrations; --stamp stamps it", function()
      for _, stamp in ipairs({ false, true }) do
        local p = sh.project_on(b)
        local url = p.url or fresh_url(b, p, "live")
        p.url = url
        p.backend = b
        p:sql("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT NOT NULL); CREATE INDEX ix_status ON " ..
          "orders (status)")
        local schema = oracle.SCHEMA[b.name](url)
        local out = p:ok("revision --baseline -m adopt --rev-id " .. BASELINE .. (stamp and " --stamp" or ""))
        if stamp then
          assert.matches("and stamped the database at it", out, 1, true)
          assert.matches("^" .. BASELINE, p:ok("current"))
          p:ok("check")
        else
          assert.matches("the database was not stamped: `luamig stamp " .. BASELINE .. "`", out, 1, true)
          assert.matches("^base", p:ok("current"))
        end
        -- the baseline builds the same schema on an empty database
        local fresh = fresh_url(b, p, "copy")
        ok_at(p, fresh, "upgrade head")
        assert.are.equal(schema, oracle.SCHEMA[b.name](fresh))
      end
    end)
  end)
end
