-- The terminal picture of the revision graph (history --graph) and its dot
-- and Mermaid documents: pure Lua, tested in-process on built graphs.
package.path = "lua/?.lua;" .. package.path
local graph = require "luamig.revision.graph"
local lanes = require "luamig.revision.lanes"
local picture = require "luamig.revision.picture"

local function rev(id, parents, extra)
  local s = { id = id, parents = parents or {}, depends_on = {}, branch_labels = {}, path = id .. ".lua", line = 2,
    message = "msg " .. id }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

local function drawn(g, applied)
  local out = {}
  for _, row in ipairs(lanes.draw(g, applied or {})) do
    out[#out + 1] = row.graph .. (row.id and ("  " .. row.id) or "")
  end
  return table.concat(out, "\n") .. "\n"
end

describe("history --graph lanes", function()
  it("draws a chain as one lane, applied revisions as *", function()
    local g = graph.new({ rev("a1"), rev("b2", { "a1" }), rev("c3", { "b2" }) })
    assert.are.equal("o  c3\n*  b2\n*  a1\n", drawn(g, { a1 = true, b2 = true }))
  end)

  it("draws a branch point as lanes meeting (/) and a merge as lanes parting (\\)", function()
    local g = graph.new({ rev("a1"), rev("b2", { "a1" }), rev("c3", { "a1" }), rev("m4", { "b2", "c3" }),
      rev("e5", { "m4" }) })
    assert.are.equal(table.concat({
      "o  e5",
      "o  m4",
      "|\\",
      "| o  c3",
      "o |  b2",
      "|/",
      "o  a1",
    }, "\n") .. "\n", drawn(g))
  end)

  it("keeps two heads in two lanes until their branch point", function()
    local g = graph.new({ rev("a1"), rev("b2", { "a1" }), rev("c3", { "a1" }) })
    assert.are.equal("o  c3\n| o  b2\n|/\no  a1\n", drawn(g))
  end)

  it("draws a depends_on edge in a lane of its own, dotted", function()
    local g = graph.new({ rev("a1"), rev("b2", { "a1" }), rev("x1"), rev("y2", { "x1" }, { depends_on = { "b2" } }) })
    local text = drawn(g)
    assert.matches("o  y2\n|\\\n", text, 1, true)
    assert.matches(":", text, 1, true)
    -- every revision is drawn once, children above parents
    local pos = {}
    for _, id in ipairs({ "y2", "x1", "b2", "a1" }) do
      pos[id] = text:find("  " .. id .. "\n", 1, true)
      assert.is_number(pos[id], id)
    end
    assert.is_true(pos.y2 < pos.x1 and pos.y2 < pos.b2 and pos.b2 < pos.a1)
  end)
end)

describe("graph documents", function()
  local g = graph.new({ rev("a1", {}, { branch_labels = { "core" } }), rev("b2", { "a1" }), rev("c3", { "a1" }),
    rev("d4", { "c3" }, { depends_on = { "b2" }, message = 'say "hi" <now>' }) })

  it("dot: one box per revision, parent edges, dashed depends_on, bold heads, labels", function()
    local dot = picture.dot(g)
    assert.matches('"a1" [label="a1 [core]\\nmsg a1"];', dot, 1, true)
    assert.matches('"d4" [label="d4\\nsay \\"hi\\" <now>", penwidth=2];', dot, 1, true)
    assert.matches('"a1" -> "b2";', dot, 1, true)
    assert.matches('"c3" -> "d4";', dot, 1, true)
    assert.matches('"b2" -> "d4" [style=dashed', dot, 1, true)
  end)

  it("mermaid: escaped labels, --- parent edges, -.-> depends_on, heads classed", function()
    local m = picture.mermaid(g)
    assert.matches("^flowchart TD\n", m)
    assert.matches('r_d4("d4<br/>say #quot;hi#quot; #lt;now#gt;")', m, 1, true)
    assert.matches("r_a1 --- r_b2", m, 1, true)
    assert.matches("r_b2 -.->|depends_on| r_d4", m, 1, true)
    assert.matches("class r_b2,r_d4 head", m, 1, true)
  end)
end)
