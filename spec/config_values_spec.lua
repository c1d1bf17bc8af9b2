-- Every setting of luamig.lua is checked when the file loads: a bad value
-- is one clear message naming the setting and the config file (exit 2),
-- never a Lua error from deep inside, never silently ignored.
local sh = require "spec.support.sh"

-- setting text (Lua), what the message must say after "setting '<key>' "
local BAD = {
  { "lock_timeout = 0/0", "lock_timeout", "must be a number of seconds from 0 to 86400" },
  { "lock_timeout = -(0/0)", "lock_timeout", "must be a number of seconds from 0 to 86400" },
  { "lock_timeout = math.huge", "lock_timeout", "must be a number of seconds from 0 to 86400" },
  { "lock_timeout = 1e308", "lock_timeout", "must be a number of seconds from 0 to 86400" },
  { "lock_timeout = -1", "lock_timeout", "must be a number of seconds from 0 to 86400" },
  { "lock_timeout = '30'", "lock_timeout", "must be a number of seconds from 0 to 86400" },
  { "plugins = { 1, 2 }", "plugins", "entry 1 must be a path (a string), not a number" },
  { "plugins = { 'plugins', x = 'y' }", "plugins", "must be a list of paths" },
  { "plugins = ''", "plugins", "must not be empty" },
  { "plugins = 'nosuchdir'", "plugins", "names nosuchdir, which does not exist" },
  { "plugins = { 'plugins', 'extra/p.lua' }", "plugins", "names extra/p.lua, which does not exist" },
  { "plugins = { 'a\\0b' }", "plugins", "entry 1 contains a NUL byte" },
  { "url = 'sqlite:///x\\0y.db'", "url", "contains a NUL byte" },
  { "url = ''", "url", "must not be empty" },
  { "url = 42", "url", "must be a string" },
  { "migrations = ''", "migrations", "must not be empty" },
  { "migrations = 'mig\\0rations'", "migrations", "contains a NUL byte" },
  { "seeds = ''", "seeds", "must not be empty" },
  { "drills = {}", "drills", "must be a string" },
  { "schema = ''", "schema", "must not be empty" },
  { "schema = 'app\\0'", "schema", "contains a NUL byte" },
  { "version_table = ''", "version_table", "must be a plain SQL name" },
  { "transaction = 'al'", "transaction", 'must be "per-migration" or "all"' },
  { "foreign_keys = 'yes'", "foreign_keys", "must be a boolean" },
}

describe("config values", function()
  for _, case in ipairs(BAD) do
    it(case[1] .. " is refused, naming the setting and the file", function()
      local p = sh.project()
      assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/conf/plugins") .. " " .. sh.quote(p.dir .. "/conf/migrations")))
      p:write("conf/luamig.lua", "return { " .. case[1] .. " }\n")
      local code, out, err = p:luamig("-c conf/luamig.lua current")
      assert.are.equal(2, code, out .. err)
      local want = ("luamig: conf/luamig.lua: setting '%s' %s"):format(case[2], case[3])
      assert.are.equal(1, err:find(want, 1, true), err)
      assert.is_nil(err:find("bad argument", 1, true))
      local _, listing = sh.run("ls -A " .. sh.quote(p.dir) .. " " .. sh.quote(p.dir .. "/conf"))
      assert.is_nil(listing:find("%.db"), "no database was created:\n" .. listing)
    end)
  end

  it("good values pass: a plugin file or directory named in the setting is loaded", function()
    local p = sh.project()
    assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/conf/extra") .. " " .. sh.quote(p.dir .. "/conf/more") ..
      " " .. sh.quote(p.dir .. "/conf/migrations")))
    p:write("conf/extra/hello.lua", 'return { name = "hello", commands = { hello = { run = function(ctx)\n' ..
      '  ctx.log:result("hello from a file") end } } }\n')
    p:write("conf/more/bye.lua", 'return { name = "bye", commands = { bye = { run = function(ctx)\n' ..
      '  ctx.log:result("bye from a directory") end } } }\n')
    p:write("conf/luamig.lua", "return { lock_timeout = 0, plugins = { 'extra/hello.lua', 'more' } }\n")
    assert.are.equal("hello from a file\n", p:ok("-c conf/luamig.lua hello"))
    assert.are.equal("bye from a directory\n", p:ok("-c conf/luamig.lua bye"))
  end)

  it("the SQLite driver refuses a path with a NUL byte instead of opening a throwaway database", function()
    local code, out, err = sh.lua([[
      local path = os.tmpname()
      os.remove(path)
      local ok, e = pcall(require("luamig.sqlite").open, path .. "\0y.db")
      local f = io.open(path)
      print(ok, f ~= nil, tostring(e))
      if f then f:close() os.remove(path) end
    ]])
    assert.are.equal(0, code, err)
    assert.matches("^false\tfalse\t.*path contains a NUL byte", out)
  end)
end)
