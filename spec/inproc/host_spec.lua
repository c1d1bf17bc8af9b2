-- The in-process runner itself: specs here run inside the luamig host, on
-- the repository's lua/ (not the embedded copy), with the C modules at hand.
local src = os.getenv("LUAMIG_SOURCE_DIR") or "."

describe("in-process specs", function()
  it("load the runner's modules from LUAMIG_SOURCE_DIR/lua", function()
    local connect = require "luamig.db.connect"
    local file = debug.getinfo(connect.parse, "S").source
    assert.are.equal("@" .. src .. "/lua/luamig/db/connect.lua", file)
    assert.are.equal("@" .. src .. "/lua/luamig/cli/init.lua", debug.getinfo(require("luamig.cli").main, "S").source)
  end)

  it("reach the host's C modules", function()
    local db = require("luamig.sqlite").open(":memory:")
    assert.are.same({ { a = 1, b = "x" } }, db:query("SELECT ? AS a, ? AS b", 1, "x"))
    db:close()
    assert.is_function(require("luamig.pg").connect)
    assert.is_table(require "luamig.host")
    assert.is_not_nil(require "luamig.null")
  end)
end)
