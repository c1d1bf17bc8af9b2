-- luamig.project.config: the luamig.lua file; URL resolution (luamig.run.session).
local lfs = require "lfs"
local config = require "luamig.project.config"
local support = require "spec.support.raised"
local fixtures = require "spec.support.fixtures"
local tmpdir, write = fixtures.tmpdir, fixtures.write

-- The config read from a luamig.lua holding `text`, and its path.
local function load_text(text)
  local path = tmpdir() .. "/luamig.lua"
  write(path, text)
  return config.load(path), path
end

-- The text of the "config" error loading `text` raises (its where, then its
-- message), and the file's path.
local function bad(text)
  local path = tmpdir() .. "/luamig.lua"
  write(path, text)
  local e = support.raised(function() config.load(path) end)
  assert.are.equal("config", e.kind)
  return tostring(e), path
end

describe("config.load", function()
  it("without a file gives the defaults", function()
    local here, dir = lfs.currentdir(), tmpdir()
    assert(lfs.chdir(dir))
    local ok, cfg = pcall(config.load)
    assert(lfs.chdir(here))
    assert.is_true(ok, tostring(cfg))
    assert.are.same({ dir = ".", migrations = "migrations", version_table = "luamig_version",
      transaction = "per-migration", foreign_keys = true, seeds = "seeds", drills = "drills" }, cfg)
  end)

  it("reads ./luamig.lua when there is one", function()
    local here, dir = lfs.currentdir(), tmpdir()
    write(dir .. "/luamig.lua", 'return { url = "sqlite:///app.db" }')
    assert(lfs.chdir(dir))
    local ok, cfg = pcall(config.load)
    assert(lfs.chdir(here))
    assert.is_true(ok, tostring(cfg))
    assert.are.equal("luamig.lua", cfg.file)
    assert.are.equal("sqlite:///app.db", cfg.url)
  end)

  it("reads every setting; paths are relative to the file's directory, absolute ones stay", function()
    local cfg, path = load_text [[
      return { url = "postgresql://h/db", migrations = "db/migrations", version_table = "my_version",
        transaction = "all", lock_timeout = 1.5, foreign_keys = false, plugins = { "." },
        seeds = "/abs/seeds", drills = "d", schema = "app" }
    ]]
    local dir = path:match "^(.*)/luamig.lua$"
    assert.are.same({ file = path, dir = dir, url = "postgresql://h/db", migrations = dir .. "/db/migrations",
      version_table = "my_version", transaction = "all", lock_timeout = 1.5, foreign_keys = false,
      plugins = { "." }, seeds = "/abs/seeds", drills = dir .. "/d", schema = "app" }, cfg)
  end)

  it("runs the file in its own environment with the standard library", function()
    local cfg = load_text 'x = 1; return { url = ("sqlite:///%s.db"):format(string.rep("a", 2)) }'
    assert.are.equal("sqlite:///aa.db", cfg.url)
    assert.is_nil(rawget(_G, "x"))
  end)

  it("a missing -c file is a config error naming it", function()
    local e = support.raised(function() config.load "/nonexistent/luamig.lua" end)
    assert.are.equal("config", e.kind)
    assert.are.equal("config file /nonexistent/luamig.lua not found", e.message)
  end)

  it("a syntax or run-time error names the file and line", function()
    local msg, path = bad "return {\n  url = 'x',,\n}\n"
    assert.matches(path .. ":2:", msg, 1, true)
    msg, path = bad "local x = nil\n\nreturn { url = x.y }\n"
    assert.matches(path .. ":3:", msg, 1, true)
  end)

  it("the file must return a table", function()
    local msg, path = bad "return 'sqlite:///x.db'"
    assert.are.equal(path .. " must return a table of settings (got string)", msg)
    msg, path = bad "url = 'x'"
    assert.are.equal(path .. " must return a table of settings (got nil)", msg)
  end)

  it("an unknown setting is named, with a suggestion when one is close", function()
    local msg, path = bad "return { migrations_dir = 'm' }"
    assert.are.equal(path .. ": unknown setting 'migrations_dir'; did you mean 'migrations'?", msg)
    msg, path = bad "return { colour = 'red' }"
    assert.are.equal(path .. ": unknown setting 'colour'", msg)
  end)

  it("a bad value names the setting and what it must be", function()
    for text, want in pairs {
      ["return { url = 42 }"] = "setting 'url' must be a string",
      ["return { migrations = true }"] = "setting 'migrations' must be a string",
      ["return { version_table = 'my-table' }"] = "setting 'version_table' must be a plain SQL name (letters, digits, _)",
      ["return { transaction = 'each' }"] = [[setting 'transaction' must be "per-migration" or "all"]],
      ["return { lock_timeout = -1 }"] = "setting 'lock_timeout' must be a number of seconds from 0 to 86400",
      ["return { lock_timeout = '5' }"] = "setting 'lock_timeout' must be a number of seconds from 0 to 86400",
      ["return { foreign_keys = 'no' }"] = "setting 'foreign_keys' must be a boolean",
      ["return { plugins = 3 }"] = "setting 'plugins' must be a directory or a list of paths",
      ["return { seeds = {} }"] = "setting 'seeds' must be a string",
      ["return { drills = 1 }"] = "setting 'drills' must be a string",
      ["return { schema = false }"] = "setting 'schema' must be a string",
    } do
      local msg, path = bad(text)
      assert.are.equal(1, msg:find(path .. ": " .. want, 1, true), msg)
    end
  end)
end)

describe("session.resolve_url (luamig.run.session)", function()
  local session = require "luamig.run.session"
  it("--url wins over everything", function()
    assert.are.same({ "sqlite:///flag.db", "--url" },
      { session.resolve_url("sqlite:///flag.db", { url = "sqlite:///cfg.db", file = "luamig.lua" }) })
  end)

  it("then LUAMIG_URL, DATABASE_URL, the config file, the default", function()
    local env_url, env_name = os.getenv "LUAMIG_URL", "LUAMIG_URL"
    if not env_url or env_url == "" then env_url, env_name = os.getenv "DATABASE_URL", "DATABASE_URL" end
    local with_cfg = { url = "sqlite:///cfg.db", file = "conf/luamig.lua" }
    if env_url and env_url ~= "" then
      assert.are.same({ env_url, env_name }, { session.resolve_url(nil, with_cfg) })
    else
      assert.are.same({ "sqlite:///cfg.db", "conf/luamig.lua" }, { session.resolve_url(nil, with_cfg) })
      assert.are.same({ "sqlite:///cfg.db", "conf/luamig.lua" }, { session.resolve_url("", with_cfg) })
      assert.are.same({ session.DEFAULT_URL, "default" }, { session.resolve_url(nil, {}) })
      assert.are.equal("sqlite:///luamig.db", session.DEFAULT_URL)
    end
  end)
end)

describe("config.join", function()
  it("joins relative paths onto the directory; '.' stays implicit; absolute paths win", function()
    assert.are.equal("conf/migrations", config.join("conf", "migrations"))
    assert.are.equal("migrations", config.join(".", "migrations"))
    assert.are.equal("/abs/m", config.join("conf", "/abs/m"))
  end)
end)
