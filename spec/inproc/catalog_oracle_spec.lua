-- The PostgreSQL catalog oracle: for each change of the corpus
-- (spec/support/catalog_corpus_pg.lua) to the base schema
-- (spec/fixtures/catalog_base_pg.sql), luamig's diff is empty exactly when
-- the normalized `pg_dump --schema-only` output is unchanged, and names the
-- change in words when it is not.
local connect = require "luamig.db.connect"
local introspect = require "luamig.schema.introspect"
local sh = require "spec.support.sh"
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

-- Run `sql` on database `name` and snapshot it on the same connection.
local function change_and_snapshot(name, sql)
  local db = connect.open(url_of(name), { version_table = "luamig_version" })
  local ok, s = pcall(function()
    if sql then db:exec(sql) end
    return introspect.snapshot(db)
  end)
  db:close()
  if not ok then error(s, 0) end
  return s
end

describe("the PostgreSQL catalog oracle", function()
  if not server then return end
  local template

  setup(function()
    template = sh.fresh_pg():match("/([^/]+)$")
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
      if not ok then
        wrong[#wrong + 1] = c[1] .. ": " .. tostring(after)
      else
        local lines = introspect.diff(before, after)
        local oracle_same = after_dump == before_dump
        local text = table.concat(lines, "\n")
        if oracle_same ~= (#lines == 0) or oracle_same ~= (c.same == true) then
          wrong[#wrong + 1] = ("%s: pg_dump %s, luamig says: %s"):format(c[1], oracle_same and "unchanged" or "changed",
            #lines == 0 and "nothing" or text)
        elseif c.says and not text:find(c.says) then
          wrong[#wrong + 1] = ("%s: expected a line matching %q, got:\n  %s"):format(c[1], c.says, text)
        end
      end
    end
    assert.are.same({}, wrong)
  end)
end)
