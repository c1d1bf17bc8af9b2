-- What one user file does stays out of the others and out of luamig
-- (issue 22, item 17): the collector, package.loaded, stdout, the graph a
-- plugin sees, and the size of an error message.
local sh = require "spec.support.sh"

local m = sh.migration

describe("the sandbox between files", function()
  it("collectgarbage('stop') in one migration does not carry over to the next", function()
    local p = sh.project({
      ["1.lua"] = m("aaaa00000001", nil, "pcall(collectgarbage, 'stop')"),
      ["2.lua"] = m("bbbb00000002", "aaaa00000001", "assert(collectgarbage('isrunning'), 'the collector is stopped')"),
    })
    p:ok("upgrade")
  end)

  it("package.loaded is each file's own", function()
    local p = sh.project({
      ["1.lua"] = m("aaaa00000001", nil, "package.loaded.helpers = { evil = true }"),
      ["2.lua"] = m("bbbb00000002", "aaaa00000001",
        "package.path = 'lib/?.lua'\nassert(not require('helpers').evil, 'another file replaced helpers')"),
    })
    assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/lib")))
    p:write("lib/helpers.lua", "return { ok = true }\n")
    p:ok("upgrade")
  end)

  it("print and io.write go to stderr: --json stays one document", function()
    local p = sh.project({ ["1.lua"] = m("aaaa00000001", nil,
      "print('hello from print', 1)\nio.write('hello from io.write\\n')\nio.stdout:write('hello from io.stdout\\n')") })
    local doc, code, err = p:json("upgrade")
    assert.are.equal(0, code, err)
    assert.are.equal(1, #doc.steps)
    assert.matches("hello from print\t1\n", err)
    assert.matches("hello from io.write\n", err)
    assert.matches("hello from io.stdout\n", err)
  end)

  it("print in a fleet run keeps fleet --json one document", function()
    local p = sh.project({ ["1.lua"] = m("aaaa00000001", nil, "print('hello')") })
    p:write("luamig.lua", "return { targets = { { name = 'a', url = 'sqlite:///a.db' }, " ..
      "{ name = 'b', url = 'sqlite:///b.db' } } }\n")
    local doc, code, err = p:json("upgrade --all --jobs 2")
    assert.are.equal(0, code, err)
    assert.are.same({ 2, 2 }, { doc.total, doc.ok })
  end)

  it("a plugin cannot replace a migration's function through ctx.graph", function()
    local p = sh.project({ ["1.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE a (id int)'") })
    assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/plugins")))
    p:write("plugins/swap.lua", [[
return { name = "swap", hooks = { before_run = function(ctx)
  pcall(function()
    ctx.graph.revs.aaaa00000001.upgrade = function(db) db:exec "CREATE TABLE evil (id int)" end
  end)
  assert(ctx.graph.revs.aaaa00000001.path:match("1%.lua$"))
  assert(#ctx.graph:heads() == 1 and ctx.graph.order[1] == "aaaa00000001")
end } }]])
    p:ok("upgrade")
    assert.are.equal("a luamig_version luamig_version_history\n", p:tables())
  end)

  it("a 50 MB error message is cut in what is shown and stored", function()
    local p = sh.project({ ["1.lua"] = m("aaaa00000001", nil, "error(string.rep('x', 50 * 1024 * 1024))") })
    local code, out, err = p:luamig("upgrade")
    assert.are.equal(1, code)
    assert.is_true(#out + #err < 64 * 1024, "printed " .. (#out + #err) .. " bytes")
    assert.matches("xxx%.%.%. %(%d+ more bytes%)", err)
    local stored = tonumber(p:sql("SELECT max(length(error)) FROM luamig_version_history"))
    assert.is_true(stored < 64 * 1024, "stored " .. stored .. " bytes")
    assert.are.equal("failed", (p:json("status")).failed.status)
  end)
end)
