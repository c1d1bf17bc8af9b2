-- luamig.graph is pure Lua: tested in-process under Lua 5.4.
package.path = "lua/?.lua;" .. package.path
local graph = require "luamig.graph"

local function rev(id, parents, extra)
  local s = { id = id, parents = parents or {}, depends_on = {}, branch_labels = {}, path = id .. ".lua", line = 2 }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok)
  return tostring(e), e
end

describe("luamig.graph", function()
  it("runs under Lua 5.4", function()
    assert.are.equal("Lua 5.4", _VERSION)
  end)

  local linear = graph.new({ rev("c3", { "b2" }), rev("a1"), rev("b2", { "a1" }) })

  it("orders a chain parents first and finds its single head", function()
    assert.are.same({ "a1", "b2", "c3" }, linear.order)
    assert.are.same({ "c3" }, linear:heads())
    assert.are.equal("c3", (linear:single_head()))
  end)

  it("plans upgrades and downgrades between any two points", function()
    assert.are.same({ "a1", "b2", "c3" }, linear:upgrade_plan({}, { "c3" }))
    assert.are.same({ "c3" }, linear:upgrade_plan({ "b2" }, { "c3" }))
    assert.are.same({}, linear:upgrade_plan({ "c3" }, { "b2" })) -- already past: no-op
    assert.are.same({ "c3", "b2" }, linear:downgrade_plan({ "c3" }, { "a1" }))
    assert.are.same({ "c3", "b2", "a1" }, linear:downgrade_plan({ "c3" }, {}))
  end)

  it("resolves head, base, ids, prefixes and relative steps", function()
    assert.are.same({ "c3" }, linear:resolve("head", {}))
    assert.are.same({}, linear:resolve("base", { "c3" }))
    assert.are.same({ "b2" }, linear:resolve("b", {}))
    assert.are.same({ "b2" }, linear:resolve("+2", {}))
    assert.are.same({ "c3" }, linear:resolve("+1", { "b2" }))
    assert.are.same({ "a1" }, linear:resolve("-2", { "c3" }))
    assert.are.same({}, linear:resolve("-3", { "c3" }))
    assert.are.same({ "c3" }, linear:resolve("a1+2", {}))
    assert.are.same({ "a1" }, linear:resolve("c3-2", {}))
  end)

  it("refuses steps past head or base, and unknown or ambiguous ids", function()
    assert.matches("%-4 goes past base: only 3 revisions", err_of(linear.resolve, linear, "-4", { "c3" }))
    assert.matches("%+1 goes past head", err_of(linear.resolve, linear, "+1", { "c3" }))
    assert.matches("%-1 goes past base", err_of(linear.resolve, linear, "-1", {}))
    assert.matches("unknown revision zz; `luamig history`", err_of(linear.resolve, linear, "zz", {}))
    local g = graph.new({ rev("ab1"), rev("ab2", { "ab1" }) })
    local text, e = err_of(g.resolve, g, "ab", {})
    assert.matches("ambiguous: it starts ab1, ab2", text)
    assert.are.equal("revision", e.kind)
  end)

  it("reports several heads and says what to type instead", function()
    local g = graph.new({ rev("r0"), rev("x1", { "r0" }), rev("y1", { "r0" }) })
    assert.are.same({ "x1", "y1" }, g:heads())
    assert.matches("several heads %(x1, y1%).*heads", err_of(g.resolve, g, "head", {}))
    assert.are.same({ "x1", "y1" }, g:resolve("heads", {}))
    assert.matches("%+1 is ambiguous: r0 branches into x1, y1", err_of(g.resolve, g, "+1", { "r0" }))
  end)

  it("applies merges after both parents and keeps heads right on the way", function()
    local g = graph.new({ rev("r0"), rev("x1", { "r0" }), rev("y1", { "r0" }), rev("m2", { "x1", "y1" }) })
    assert.are.same({ "r0", "x1", "y1", "m2" }, g:upgrade_plan({}, { "m2" }))
    assert.are.same({ "x1", "y1" }, g:step_heads({ "x1" }, "y1", "up"))
    assert.are.same({ "m2" }, g:step_heads({ "x1", "y1" }, "m2", "up"))
    assert.are.same({ "x1", "y1" }, g:step_heads({ "m2" }, "m2", "down"))
    assert.are.same({ "y1" }, g:step_heads({ "x1", "y1" }, "x1", "down")) -- r0 stays below y1
  end)

  it("rejects a dangling down_revision, a missing dependency and cycles, naming the file", function()
    local text, e = err_of(graph.new, { rev("a1", { "nope" }) })
    assert.matches("^a1.lua:2: down_revision nope does not exist", text)
    assert.are.equal("script", e.kind)
    assert.matches("depends_on zz does not exist", err_of(graph.new, { rev("a1", {}, { depends_on = { "zz" } }) }))
    assert.matches("a1.lua:2: revision a1 is part of a cycle %(a1, b2%)",
      err_of(graph.new, { rev("a1", { "b2" }), rev("b2", { "a1" }), rev("c0") }))
  end)

  it("orders a dependency before its dependent", function()
    local g = graph.new({ rev("b1"), rev("a1", {}, { depends_on = { "b1" } }) })
    assert.are.same({ "b1", "a1" }, g:upgrade_plan({}, { "a1" }))
  end)
end)
