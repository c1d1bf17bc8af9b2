-- Expand and contract phases (issue 26): `upgrade` runs expand(db), the
-- contract phases wait for `luamig contract`, the version tables record
-- each revision's phase, and downgrade knows which phase it undoes.
local sh = require "spec.support.sh"

-- A migration with expand/contract (and, optionally, downgrade and
-- uncontract) bodies; each body logs its phase in table `log`.
local function phased(id, down, extra)
  local function body(phase) return ("db:exec(\"INSERT INTO log (what) VALUES ('%s %s')\")"):format(phase, id) end
  return ("-- phased %s\nrevision = %q\ndown_revision = %s\n%s\n" ..
    "function expand(db) %s end\nfunction contract(db) %s end\nfunction downgrade(db) %s end\n"):format(
    id, id, down and ("%q"):format(down) or "nil", extra or "", body("expand"), body("contract"), body("downgrade"))
end

local ROOT = sh.migration("root0001", nil, 'db:exec(db.dialect == "sqlite" and "CREATE TABLE log ' ..
  '(n INTEGER PRIMARY KEY, what TEXT)" or "CREATE TABLE log (n serial PRIMARY KEY, what TEXT)")', 'db:exec "DROP TABLE log"')

local function log_of(p)
  return p:sql("SELECT what FROM log ORDER BY n")
end

