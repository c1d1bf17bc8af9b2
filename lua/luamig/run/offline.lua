--- Offline SQL (`upgrade --sql`, `downgrade --sql FROM:TO`): run migrations
--- against a recorder instead of a database and print the SQL they would
--- send, with the version-table updates and the history rows (checksums,
--- applied_at when the script runs) a live run writes, one transaction per
--- migration.
--- Statements only: a migration that needs query results (db:query,
--- db:rows, introspection, SQLite table rebuilds) fails, named.
local errors = require "luamig.util.errors"
local plan = require "luamig.revision.plan"
local step_mod = require "luamig.run.step"
local version = require "luamig.run.version"

local M = {}

-- Replace ? (and $n) placeholders outside quotes by SQL literals.
local function inline(sql, params, quote_literal)
  if params.n == 0 then return sql end
  local out, i, n, next_param = {}, 1, #sql, 1
  while i <= n do
    local c = sql:sub(i, i)
    if c == "'" or c == '"' then
      local j = i + 1
      while j <= n do
        if sql:sub(j, j) == c then
          if sql:sub(j + 1, j + 1) == c then j = j + 1 else break end
        end
        j = j + 1
      end
      out[#out + 1] = sql:sub(i, j)
      i = j + 1
    elseif c == "?" then
      out[#out + 1] = quote_literal(params[next_param])
      next_param = next_param + 1
      i = i + 1
    elseif c == "$" and sql:match("^%d", i + 1) then
      local digits = sql:match("^%d+", i + 1)
      out[#out + 1] = quote_literal(params[tonumber(digits)])
      i = i + 1 + #digits
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  return table.concat(out)
end

---A stand-in for `db` that writes statements to `emit` instead of running
---them. Set `db.running` to the migration file being recorded, for messages.
---@param dialect table luamig.dialect.*
---@param emit fun(sql: string)
function M.recorder(dialect, emit)
  local db = { dialect = dialect.name, backend = dialect.name, offline_enums = {} }
  local function refuse(what)
    return function()
      errors.raise("migration", ("%s needs the database (%s), which --sql cannot give; run it against a database")
        :format(db.running or "this migration", what))
    end
  end
  function db.exec(_, sql, ...)
    local params = table.pack(...)
    for i = 1, params.n do
      if params[i] == require "luamig.null" then params[i] = nil end
    end
    emit(inline(sql, params, dialect.quote_literal))
    return 0
  end
  for _, name in ipairs({ "query", "rows", "first", "scalar", "prepare", "has_table", "has_column", "has_index",
    "has_enum", "has_extension", "schema", "last_insert_id" }) do
    db[name] = refuse("db:" .. name)
  end
  function db.transaction(self, fn) return fn(self) end
  function db.pipeline(self, fn) -- p:exec(sql, ...) records like db:exec (prepare is refused)
    fn({ exec = function(_, sql, ...) self:exec(sql, ...) end, sync = function() return 0 end })
    return 0
  end
  function db.copy_in(self, t, columns, rows) return require("luamig.db.handle").insert_rows(self, t, columns, rows) end
  function db.autocommit(self, fn)
    emit("COMMIT")
    local r = table.pack(fn(self))
    emit("BEGIN")
    return table.unpack(r, 1, r.n)
  end
  function db.in_transaction() return true end
  function db.is_closed() return false end
  function db.close() end
  function db.quote_ident(_, s) return dialect.quote_ident(s) end
  function db.quote_literal(_, v) return dialect.quote_literal(v) end
  return db
end

---The SQL text of a range, as one string.
---@param s table session-like: graph, config, dialect (no database)
---@param direction "up"|"down"
---@param range string  "[FROM:]TO" (upgrade) or "FROM:TO" (downgrade)
---@return string
function M.sql(s, direction, range)
  local from, to = range:match("^([^:]*):(.*)$")
  if not from then
    if direction == "down" then errors.raise("usage", "downgrade --sql needs a range FROM:TO, e.g. head:base") end
    from, to = "base", range
  end
  local g = s.graph
  local heads = (from == "" or from == "base") and {} or g:ids(from)
  local ids = direction == "up" and plan.upgrade(g, heads, to) or plan.downgrade(g, heads, to)
  local out = {}
  local function emit(sql) out[#out + 1] = sql:gsub("%s*;?%s*$", "") .. ";" end
  local db = M.recorder(s.dialect, emit)
  local t = version.tables(s.config, s.dialect)
  out[#out + 1] = ("-- luamig %s %s (%s)"):format(direction == "up" and "upgrade" or "downgrade", range, s.dialect.name)
  if #ids > 0 then version.ensure(db, s.dialect, t) end
  for _, id in ipairs(ids) do
    local script = g.revs[id]
    out[#out + 1] = ("\n-- %s %s: %s (%s)"):format(direction, id, script.message, script.path)
    if script.transactional then emit("BEGIN") end
    local fn = direction == "up" and script.upgrade or script.downgrade
    if not fn then errors.raise("script", ("%s: revision %s has no downgrade(db)"):format(script.path, id)) end
    db.running = script.path
    local ok, err = step_mod.call(step_mod.new(db, s.dialect, script, { root = s.config.dir }), script, pcall, fn, db)
    db.running = nil
    if not ok then error(err, 0) end
    local new = plan.step_heads(g, heads, id, direction)
    version.set_heads(db, t, heads, new)
    version.record(db, t, { revision = id, direction = direction, status = "ok", checksum = script.checksum,
      transactional = script.transactional }, s.dialect.now_text()) -- as the runner's finish_step
    heads = new
    if script.transactional then emit("COMMIT") end
  end
  return table.concat(out, "\n") .. "\n"
end

return M
