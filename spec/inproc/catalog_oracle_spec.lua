-- The PostgreSQL catalog oracle: for each change of the corpus
-- (spec/support/catalog_corpus_pg.lua) to the base schema
-- (spec/fixtures/catalog_base_pg.sql), luamig's diff is empty exactly when
-- the normalized `pg_dump --schema-only` output is unchanged, and names the
-- change in words when it is not.
local sh = require "spec.support.sh"
local oracle = require "spec.support.oracle"
local corpus = require "spec.support.catalog_corpus_pg"

local server = os.getenv("LUAMIG_TEST_PG")

-- The client binaries themselves (Debian's pg_wrapper is a Perl script
-- that would start with every one of the ~300 calls).
local function client(name)
  local f = io.popen("ls /usr/lib/postgresql/*/bin/" .. name .. " 2>/dev/null | sort -V | tail -1")
  local path = f:read("l")
  f:close()
  return path and path ~= "" and path or name
end
local PG_DUMP, PSQL = client "pg_dump", client "psql"

-- pg_dump's schema, without comments, blank lines, the SET preamble and \restrict keys.
local function dump(url)
  local code, out, err = sh.run(("%s --schema-only --no-owner --no-privileges %s"):format(PG_DUMP, sh.quote(url)))
  assert(code == 0, err)
  local lines = {}
  for line in out:gmatch("[^\n]+") do
    if not line:match("^%-%-") and not line:match("^SET ") and not line:match("^SELECT pg_catalog.set_config")
      and not line:match("^\\u?n?restrict ") then -- (a random key per dump)
      lines[#lines + 1] = line
    end
  end
  return table.concat(lines, "\n")
end

local function psql(url, sql)
  local code, _, err = sh.run(("%s %s -XqAt -v ON_ERROR_STOP=1 -c %s"):format(PSQL, sh.quote(url), sh.quote(sql)))
  assert(code == 0, err)
end

local function url_of(name) return (server:gsub("/[^/]*$", "/" .. name)) end

local function change_and_snapshot(name, sql) return oracle.change_and_snapshot(url_of(name), sql) end

describe("the PostgreSQL catalog oracle", function()
  if not server then return end
  local template

  setup(function()
    template = sh.fresh_pg(true):match("/([^/]+)$")
    local code, _, err = sh.run(("%s %s -XqAt -v ON_ERROR_STOP=1 -f %s"):format(PSQL, sh.quote(url_of(template)),
      sh.quote(sh.source_dir .. "/spec/fixtures/catalog_base_pg.sql")))
    assert(code == 0, err)
  end)
  teardown(function() psql(server, "DROP DATABASE IF EXISTS " .. template) end)

  it("has a corpus of at least 60 changes, in public and in a second schema", function()
    local public, billing = 0, 0
    for _, c in ipairs(corpus) do
      if c[1]:match("public%.") then public = public + 1 end
      if c[1]:match("billing%.") then billing = billing + 1 end
    end
    assert.is_true(#corpus >= 60, #corpus .. " changes")
    assert.is_true(public >= 10 and billing >= 40, ("public %d, billing %d"):format(public, billing))
  end)

  it("sees a change exactly when pg_dump does, and names it", function()
    local base_snap = change_and_snapshot(template)
    local base_dump = dump(url_of(template))
    local wrong = {}
    for i, c in ipairs(corpus) do
      local name = ("%s_c%d"):format(template, i)
      psql(server, ("CREATE DATABASE %s TEMPLATE %s"):format(name, template))
      local before, before_dump = base_snap, base_dump
      if c.setup then
        before = change_and_snapshot(name, c.setup)
        before_dump = dump(url_of(name))
      end
      local ok, after = pcall(change_and_snapshot, name, c[1])
      local after_dump = ok and dump(url_of(name))
      psql(server, "DROP DATABASE " .. name)
      wrong[#wrong + 1] = not ok and (c[1] .. ": " .. tostring(after))
        or oracle.verdict(c, before, after, before_dump, after_dump)
    end
    assert.are.same({}, wrong)
  end)
end)
