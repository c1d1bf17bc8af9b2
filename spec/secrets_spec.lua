-- Passwords never reach the user's screen: every shape of database URL or
-- libpq string, through a real failing command (text and --json), and
-- through `drill --keep`, which prints the scratch database's connection
-- string (libpq's reading of the target's, with the scratch dbname). The rest
-- of each message stays readable.
local sh = require "spec.support.sh"

local pg = os.getenv("LUAMIG_TEST_PG") or ""
local hostport = pg:match("^postgres[%w]*://[^@/]*@?([^/]+)/") or "127.0.0.1:5432"
local host, port = hostport:match("^(.-):(%d+)$")

-- url, the texts that must not appear (the password and any piece of it a
-- parser could split off), a text that must (the readable rest)
local SHAPES = {
  { "postgresql://u:Zq7/Xw9@127.0.0.1:1/db", { "Zq7", "Xw9" }, "%2F" },
  { "postgresql://u:Zq7@Xw9@127.0.0.1:1/db", { "Zq7", "Xw9" }, "%40" },
  { "postgresql://u:Pq1?Rs2@127.0.0.1:1/db", { "Pq1", "Rs2" }, "%3F" },
  { "postgresql:/u:Secr3tA@127.0.0.1/db", { "Secr3tA" }, "127.0.0.1" },
  { "postgresql:///u:Secr3tB@127.0.0.1/db", { "Secr3tB" }, "127.0.0.1" },
  { "postgresql:u:Secr3tK@127.0.0.1/db", { "Secr3tK" }, "127.0.0.1" },
  { "host=127.0.0.1 port=1 password='a\\'bSecr3t c' dbname=x", { "Secr3t", "a\\'b" }, "127.0.0.1:1" },
  { "host=127.0.0.1 port=1 password=Secr3t\\ L dbname=x", { "Secr3t" }, "127.0.0.1:1" },
  { "postgresql://127.0.0.1:1/db?password=Secr3tC&sslmode=disable", { "Secr3tC" }, "127.0.0.1:1" },
  { "host=127.0.0.1 password=Secr3tD bogus=1", { "Secr3tD" }, 'invalid connection option "bogus"' },
  { "postgresql://u:Secr3tE@127.0.0.1:1/db?bogus=1", { "Secr3tE" }, '"bogus"' },
  { "postgresql://u:Secr3tF@[::1/db", { "Secr3tF" }, "IPv6" },
  { "postgresql://u:Secr%7A3tG@127.0.0.1:1/db", { "Secr%7A3tG", "Secrz3tG" }, "127.0.0.1:1" },
  { "postgresql://u:Secr%zz3tM@127.0.0.1:1/db", { "Secr%zz3tM" }, "percent" },
  { "mysql://u:Secr3tH@h/db", { "Secr3tH" }, 'scheme "mysql"' },
  { "u:Secr3tI@127.0.0.1:1/db", { "Secr3tI" }, "127.0.0.1" },
  { "postgresql://u:Secr3tJ@127.0.0.1:1/db", { "Secr3tJ" }, 'at 127.0.0.1:1, database "db"' },
  { "host=127.0.0.1 port=1 sslpassword=Secr3tN dbname=x", { "Secr3tN" }, "127.0.0.1:1" },
}

local function plain(s) return (s:gsub("%p", "%%%0")) end

describe("secrets", function()
  for i, case in ipairs(SHAPES) do
    local url, hidden, shown = case[1], case[2], case[3]
    it(("a failing command on URL shape #%d shows no password"):format(i), function()
      local p = sh.project()
      p.url = url
      local code, out, err = p:luamig("current")
      assert.are_not.equal(0, code)
      local doc, jcode, jerr = p:json("current")
      assert.are.equal(code, jcode)
      local all = out .. err .. jerr .. doc.error.message
      for _, secret in ipairs(hidden) do
        assert.is_nil(all:find(secret, 1, true), ("%q shown for %s:\n%s"):format(secret, url, all))
      end
      assert.matches(plain(shown), err)
      assert.matches(plain(shown), doc.error.message)
    end)
  end

  it("the password is hidden in the error of a non-connecting command too (drill)", function()
    local p = sh.project({ ["1.lua"] = sh.migration("aaaa00000001", nil, "", "") })
    p.url = "postgresql://u:Zq7/Xw9@127.0.0.1:1/db"
    local code, out, err = p:luamig("drill --keep")
    assert.are.equal(2, code)
    assert.is_nil((out .. err):find("Zq7", 1, true), err)
  end)

  describe("drill --keep on PostgreSQL", function()
    local function drill_keep(url)
      local p = sh.project({ ["1.lua"] = sh.migration("aaaa00000001", nil, "db:exec 'CREATE TABLE t (x int)'",
        "db:exec 'DROP TABLE t'") })
      p.url = url
      local out = p:ok("drill --keep")
      local doc = p:json("drill --keep")
      for name in (out .. doc.scratch):gmatch("luamig_drill_[%w_]+") do
        sh.run(("psql %s -qc %s"):format(sh.quote(pg), sh.quote("DROP DATABASE IF EXISTS " .. name)))
      end
      return out, doc.scratch
    end

    it("a URL's percent-encoded password is hidden, the rest shown", function()
      local out, scratch = drill_keep(("postgresql://postgres:Zq7%%2FXw9@%s/postgres"):format(hostport))
      for _, text in ipairs({ out, scratch }) do
        assert.is_nil(text:find("Zq7", 1, true), text)
        assert.matches(("user=postgres password=*** host=%s port=%s dbname=luamig_drill_"):format(host, port), text, 1,
          true)
      end
    end)

    it("a key/value password with an escaped quote is hidden whole", function()
      local out, scratch = drill_keep(("host=%s port=%s user=postgres password='a\\'bSecr3t c' dbname=postgres"):format(
        host, port))
      for _, text in ipairs({ out, scratch }) do
        assert.is_nil(text:find("Secr3t", 1, true), text)
        assert.is_nil(text:find(" c'", 1, true), text)
        assert.matches(("user=postgres password=*** host=%s port=%s dbname=luamig_drill_"):format(host, port), text, 1,
          true)
      end
    end)
  end)
end)
