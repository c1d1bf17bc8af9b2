-- db:pipeline on both drivers: every statement runs exactly once, in order
-- with the reads around it; a failure names its row, parameters and Lua
-- line and leaves nothing of the migration (or, outside a transaction,
-- nothing of its segment); memory stays flat as the row count grows.
local sh = require "spec.support.sh"

local m = sh.migration

-- people(id, first, last, full_name NOT NULL once filled, n): n rows.
local function people(n)
  return m("aaaa00000001", nil, ([[
db:exec "CREATE TABLE people (id INTEGER PRIMARY KEY, first TEXT NOT NULL, last TEXT, full_name TEXT, n INTEGER NOT NULL)"
db:exec("INSERT INTO people (id, first, last, n) SELECT x, 'f' || x, 'l' || x, 0 FROM (%s) AS s", %d)]]):format(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT x FROM c", n))
end

-- The per-row loop of the README through db:pipeline; `bad` (a Lua
-- expression of row) makes that row's first NULL, which violates NOT NULL.
local function loop(bad, extra)
  return m("bbbb00000002", "aaaa00000001", ([[
local set = db:prepare "UPDATE people SET full_name = ?, n = n + 1 WHERE id = ?"
local changed = db:pipeline(function(p)
  for row in db:rows "SELECT id, first, last FROM people ORDER BY id" do
    p:exec(set, row.first .. " " .. row.last, row.id)
    if %s then p:exec("UPDATE people SET first = ? WHERE id = ?", luamig.null, row.id) end
  end
end)
print("changed " .. changed)]]):format(bad or "false"), nil, extra)
end

local SUMS = "SELECT count(full_name), sum(n), count(CASE WHEN n <> 1 THEN 1 END) FROM people"

for _, b in ipairs(sh.backends()) do
  describe("db:pipeline on " .. b.name, function()
    it("runs every statement exactly once, and reads inside the loop see the writes before them", function()
      local p = sh.project_on(b, { ["1.lua"] = people(5500), ["2.lua"] = loop() })
      local _, err = p:ok("upgrade") -- (a migration's print goes to stderr)
      assert.matches("changed 5500\n", err)
      assert.are.equal("5500|5500|0\n", p:sql(SUMS))
      assert.are.equal("0\n", p:sql("SELECT count(*) FROM people WHERE full_name <> first || ' ' || last"))
    end)

    it("a failure in row k names row k, its parameters and its Lua line, and leaves nothing of the batch", function()
      local p = sh.project_on(b, { ["1.lua"] = people(4000), ["2.lua"] = loop("row.id == 2345") })
      p:ok("upgrade aaaa")
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code, err)
      assert.matches("migrations/2%.lua:10: ", err)
      assert.matches("%(in the pipelined statement UPDATE people SET first = %S+ WHERE id = %S+, parameters "
        .. "%(NULL, 2345%)%)", err)
      assert.are.equal("0|0|4000\n", p:sql(SUMS))
      assert.are.same({ "aaaa00000001" }, (p:json("current")).heads)
    end)

    it("outside a transaction, a failure keeps what was committed before its segment, and nothing after it", function()
      local p = sh.project_on(b, { ["1.lua"] = people(4000),
        ["2.lua"] = loop("row.id == 2345", "transactional = false") })
      p:ok("upgrade aaaa")
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code, err)
      assert.matches("parameters %(NULL, 2345%)", err)
      -- SQLite runs each statement at once; PostgreSQL commits whole segments,
      -- which end at each of db:rows' fetches (every 500 rows) here
      local done = b.name == "sqlite" and "2345" or "2000"
      assert.are.equal(done .. "|" .. done .. "|" .. (4000 - done) .. "\n", p:sql(SUMS))
      assert.are.equal("0\n", p:sql("SELECT count(*) FROM people WHERE id > 2345 AND n > 0"))
    end)

    it("keeps memory flat: peak RSS over 1,000,000 statements within 2 MiB of 100,000", function()
      local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil, [[
local st = db:prepare "SELECT ?"
db:pipeline(function(p) for i = 1, tonumber(os.getenv("N")) do p:exec(st, i) end end)]], "") })
      local peak = {}
      p:ok("heads") -- the script cache: warm for both runs alike (needs no database)
      for _, n in ipairs({ 100000, 1000000 }) do
        local code, out, err = sh.run(("/usr/bin/time -f 'rss %%M' sh -c %s"):format(sh.quote(p:command("upgrade",
          "N=" .. n))))
        assert.are.equal(0, code, out .. err)
        peak[n] = tonumber(err:match("rss (%d+)"))
        p:ok("downgrade base")
      end
      assert.is_true(peak[1000000] - peak[100000] < 2048, ("peak RSS %d kB, then %d kB"):format(peak[100000],
        peak[1000000]))
    end)

    it("a Lua error inside fn is raised as it is; the connection stays usable", function()
      local p = sh.project_on(b, { ["1.lua"] = people(10), ["2.lua"] = m("bbbb00000002", "aaaa00000001", [[
local ok, err = pcall(db.pipeline, db, function(p)
  p:exec("UPDATE people SET n = n + 1 WHERE id = ?", 1)
  error("mine")
end)
assert(not ok and err:match("mine"), tostring(err))
assert(db:scalar("SELECT n FROM people WHERE id = 1") == 1)
local nested = select(2, pcall(db.pipeline, db, function() db:pipeline(function() end) end))
print(nested)
local bad = select(2, pcall(db.pipeline, db, function(p) p:exec({}) end))
print(bad)]]) })
      local _, out = p:ok("upgrade") -- (a migration's print goes to stderr)
      assert.matches("db:pipeline is already running on this connection", out)
      assert.matches("migrations/2%.lua:14: pipeline: exec takes a statement %(db:prepare%) or SQL text, got a table",
        out)
    end)
  end)
end
