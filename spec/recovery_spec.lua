-- Recovery: `stamp` when the stored head's file is gone, `stamp --purge`,
-- `stamp --refresh-checksums` for an edited applied migration, `check
-- --fail-on-drift` and drift in `show` (issue 13, item 20). Both drivers.
local sh = require "spec.support.sh"

local m = sh.migration

local function chain(b)
  return sh.project_on(b, {
    ["1_a.lua"] = m("aaaa00000001", nil, ""),
    ["2_b.lua"] = m("bbbb00000002", "aaaa00000001", ""),
    ["3_c.lua"] = m("cccc00000003", "bbbb00000002", ""),
  })
end

for _, b in ipairs(sh.backends()) do
  describe("recovery on " .. b.name, function()
    it("stamp to a known revision works when the stored head's file was removed", function()
      local p = chain(b)
      p:ok("upgrade head")
      p:remove("migrations/3_c.lua")
      local code, _, err = p:luamig("upgrade head")
      assert.are.equal(2, code)
      assert.matches("which no migration file declares", err, 1, true)
      assert.matches("cccc00000003 is in the version table but no migration file has it; `luamig stamp REV` " ..
        "replaces it", p:ok("status"), 1, true)
      local doc = p:json("stamp bbbb00000002")
      assert.are.same({ "cccc00000003" }, doc.previous)
      assert.are.same({ "bbbb00000002" }, doc.heads)
      assert.are.same({ "cccc00000003" }, doc.dropped)
      assert.are.same({ "bbbb00000002" }, (p:json("current")).heads)
      local out, err2 = p:ok("upgrade head")
      assert.matches("Nothing to do", out .. err2)
    end)

    it("stamp --purge replaces the stored heads unconditionally", function()
      local p = sh.project_on(b, {
        ["1_r.lua"] = m("root00000001", nil, ""),
        ["2_x.lua"] = m("xone00000002", "root00000001", ""),
        ["3_y.lua"] = m("yone00000003", "root00000001", ""),
      })
      p:ok("upgrade heads")
      p:ok("stamp xone00000002")
      assert.are.same({ "xone00000002", "yone00000003" }, (p:json("current")).heads)
      p:ok("stamp --purge xone00000002")
      assert.are.same({ "xone00000002" }, (p:json("current")).heads)
      p:ok("stamp --purge base")
      assert.are.same({}, (p:json("current")).heads)
      local code, _, err = p:luamig("stamp --purge")
      assert.are.equal(2, code)
      assert.matches("stamp needs a TARGET", err, 1, true)
    end)

    it("an edited applied migration: check --fail-on-drift exits 4, show says so, --refresh-checksums accepts it",
      function()
        local p = chain(b)
        p:ok("upgrade head")
        local applied_at = (p:json("show aaaa00000001")).applied_at
        p:write("migrations/1_a.lua", m("aaaa00000001", nil, "-- edited after it was applied"))
        assert.are.equal(1, #(p:json("status")).drifted)
        local out = p:ok("check")
        assert.matches("changed after it was applied", out, 1, true)
        local code, out2 = p:luamig("check --fail-on-drift")
        assert.are.equal(4, code)
        assert.matches("aaaa00000001", out2, 1, true)
        assert.matches("Drift:     migrations/1_a.lua changed after it was applied", p:ok("show aaaa00000001"), 1, true)
        assert.is_truthy((p:json("show aaaa00000001")).drifted)

        local doc = p:json("stamp --refresh-checksums aaaa00000001")
        assert.are.same({ "aaaa00000001" }, doc.refreshed)
        assert.are.same({ "cccc00000003" }, doc.heads)
        assert.are.same({}, (p:json("status")).drifted)
        assert.are.equal(0, (p:luamig("check --fail-on-drift")))
        local shown = p:json("show aaaa00000001")
        assert.is_nil(shown.drifted)
        assert.are.equal(applied_at, shown.applied_at)
        assert.are.same({ "cccc00000003" }, (p:json("current")).heads)
      end)

    it("--refresh-checksums refuses a revision that is not applied, and writes nothing", function()
      local p = chain(b)
      p:ok("upgrade aaaa00000001")
      local code, _, err = p:luamig("stamp --refresh-checksums bbbb00000002")
      assert.are.equal(2, code)
      assert.matches("bbbb00000002 is not applied", err, 1, true)
      assert.are.same({ "aaaa00000001" }, (p:json("current")).heads)
    end)
  end)
end
