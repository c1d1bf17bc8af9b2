-- The boundary between user files (migrations, plugins, seeds, drill
-- scripts, luamig.lua) and the runner, through the luamig command on both
-- drivers: os.exit fails the run; user code cannot rewrite the db handle,
-- the runner's modules or the standard library the runner uses; the plugin
-- context's log is callable.
local sh = require "spec.support.sh"

local m = sh.migration

-- `luamig ARGS` killed after 20 s: a runner looping forever fails the spec.
local function run(p, args)
  return p:luamig(args, "timeout 20")
end

local function project(b, files)
  local p = sh.project_on(b, files)
  assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/plugins") .. " " .. sh.quote(p.dir .. "/seeds")))
  return p
end

for _, b in ipairs(sh.backends()) do
  describe("user files on " .. b.name, function()
    it("os.exit in a migration fails the run: rolled back, recorded as failed, exit 1", function()
      local p = project(b, { ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id INTEGER)'\nos.exit(0)") })
      local code, out, err = run(p, "upgrade")
      assert.are.equal(1, code, out .. err)
      assert.matches("migrations/1%.lua:7: os%.exit", err)
      assert.matches("rolled back", err)
      assert.are.equal("luamig_version luamig_version_history\n", p:tables())
      assert.matches("failed aaaa00000001 upgrade", p:ok("status"))
    end)

    it("os.exit in a seed, a plugin command, a plugin hook or a drill script fails with its file and line", function()
      local p = project(b, { ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id INTEGER)'",
        "db:exec 'DROP TABLE a'") })
      p:ok("upgrade")
      p:write("seeds/01_a.lua", "function seed(db)\n  db:exec 'INSERT INTO a VALUES (1)'\n  os.exit(0)\nend\n")
      local code, _, err = run(p, "seed")
      assert.are.equal(1, code, err)
      assert.matches("seeds/01_a%.lua:3: os%.exit", err)
      assert.are.equal("0\n", p:sql("SELECT count(*) FROM a"))
      p:remove("seeds/01_a.lua")
      p:write("plugins/quit.lua", "return { name = 'quit', commands = { quit = { run = function()\n" ..
        "  os.exit(0)\nend } }, hooks = { after_run = function() os.exit(0) end } }\n")
      code, _, err = run(p, "quit")
      assert.are.equal(1, code, err)
      assert.matches("plugins/quit%.lua:2: os%.exit", err)
      code, _, err = run(p, "downgrade base")
      assert.are.equal(1, code, err)
      assert.matches("plugins/quit%.lua:3: os%.exit", err)
      p:remove("plugins/quit.lua")
      p:write("quit.lua", "drill.step('quits', function()\n  os.exit(0)\nend)\n")
      local out
      code, out, err = run(p, "drill quit.lua")
      assert.are.equal(1, code, out .. err)
      assert.matches("quit%.lua:2: os%.exit", out)
    end)

    it("a migration cannot rewrite db's methods: protected metatables, one clear failure, nothing applied", function()
      local p = project(b, {
        ["1.lua"] = m("aaaa00000001", nil, "getmetatable(db).__index.exec = function() return 0 end"),
        ["2.lua"] = m("bbbb00000002", "aaaa00000001", "db:exec 'CREATE TABLE b (id INTEGER)'"),
      })
      local code, out, err = run(p, "upgrade")
      assert.are.equal(1, code, out .. err)
      assert.matches("migrations/1%.lua:6: attempt to index", err)
      assert.matches("^base", p:ok("current"))
      p:write("migrations/1.lua", m("aaaa00000001", nil, [[
local _, e = pcall(db.transaction, db, function() db:exec "SELECT nope" end)
for _, v in ipairs({ db, db:prepare("SELECT 1"), db:rows("SELECT 1"), e, "", io.stdout }) do
  assert(type(getmetatable(v)) ~= "table", tostring(v))
  assert(not pcall(setmetatable, v, {}))
end
db:exec "CREATE TABLE a (id INTEGER)"]]))
      code, out, err = run(p, "upgrade")
      assert.are.equal(0, code, out .. err)
      assert.are.equal("a b luamig_version luamig_version_history\n", p:tables())
    end)

    it("the runner's modules are out of reach: require refuses them, package and debug hold no back door", function()
      local p = project(b, { ["1.lua"] = m("aaaa00000001", nil, [[
assert(package.loaded["luamig.run.version"] == nil and package.loaded["luamig.db.rows"] == nil)
assert(debug.getregistry == nil and debug.getmetatable == nil and debug.setupvalue == nil)
assert(debug.traceback("x"):match("^x"))
assert(require("luamig.null") ~= nil and require("string").format)
local v = require "luamig.run.version"
v.record = function() end]]) })
      local code, out, err = run(p, "upgrade")
      assert.are.equal(1, code, out .. err)
      assert.matches("migrations/1%.lua:10: require \"luamig%.run%.version\": luamig's own modules", err)
      assert.matches("^base", p:ok("current"))
    end)

    it("a migration clearing string.format or table.concat, or a hook emptying its plan, leaves the runner intact",
      function()
      local p = project(b, {
        ["1.lua"] = m("aaaa00000001", nil, [[
db:exec "CREATE TABLE a (id INTEGER)"
string.format, table.concat, _G.string.rep = nil, nil, nil
load("table.insert = nil; string.gsub = nil")()
assert(not pcall(function() getmetatable("").__index.find = nil end))
os.getenv = nil]]),
        ["2.lua"] = m("bbbb00000002", "aaaa00000001",
          "db:exec(('CREATE TABLE %s (id INTEGER)'):format(table.concat({ 'b' })))"),
      })
      p:write("plugins/check.lua", "return { name = 'check', hooks = { after_migration = function(ctx, s)\n" ..
        "  assert(getmetatable(ctx.graph) == false and getmetatable(ctx.log) == false)\n" ..
        "  ctx.config.version_table = 'elsewhere'\n" ..
        "  ctx.log:info(string.format('checked %s', s.revision))\nend,\n" ..
        "  before_run = function(_, info) for i = #info.plan, 1, -1 do info.plan[i] = nil end end } }\n")
      local code, out, err = run(p, "upgrade")
      assert.are.equal(0, code, out .. err)
      assert.matches("checked bbbb00000002", out)
      assert.are.equal("a b luamig_version luamig_version_history\n", p:tables())
      assert.matches("2 applied, 0 pending", p:ok("status"))
    end)

    it("ctx.log is callable and keeps its methods", function()
      local p = project(b, { ["1.lua"] = m("aaaa00000001", nil, "") })
      p:write("plugins/hello.lua", "return { name = 'hello', commands = { hello = { run = function(ctx)\n" ..
        "  ctx.log('hello ' .. #ctx.heads())\n  ctx.log:info('info line')\n  ctx.log:warn('careful')\nend } } }\n")
      local code, out, err = run(p, "hello")
      assert.are.equal(0, code, err)
      assert.are.equal("hello 0\ninfo line\n", out)
      assert.matches("careful", err)
      code, out, err = run(p, "-q hello")
      assert.are.equal(0, code, err)
      assert.are.equal("", out)
    end)
  end)
