-- User-provided text (messages, paths, labels, stored errors) reaches the
-- terminal with its control characters shown, and --json documents are
-- valid UTF-8 whatever bytes a migration holds (issue 13, item 16).
local sh = require "spec.support.sh"

local ESC, BAD = "\27[2J\27]0;pwned\7", "\255\254"

local function project()
  return sh.project({
    ["1_a.lua"] = "-- first " .. ESC .. " and " .. BAD .. "\nrevision = 'aaaa00000001'\n" ..
      "branch_labels = { 'lab" .. ESC .. "' }\nfunction upgrade(db) end\nfunction downgrade(db) end\n",
    ["2_b.lua"] = "-- second\nrevision = 'bbbb00000002'\ndown_revision = 'aaaa00000001'\n" ..
      "function upgrade(db) error('boom " .. ESC .. BAD .. "') end\n",
  })
end

-- No raw control character (other than the newline) and valid UTF-8.
local function assert_clean(text, what)
  assert.is_nil(text:find("[\0-\9\11-\31\127]"), what .. " holds a raw control character: " .. text)
  assert.is_truthy(utf8.len(text), what .. " is not valid UTF-8")
end

describe("text shown from migration files", function()
  it("--json documents are valid UTF-8 (invalid bytes become U+FFFD)", function()
    local p = project()
    p:luamig("upgrade head")
    for _, c in ipairs({ "history", "heads", "show aaaa00000001", "status", "current", "branches" }) do
      local _, out = p:luamig(c .. " --json")
      assert_clean(out, c .. " --json")
    end
    local doc = p:json("show aaaa00000001")
    assert.matches("\239\191\189\239\191\189$", doc.message)
    local _, out = p:luamig("upgrade head --json")
    assert_clean(out, "upgrade --json (an error document)")
  end)

  it("text output shows control characters escaped, on stdout and stderr", function()
    local p = project()
    local _, _, err = p:luamig("upgrade head")
    assert_clean(err, "upgrade's stderr")
    assert.matches("boom \\x1b[2J", err, 1, true)
    for _, c in ipairs({ "history", "heads --verbose", "show aaaa00000001", "status", "current", "branches" }) do
      local _, out, e = p:luamig(c)
      assert_clean(out, c)
      assert_clean(e, c .. " (stderr)")
    end
    local out = p:ok("show aaaa00000001")
    assert.matches("first \\x1b[2J\\x1b]0;pwned\\x07 and \239\191\189\239\191\189", out, 1, true)
    assert.matches("lab\\x1b[2J", out, 1, true)
    assert.matches("boom \\x1b[2J", p:ok("status"), 1, true)
  end)
end)
