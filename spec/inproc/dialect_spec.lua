-- The dialect contract (luamig.dialect): every backend loads and implements
-- it; a dialect that lacks part of it is refused, naming what is missing;
-- generic code does not branch on a backend's name.
local connect = require "luamig.db.connect"
local dialects = require "luamig.dialect"
local sh = require "spec.support.sh"
local fixtures = require "spec.support.fixtures"

-- A copy of dialect `name` to break.
local function copy_of(name)
  local d = {}
  for k, v in pairs(dialects.load(name)) do d[k] = v end
  return d
end

describe("the dialect contract", function()
  it("is implemented by both dialects, each named as loaded", function()
    assert.are.same({ "sqlite", "postgresql" }, dialects.NAMES)
    assert.is_true(#dialects.REQUIRED > 20)
    for _, name in ipairs(dialects.NAMES) do
      local d = dialects.load(name)
      assert.are.equal(name, d.name)
      assert.are.same({}, dialects.missing(d), name)
      assert.are.equal(d, dialects.load(name)) -- loaded once
    end
  end)

  it("refuses a dialect that lacks a function, naming each missing entry", function()
    local broken = copy_of("sqlite")
    broken.name, broken.snapshot, broken.backfill_writer = "broken", nil, nil
    package.preload["luamig.dialect.broken"] = function() return broken end
    local ok, err = pcall(dialects.load, "broken")
    package.preload["luamig.dialect.broken"] = nil
    assert.is_false(ok)
    assert.are.equal("config", err.kind)
    assert.are.equal("dialect broken does not implement the dialect contract: it lacks snapshot, backfill_writer",
      err.message)
  end)

  it("refuses a table entry that is not a table, and a dialect that names itself otherwise", function()
    local d = copy_of("postgresql")
    d.type_names = "oops"
    assert.are.same({ "type_names" }, dialects.missing(d))
    local ok, err = pcall(dialects.check, copy_of("postgresql"), "other")
    assert.is_false(ok)
    assert.are.equal("dialect other names itself postgresql", err.message)
  end)

  it("names its backend on every db handle, as db.dialect and db.backend", function()
    for _, b in ipairs(sh.backends()) do
      local url, remove = fixtures.fresh_url(b)
      local db = connect.open(url, { foreign_keys = true })
      finally(function()
        db:close()
        remove()
      end)
      local pub = db:public() -- (the connection object's own db.dialect is the dialect itself)
      assert.are.same({ b.name, b.name, b.name, b.name, b.name },
        { pub.dialect, pub.backend, db.backend, db.dialect.name, dialects.of(db).name })
    end
  end)

  it("keeps backend names out of ops, introspection, diff, backfill and the runner", function()
    local files = { "schema/ops.lua", "model/ddl.lua", "schema/introspect.lua", "schema/diff.lua",
      "run/backfill.lua", "run/runner.lua", "run/offline.lua", "run/step.lua", "run/version.lua" }
    for _, f in ipairs(files) do
      local n = 0
      for line in io.lines(sh.source_dir .. "/lua/luamig/" .. f) do
        n = n + 1
        local code = line:gsub("%-%-.*$", ""):lower()
        for _, word in ipairs({ "sqlite", "postgresql", "pg_", '"pg"' }) do
          assert.is_nil(code:find(word, 1, true), ("%s:%d names a backend: %s"):format(f, n, line))
        end
      end
    end
  end)
end)
