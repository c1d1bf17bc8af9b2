-- Files luamig runs in an environment of their own (migrations, luamig.lua,
-- plugins, seeds, drill scripts) all load through luamig.util.sandbox: a
-- failure names the file and line, whatever value the file raised.
local sh = require "spec.support.sh"

local m = sh.migration

local function project()
  local p = sh.project({ ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id INTEGER)'") })
  assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/plugins") .. " " .. sh.quote(p.dir .. "/seeds")))
  return p
end

-- Each file raising each kind of value, and what luamig must print for it.
local RAISES = {
  { "error({ reason = 1 })", "(error object is a table value)" },
  { "error(42)", "42" },
  { "error('plain', 0)", "plain" },
}

describe("loading files that fail", function()
  it("a migration raising any value at load time names its file and line", function()
    for _, c in ipairs(RAISES) do
      local p = project()
      p:write("migrations/2.lua", "revision = 'bbbb00000002'\ndown_revision = 'aaaa00000001'\n" .. c[1] ..
        "\nfunction upgrade() end\n")
      local code, _, err = p:luamig("heads")
      assert.are.equal(2, code, c[1])
      assert.are.equal("luamig: migrations/2.lua:3: " .. c[2] .. "\n", err, c[1])
    end
  end)

  it("a plugin raising any value at load time names its file and line", function()
    for _, c in ipairs(RAISES) do
      local p = project()
      p:write("plugins/bad.lua", "local x = 1\n" .. c[1] .. "\nreturn { name = 'bad' }\n")
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(2, code, c[1])
      assert.matches("plugins/bad%.lua:2: " .. c[2]:gsub("%p", "%%%0"), err, 1, false, c[1])
      assert.not_matches("table: 0x", err)
    end
  end)

  it("a plugin returning something other than a table says what it must return", function()
    local p = project()
    p:write("plugins/bad.lua", "return 7\n")
    local code, _, err = p:luamig("upgrade")
    assert.are.equal(2, code)
    assert.matches("plugin plugins/bad%.lua: must return a table", err)
  end)

  it("a plugin hook raising a table names the plugin, the hook and the line", function()
    local p = project()
    p:write("plugins/guard.lua", 'return { name = "guard", hooks = {\n  before_run = function() error({}) end } }\n')
    local code, _, err = p:luamig("upgrade")
    assert.are.equal(1, code)
    assert.matches("plugin guard: hook before_run failed: plugins/guard%.lua:2: %(error object is a table value%)", err)
  end)

  it("a seed file raising any value at load time names its file and line", function()
    for _, c in ipairs(RAISES) do
      local p = project()
      p:ok("upgrade")
      p:write("seeds/01_users.lua", "\n" .. c[1] .. "\nfunction seed() end\n")
      local code, _, err = p:luamig("seed")
      assert.are.equal(2, code, c[1])
      assert.matches("seeds/01_users%.lua:2: " .. c[2]:gsub("%p", "%%%0"), err, 1, false, c[1])
    end
  end)

  it("a seed file without seed() names the file", function()
    local p = project()
    p:ok("upgrade")
    p:write("seeds/01_users.lua", "tables = { 'a' }\n")
    local code, _, err = p:luamig("seed")
    assert.are.equal(2, code)
    assert.matches("seeds/01_users%.lua:1: no seed%(db, h%) function defined", err)
  end)

  it("luamig.lua raising a table names its line", function()
    local p = project()
    p:write("luamig.lua", "local x = 1\nerror({})\nreturn {}\n")
    local code, _, err = p:luamig("heads")
    assert.are.equal(2, code)
    assert.are.equal("luamig: luamig.lua:2: (error object is a table value)\n", err)
  end)
end)
