-- A mistyped SQLite path does not quietly create an empty database: the
-- commands that only read say it does not exist and which absolute path was
-- meant. A relative sqlite:/// path in the config file resolves against the
-- config file's directory; one given on the command line or in the
-- environment, against the working directory.
local sh = require "spec.support.sh"

local m = sh.migration

local function project()
  return sh.project({ ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE t (x INTEGER)'",
    "db:exec 'DROP TABLE t'") })
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- `dir`, resolved the way the shell sees it (os.tmpname() may be under a symlink)
local function real(dir)
  local _, out = sh.run("cd " .. sh.quote(dir) .. " && pwd -P")
  return (out:gsub("\n$", ""))
end

describe("sqlite paths", function()
  for _, cmd in ipairs({ "current", "status", "check" }) do
    it(cmd .. " on a missing SQLite file says so, names the absolute path and creates nothing", function()
      local p = project()
      local code, out, err = p:luamig("--url sqlite:///luamgi.db " .. cmd)
      assert.are.equal(1, code, out .. err)
      local want = ("SQLite database %s/luamgi.db does not exist (sqlite:///luamgi.db from --url, relative to " ..
        "the working directory); check the path, or run `luamig upgrade` to create it"):format(real(p.dir))
      assert.matches(want, err, 1, true)
      assert.is_false(exists(p.dir .. "/luamgi.db"), "no file was created")
      local doc, jcode = p:json("--url sqlite:///luamgi.db " .. cmd)
      assert.are.equal(1, jcode)
      assert.are.equal("connect", doc.error.kind)
      assert.matches(want, doc.error.message, 1, true)
      assert.is_false(exists(p.dir .. "/luamgi.db"), "no file was created")
    end)
  end

  it("history, history --graph and show need no database: nothing is applied, nothing is created", function()
    local p = project()
    for _, url in ipairs({ "--url sqlite:///luamgi.db ", "" }) do
      local out = p:ok(url .. "history")
      assert.matches("^  <base> %-> aaaa00000001 %(head%)", out)
      assert.matches("^o  aaaa00000001 %(head%)", p:ok(url .. "history --graph"))
      assert.matches("Applied:   no\n", p:ok(url .. "show aaaa00000001"))
      local doc = p:json(url .. "show aaaa00000001")
      assert.are.same({ "aaaa00000001", false }, { doc.revision, doc.applied })
      doc = p:json(url .. "history -r current:")
      assert.are.same({ {}, 1, false }, { doc.current, #doc.revisions, doc.revisions[1].applied })
    end
    assert.is_false(exists(p.dir .. "/luamgi.db"), "no file was created")
    assert.is_false(exists(p.dir .. "/luamig.db"), "no file was created")
  end)

  it("the default database is not created by a read-only command either; upgrade creates it", function()
    local p = project()
    local code, _, err = p:luamig("current")
    assert.are.equal(1, code)
    assert.matches("/luamig.db does not exist (sqlite:///luamig.db from the default", err, 1, true)
    assert.is_false(exists(p.dir .. "/luamig.db"))
    p:ok("upgrade")
    assert.is_true(exists(p.dir .. "/luamig.db"))
    assert.matches("aaaa00000001", p:ok("current"))
  end)

  it("a URL in the config file is relative to the config file; --url and LUAMIG_URL to the working directory",
    function()
      local p = project()
      assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/proj") .. " && mv " .. sh.quote(p.dir .. "/migrations") ..
        " " .. sh.quote(p.dir .. "/proj/")))
      p:write("proj/luamig.lua", 'return { url = "sqlite:///app.db" }\n')
      p:ok("-c proj/luamig.lua upgrade")
      assert.is_true(exists(p.dir .. "/proj/app.db"), "next to the config file")
      assert.is_false(exists(p.dir .. "/app.db"), "not in the working directory")
      assert.matches("aaaa00000001", p:ok("-c proj/luamig.lua current"))
      local _, _, err = p:luamig("-c proj/luamig.lua status", "LUAMIG_URL=sqlite:///app.db")
      assert.matches(real(p.dir) .. "/app.db does not exist (sqlite:///app.db from LUAMIG_URL, relative to the " ..
        "working directory)", err, 1, true)
      p:ok("-c proj/luamig.lua --url sqlite:///cwd.db upgrade")
      assert.is_true(exists(p.dir .. "/cwd.db"), "--url is relative to the working directory")
      p:write("proj/other.lua", "return {}\n")
      p:ok("-c proj/other.lua upgrade")
      assert.is_true(exists(p.dir .. "/proj/luamig.db"), "the default database is next to the config file too")
    end)

  it("the SQLite driver's create = false opens an existing file and refuses a missing one", function()
    local code, out, err = sh.lua([[
      local sqlite = require "luamig.sqlite"
      local path = os.tmpname()
      local db = sqlite.open(path, { create = false })
      db:close()
      os.remove(path)
      local ok, e = pcall(sqlite.open, path, { create = false })
      local f = io.open(path)
      print(ok, f ~= nil, tostring(e))
    ]])
    assert.are.equal(0, code, err)
    assert.matches("^false\tfalse\t.*unable to open database file", out)
  end)
end)
