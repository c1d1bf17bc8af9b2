--- The revision graph as a document: Graphviz dot or a Mermaid flowchart.
--- Parents point at their children (base at the top); a depends_on edge is
--- dashed; heads have a bold border; branch labels are shown in the box.
--- Pure: the caller writes the text.
local M = {}

-- The described revisions in load order, with their ids as keys too.
local function boxes(g)
  local out, heads = {}, {}
  for _, h in ipairs(g:heads()) do heads[h] = true end
  for _, id in ipairs(g.load) do
    local sc, node = g.revs[id], g.nodes[id]
    out[#out + 1] = { id = id, message = sc.message or "", labels = sc.branch_labels or {},
      parents = sc.parents, deps = node.deps, head = heads[id] or false }
  end
  return out
end

local function first_line(s, max)
  s = (s:match("^[^\n]*") or ""):gsub("[%c]", " ")
  if #s > max then s = s:sub(1, max - 3) .. "..." end
  return s
end

-- A box's text: id and labels, then the message (when there is one) on a
-- second line, each part escaped by `esc`, joined by `newline`.
local function box_text(b, esc, newline)
  local t = b.id
  if #b.labels > 0 then t = t .. " [" .. table.concat(b.labels, ", ") .. "]" end
  local msg = first_line(b.message, 40)
  return esc(t) .. (msg ~= "" and (newline .. esc(msg)) or "")
end

local function dot_esc(s)
  return (s:gsub('[\\"]', "\\%0"))
end

-- A node id as a dot string: an unquoted id starting with a digit is split
-- by Graphviz ("6b38" is the number 6, then b38).
local function dot_id(id)
  return '"' .. dot_esc(id) .. '"'
end

---Graphviz dot text of `g` (every node id quoted).
---@param g luamig.Graph
---@return string
function M.dot(g)
  local out = { "digraph luamig {", "  rankdir=TB;",
    '  node [shape=box, style=rounded, fontname="Helvetica"];', '  edge [arrowhead=none];' }
  for _, b in ipairs(boxes(g)) do
    out[#out + 1] = ('  %s [label="%s"%s];'):format(dot_id(b.id), box_text(b, dot_esc, "\\n"),
      b.head and ", penwidth=2" or "")
  end
  for _, b in ipairs(boxes(g)) do
    for _, p in ipairs(b.parents) do out[#out + 1] = ("  %s -> %s;"):format(dot_id(p), dot_id(b.id)) end
    for _, d in ipairs(b.deps) do
      out[#out + 1] = ('  %s -> %s [style=dashed, arrowhead=normal, label="depends_on"];'):format(dot_id(d),
        dot_id(b.id))
    end
  end
  out[#out + 1] = "}"
  return table.concat(out, "\n") .. "\n"
end

-- Mermaid reserves some words ("end"): node names get a prefix.
local function mnode(id) return "r_" .. id end

local function mermaid_esc(s)
  return (s:gsub('[<>"#]', { ['"'] = "#quot;", ["<"] = "#lt;", [">"] = "#gt;", ["#"] = "#35;" }))
end

---Mermaid flowchart text of `g`.
---@param g luamig.Graph
---@return string
function M.mermaid(g)
  local out, heads = { "flowchart TD" }, {}
  for _, b in ipairs(boxes(g)) do
    out[#out + 1] = ('  %s("%s")'):format(mnode(b.id), box_text(b, mermaid_esc, "<br/>"))
    if b.head then heads[#heads + 1] = mnode(b.id) end
  end
  for _, b in ipairs(boxes(g)) do
    for _, p in ipairs(b.parents) do out[#out + 1] = ("  %s --- %s"):format(mnode(p), mnode(b.id)) end
    for _, d in ipairs(b.deps) do out[#out + 1] = ("  %s -.->|depends_on| %s"):format(mnode(d), mnode(b.id)) end
  end
  if #heads > 0 then
    out[#out + 1] = "  classDef head stroke-width:3px"
    out[#out + 1] = "  class " .. table.concat(heads, ",") .. " head"
  end
  return table.concat(out, "\n") .. "\n"
end

return M
