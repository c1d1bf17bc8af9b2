-- Start-up cost (issue 28): ordinary command lines parse without building
-- the argparse parser, with exactly argparse's result; `current` loads no
-- plugin, fake-data generator, schema model or dialect part.
local sh = require "spec.support.sh"
local parser = require "luamig.cli.parser"
local registry = require "luamig.cli.registry"

local function words(line)
  local argv = {}
  for w in line:gmatch("%S+") do argv[#argv + 1] = w end
  return argv
end

describe("the command-line parser", function()
  it("parses ordinary command lines itself, exactly as argparse would", function()
    for _, line in ipairs {
      "current", "-q upgrade head", "upgrade --sql -1", "--url x current --json", "--url=x current",
      "history -r a:b --graph", "downgrade -1", "upgrade head --all", "upgrade --jobs 3 --all", "stamp a b", "stamp",
      "show abc", "heads -v", "-q -c cfg.lua status", "check --fail-on-drift", "upgrade head --url u -q --debug",
      "dump", "import alembic", "-c a.lua current -c b.lua",
    } do
      local argv = words(line)
      local ok, want = parser.parse(parser.build(argv, registry.list()), argv)
      assert.is_true(ok, line)
      assert.are.same(want, parser.quick(argv, registry.list()), line)
    end
  end)

  it("leaves help, mistakes and the less usual forms to argparse", function()
    for _, line in ipairs {
      "", "--help", "current --help", "-h", "--version", "current extra", "upgrade -- head", "help upgrade",
      "upgrade --target a b", "revision -m hi", "graph --format dot", "heads -v -v", "upgrade --url", "nosuch",
      "current --url -x", "x current", "upgrade head head",
    } do
      assert.is_nil(parser.quick(words(line), registry.list()), line)
    end
  end)
end)

describe("luamig current", function()
  it("loads no plugin, fake-data generator, argparse, schema model, dialect part, backfill or replica code", function()
    local p = sh.project(sh.chain(3))
    finally(function() os.execute("rm -rf " .. sh.quote(p.dir)) end)
    -- a runner that reports, on exit, the modules the command loaded
    assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/report/luamig")))
    p:write("report/luamig/cli.lua", ([[
      package.path = %q
      local real = dofile(%q)
      return { main = function(argv)
        local code = real.main(argv)
        local names = {}
        for name in pairs(package.loaded) do names[#names + 1] = name end
        table.sort(names)
        io.stderr:write("loaded: ", table.concat(names, " "), "\\n")
        return code
      end }
    ]]):format(sh.source_dir .. "/lua/?.lua;" .. sh.source_dir .. "/lua/?/init.lua",
      sh.source_dir .. "/lua/luamig/cli/init.lua"))
    -- files settled, as between deploys: the script cache serves them (a
    -- file changed within the same second is compiled again, loading ops)
    assert(os.execute("touch -d '-10 seconds' " .. sh.quote(p.dir) .. "/migrations/*.lua"))
    local code, _, err = p:luamig("-q upgrade head")
    assert.are.equal(0, code, err)
    local out
    code, out, err = p:luamig("current", "LUAMIG_LUA_DIR=" .. sh.quote(p.dir .. "/report"))
    assert.are.equal(0, code, err)
    assert.matches("a00000000003", out)
    local loaded = {}
    for name in err:match("loaded: ([^\n]*)"):gmatch("%S+") do loaded[name] = true end
    assert.is_true(loaded["luamig.commands.current"]) -- (the report works)
    for _, m in ipairs { "luamig.project.plugins", "luamig.shipped_plugins.seed", "luamig.tools.fake", "argparse",
      "luamig.model.ddl", "luamig.dialect.sqlite.types", "luamig.dialect.sqlite.alter",
      "luamig.dialect.sqlite.catalog", "luamig.dialect.sqlite.scratch", "luamig.model.schema", "luamig.db.rows",
      "luamig.run.backfill", "luamig.util.progress", "luamig.run.replicas", "luamig.project.plugin_ctx" } do
      assert.is_nil(loaded[m], m)
    end
  end)
end)
