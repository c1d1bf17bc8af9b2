-- Every built-in command's --help, driven by the command registry itself, so
-- a new command is covered the day it is registered.
local sh = require "spec.support.sh"
local registry = require "luamig.cli.registry"

describe("luamig --help", function()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir " .. sh.quote(dir)))
  teardown(function() os.execute("rm -rf " .. sh.quote(dir)) end)

  local function run(args)
    return sh.run(("cd %s && env -u LUAMIG_LUA_DIR %s %s"):format(sh.quote(dir), sh.quote(sh.bin), args)) -- the embedded runner
  end

  it("lists every registered command with its summary", function()
    local code, out, err = run("--help")
    assert.are.equal(0, code, err)
    assert.is_true(#registry.BUILTIN >= 19)
    for _, entry in ipairs(registry.BUILTIN) do
      assert.matches("\n%s+" .. entry[1] .. "%s+", out, 1, false, entry[1])
      assert.matches(entry[2], out, 1, true)
    end
  end)

  for _, entry in ipairs(registry.BUILTIN) do
    local name = entry[1]
    it(name .. " --help: usage, summary, the global options, exit 0, nothing on stderr", function()
      local code, out, err = run(name .. " --help")
      assert.are.equal(0, code, err)
      assert.are.equal("", err)
      assert.matches("^Usage: luamig " .. name:gsub("%p", "%%%0") .. "[ \n]", out)
      assert.matches(entry[2], out, 1, true)
      assert.matches("%-%-json", out)
      assert.matches("%-%-url URL", out)
    end)
  end
end)
