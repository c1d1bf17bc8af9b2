-- The shared helpers (luamig.util.sandbox, fs, text, toposort) are pure Lua over lfs:
-- tested in-process on real files in a temporary directory.
package.path = "lua/?.lua;" .. package.path
local sandbox = require "luamig.util.sandbox"
local fs = require "luamig.util.fs"
local text = require "luamig.util.text"
local toposort = require "luamig.util.toposort"
local errors = require "luamig.util.errors"

local function tmpdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  return dir
end

local function write(path, body)
  local f = assert(io.open(path, "w"))
  f:write(body)
  f:close()
  return path
end

-- The error object raised by f(...), which must fail.
local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.is(e), "expected an error object, got " .. tostring(e))
  return e
end

describe("luamig.util.sandbox", function()
  local dir = tmpdir()
  teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

  it("runs a file in its own environment and returns what it returns", function()
    local path = write(dir .. "/ok.lua", "x = 1 + base\nreturn { seen = x }\n")
    local env = sandbox.env({ base = 41 })
    assert.are.same({ seen = 42 }, sandbox.run_file(path, env, "config"))
    assert.are.equal(42, rawget(env, "x"))
    assert.is_nil(rawget(_G, "x"), "the file's globals stay in its environment")
    assert.are.equal(string.format, env.string.format, "standard globals are visible")
    assert.are_not.equal(string, env.string, "as the file's own copies")
  end)

  it("names file:line of a syntax error", function()
    local path = write(dir .. "/syntax.lua", "local a = 1\nreturn {")
    local e = err_of(sandbox.run_file, path, sandbox.env(), "config")
    assert.are.equal("config", e.kind)
    assert.are.equal(path .. ":2", e.where)
    assert.matches("^unexpected symbol near <eof>$", e.message)
    assert.are.equal(path .. ":2: unexpected symbol near <eof>", tostring(e))
  end)

  it("compiles given text under the file's name", function()
    local path = dir .. "/never_written.lua"
    local e = err_of(sandbox.run_file, path, sandbox.env(), "script", "\n\nerror('boom')\n")
    assert.are.equal(path .. ":3", e.where)
    assert.are.equal("boom", e.message)
    assert.are.equal("script", e.kind)
  end)

  it("names file:line of a run-time error raised with a string", function()
    local path = write(dir .. "/string.lua", "local t = nil\n\nreturn t.x\n")
    local e = err_of(sandbox.run_file, path, sandbox.env(), "script")
    assert.are.equal(path .. ":3", e.where)
    assert.matches("attempt to index a nil value", e.message)
  end)

  it("names the file's line when the error value is not a string", function()
    local cases = {
      { "error({ code = 7 })", "(error object is a table value)" },
      { "error(42)", "42" },
      { "error(nil)", "(error object is a nil value)" },
      { "error(setmetatable({}, { __tostring = function() return 'custom' end }))", "custom" },
      { "error('no position', 0)", "no position" },
    }
    for i, c in ipairs(cases) do
      local path = write(("%s/value%d.lua"):format(dir, i), "local x = 1\nlocal function f()\n  " .. c[1] .. "\nend\nf()\n")
      local e = err_of(sandbox.run_file, path, sandbox.env(), "script")
      assert.are.equal(path .. ":3", e.where, c[1])
      assert.are.equal(c[2], e.message, c[1])
    end
  end)

  it("keeps the position of an error object and fills it in when empty", function()
    local env = sandbox.env({
      placed = function() errors.raise("script", "placed", { where = "elsewhere.lua:9" }) end,
      unplaced = function() errors.raise("script", "unplaced") end,
    })
    local e = err_of(sandbox.run_file, write(dir .. "/placed.lua", "\nplaced()\n"), env, "config")
    assert.are.equal("elsewhere.lua:9", e.where)
    assert.are.equal("placed", e.message)
    assert.are.equal("config", e.kind)
    local path = write(dir .. "/unplaced.lua", "\n\nunplaced()\n")
    e = err_of(sandbox.run_file, path, env, "config")
    assert.are.equal(path .. ":3", e.where, "the line of the file that called the raising helper")
    assert.are.equal("unplaced", e.message)
  end)

  it("blames the whole path even when Lua shortens a long one", function()
    local deep = dir .. "/" .. ("d"):rep(70)
    assert(os.execute("mkdir -p '" .. deep .. "'"))
    local path = write(deep .. "/long.lua", "\nerror('far')\n")
    local e = err_of(sandbox.run_file, path, sandbox.env(), "script")
    assert.are.equal(path .. ":2", e.where)
    assert.are.equal("far", e.message)
  end)

  it("calls a loaded chunk with arguments and returns all its results", function()
    local chunk = sandbox.compile(write(dir .. "/args.lua", "return ..., 'two', nil\n"), sandbox.env(), "script")
    assert.are.same({ n = 3, "one", "two" }, table.pack(sandbox.call(dir .. "/args.lua", "script", chunk, "one")))
  end)
end)

