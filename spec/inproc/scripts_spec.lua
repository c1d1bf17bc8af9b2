-- luamig.revision.scripts: loading migration files and checking their shape.
local scripts = require "luamig.revision.scripts"
local raised = require("spec.support.raised").raised
local fixtures = require "spec.support.fixtures"
local tmpdir, write = fixtures.tmpdir, fixtures.write

-- The "script" error loading a file holding `text` raises (as text), and the file's path.
local function bad(text)
  local path = write(tmpdir() .. "/m.lua", text)
  local e = raised(function() scripts.load_file(path) end)
  assert.are.equal("script", e.kind)
  return tostring(e), path
end

local UP = "function upgrade(db) end\n"

describe("scripts.load_file", function()
  it("reads a migration's fields", function()
    local path = write(tmpdir() .. "/001_a.lua", [[
-- add the users table
revision = "a1"
down_revision = "r0"
depends_on = { "x1", "y2" }
branch_labels = "feature"
function upgrade(db) db:exec "CREATE TABLE users (id INTEGER)" end
function downgrade(db) end
]])
    local s = scripts.load_file(path)
    assert.are.same({ "a1", { "r0" }, { "x1", "y2" }, { "feature" }, true, "add the users table", path, 2 },
      { s.id, s.parents, s.depends_on, s.branch_labels, s.transactional, s.message, s.path, s.line })
    assert.is_function(s.upgrade)
    assert.is_function(s.downgrade)
    assert.is_false(s.uses_op)
    assert.is_string(s.checksum)
  end)

  it("a root has no parents; message = and transactional = false are read; no downgrade is nil", function()
    local s = scripts.load_file(write(tmpdir() .. "/m.lua",
      'revision = "r0"\nmessage = "first"\ntransactional = false\n' .. UP))
    assert.are.same({}, s.parents)
    assert.are.same({}, s.depends_on)
    assert.are.equal("first", s.message)
    assert.is_false(s.transactional)
    assert.is_nil(s.downgrade)
  end)

  it("change(op) stands for both directions, and marks the file as using op", function()
    local s = scripts.load_file(write(tmpdir() .. "/m.lua",
      'revision = "c1"\nfunction change(op) op.create_table("t", { op.column("id", "integer") }) end\n'))
    assert.is_function(s.change)
    assert.is_function(s.upgrade)
    assert.is_function(s.downgrade)
    assert.is_true(s.uses_op)
    assert.is_true(scripts.load_file(write(tmpdir() .. "/m.lua",
      'revision = "u1"\nfunction upgrade(db) op.drop_table "t" end\n')).uses_op)
  end)

  it("the checksum follows the file's bytes", function()
    local dir = tmpdir()
    local a = scripts.load_file(write(dir .. "/a.lua", 'revision = "a1"\n' .. UP))
    local b = scripts.load_file(write(dir .. "/b.lua", 'revision = "a1"\n' .. UP))
    local c = scripts.load_file(write(dir .. "/c.lua", 'revision = "a1"\n' .. UP .. "-- edited\n"))
    assert.are.equal(a.checksum, b.checksum)
    assert.are_not.equal(a.checksum, c.checksum)
  end)

  it("each file runs in its own environment", function()
    local dir = tmpdir()
    scripts.load_file(write(dir .. "/a.lua", 'revision = "a1"\nleaked = true\n' .. UP))
    local b = scripts.load_file(write(dir .. "/b.lua", 'revision = "b1"\nassert(leaked == nil)\n' .. UP))
    assert.are.equal("b1", b.id)
    assert.is_nil(rawget(_G, "leaked"))
    assert.is_nil(rawget(_G, "revision"))
  end)

  it("shape errors name the file and the line to fix", function()
    for text, want in pairs {
      [UP] = ':1: no revision id: add  revision = "',
      ["\n\nrevision = 42\n" .. UP] = ":3: revision must be a string of letters, digits and _ (got 42)",
      ['revision = "a-b"\n' .. UP] = ":1: revision must be a string of letters, digits and _ (got a-b)",
      ['\nrevision = "head"\n' .. UP] = ':2: revision "head" is a reserved word; pick another id',
      ['revision = "a1"\n'] = ":1: no upgrade(db) function defined (or change(op))",
      ['revision = "a1"\n' .. UP .. "change = 1\n"] = ":3: change must be a function",
      ['revision = "a1"\n\nfunction change(op) end\n' .. UP] = ":3: define change(op) or upgrade(db), not both",
      ['revision = "a1"\n' .. UP .. "downgrade = 'no'\n"] = ":3: downgrade must be a function",
      ['revision = "a1"\ntransactional = "no"\n' .. UP] = ":2: transactional must be true or false",
      ['revision = "a1"\n\ndown_revision = 5\n' .. UP] =
        ":3: down_revision must be a string, a list of strings or nil (got number)",
      ['revision = "a1"\ndepends_on = { "x", 3 }\n' .. UP] = ":2: depends_on[2] must be a revision id string",
      ['revision = "a1"\nbranch_labels = true\n' .. UP] =
        ":2: branch_labels must be a string, a list of strings or nil (got boolean)",
    } do
      local msg, path = bad(text)
      assert.matches(path .. want, msg, 1, true)
    end
  end)

  it("a syntax or run-time error in the file names its file and line", function()
    local msg, path = bad('revision = "a1"\n\nfunction upgrade(db)\n')
    assert.matches(path .. ":4: 'end' expected (to close 'function' at line 3)", msg, 1, true)
    msg, path = bad('revision = "a1"\nlocal x = nil\nlocal y = x.field\n' .. UP)
    assert.matches(path .. ":3: attempt to index", msg, 1, true)
  end)

  it("a missing file is a script error", function()
    local e = raised(function() scripts.load_file "/nonexistent/m.lua" end)
    assert.are.equal("script", e.kind)
    assert.matches("/nonexistent/m.lua", tostring(e), 1, true)
  end)
end)

