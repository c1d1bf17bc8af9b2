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

-- Write `file` (project-relative) into a fresh project (migrated first with
-- `migrated`), run `luamig cmd`, insist on exit `code`; returns stderr.
local function refused(file, body, cmd, code, migrated)
  local p = project()
  if migrated then p:ok("upgrade") end
  p:write(file, body)
  local got, _, err = p:luamig(cmd)
  assert.are.equal(code, got, body)
  return err
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
      local err = refused("migrations/2.lua", "revision = 'bbbb00000002'\ndown_revision = 'aaaa00000001'\n" .. c[1] ..
        "\nfunction upgrade() end\n", "heads", 2)
      assert.are.equal("luamig: migrations/2.lua:3: " .. c[2] .. "\n", err, c[1])
    end
  end)

  it("a migration's `luamig` outside a step: null and progress are there, backfill refuses (also from the cache)",
    function()
      local p = project()
      p:write("migrations/2.lua", "revision = 'bbbb00000002'\ndown_revision = 'aaaa00000001'\n" ..
        "local NULL = luamig.null\nassert(NULL ~= nil and luamig.progress)\n" ..
        "function upgrade(db) db:exec('INSERT INTO a (id) VALUES (?)', NULL) end\n")
      p:ok("heads") -- compiled now; the upgrade's run below loads it from the script cache
      p:ok("upgrade")
      assert.are.equal("1", (p:sql("SELECT count(*) FROM a WHERE id IS NULL"):gsub("%s+$", "")))
      p:write("migrations/3.lua", "revision = 'cccc00000003'\ndown_revision = 'bbbb00000002'\n" ..
        "luamig.backfill({})\nfunction upgrade() end\n")
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(2, code)
      assert.matches("migrations/3%.lua:3: luamig%.backfill is only available while a migration runs", err)
    end)

  it("a plugin raising any value at load time names its file and line", function()
    for _, c in ipairs(RAISES) do
      local err = refused("plugins/bad.lua", "local x = 1\n" .. c[1] .. "\nreturn { name = 'bad' }\n", "upgrade", 2)
      assert.matches("plugins/bad%.lua:2: " .. c[2]:gsub("%p", "%%%0"), err, 1, false, c[1])
      assert.not_matches("table: 0x", err)
    end
  end)

  it("a plugin returning something other than a table says what it must return", function()
    local err = refused("plugins/bad.lua", "return 7\n", "upgrade", 2)
    assert.matches("plugin plugins/bad%.lua: must return a table", err)
  end)

  it("a plugin hook raising a table names the plugin, the hook and the line", function()
    local err = refused("plugins/guard.lua",
      'return { name = "guard", hooks = {\n  before_run = function() error({}) end } }\n', "upgrade", 1)
    assert.matches("plugin guard: hook before_run failed: plugins/guard%.lua:2: %(error object is a table value%)", err)
  end)

  it("a seed file raising any value at load time names its file and line", function()
    for _, c in ipairs(RAISES) do
      local err = refused("seeds/01_users.lua", "\n" .. c[1] .. "\nfunction seed() end\n", "seed", 2, true)
      assert.matches("seeds/01_users%.lua:2: " .. c[2]:gsub("%p", "%%%0"), err, 1, false, c[1])
    end
  end)

  it("a seed file without seed() names the file", function()
    local err = refused("seeds/01_users.lua", "tables = { 'a' }\n", "seed", 2, true)
    assert.matches("seeds/01_users%.lua:1: no seed%(db, h%) function defined", err)
  end)

  it("luamig.lua raising a table names its line", function()
    local err = refused("luamig.lua", "local x = 1\nerror({})\nreturn {}\n", "heads", 2)
    assert.are.equal("luamig: luamig.lua:2: (error object is a table value)\n", err)
  end)

  it("a seed misusing a helper is told at its own line", function()
    local cases = {
      { "h.upsert('a', { { id = 1 } })", "upsert needs the conflict columns" },
      { "h.fake.int(5, 1)", "fake.int: empty range" },
      { "h.ref('a', { id = 99 })", "ref: 0 rows of a match id" },
    }
    for _, c in ipairs(cases) do
      local err = refused("seeds/01_users.lua", "function seed(db, h)\n  " .. c[1] .. "\nend\n", "seed", 1, true)
      assert.matches("seed 01_users %(seeds/01_users%.lua%) failed and was rolled back: seeds/01_users%.lua:2: " ..
        c[2]:gsub("%p", "%%%0"), err)
    end
  end)
end)
