-- Messages that say what to type next (issue 13, item 23): several heads
-- suggest merge, a mistyped id the closest one, a walk past base how far it
-- can go; long file names stay whole in stored errors; merge of one head,
-- seed without seed files, drill NAME resolved in drills/.
local sh = require "spec.support.sh"

local m = sh.migration

local function fail(p, args, code)
  local c, out, err = p:luamig(args)
  assert.are.equal(code or 2, c, out .. err)
  return err
end

describe("suggestions", function()
  it("upgrade with two heads suggests merge", function()
    local p = sh.project({
      ["1_r.lua"] = m("root00000001", nil, ""),
      ["2_x.lua"] = m("xone00000002", "root00000001", ""),
      ["3_y.lua"] = m("yone00000003", "root00000001", ""),
    })
    assert.matches("`luamig merge -m MSG heads`", fail(p, "upgrade"), 1, true)
    assert.matches("`luamig merge -m MSG heads`", fail(p, "upgrade head"), 1, true)
  end)

  it("a mistyped revision suggests the closest one", function()
    local p = sh.project({
      ["1.lua"] = m("0001aaaa0001", nil, ""),
      ["2.lua"] = m("0002aaaa0002", "0001aaaa0001", ""),
      ["3.lua"] = m("0003aaaa0003", "0002aaaa0002", ""),
    })
    local err = fail(p, "upgrade 0003aaaa0004")
    assert.matches("unknown revision 0003aaaa0004 (did you mean 0003aaaa0003?)", err, 1, true)
    err = fail(p, "show 0003aaab")
    assert.matches("unknown revision 0003aaab (did you mean 0003aaaa0003?)", err, 1, true)
    err = fail(p, "upgrade zzzz")
    assert.is_nil(err:find("did you mean", 1, true))
  end)

  it("downgrade past base says how many steps there are and suggests base", function()
    local p = sh.project(sh.chain(3))
    p:ok("upgrade head")
    local err = fail(p, "downgrade -5")
    assert.matches("-5 goes past base: only 3 steps lie below", err, 1, true)
    assert.matches("`luamig downgrade base`", err, 1, true)
    err = fail(p, "upgrade a00000000001+7")
    assert.matches("only 2 steps lie above", err, 1, true)
    p:ok("downgrade base")
    assert.matches("already at base", fail(p, "downgrade -1"), 1, true)
  end)

  it("a long migration file name is not cut in the stored error", function()
    local name = "0002_" .. ("a_very_long_migration_file_name_"):rep(3) .. ".lua"
    local p = sh.project({
      ["0001_a.lua"] = m("aaaa00000001", nil, ""),
      [name] = m("bbbb00000002", "aaaa00000001", "local x = nil\nx.y = 1"),
    })
    local err = fail(p, "upgrade head", 1)
    assert.is_nil(err:find("...", 1, true), err)
    assert.matches("failed: migrations/" .. name .. ":7: attempt to index a nil value", err, 1, true)
    local st = p:json("status")
    assert.are.equal("migrations/" .. name .. ":7: attempt to index a nil value (local 'x')", st.failed.error)
    -- an error object from luamig (errors.raise) names the full path too
    p:write("migrations/" .. name, m("bbbb00000002", "aaaa00000001", "op.add_column('nope', { 'x' })"))
    err = fail(p, "upgrade head", 1)
    assert.is_nil(err:find("...", 1, true), err)
    assert.matches("migrations/" .. name .. ":6:", err, 1, true)
  end)

  it("merge of a single head refuses", function()
    local p = sh.project({ ["1_a.lua"] = m("aaaa00000001", nil, "") })
    local err = fail(p, "merge -m join heads")
    assert.matches("merge needs two or more revisions; heads names only aaaa00000001", err, 1, true)
    fail(p, "merge -m join aaaa00000001")
    local code, out = sh.run("ls " .. sh.quote(p.dir .. "/migrations"))
    assert.are.same({ 0, "1_a.lua\n" }, { code, out })
  end)

  it("seed with no seed files says so", function()
    local p = sh.project({ ["1_a.lua"] = m("aaaa00000001", nil, "") })
    assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/seeds")))
    p:ok("upgrade head")
    local out, err = p:ok("seed")
    assert.matches("no seed files in seeds", out .. err, 1, true)
  end)

  it("drill NAME resolves drills/NAME.lua, a name without its number, or a unique prefix", function()
    local p = sh.project({ ["1_a.lua"] = m("aaaa00000001", nil, "db:exec 'CREATE TABLE t (x INTEGER)'",
      "db:exec 'DROP TABLE t'") })
    assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/drills")))
    p:write("drills/01_release.lua", "drill.step('up', function() drill.upgrade('head') end)\n")
    p:write("drills/02_rollback.lua", "drill.step('down', function() drill.downgrade('base') end)\n")
    p:write("drills/03_roll.lua", "drill.step('noop', function() end)\n")
    for _, name in ipairs({ "drills/01_release.lua", "01_release", "01_release.lua", "release", "rel", "01_r" }) do
      local doc = p:json("drill " .. name)
      assert.are.equal("drills/01_release.lua", doc.script, name)
      assert.is_true(doc.ok, name)
    end
    assert.are.equal("drills/03_roll.lua", (p:json("drill roll")).script)
    local err = fail(p, "drill rol")
    assert.matches("drill rol is ambiguous: drills/02_rollback.lua, drills/03_roll.lua", err, 1, true)
    err = fail(p, "drill nope")
    assert.matches("no drill named nope in drills (01_release, 02_rollback, 03_roll)", err, 1, true)
  end)
end)
