-- The dialect contract (luamig.dialect): every backend loads and implements
-- it; a dialect that lacks part of it is refused, naming what is missing;
-- generic code does not branch on a backend's name.
local connect = require "luamig.db.connect"
local lfs = require "lfs"
local dialects = require "luamig.dialect"
local sh = require "spec.support.sh"
local fixtures = require "spec.support.fixtures"

-- A copy of dialect `name` to break, every member loaded.
local function copy_of(name)
  local d, full = {}, dialects.load(name)
  for _, m in ipairs(dialects.CONTRACT) do d[m[1]] = full[m[1]] end
  return d
end

-- The `---@field` lines of the luamig.Dialect class in dialect/init.lua:
-- { name = optional }.
local function annotated()
  local fields, inside = {}, false
  for line in io.lines(sh.source_dir .. "/lua/luamig/dialect/init.lua") do
    if line:match("^%-%-%-@class luamig%.Dialect$") then
      inside = true
    elseif inside then
      local name, optional = line:match("^%-%-%-@field ([%w_]+)(%??)")
      if not name then break end
      fields[name] = optional == "?"
    end
  end
  return fields
end

describe("the dialect contract", function()
  it("is implemented by both dialects, each named as loaded: every required member, nothing undeclared", function()
    assert.are.same({ "sqlite", "postgresql" }, dialects.NAMES)
    assert.is_true(#dialects.REQUIRED > 20)
    for _, name in ipairs(dialects.NAMES) do
      local d = dialects.load(name)
      assert.are.equal(name, d.name)
      for _, m in ipairs(dialects.CONTRACT) do -- (the one list)
        local v = d[m[1]]
        if not (m.optional and v == nil) then assert.are.equal(m[2], type(v), name .. "." .. m[1]) end
      end
      local declared = {}
      for _, m in ipairs(dialects.CONTRACT) do declared[m[1]] = true end
      dialects.resolve(d) -- (its deferred members, each checked as it loads)
      for k in pairs(d) do assert.is_true(declared[k], name .. " has undeclared member " .. tostring(k)) end
      assert.are.same({}, dialects.missing(d), name)
      assert.are.same({}, dialects.undeclared(d), name)
      assert.are.equal(d, dialects.load(name)) -- loaded once
    end
  end)

  it("declares the same members in luamig.Dialect's annotations as in its list, optional ones as such", function()
    local listed = {}
    for _, m in ipairs(dialects.CONTRACT) do listed[m[1]] = m.optional == true end
    assert.are.same(listed, annotated())
  end)

  it("refuses a dialect with a member the contract does not declare (generic code would probe for it)", function()
    local extra = copy_of("postgresql")
    extra.name, extra.has_sequence = "extra", function() end
    package.preload["luamig.dialect.extra"] = function() return extra end
    local ok, err = pcall(dialects.load, "extra")
    package.preload["luamig.dialect.extra"] = nil
    assert.is_false(ok)
    assert.are.equal("dialect extra has members the dialect contract does not declare: has_sequence", err.message)
  end)

  it("loads deferred members on first use, and refuses one the contract does not declare or its part lacks",
    function()
      local part = { add_column = function() end, drop_column = "not a function" }
      package.preload["luamig.dialect.lazy.part"] = function() return part end
      local function lazy(extra)
        local d = copy_of("sqlite")
        d.name, d.add_column, d.drop_column = "lazy", nil, nil
        return dialects.defer(d, { ["luamig.dialect.lazy.part"] = { "add_column", "drop_column", extra } })
      end
      finally(function()
        package.preload["luamig.dialect.lazy.part"], package.loaded["luamig.dialect.lazy.part"] = nil, nil
      end)
      local d = dialects.check(lazy(), "lazy")
      assert.are.same({}, dialects.missing(d))
      assert.is_nil(package.loaded["luamig.dialect.lazy.part"]) -- (not loaded by the check)
      assert.are.equal(part.add_column, d.add_column)
      local ok, err = pcall(function() return d.drop_column end)
      assert.is_false(ok)
      assert.are.equal("config", err.kind)
      assert.are.equal("dialect lazy does not implement the dialect contract: it lacks drop_column", err.message)
      ok, err = pcall(dialects.resolve, lazy())
      assert.is_false(ok)
      assert.are.equal("dialect lazy does not implement the dialect contract: it lacks drop_column", err.message)
      ok, err = pcall(dialects.check, lazy("has_sequence"), "lazy")
      assert.is_false(ok)
      assert.are.equal("dialect lazy has members the dialect contract does not declare: has_sequence", err.message)
    end)

  it("lets an optional member be absent, never of the wrong type", function()
    local d = copy_of("postgresql")
    d.replica_lag, d.max_identifier = nil, nil
    assert.are.same({}, dialects.missing(d))
    d.max_identifier = "63"
    assert.are.same({ "max_identifier" }, dialects.missing(d))
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

  it("leaves no generic module a backend's name to branch on (render style, lint observer, replica lag ask the dialect)",
    function()
      local allowed = {
        ["db/connect.lua"] = "the one place that maps a URL to its dialect and driver",
        ["util/sql_split.lua"] = "SQL scripts are read with the widest tokenizer rules, PostgreSQL's, whatever the backend",
      }
      local found = {}
      local function scan(dir, rel)
        for entry in lfs.dir(dir) do
          local path, name = dir .. "/" .. entry, rel .. entry
          if entry:sub(1, 1) ~= "." and name ~= "dialect" and lfs.attributes(path, "mode") == "directory" then
            scan(path, name .. "/")
          elseif entry:match("%.lua$") and not allowed[name] then
            local n = 0
            for line in io.lines(path) do
              n = n + 1
              local code = line:gsub("%-%-.*$", ""):lower()
              for _, quoted in ipairs { "sqlite", "postgresql", "postgres", "pg" } do
                if code:find('"' .. quoted .. '"', 1, true) or code:find("'" .. quoted .. "'", 1, true) then
                  found[#found + 1] = ("%s:%d: %s"):format(name, n, line)
                end
              end
            end
          end
        end
      end
      scan(sh.source_dir .. "/lua/luamig", "")
      assert.are.same({}, found)
    end)
end)
