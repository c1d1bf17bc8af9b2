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

  -- Hold `url`'s migration lock from another process until the returned
  -- function is called (it releases the lock and waits for the holder to end).
  local function hold(url)
    local ready, release = dir .. "/held", dir .. "/release"
    sh.write(release, "")
    local script = dir .. "/holder.lua"
    sh.write(script, ([[
      local connect = require "luamig.db.connect"
      local host = require "luamig.host"
      local db, d = connect.open(%q, { version_table = "luamig_version" })
      d.lock_run(db, { version_table = "luamig_version" })
      io.open(%q, "w"):close()
      while io.open(%q) do host.sleep_ms(20) end
    ]]):format(url, ready, release))
    assert(os.execute(("LUAMIG_LUA_DIR=%s/spec/support/harness LUAMIG_SOURCE_DIR=%s %s %s >%s/holder.log 2>&1 &")
      :format(sh.quote(sh.source_dir), sh.quote(sh.source_dir), sh.quote(sh.bin), sh.quote(script), sh.quote(dir))))
    for _ = 1, 500 do
      if io.open(ready) then break end
      os.execute("sleep 0.02")
    end
    assert(io.open(ready), "the holder took the lock: " .. sh.slurp(dir .. "/holder.log"))
    return function() os.remove(release) end
  end

  for _, b in ipairs(sh.backends()) do
    it("on " .. b.name .. ": the \"waiting for the migration lock\" line goes to stderr, stdout stays clean; " ..
      "a wait that times out exits 6", function()
      local p = sh.project_on(b, sh.chain(1))
      p:write("luamig.lua", "return { lock_timeout = 1.5 }\n")
      local url = p.url or ("sqlite:///" .. p.dir .. "/luamig.db")
      if not p.url then sh.write(p.dir .. "/luamig.db", "") end
      finally(hold(url))
      for _, json in ipairs({ "", " --json" }) do
        local code, out, stderr = p:luamig("upgrade" .. json)
        assert.are.equal(6, code, out .. stderr) -- its own exit code: nothing ran, no migration failed
        assert.matches("waiting for the migration lock held by ", stderr)
        if json == "" then
          assert.are.equal("", out)
        else -- stdout is the one JSON document (whose error names the lock)
          assert.are.equal("lock", require("cjson").decode(out).error.kind)
        end
      end
    end)
  end
end)