for _, backend in ipairs(sh.backends()) do
  describe("phases on " .. backend.name, function()
    it("upgrade runs expand; status, history, current and --json show the pending contract", function()
      local p = sh.project_on(backend, { ["1.lua"] = ROOT, ["2.lua"] = phased("exp00001", "root0001") })
      p:ok("upgrade head")
      assert.are.equal("expand exp00001\n", log_of(p))
      local st = p:json("status")
      assert.are.equal("expanded", st.applied[2].phase)
      assert.is_string(st.applied[2].contract_pending_since)
      assert.matches("expanded, contract pending since " .. st.applied[2].contract_pending_since, p:ok("status"), 1,
        true)
      assert.matches("1 contract pending", p:ok("status"), 1, true)
      assert.are.same({ "exp00001" }, p:json("current").heads)
      assert.are.equal("expanded", p:json("current").revisions[1].phase)
      assert.matches("exp00001 (head, expanded, contract pending)", p:ok("history"), 1, true)
      assert.are.equal("expanded", p:json("history").revisions[1].phase)
      assert.are.equal("root0001|upgrade\nexp00001|expand\n",
        p:sql("SELECT revision, phase FROM luamig_version_history ORDER BY id"))
    end)

    it("several expands wait; one contract finishes them all in graph order", function()
      local p = sh.project_on(backend, { ["1.lua"] = ROOT, ["2.lua"] = phased("exp00001", "root0001"),
        ["3.lua"] = phased("exp00002", "exp00001") })
      p:ok("upgrade exp00001")
      p:ok("upgrade head") -- N+1 expands on top of an uncontracted N
      local out = p:ok("contract")
      assert.matches("contract +exp00001.*contract +exp00002", out)
      assert.are.equal("expand exp00001\nexpand exp00002\ncontract exp00001\ncontract exp00002\n", log_of(p))
      assert.are.same({ "exp00002" }, p:json("current").heads)
      assert.are.equal("complete", p:json("current").revisions[1].phase)
      assert.is_nil(p:json("status").applied[3].contract_pending_since)
      assert.matches("Nothing to contract", p:ok("contract"))
      assert.are.equal("exp00001|contract\nexp00002|contract\n", p:sql("SELECT revision, phase FROM " ..
        "luamig_version_history WHERE id > 3 ORDER BY id"))
    end)

    it("contract TARGET stops at TARGET", function()
      local p = sh.project_on(backend, { ["1.lua"] = ROOT, ["2.lua"] = phased("exp00001", "root0001"),
        ["3.lua"] = phased("exp00002", "exp00001") })
      p:ok("upgrade head")
      p:ok("contract exp00001")
      assert.are.equal("expanded", p:json("status").applied[3].phase)
      assert.are.equal("contracted", p:json("status").applied[2].phase)
    end)

    it("downgrade before contract undoes the expand; after contract it needs uncontract", function()
      local p = sh.project_on(backend, { ["1.lua"] = ROOT, ["2.lua"] = phased("exp00001", "root0001") })
      p:ok("upgrade head")
      p:ok("downgrade -1")
      assert.are.equal("expand exp00001\ndowngrade exp00001\n", log_of(p))
      assert.is_nil(p:json("status").applied[2])
      p:ok("upgrade head --contract")
      assert.are.equal("contracted", p:json("status").applied[2].phase)
      local code, _, err = p:luamig("downgrade base")
      assert.are.equal(2, code)
      assert.matches("2.lua: revision exp00001 was contracted; downgrading past it needs uncontract(db)", err, 1, true)
      assert.matches("nothing ran", err)
      assert.are.same({ "exp00001" }, p:json("current").heads)
      -- with uncontract(db): it runs first, then the downgrade
      p:write("migrations/2.lua", phased("exp00001", "root0001",
        "function uncontract(db) db:exec(\"INSERT INTO log (what) VALUES ('uncontract')\") end"))
      p:ok("downgrade root0001")
      assert.matches("uncontract\ndowngrade exp00001\n$", log_of(p))
      assert.are.equal("exp00001|down|downgrade\n", p:sql("SELECT revision, direction, phase FROM " ..
        "luamig_version_history ORDER BY id DESC LIMIT 1"))
    end)

    it("contract of a revision whose expand is not applied is refused, nothing run", function()
      local p = sh.project_on(backend, { ["1.lua"] = ROOT, ["2.lua"] = phased("exp00001", "root0001") })
      p:ok("upgrade root0001")
      local code, _, err = p:luamig("contract exp00001")
      assert.are.equal(2, code)
      assert.matches("2.lua: revision exp00001 has no pending contract", err, 1, true)
      assert.are.equal("", log_of(p))
    end)

    it("a failed phase is named in the message: expand X failed, contract X failed", function()
      local p = sh.project_on(backend, { ["1.lua"] = ROOT, ["2.lua"] = phased("exp00001", "root0001"):gsub(
        "function expand%(db%)", 'function expand(db) db:exec "SELECT * FROM no_such_table"') })
      local code, _, err = p:luamig("upgrade head")
      assert.are.equal(1, code)
      assert.matches("expand exp00001 (", err, 1, true)
      assert.is_nil(err:find("upgrade exp00001", 1, true))
      p:write("migrations/2.lua", (phased("exp00001", "root0001"):gsub("function contract%(db%)",
        'function contract(db) db:exec "SELECT * FROM no_such_table"')))
      p:ok("upgrade head")
      code, _, err = p:luamig("contract")
      assert.are.equal(1, code)
      assert.matches("contract exp00001 (", err, 1, true)
    end)

    it("upgrade --sql prints the expand phases, then the contract phases, labelled", function()
      local p = sh.project_on(backend, { ["1.lua"] = ROOT, ["2.lua"] = phased("exp00001", "root0001") })
      local out = p:ok("upgrade --sql head")
      local up, exp, con = out:find("-- up root0001", 1, true), out:find("-- expand exp00001", 1, true),
        out:find("-- contract exp00001", 1, true)
      assert.truthy(up and exp and con and up < exp and exp < con, out)
      assert.matches("run these once the old application is gone", out:sub(exp, con), 1, true)
      assert.matches("'contract'%);", out:sub(con))
    end)

    it("an older version table gains the phase column (luamig's bookkeeping migration)", function()
      local p = sh.project_on(backend, { ["1.lua"] = ROOT, ["2.lua"] = phased("exp00001", "root0001") })
      local id = backend.name == "sqlite" and "INTEGER PRIMARY KEY AUTOINCREMENT" or "BIGSERIAL PRIMARY KEY"
      p:sql("CREATE TABLE luamig_version (version_num TEXT NOT NULL PRIMARY KEY); " ..
        "CREATE TABLE luamig_version_history (id " .. id .. ", revision TEXT NOT NULL, direction TEXT NOT NULL, " ..
        "status TEXT NOT NULL, checksum TEXT, applied_at TEXT NOT NULL, ms DOUBLE PRECISION, transactional BOOLEAN, " ..
        "error TEXT)")
      p:ok("upgrade head")
      assert.are.equal("root0001|upgrade\nexp00001|expand\n",
        p:sql("SELECT revision, phase FROM luamig_version_history ORDER BY id"))
    end)
  end)
