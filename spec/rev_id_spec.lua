-- `revision --rev-id` and `merge --rev-id` refuse what the loader would
-- refuse (reserved words, characters other than letters, digits and _, an
-- id already used) before writing any file (issue 13, item 17).
local sh = require "spec.support.sh"

local function files(p)
  local code, out = sh.run("ls " .. sh.quote(p.dir .. "/migrations"))
  assert.are.equal(0, code)
  return out
end

describe("revision --rev-id", function()
  for _, word in ipairs({ "head", "base", "heads", "current" }) do
    it("refuses the reserved word " .. word .. " and writes nothing", function()
      local p = sh.project({ ["1_a.lua"] = sh.migration("aaaa00000001", nil, "") })
      local before = files(p)
      local code, _, err = p:luamig("revision -m x --rev-id " .. word)
      assert.are.equal(2, code)
      assert.matches(('revision "%s" is a reserved word'):format(word), err, 1, true)
      assert.are.equal(before, files(p))
      p:ok("heads") -- every command still works
    end)
  end

  it("refuses other characters and an existing id with the loader's words, writing nothing", function()
    local p = sh.project({ ["1_a.lua"] = sh.migration("aaaa00000001", nil, "") })
    local before = files(p)
    local code, _, err = p:luamig("revision -m x --rev-id 'a-b'")
    assert.are.equal(2, code)
    assert.matches("revision must be a string of letters, digits and _ (got a-b)", err, 1, true)
    code, _, err = p:luamig("merge -m x --rev-id aaaa00000001 heads")
    assert.are.equal(2, code)
    assert.matches("revision aaaa00000001 is already used by migrations/1_a.lua", err, 1, true)
    code, _, err = p:luamig("merge -m x --rev-id base heads")
    assert.are.equal(2, code)
    assert.matches('revision "base" is a reserved word', err, 1, true)
    assert.are.equal(before, files(p))
  end)
end)
