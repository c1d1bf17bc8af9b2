--- The live schema as one migration (`luamig dump`, the baseline of `import
--- alembic`): the snapshot (luamig.model.schema) turned into steps by the
--- dialect's dump module (op calls where the op vocabulary says it exactly,
--- the object's DDL through op.execute for the rest), put in dependency
--- order (edges from the catalog), and rendered as a migration body or as a
--- declared schema (schema.lua). Every value written into the Lua text goes
--- through luamig.util.lua_source (render.literal, comment_text), the one
--- escape of generated files.
local errors = require "luamig.util.errors"
local introspect = require "luamig.schema.introspect"
local literal = require("luamig.schema.render").literal
local lua_source = require "luamig.util.lua_source"
local toposort = require "luamig.util.toposort"

local M = {}

-- Alembic's version table: bookkeeping, like luamig's own, never dumped.
local ALEMBIC = "alembic_version"

---@class luamig.DumpStep  one statement: an op call or SQL for op.execute
---@field op string?        op name (with args)
---@field args any[]?
---@field sql string?       DDL for op.execute

---@class luamig.DumpItem  one object and what creates and drops it
---@field id string         "kind:key" (the dialect's dependency edges use the same ids)
---@field rank number       kind order (schemas first, triggers last): the tie-break of the dependency order
---@field what string       the object as messages name it ("table billing.customers")
---@field up luamig.DumpStep[]
---@field down luamig.DumpStep[]   run in reverse item order, each item's steps in order
---@field deps string[]?    ids that must come first (beyond the catalog's edges)
---@field declare table?    its declared-schema call {call, args...} for its op steps (its SQL steps follow as schema.sql)
---@field declares table[]?  its declared-schema calls, when they say all of it (no schema.sql follows)
---@field declare_sql string?  the SQL its declaration runs instead (an op step schema.lua has no call for)

---@class luamig.Dump
---@field items luamig.DumpItem[]   in dependency order
---@field skipped string[]          unsupported objects left out (--skip-unsupported)

-- Items in an order where each one's dependencies come first, else by
-- (rank, id). A cycle (which the dialect breaks by separate constraint
-- items) keeps the order the walk reached.
local function ordered(items, edges)
  local by_id, after = {}, {}
  for _, it in ipairs(items) do by_id[it.id] = it end
  local function need(from, to)
    if by_id[from] and by_id[to] and from ~= to then
      after[from] = after[from] or {}
      after[from][#after[from] + 1] = to
    end
  end
  for _, it in ipairs(items) do
    for _, d in ipairs(it.deps or {}) do need(it.id, d) end
  end
  for _, e in ipairs(edges) do need(e[1], e[2]) end
  local function less(a, b)
    local x, y = by_id[a], by_id[b]
    if x.rank ~= y.rank then return x.rank < y.rank end
    return a < b
  end
  local out = {}
  for i, id in ipairs(toposort.order(by_id, function(id)
    local deps = after[id] or {}
    table.sort(deps, less)
    return deps
  end, less)) do out[i] = by_id[id] end
  return out
end

---@class luamig.DumpOptions
---@field skip_unsupported boolean?  leave out what the model does not cover (named in `skipped`) instead of failing

---The dump of the database `db` is connected to (PostgreSQL: the schemas of
---the config's `schemas`, else every one). Raises, naming each object,
---when the database holds objects the model does not cover (unless
---opts.skip_unsupported) or the role cannot read part of it.
---@param db luamig.Db
---@param dialect luamig.Dialect
---@param opts luamig.DumpOptions?
---@return luamig.Dump
function M.build(db, dialect, opts)
  opts = opts or {}
  local snap = introspect.snapshot(db, dialect, { named = true }) -- (SQLite: with the constraint names its pragmas leave out)
  snap.tables[ALEMBIC] = nil
  local skipped = {}
  for _, what in ipairs(snap.unsupported or {}) do skipped[#skipped + 1] = what end
  table.sort(skipped)
  if #skipped > 0 and not opts.skip_unsupported then
    errors.raise("db", ("cannot dump %d object%s that luamig's schema model does not cover: %s; drop %s, or pass " ..
      "--skip-unsupported to leave %s out (each is then named at the top of the file)"):format(#skipped,
      #skipped == 1 and "" or "s", table.concat(skipped, "; "), #skipped == 1 and "it" or "them",
      #skipped == 1 and "it" or "them"))
  end
  local items, edges = dialect.dump_items(db, snap)
  return { items = ordered(items, edges), skipped = skipped }
end

-- A call `fn(args...)` as Lua (`indent` before it); a table's columns one a line.
local function call_text(indent, fn, args)
  if fn:match("create_table$") or fn == "schema.table" then
    local cols = {}
    for i, c in ipairs(args[2]) do cols[i] = indent .. "  " .. literal(c) .. "," end
    return ("%s%s(%s, {\n%s\n%s}%s)"):format(indent, fn, literal(args[1]), table.concat(cols, "\n"), indent,
      args[3] and (", " .. literal(args[3])) or "")
  end
  local out = {}
  for i = 1, #args do out[i] = args[i] == nil and "nil" or literal(args[i]) end
  while out[#out] == "nil" do out[#out] = nil end
  return ("%s%s(%s)"):format(indent, fn, table.concat(out, ", "))
end

-- One step as Lua.
local function step_line(s)
  if s.sql then return call_text("  ", "op.execute", { s.sql }) end
  return call_text("  ", "op." .. s.op, s.args)
end

-- "-- " lines naming the skipped objects (escaped: a name is never raw in a comment).
local function skipped_lines(d, lines)
  if #d.skipped == 0 then return end
  lines[#lines + 1] = "-- Left out (--skip-unsupported): objects luamig's schema model does not cover:"
  for _, what in ipairs(d.skipped) do lines[#lines + 1] = "--   " .. lua_source.comment_text(what) end
end

---The upgrade and downgrade bodies of dump `d` (luamig.MigrationBody), and
---the comment lines naming what was skipped.
---@param d luamig.Dump
---@return luamig.MigrationBody body, string[] preamble
function M.bodies(d)
  local up, down = {}, {}
  for _, it in ipairs(d.items) do
    for _, s in ipairs(it.up) do up[#up + 1] = step_line(s) end
  end
  for i = #d.items, 1, -1 do
    for _, s in ipairs(d.items[i].down) do down[#down + 1] = step_line(s) end
  end
  local pre = {}
  skipped_lines(d, pre)
  return { upgrade = table.concat(up, "\n"), downgrade = table.concat(down, "\n"), transactional = true }, pre
end

-- An item's declarations and the SQL its declarations do not say (one
-- schema.sql text, or nil): `declares` alone say all; after a `declare`, a
-- step may have its own declaration (a comment) or be said by it
-- (`declared`: a table's row_security).
local function declarations(it)
  if it.declares then return it.declares, nil end
  local calls, parts = { it.declare }, {}
  for _, s in ipairs(it.up) do
    if it.declare and s.declare then
      calls[#calls + 1] = s.declare
    elseif s.sql and not (it.declare and s.declared) then
      parts[#parts + 1] = s.sql
    end
  end
  return calls, it.declare_sql or (#parts > 0 and table.concat(parts, ";\n") or nil)
end

---The dump as a declared schema (schema.lua): schema.table, schema.index,
---schema.enum, schema.extension, schema.func, schema.trigger,
---schema.sequence, schema.domain, schema.view, schema.materialized_view,
---schema.policy, schema.comment where the declared vocabulary covers the object,
---schema.sql with its DDL for the rest, in dependency order.
---@param d luamig.Dump
---@return string
function M.declared(d)
  local lines = { "-- The declared schema, written by `luamig dump --declared` from the live database.",
    "-- Edit it, then `luamig revision --autogenerate -m MSG` writes the migration (README, \"Declared schema\")." }
  skipped_lines(d, lines)
  for _, it in ipairs(d.items) do
    local calls, sql = declarations(it)
    for _, decl in ipairs(calls) do
      lines[#lines + 1] = call_text("", "schema." .. decl[1], { table.unpack(decl, 2) })
    end
    if sql then lines[#lines + 1] = call_text("", "schema.sql", { it.what, sql }) end
  end
  return table.concat(lines, "\n") .. "\n"
end

return M