end

describe("phases: bad input is refused naming file:line, nothing run", function()
  it("expand and upgrade in one file", function()
    local p = sh.project({ ["1.lua"] = 'revision = "bad00001"\nfunction upgrade(db) end\n\nfunction expand(db) end\n' })
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(2, code)
    assert.matches("1.lua:4: define expand(db) or upgrade(db), not both", err, 1, true)
  end)

  it("contract without expand", function()
    local p = sh.project({ ["1.lua"] = 'revision = "bad00001"\nfunction upgrade(db) end\nfunction contract(db) end\n' })
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(2, code)
    assert.matches("1.lua:3: contract(db) without expand(db)", err, 1, true)
  end)

  it("an online op in upgrade(db)", function()
    local p = sh.project({ ["1.lua"] = 'revision = "bad00001"\nfunction upgrade(db)\n  db:exec "CREATE TABLE t (a)"\n' ..
      '  op.online.rename_column("t", "a", "b")\nend\n' })
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(1, code)
    assert.matches("1.lua:4: op.online.rename_column runs in expand(db) and contract(db), not in upgrade(db)", err, 1,
      true)
    assert.are.equal("", p:sql("SELECT name FROM sqlite_master WHERE name = 't'"))
  end)
end)

describe("contract across a fleet", function()
  it("contract --all runs each target's pending contracts; the still-written refusal fails that target alone", function()
    local p = sh.project({ ["1.lua"] = sh.migration("tab00001", nil,
      'db:exec "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)"\ndb:exec "INSERT INTO t (a) VALUES (\'x\')"'),
      ["2.lua"] = 'revision = "ren00002"\ndown_revision = "tab00001"\ntransactional = false\nfunction expand(db)\n' ..
        '  op.online.rename_column("t", "a", "b")\nend\n' })
    p:write("luamig.lua", 'local t = {}\nfor i = 1, 3 do t[i] = { name = "t" .. i, url = "sqlite:///t" .. i .. ".db" } end\n' ..
      "return { targets = t }\n")
    local function columns(name)
      local _, out = sh.run(("sqlite3 %s %s"):format(sh.quote(p.dir .. "/" .. name .. ".db"),
        sh.quote("SELECT group_concat(name, ' ') FROM pragma_table_info('t')")))
      return out
    end
    p:ok("upgrade --all")
    assert.are.equal(0, (sh.run(("sqlite3 %s %s"):format(sh.quote(p.dir .. "/t2.db"),
      sh.quote("UPDATE t SET a = 'y'"))))) -- t2's old application still writes through the old name
    local doc, code = p:json("contract --all --continue-on-error")
    assert.are.equal(1, code)
    assert.are.same({ "ok", "failed", "ok" }, { doc.targets[1].status, doc.targets[2].status, doc.targets[3].status })
    assert.matches("2.lua:5: contract would drop t.a, which is still written", doc.targets[2].error, 1, true)
    assert.matches("nothing ran", doc.targets[2].error, 1, true)
    assert.are.equal("id b\n", columns("t1"))
    assert.are.equal("id a b\n", columns("t2"))
    p:ok("contract --target t2 --force")
    assert.are.equal("id b\n", columns("t2"))
    doc = p:json("contract --all")
    assert.are.same({ 0, 0, 0 }, { doc.targets[1].steps, doc.targets[2].steps, doc.targets[3].steps })
  end)
end)
