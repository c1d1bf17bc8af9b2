--- What the objects beyond tables name, and the order that makes: a view
--- names the tables, views and functions its query reads; a function with
--- an SQL-standard body (BEGIN ATOMIC ... END, RETURN expr) the tables,
--- views and functions in it, since PostgreSQL parses such a body when it
--- creates the function (`check_function_bodies = off` does not help); a
--- domain the functions its checks call; a function the domains of its
--- arguments and result. Names are found in the catalog's normalized text
--- (pg_get_viewdef, pg_get_functiondef, pg_get_constraintdef), as whole
--- words (a function by a call: `name(`); a word that is only spelled like
--- a name (a parameter called like a table) counts as naming it.
local declare = require "luamig.schema.declare"
local toposort = require "luamig.util.toposort"

local M = {}

local names = declare.names

---A view's text as compared: its query with spacing collapsed, "materialized " first for one.
---@param v table|string  a snapshot view (or its text)
---@return string
function M.view_text(v)
  local text = tostring(type(v) == "table" and v.definition or v):gsub("%s+", " ")
  return (type(v) == "table" and v.materialized and "materialized " or "") .. text
end

local function word(name) return "%f[%w_]" .. name:gsub("%p", "%%%0") .. "%f[^%w_]" end

---Whether `text` names `name` as a whole word.
---@param text string
---@param name string
---@return boolean
function M.mentions(text, name) return text:find(word(name)) ~= nil end

local function calls(text, name) return text:find(word(name) .. "%s*%(") ~= nil end

---Whether snapshot function `f` has an SQL-standard body: pg_get_functiondef
---writes it as the first unindented line after the header's, where another
---function has its AS clause.
---@param f table
---@return boolean
function M.sql_body(f)
  local first = true
  for line in ((f.definition or "") .. "\n"):gmatch("(.-)\n") do
    if not first and line ~= "" and not line:match("^%s") then
      return line:match("^BEGIN ATOMIC") ~= nil or line:match("^RETURN%f[^%w_]") ~= nil
    end
    first = false
  end
  return false
end

-- Each node's deps: the ids of the other nodes its text names (`named(x, y)`), in id order.
local function link(nodes, named)
  local ids = names(nodes)
  for _, id in ipairs(ids) do
    local x = nodes[id]
    x.deps = {}
    for _, other in ipairs(ids) do
      if other ~= id and named(x, nodes[other]) then x.deps[#x.deps + 1] = other end
    end
  end
  return nodes
end

local function bare(key) return key:match("[^.]+$") end

-- Whether node x's text names node y (a function by a call).
local function names_node(x, y) return y.fn and calls(x.text, y.name) or not y.fn and M.mentions(x.text, y.name) end

---The objects of snapshot `s` made after its tables, by id ("view:key",
---"function:key"): views and materialized views, and the functions with an
---SQL-standard body that name a table or view or call such a function. A
---node: key, view or fn (the snapshot's), name (bare), text (what it
---names), same (equal on both sides when unchanged), deps (the ids it names).
---@param s luamig.Snapshot
---@return table<string, table>
function M.late(s)
  local nodes, candidates, relations = {}, {}, {}
  for n in pairs(s.tables or {}) do relations[#relations + 1] = bare(n) end
  for n, v in pairs(s.views or {}) do
    relations[#relations + 1] = bare(n)
    nodes["view:" .. n] = { key = n, view = v, name = bare(n), text = M.view_text(v), same = M.view_text(v) }
  end
  for n, f in pairs(s.functions or {}) do
    if f.definition and M.sql_body(f) then
      candidates[n] = { key = n, fn = f, name = f.base_name, text = f.definition, same = f.definition }
    end
  end
  local function late(x)
    for _, r in ipairs(relations) do if M.mentions(x.text, r) then return true end end
    for _, y in pairs(nodes) do
      if y.fn and y ~= x and calls(x.text, y.name) then return true end
    end
    return false
  end
  repeat
    local more = false
    for _, n in ipairs(names(candidates)) do
      if not nodes["function:" .. n] and late(candidates[n]) then
        nodes["function:" .. n], more = candidates[n], true
      end
    end
  until not more
  return link(nodes, names_node)
end

---The domains and functions of snapshot `s` made before its tables (every
---function not in `late`, M.late's), by id ("domain:key", "function:key"):
---a domain names the functions its checks and default call; a function the
---domains of its arguments and result, and, with an SQL-standard body, the
---functions it calls (the others' bodies are not parsed when made). A node:
---key, domain or fn, name, text, deps.
---@param s luamig.Snapshot
---@param late table<string, table>
---@return table<string, table>
function M.early(s, late)
  local nodes = {}
  for n, t in pairs(s.types or {}) do
    if t.kind == "domain" then
      local parts = { t.default or "" }
      for _, c in ipairs(t.checks or {}) do parts[#parts + 1] = c.def end
      nodes["domain:" .. n] = { key = n, domain = t, name = t.name, text = table.concat(parts, " ") }
    end
  end
  for n, f in pairs(s.functions or {}) do
    if f.definition and not late["function:" .. n] then
      nodes["function:" .. n] = { key = n, fn = f, name = f.base_name, sql_body = M.sql_body(f),
        signature = (f.arguments or "") .. " " .. (f.result or ""), text = f.definition }
    end
  end
  return link(nodes, function(x, y)
    if x.domain then return y.fn ~= nil and calls(x.text, y.name) end
    if y.domain then return M.mentions(x.signature, y.name) end
    return x.sql_body and calls(x.text, y.name)
  end)
end

---The ids of `nodes` (M.late's or M.early's), each after those it names; in
---id order otherwise (a cycle, which the database would refuse, is cut where it closes).
---@param nodes table<string, table>
---@return string[]
function M.ordered(nodes)
  return toposort.order(nodes, function(id) return nodes[id].deps end)
end

return M
