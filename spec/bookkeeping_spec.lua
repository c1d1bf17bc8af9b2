-- luamig's own statements survive the session a migration leaves behind
-- (PostgreSQL): the version tables are schema-qualified with the schema
-- resolved at connect time, and session settings a migration changes
-- (search_path, role, timeouts) are put back before the next one runs.
local sh = require "spec.support.sh"

local m = sh.migration
local pg = sh.backends()[2]

-- What pg_dump output starts with: an empty search_path, names qualified.
local DUMP_PREAMBLE = [[
  db:exec "SET statement_timeout = 0"
  db:exec "SET lock_timeout = '7s'"
  db:exec "SET check_function_bodies = false"
  db:exec "SELECT pg_catalog.set_config('search_path', '', false)"
  db:exec "CREATE TABLE public.accounts (id integer PRIMARY KEY)"]]

-- A migration that fails unless the session is as luamig set it up.
local CHECK_SESSION = [[
  local s = db:first "SELECT current_setting('search_path') AS path, current_setting('lock_timeout') AS lt"
  assert(s.path == '"$user", public', "search_path leaked: " .. s.path)
  assert(s.lt == "0", "lock_timeout leaked: " .. s.lt)
  db:exec "CREATE TABLE notes (id integer)"]]

describe("bookkeeping on PostgreSQL", function()
  if not pg then return end

  for _, transactional in ipairs({ true, false }) do
    it(("survives a pg_dump-style migration that empties search_path (%s)"):format(transactional and
      "in a transaction" or "outside a transaction"), function()
      local p = sh.project_on(pg, {
        ["1.lua"] = m("dump00000001", nil, DUMP_PREAMBLE, "db:exec 'DROP TABLE public.accounts'",
          not transactional and "transactional = false" or nil),
        ["2.lua"] = m("next00000002", "dump00000001", CHECK_SESSION, "db:exec 'DROP TABLE notes'"),
      })
      p:ok("upgrade")
      assert.are.same({ "next00000002" }, p:json("current").heads)
      assert.are.equal("2\n", p:sql("SELECT count(*) FROM public.luamig_version_history WHERE status = 'ok'"))
      p:ok("downgrade base")
      assert.are.equal("luamig_version luamig_version_history\n", p:tables())
    end)
  end

  it("puts back the role and timeouts a migration set, for the next one", function()
    local p = sh.project_on(pg, {
      ["1.lua"] = m("role00000001", nil, [[
        db:exec "SET ROLE pg_monitor"
        db:exec "SET statement_timeout = '3s'"]], "", "transactional = false"),
      ["2.lua"] = m("next00000002", "role00000001", [[
        local s = db:first "SELECT current_user AS u, current_setting('statement_timeout') AS st"
        assert(s.u ~= "pg_monitor", "role leaked")
        assert(s.st == "0", "statement_timeout leaked: " .. s.st)]], ""),
    })
    p:ok("upgrade")
    assert.are.same({ "next00000002" }, p:json("current").heads)
  end)

  it("records a failed step after a migration emptied search_path outside a transaction", function()
    local p = sh.project_on(pg, {
      ["1.lua"] = m("dump00000001", nil, [[
        db:exec "SELECT pg_catalog.set_config('search_path', '', false)"
        error("broken dump")]], nil, "transactional = false"),
    })
    local code, _, err = p:luamig("upgrade")
    assert.are.equal(1, code)
    assert.matches("broken dump", err)
    assert.not_matches("luamig_version", err)
    assert.are.equal("failed\n", p:sql("SELECT status FROM public.luamig_version_history"))
  end)
end)
