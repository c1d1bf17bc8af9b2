-- The command registry (luamig.cli.registry, lua/luamig/commands/): every
-- built-in command declares the same shape as a plugin command, only the
-- named command's module loads, and a plugin's malformed command spec is a
-- config error naming the plugin file.
local sh = require "spec.support.sh"

-- Run Lua through the host in `dir`; returns stdout, insisting on success.
local function host_lua(dir, src)
  local code, out, err = sh.lua(("assert(require('lfs').chdir(%q))\n"):format(dir) .. src)
  assert(code == 0, ("exit %d\nstdout: %s\nstderr: %s"):format(code, out, err))
  return out
end

local COUNTS = { ["?"] = true, ["*"] = true, ["+"] = true }

describe("the command registry", function()
  it("lists every built-in command once, each module with run and a well-formed declaration", function()
    local p = sh.project()
    local out = host_lua(p.dir, [[
      local registry = require "luamig.cli.registry"
      local cjson = require "cjson"
      local out = {}
      for _, entry in ipairs(registry.list()) do
        local c = registry.load(entry)
        -- mixed tables do not survive JSON: send argument names and counts, option names
        local args, options = {}, {}
        for i, a in ipairs(c.args or {}) do args[i] = { a[1], a[3] or 1 } end
        for i, o in ipairs(c.options or {}) do options[i] = o[1] end
        out[#out + 1] = { name = c.name, help = c.help, example = c.example, args = args, options = options,
          run = type(c.run), render = type(c.render), exit = type(c.exit) }
      end
      io.write(cjson.encode(out))
    ]])
    local list = require("cjson").decode(out)
    local names = {}
    for _, c in ipairs(list) do
      names[#names + 1] = c.name
      assert.are.equal("function", c.run, c.name)
      assert.are.equal("function", c.render, c.name)
      assert.is_true(c.exit == "function" or c.exit == "nil", c.name)
      assert.matches("^%u.*%.$", c.help, nil, c.name)
      -- one or two examples
      local examples = type(c.example) == "table" and c.example or { c.example }
      assert.is_true(#examples == 1 or #examples == 2, c.name)
      for _, e in ipairs(examples) do assert.matches("^luamig ", e, nil, c.name) end
      for _, a in ipairs(c.args) do
        assert.is_string(a[1], c.name)
        assert.is_true(COUNTS[a[2]] or a[2] == 1, c.name .. " " .. a[1])
      end
      for _, o in ipairs(c.options) do assert.matches("^%-", o, nil, c.name) end
    end
    assert.are.same({ "init", "revision", "merge", "upgrade", "downgrade", "contract", "current", "history", "heads",
      "branches", "show", "stamp", "status", "dump", "import", "drill", "lint", "check", "plugins", "graph", "completion",
      "help" }, names)
  end)

  it("shows each command's examples at the end of its --help, and `help CMD` shows the same page", function()
    local p = sh.project()
    for _, c in ipairs({ "init", "revision", "merge", "upgrade", "downgrade", "contract", "current", "history", "heads",
      "branches", "show", "stamp", "status", "drill", "check", "plugins", "graph", "completion", "help" }) do
      local page = p:ok(c .. " --help")
      local tail = page:match("\nExamples?:\n(.*)$")
      assert.is_string(tail, c)
      local n = 0
      for line in tail:gmatch("[^\n]+") do
        n = n + 1
        assert.matches("^   luamig ", line, nil, c)
      end
      assert.is_true(n == 1 or n == 2, c)
      assert.are.equal(page, p:ok("help " .. c))
    end
  end)

  it("loads only the named command's module (start-up time)", function()
    local p = sh.project(sh.chain(3))
    p:ok("-q upgrade head")
    local out = host_lua(p.dir, [[
      local cli = dofile(os.getenv("LUAMIG_SOURCE_DIR") .. "/lua/luamig/cli/init.lua")
      local real = io.stdout
      io.stdout = { write = function() end } -- luacheck: ignore 122
      local code = cli.main({ "current" })
      io.stdout = real -- luacheck: ignore 122
      local loaded = {}
      for name in pairs(package.loaded) do
        if name:match("^luamig%.commands") or name == "luamig.run.runner" then loaded[#loaded + 1] = name end
      end
      table.sort(loaded)
      io.write(code, " ", table.concat(loaded, " "))
    ]])
    assert.are.equal("0 luamig.commands.current", out)
  end)
end)

describe("a plugin command's declaration", function()
  local function project_with(command_spec)
    local p = sh.project()
    assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/plugins")))
    p:write("plugins/bad.lua", ("return { name = 'bad', commands = { hi = %s } }"):format(command_spec))
    return p
  end

  it("takes the built-in commands' shape: repeated options with count", function()
    local p = project_with([[{ help = "Hi.", options = { { "--tag", "A tag.", "T", count = "*" } },
      run = function(_, args) return { tags = args.tag } end }]])
    assert.are.same({ "a", "b" }, (p:json("hi --tag a --tag b")).tags)
  end)

  for _, case in ipairs({
    { "an option that is not a table", [[{ options = { "--loud" }, run = function() end }]],
      "plugin plugins/bad%.lua: command 'hi': options%[1%] must be a table" },
    { "an option without a name", [[{ options = { { help = "x" } }, run = function() end }]],
      "plugin plugins/bad%.lua: command 'hi': options%[1%] needs a name such as \"%-%-name\"" },
    { "an argument with a bad count", [[{ args = { { "x", "X", "many" } }, run = function() end }]],
      "plugin plugins/bad%.lua: command 'hi': args%[1%] count must be" },
    { "a help that is not a string", [[{ help = 3, run = function() end }]],
      "plugin plugins/bad%.lua: command 'hi': help must be a string" },
  }) do
    it("rejects " .. case[1] .. " as a config error naming the file", function()
      local p = project_with(case[2])
      for _, argv in ipairs({ "hi", "plugins" }) do
        local code, _, err = p:luamig(argv)
        assert.are.equal(2, code, argv .. ": " .. err)
        assert.matches(case[3], err)
        assert.not_matches("internal error", err)
      end
      -- the help still works, without the broken plugin's commands
      assert.not_matches("\n   hi ", p:ok("--help"))
    end)
  end
end)
