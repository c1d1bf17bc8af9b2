-- The migration lock: luamig.host's Lock handles and the SQLite dialect's
-- run-wide lock, through the real host against real files.
local sh = require "spec.support.sh"

local function ok(src)
  local code, out, err = sh.lua(src)
  assert.are.equal("", err)
  assert.are.equal(0, code)
  return out
end

describe("the migration lock", function()
  local dir
  before_each(function() dir = sh.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. sh.quote(dir)) end)

  it("host.try_lock returns a Lock, or nil and what the holder wrote; unlock is idempotent", function()
    sh.write(dir .. "/db", "")
    ok(([[
      local host = require "luamig.host"
      local a = assert(host.try_lock(%q))
      a:write("pid 1 since then")
      local b, holder = host.try_lock(%q)
      assert(b == nil and holder == "pid 1 since then", tostring(holder))
      a:unlock(); a:unlock()
      do
        local c <close> = assert(host.try_lock(%q))
        assert(host.try_lock(%q) == nil)
      end
      local d = assert(host.try_lock(%q)) -- released by __close
      d = nil -- luacheck: ignore 311
      collectgarbage(); collectgarbage()
      assert(host.try_lock(%q), "released by __gc")
      local none, _, err = host.try_lock(%q)
      assert(none == nil and err:match("cannot take the migration lock on .*No such file"), tostring(err))
    ]]):format(dir .. "/db", dir .. "/db", dir .. "/db", dir .. "/db", dir .. "/db", dir .. "/db",
      dir .. "/missing/db"))
  end)

  it("two paths to one SQLite file (a hard link) take the same lock; a time-out is a lock error", function()
    local a, b = dir .. "/a.db", dir .. "/b.db"
    ok(([[
      local connect = require "luamig.db.connect"
      local sqlite = require("luamig.dialect").load("sqlite")
      local one = connect.open("sqlite:///" .. %q, {})
      one:exec "CREATE TABLE x (a)"
      assert(os.execute("ln " .. %q .. " " .. %q))
      local two = connect.open("sqlite:///" .. %q, {})
      sqlite.lock_run(one, {})
      local okk, e = pcall(sqlite.lock_run, two, { lock_timeout = 0.05 })
      assert(not okk and e.kind == "lock" and e.code == "lock_timeout", tostring(e))
      assert(tostring(e):match("timed out after 0.05s waiting for the migration lock"), tostring(e))
      sqlite.unlock_run(one)
      sqlite.lock_run(two, { lock_timeout = 0.05 })
      sqlite.unlock_run(two)
    ]]):format(a, a, b, b))
  end)
end)
