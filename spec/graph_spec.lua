-- luamig.graph and luamig.plan are pure Lua: tested in-process under Lua 5.4.
-- Alembic's behaviour is the reference (spec/alembic_diff_spec.lua compares
-- the two on generated graphs); these are the cases worth reading.
package.path = "lua/?.lua;" .. package.path
local graph = require "luamig.revision.graph"
local plan = require "luamig.revision.plan"

-- rev("b2", { "a1" }, { depends_on = {...}, branch_labels = {...} })
local function rev(id, parents, extra)
  local s = { id = id, parents = parents or {}, depends_on = {}, branch_labels = {}, path = id .. ".lua", line = 2 }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(e), e
end

describe("luamig.graph and luamig.plan", function()
  it("runs under Lua 5.4", function()
    assert.are.equal("Lua 5.4", _VERSION)
  end)

  local linear = graph.new({ rev("aaaa1"), rev("bbbb2", { "aaaa1" }), rev("cccc3", { "bbbb2" }) })

  it("plans a chain up and down between any two points", function()
    assert.are.same({ "cccc3" }, linear:heads())
    assert.are.same({ "aaaa1", "bbbb2", "cccc3" }, plan.upgrade(linear, {}, "head"))
    assert.are.same({ "cccc3" }, plan.upgrade(linear, { "bbbb2" }, "head"))
    assert.are.same({}, plan.upgrade(linear, { "cccc3" }, "bbbb2"), "an ancestor: a silent no-op")
    assert.are.same({ "cccc3", "bbbb2" }, plan.downgrade(linear, { "cccc3" }, "aaaa1"))
    assert.are.same({ "cccc3", "bbbb2", "aaaa1" }, plan.downgrade(linear, { "cccc3" }, "base"))
  end)

  it("resolves partial ids (unique prefixes of ids of four characters or more) and relative steps", function()
    assert.are.same({ "aaaa1", "bbbb2" }, plan.upgrade(linear, {}, "+2"))
    assert.are.same({ "aaaa1", "bbbb2", "cccc3" }, plan.upgrade(linear, {}, "aaaa1+2"))
    assert.are.same({ "cccc3" }, plan.upgrade(linear, { "bbbb2" }, "aaaa1+2"))
    assert.are.same({ "aaaa1", "bbbb2" }, plan.upgrade(linear, {}, "b"))
    assert.are.same({ "cccc3", "bbbb2" }, plan.downgrade(linear, { "cccc3" }, "-2"))
    assert.are.same({ "cccc3", "bbbb2" }, plan.downgrade(linear, { "cccc3" }, "cccc3-2"))
    assert.are.same({ "cccc3", "bbbb2", "aaaa1" }, plan.downgrade(linear, { "cccc3" }, "-3"))
    assert.matches("%-4 goes past base", err_of(plan.downgrade, linear, { "cccc3" }, "-4"))
    assert.matches("%+1 goes past head", err_of(plan.upgrade, linear, { "cccc3" }, "+1"))
    assert.matches("unknown revision zz %(a partial id needs at least four characters%)",
      err_of(plan.upgrade, linear, {}, "zz"))
    local g = graph.new({ rev("ab1x"), rev("ab2x", { "ab1x" }) })
    local text, e = err_of(plan.upgrade, g, {}, "ab")
    assert.matches("ambiguous: it starts ab1x, ab2x", text)
    assert.are.equal("revision", e.kind)
  end)

  local forked = graph.new({ rev("root0"), rev("xone1", { "root0" }, { branch_labels = { "x" } }),
    rev("yone1", { "root0" }, { branch_labels = { "y" } }), rev("xtwo2", { "xone1" }) })

  it("with several heads: head is an error that says what to type; heads and LABEL@head work", function()
    assert.are.same({ "yone1", "xtwo2" }, forked:heads())
    local text = err_of(plan.upgrade, forked, {}, "head")
    assert.matches("head is ambiguous: there are several heads %(yone1, xtwo2%); name one revision, " ..
      "use LABEL@head for one branch, or heads for all of them", text)
    assert.are.same({ "root0", "xone1", "xtwo2" }, plan.upgrade(forked, {}, "x@head"))
    assert.are.same({ "root0", "xone1", "xtwo2", "yone1" }, plan.upgrade(forked, {}, "heads"))
    assert.matches("%+1 is ambiguous: the database has several heads", err_of(plan.upgrade, forked,
      { "xtwo2", "yone1" }, "+1"))
    assert.matches("the walk is ambiguous: root0 branches into xone1, yone1", err_of(plan.upgrade, forked,
      { "root0" }, "+1"))
    assert.are.same({ "yone1" }, plan.upgrade(forked, { "root0" }, "y@+1"))
    assert.matches("revision xtwo2 is not on branch y", err_of(plan.upgrade, forked, {}, "y@xtwo2"))
  end)

  it("downgrading one branch leaves the other's head in place", function()
    local two = graph.new({ rev("xone1", {}, { branch_labels = { "x" } }), rev("yone1", {}, { branch_labels = { "y" } }),
      rev("xtwo2", { "xone1" }) })
    local heads = { "xtwo2", "yone1" }
    local down = plan.downgrade(two, heads, "x@base")
    assert.are.same({ "xtwo2", "xone1" }, down)
    for _, id in ipairs(down) do heads = plan.step_heads(two, heads, id, "down") end
    assert.are.same({ "yone1" }, heads)
    -- with one root below both branches, LABEL@base is that root: Alembic drops both
    assert.are.same({ "yone1", "xtwo2", "xone1", "root0" }, plan.downgrade(forked, { "xtwo2", "yone1" }, "x@base"))
    assert.are.same({ "xtwo2" }, plan.downgrade(forked, { "xtwo2", "yone1" }, "x@xone1"))
    assert.matches("cannot downgrade to yone1: it is not below the current heads",
      err_of(plan.downgrade, forked, { "xtwo2" }, "yone1"))
  end)

  it("a merge collapses the stored heads and an unmerge splits them; -1 from a merge is ambiguous", function()
    local g = graph.new({ rev("root0"), rev("xone1", { "root0" }), rev("yone1", { "root0" }),
      rev("merge2", { "xone1", "yone1" }) })
    assert.are.same({ "root0", "yone1", "xone1", "merge2" }, plan.upgrade(g, {}, "head"))
    assert.are.same({ "xone1", "yone1" }, plan.step_heads(g, { "xone1" }, "yone1", "up"))
    assert.are.same({ "merge2" }, plan.step_heads(g, { "xone1", "yone1" }, "merge2", "up"))
    assert.are.same({ "xone1", "yone1" }, plan.step_heads(g, { "merge2" }, "merge2", "down"))
    assert.are.same({ "yone1" }, plan.step_heads(g, { "xone1", "yone1" }, "xone1", "down"))
    assert.matches("the walk is ambiguous: merge2 merges into xone1, yone1",
      err_of(plan.downgrade, g, { "merge2" }, "-2"))
  end)

  it("depends_on orders a dependency first and is dropped from the heads once implied", function()
    local g = graph.new({ rev("bbbb1"), rev("aaaa1", {}, { depends_on = { "bbbb1" } }) })
    assert.are.same({ "bbbb1", "aaaa1" }, plan.upgrade(g, {}, "aaaa1"))
    assert.are.same({ "aaaa1" }, plan.step_heads(g, { "bbbb1" }, "aaaa1", "up"))
    assert.are.same({ "bbbb1" }, plan.step_heads(g, { "aaaa1" }, "aaaa1", "down"))
  end)

  it("stamps move the heads on the named line only", function()
    assert.are.same({ "xone1", "yone1" }, plan.stamp(forked, { "xtwo2", "yone1" }, { "xone1" }))
    assert.are.same({}, plan.stamp(forked, { "xtwo2", "yone1" }, { "base" }))
    assert.are.same({ "yone1", "xtwo2" }, plan.stamp(forked, {}, { "heads" }))
  end)

  it("history ranges follow Alembic: base:head, -N: from the heads, LABEL@base:LABEL@head", function()
    assert.are.same({ "cccc3", "bbbb2", "aaaa1" }, plan.range(linear, nil, nil))
    assert.are.same({ "cccc3", "bbbb2" }, plan.range(linear, "-1", nil))
    assert.are.same({ "bbbb2", "aaaa1" }, plan.range(linear, "aaaa1", "bbbb2"))
    assert.are.same({ "xtwo2", "xone1", "root0" }, plan.range(forked, "x@base", "x@head"))
    assert.matches("does not run along one line", err_of(plan.range, forked, "yone1", "xtwo2"))
  end)

  it("rejects a dangling down_revision, a missing dependency, a reused label and cycles, naming the file", function()
    local text, e = err_of(graph.new, { rev("a1", { "nope" }) })
    assert.matches("^a1.lua:2: down_revision nope does not exist", text)
    assert.are.equal("script", e.kind)
    assert.matches("depends_on zz does not exist", err_of(graph.new, { rev("a1", {}, { depends_on = { "zz" } }) }))
    assert.matches("branch label x is already used by revision a1", err_of(graph.new, {
      rev("a1", {}, { branch_labels = { "x" } }), rev("b1", {}, { branch_labels = { "x" } }) }))
    assert.matches("a1.lua:2: revision a1 is part of a cycle %(a1, b2%)",
      err_of(graph.new, { rev("a1", { "b2" }), rev("b2", { "a1" }), rev("c0") }))
    assert.matches("must not contain @, %+ or %-", err_of(graph.new, { rev("a-1") }))
  end)

  it("every refusal while building names the file and line in `where`", function()
    local cases = {
      { { rev("a@1") }, "a@1.lua:2", "revision id a@1 must not contain @, + or -" },
      { { rev("a1", { "a1" }) }, "a1.lua:2", "revision a1 names itself as down_revision" },
      { { rev("a1", {}, { depends_on = { "a1" } }) }, "a1.lua:2", "revision a1 depends on itself" },
      { { rev("a1", {}, { branch_labels = { "x" } }), rev("b1", {}, { branch_labels = { "x" } }) }, "b1.lua:2",
        "branch label x is already used by revision a1" },
      { { rev("a1", {}, { depends_on = { "zz" } }) }, "a1.lua:2",
        "depends_on zz does not exist (no revision id or branch label)" },
      { { rev("a1", { "nope" }) }, "a1.lua:2", "down_revision nope does not exist (no migration file declares it)" },
      { { rev("c0"), rev("b2", { "a1" }), rev("a1", { "b2" }) }, "b2.lua:2",
        "revision b2 is part of a cycle (b2, a1); fix down_revision or depends_on" },
    }
    for _, c in ipairs(cases) do
      local text, e = err_of(graph.new, c[1])
      assert.are.equal("script", e.kind, c[3])
      assert.are.equal(c[2], e.where, c[3])
      assert.are.equal(c[3], e.message)
      assert.are.equal(c[2] .. ": " .. c[3], text)
    end
  end)

  it("keeps each node's edges: requires drops a dependency an ancestor already has", function()
    -- c3 depends on d0 directly and through b2, whose parent a1 depends on it too
    local g = graph.new({ rev("d0"), rev("a1", {}, { depends_on = { "d0" } }), rev("b2", { "a1" }),
      rev("c3", { "b2" }, { depends_on = { "d0", "d0" } }), rev("e4", {}, { depends_on = { "lbl" } }),
      rev("f5", { "d0" }, { branch_labels = { "lbl" } }) })
    local n = g.nodes
    assert.are.same({ "d0", "d0" }, n.c3.deps, "as declared")
    assert.are.same({}, n.c3.unimplied_deps, "a1, an ancestor, already depends on d0")
    assert.are.same({ "b2" }, n.c3.requires)
    assert.are.same({ "b2", "d0" }, n.c3.parents_and_deps)
    assert.are.same({ "d0" }, n.a1.unimplied_deps)
    assert.are.same({ "d0" }, n.a1.requires)
    assert.are.same({ "f5" }, n.e4.deps, "a branch label in depends_on names its revision")
    assert.are.same({ "f5" }, n.d0.next, "children along down_revision only")
    assert.are.same({ "a1", "c3", "f5" }, n.d0.next_and_dependents, "children and dependents, in load order")
    assert.are.same({ "c3", "e4", "f5" }, g:heads(), "no child along down_revision")
    assert.are.same({ "c3", "e4" }, g:real_heads(), "e4 depends on f5")
    assert.are.same({ "d0", "f5", "e4" }, g:ordered(g:ancestors({ "e4" })))
  end)

  it("real heads leave out heads another revision depends on", function()
    local g = graph.new({ rev("a1"), rev("b1"), rev("c2", { "a1" }, { depends_on = { "b1" } }) })
    assert.are.same({ "b1", "c2" }, g:heads())
    assert.are.same({ "c2" }, g:real_heads())
    assert.are.same({ "b1", "a1", "c2" }, plan.upgrade(g, {}, "heads"))
  end)

  it("expands LABEL@ and head/heads/base into ids, keeping the label", function()
    local g = graph.new({ rev("root0"), rev("xone1", { "root0" }, { branch_labels = { "x" } }),
      rev("yone1", { "root0" }, { branch_labels = { "y" } }), rev("xtwo2", { "xone1" }) })
    assert.are.same({ { "yone1", "xtwo2" } }, { (g:expand_symbolic("heads")) })
    assert.are.same({ { "xtwo2" }, "x" }, { g:expand_symbolic("x@head") })
    assert.are.same({ { "xtwo2" }, "x" }, { g:expand_symbolic("x@heads") })
    assert.are.same({ {}, "y" }, { g:expand_symbolic("y@base") })
    assert.are.same({ { "xone" } }, { (g:expand_symbolic("xone")) }, "other names pass through unresolved")
    assert.are.same({ { "-1" }, "x" }, { g:expand_symbolic("x@-1") })
    assert.are.same({ "xone1" }, g:ids("x@-1"))
  end)

  it("a long linear history costs little memory per revision (issue 28: heads on 10,000 files)", function()
    local n, list = 2000, {}
    for i = 1, n do list[i] = rev("r" .. i, i > 1 and { "r" .. (i - 1) } or {}) end
    collectgarbage("collect")
    local before = collectgarbage("count")
    local g = graph.new(list)
    collectgarbage("collect")
    local per_rev = (collectgarbage("count") - before) * 1024 / n
    assert.is_true(per_rev < 250, ("%.0f bytes per revision"):format(per_rev))
    assert.are.same({ "r" .. n }, g:heads())
  end)
end)