end

describe("files too deeply nested to parse", function()
  local deep = ("("):rep(300) .. "1" .. (")"):rep(300)
  local want = "too deeply nested"

  it("a migration, luamig.lua or a plugin names the file and line, exit 2", function()
    local p = project(sh.backends()[1], { ["1.lua"] = m("aaaa00000001", nil, "local x = " .. deep) })
    local code, _, err = run(p, "heads")
    assert.are.equal(2, code, err)
    assert.matches("^luamig: migrations/1%.lua:6: " .. want, err)
    p:write("migrations/1.lua", m("aaaa00000001", nil, ""))
    p:write("luamig.lua", "local y = 1\nlocal x = " .. deep .. "\nreturn {}\n")
    code, _, err = run(p, "heads")
    assert.are.equal(2, code, err)
    assert.matches("^luamig: luamig%.lua:2: " .. want, err)
    p:remove("luamig.lua")
    p:write("plugins/deep.lua", "local x = " .. deep .. "\nreturn { name = 'deep' }\n")
    for _, cmd in ipairs({ "plugins", "upgrade" }) do
      code, _, err = run(p, cmd)
      assert.are.equal(2, code, err)
      assert.matches("^luamig: plugins/deep%.lua:1: " .. want, err)
    end
  end)
end)

describe("the README's plugin context", function()
  it("documents every member of luamig.PluginContext and luamig.Log the editor types declare", function()
    local defs = require("spec.support.luals_meta").parse_dir(sh.source_dir .. "/share/luamig/types")
    local readme = sh.slurp(sh.source_dir .. "/README.md")
    local missing = {}
    for class, spellings in pairs({ ["luamig.PluginContext"] = { "`ctx.%s", "`ctx.%s(" },
      ["luamig.Log"] = { "`ctx.log:%s(", "`ctx.log.%s`" } }) do
      for _, name in ipairs(defs.classes[class].order) do
        local found = false
        for _, s in ipairs(spellings) do found = found or readme:find(s:format(name), 1, true) ~= nil end
        if not found then missing[#missing + 1] = class .. "." .. name end
      end
    end
    assert.are.same({}, missing)
    assert.truthy(readme:find("`ctx.log(s)`", 1, true), "ctx.log is documented as callable")
  end)
end)