describe("luamig.util.sandbox's environment", function()
  local dir = tmpdir()
  teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

  local function run(body, env)
    return sandbox.run_file(write(dir .. "/f.lua", body), env or sandbox.env(), "script")
  end

  it("gives each file its own copies of the standard tables; _G and load stay in the file", function()
    local a, b = sandbox.env(), sandbox.env()
    run("string.format, table.concat, os.getenv = nil, nil, nil\n_G.math.floor = nil\nload('utf8.char = nil')()", a)
    assert.is_function(string.format)
    assert.is_function(table.concat)
    assert.is_function(math.floor)
    assert.is_function(utf8.char)
    assert.is_function(b.string.format)
    assert.is_nil(a.string.format)
    assert.is_true(run("return _G == _ENV and getmetatable(_ENV) == false"))
  end)

  it("os.exit raises naming the line; require, package and debug hold no way into the runner", function()
    local e = err_of(run, "local x = 1\nos.exit(0)\n")
    assert.matches("f%.lua:2$", e.where)
    assert.matches("^os%.exit would stop luamig", e.message)
    e = err_of(run, "require 'luamig.util.errors'")
    assert.matches("luamig's own modules are not available", e.message)
    assert.is_nil(run("return package.loaded['luamig.util.sandbox'] or debug.getregistry or debug.sethook"))
    assert.is_true(run("return require('string') == string and require('os').exit == os.exit"))
  end)

  it("loads the file's own modules along its package.path, each in an environment of its own", function()
    write(dir .. "/helper.lua", "string.rep = nil\nreturn { twice = function(x) return 2 * x end }")
    assert.are.equal(42, run(("package.path = %q\nreturn require('helper').twice(21)"):format(dir .. "/?.lua")))
    assert.is_function(string.rep)
    assert.is_function(run("return string.rep"))
  end)

  it("refuses binary chunks", function()
    assert.is_nil(run("return load(string.dump(function() end))"))
  end)
end)

describe("luamig.util.fs", function()
  local dir = tmpdir()
  teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

  it("lists the .lua files of a directory, sorted, without helpers or hidden files", function()
    for _, name in ipairs({ "b.lua", "a.lua", "_helper.lua", ".hidden.lua", "notes.txt", "c.lua.bak", "10.lua" }) do
      write(dir .. "/" .. name, "")
    end
    local names, paths = fs.list_lua(dir)
    assert.are.same({ "10.lua", "a.lua", "b.lua" }, names)
    assert.are.same({ dir .. "/10.lua", dir .. "/a.lua", dir .. "/b.lua" }, paths)
  end)

  it("returns nil for a missing directory or a file", function()
    assert.is_nil(fs.list_lua(dir .. "/missing"))
    assert.is_nil(fs.list_lua(dir .. "/a.lua"))
    assert.is_true(fs.exists(dir .. "/a.lua"))
    assert.is_false(fs.is_dir(dir .. "/a.lua"))
  end)

  -- fs.join is config.join: spec/inproc/config_spec.lua covers it
end)

describe("luamig.util.text", function()
  it("renders a set of heads", function()
    assert.are.equal("base", text.heads({}))
    assert.are.equal("a1", text.heads({ "a1" }))
    assert.are.equal("a1, b2", text.heads({ "a1", "b2" }))
  end)
end)

describe("luamig.util.toposort", function()
  local function by(deps) return function(k) return deps[k] or {} end end

  it("puts each key after its deps, in their listed order, and ties in sorted order", function()
    local nodes = { a = 1, b = 1, c = 1, d = 1, e = 1 }
    -- a needs e then c (in that order, not by name); the rest come by name
    assert.are.same({ "e", "c", "a", "b", "d" }, toposort.order(nodes, by({ a = { "e", "c" } })))
    -- and the same whatever order pairs() gives: a fresh table each time
    for _ = 1, 20 do
      local again = {}
      for k in pairs(nodes) do again[k] = true end
      assert.are.same({ "e", "c", "a", "b", "d" }, toposort.order(again, by({ a = { "e", "c" } })))
    end
  end)

  it("ignores a dep that is not a node and a key naming itself", function()
    assert.are.same({ "a", "b" }, toposort.order({ a = 1, b = 1 }, by({ a = { "a", "zz" }, b = { "b", "a" } })))
  end)

  it("cuts a cycle where it closes: the key reached second comes first", function()
    local deps = by({ a = { "b" }, b = { "c" }, c = { "a" } })
    assert.are.same({ "c", "b", "a" }, toposort.order({ a = 1, b = 1, c = 1 }, deps))
    -- a two-key cycle, and a key outside it depending on it
    assert.are.same({ "y", "x", "w" },
      toposort.order({ w = 1, x = 1, y = 1 }, by({ w = { "x" }, x = { "y" }, y = { "x" } })))
  end)

  it("walks the keys in `less` order when one is given", function()
    local rank = { a = 2, b = 1, c = 1 }
    local function less(x, y) if rank[x] ~= rank[y] then return rank[x] < rank[y] end return x < y end
    assert.are.same({ "b", "c", "a" }, toposort.order(rank, by({}), less))
    assert.are.same({ "c", "b", "a" }, toposort.order(rank, by({ b = { "c" } }), less))
  end)
end)
