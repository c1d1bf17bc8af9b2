-- The dialect contract (luamig.dialect): every backend loads and implements
-- it; a dialect that lacks part of it is refused, naming what is missing;
-- generic code does not branch on a backend's name.
local sh = require "spec.support.sh"

local function lua_ok(src)
  local code, out, err = sh.lua(src)
  assert(code == 0, err)
  return out
end

describe("the dialect contract", function()
  it("is implemented by both dialects, each named as loaded", function()
    local out = lua_ok([[
local dialects = require "luamig.dialect"
for _, name in ipairs(dialects.NAMES) do
  local d = dialects.load(name)
  print(name, d.name, #dialects.missing(d), #dialects.REQUIRED)
end
]])
    local names = {}
    for name, self_name, missing, required in out:gmatch("(%S+)\t(%S+)\t(%d+)\t(%d+)\n") do
      names[#names + 1] = name
      assert.are.equal(name, self_name)
      assert.are.equal("0", missing, name .. " lacks part of the contract")
      assert.is_true(tonumber(required) > 20)
    end
    assert.are.same({ "sqlite", "postgresql" }, names)
  end)

  it("refuses a dialect that lacks a function, naming it", function()
    local code, _, err = sh.lua([[
local dialects = require "luamig.dialect"
local broken = {}
for k, v in pairs(dialects.load("sqlite")) do broken[k] = v end
broken.name, broken.snapshot, broken.backfill_writer = "broken", nil, nil
package.preload["luamig.dialect.broken"] = function() return broken end
dialects.load("broken")
]])
    assert.are.equal(1, code)
    assert.matches("dialect broken does not implement the dialect contract: it lacks snapshot, backfill_writer", err)
  end)

  it("refuses a dialect whose table entries are not tables, or that names itself otherwise", function()
    local out = lua_ok([[
local dialects = require "luamig.dialect"
local d = {}
for k, v in pairs(dialects.load("postgresql")) do d[k] = v end
d.type_names = "oops"
print(table.concat(dialects.missing(d), ","))
print(select(2, pcall(dialects.check, d, "other")))
]])
    assert.matches("^type_names\n", out)
    assert.matches("dialect other names itself postgresql", out)
  end)

  it("names its backend on every db handle, as db.dialect and db.backend", function()
    for _, b in ipairs(sh.backends()) do
      local url = b.fresh() or "sqlite::memory:"
      local out = lua_ok(([[
local db = require("luamig.db.connect").open(%q, {})
print(db.dialect, db.backend, require("luamig.dialect").of(db).name)
]]):format(url))
      assert.are.equal(("%s\t%s\t%s\n"):format(b.name, b.name, b.name), out)
    end
  end)

  it("keeps backend names out of ops, introspection, diff, backfill and the runner", function()
    local files = { "schema/ops.lua", "schema/ddl.lua", "schema/introspect.lua", "schema/diff.lua",
      "tools/backfill.lua", "run/runner.lua", "run/offline.lua", "run/step.lua", "run/version.lua" }
    for _, f in ipairs(files) do
      local n = 0
      for line in io.lines(sh.source_dir .. "/lua/luamig/" .. f) do
        n = n + 1
        local code = line:gsub("%-%-.*$", "")
        for _, word in ipairs({ "sqlite", "postgresql", "pg_", '"pg"' }) do
          assert.is_nil(code:lower():find(word, 1, true), ("%s:%d names a backend: %s"):format(f, n, line))
        end
      end
    end
  end)
end)