describe("scripts.load_dir", function()
  it("loads *.lua in file-name order, skipping _ and . files and others", function()
    local dir = tmpdir()
    write(dir .. "/002_b.lua", 'revision = "b2"\ndown_revision = "a1"\n' .. UP)
    write(dir .. "/001_a.lua", 'revision = "a1"\n' .. UP)
    write(dir .. "/_helper.lua", "error 'not a migration'")
    write(dir .. "/.hidden.lua", "error 'not a migration'")
    write(dir .. "/notes.txt", "hello")
    local list = scripts.load_dir(dir)
    assert.are.same({ "a1", "b2" }, { list[1].id, list[2].id })
    assert.are.same({ dir .. "/001_a.lua", dir .. "/002_b.lua" }, { list[1].path, list[2].path })
  end)

  it("a revision id used twice names both files and lines", function()
    local dir = tmpdir()
    write(dir .. "/a.lua", '\nrevision = "x1"\n' .. UP)
    write(dir .. "/b.lua", '\n\nrevision = "x1"\n' .. UP)
    local e = raised(function() scripts.load_dir(dir) end)
    assert.are.equal("script", e.kind)
    assert.matches(dir .. "/b.lua:3: revision x1 is already used by " .. dir .. "/a.lua:2", tostring(e), 1, true)
  end)

  it("a missing directory is a config error saying what to do", function()
    local e = raised(function() scripts.load_dir "/nonexistent/migrations" end)
    assert.are.equal("config", e.kind)
    assert.matches("migrations directory /nonexistent/migrations not found; run `luamig init`", tostring(e), 1, true)
  end)

  it("an empty directory has no scripts", function()
    assert.are.same({}, (scripts.load_dir(tmpdir())))
  end)

  it("with fields_only keeps a file's fields, not its code, until a step needs it (issue 28: history)", function()
    local dir, n = tmpdir(), 500
    local body = "function upgrade(db) local t = {} for i = 1, 3 do t[i] = db:exec('SELECT ' .. i) end end\n" ..
      "function downgrade(db) db:exec 'SELECT 1' end\n"
    for i = 1, n do
      write(("%s/%04d.lua"):format(dir, i), ('revision = "r%d"\n'):format(i) ..
        (i > 1 and ('down_revision = "r%d"\n'):format(i - 1) or "") .. body)
    end
    collectgarbage("collect")
    local before = collectgarbage("count")
    local list = scripts.load_dir(dir, nil, true) -- (files dated this second: read, not served by the cache)
    collectgarbage("collect")
    local per_file = (collectgarbage("count") - before) * 1024 / n
    for _, s in ipairs(list) do assert.is_nil(rawget(s, "upgrade"), s.path) end
    assert.is_true(per_file < 400, ("%.0f bytes held per file"):format(per_file))
    -- the code loads on first use, from the file
    assert.are.equal("function", type(list[n].upgrade))
    assert.are.equal("function", type(list[n].downgrade))
  end)
end)
