--- Offline SQL (`upgrade --sql`, `downgrade --sql FROM:TO`): run migrations
--- against a recorder instead of a database and print the SQL they would
--- send, with the version-table updates and the history rows (checksums,
--- applied_at when the script runs) a live run writes, one transaction per
--- migration.
--- Statements only: a migration that needs query results (db:query,
--- db:rows, introspection, SQLite table rebuilds) fails, named.
local errors = require "luamig.util.errors"
local null = require "luamig.null"
local db_rows = require "luamig.db.rows"
local host = require "luamig.host"
local plan = require "luamig.revision.plan"
local step_mod = require "luamig.run.step"
local version = require "luamig.run.version"
local online_sql = require "luamig.run.online_sql"

local M = {}

local NO_PARAMS = { n = 0 }

-- `sql` as the statement the database would run: each parameter token
-- replaced by the literal of its value, numbered as the databases number
-- them (`$n`, `?NNN`: n; a name: its first use's number; `?`: one past the
-- highest so far), and a `;` after the last token that is not a comment (so
-- a trailing `-- comment` cannot swallow it). The drivers' tokenizer
-- (src/sql_tokens.c): quotes, comments and dollar quotes are skipped alike.
---@param sql string
---@param params table packed values ({ n = 0 } for none)
---@param dialect luamig.Dialect
---@return string
function M.render(sql, params, dialect)
  local out, highest, named, last = {}, 0, {}, 0
  for kind, first, stop in host.sql_tokens(sql, dialect.name) do
    local text = sql:sub(first, stop)
    if (kind == "param" or kind == "named") and params.n > 0 then
      local number = kind == "named" and named[text] or tonumber(text:sub(2)) or highest + 1
      if kind == "named" then named[text] = number end
      highest = math.max(highest, number)
      text = dialect.quote_literal(params[number])
    end
    out[#out + 1] = text
    if kind ~= "space" and kind ~= "comment" then last = #out end
  end
  if last > 0 and out[last] ~= ";" then table.insert(out, last + 1, ";") end
  return (table.concat(out):gsub("%s+$", ""))
end

---A stand-in for `db` that writes statements to `emit` instead of running
---them. Set `db.running` to the migration file being recorded, for messages.
---@param dialect luamig.Dialect
---@param emit fun(sql: string, params: table?) params packed, for its placeholders
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
      if params[i] == null then params[i] = nil end
    end
    emit(sql, params)
    return 0
  end
  for _, name in ipairs({ "query", "rows", "first", "scalar", "prepare", "has_table", "has_column", "has_index",
    "has_enum", "has_extension", "schema" }) do
    db[name] = refuse("db:" .. name)
  end
  function db.transaction(self, fn) return fn(self) end
  function db.pipeline(self, fn) -- p:exec(sql, ...) records like db:exec (prepare is refused)
    fn({ exec = function(_, sql, ...) self:exec(sql, ...) end, sync = function() return 0 end })
    return 0
  end
  function db.copy_in(self, t, columns, rows) return db_rows.insert_rows(self, t, columns, rows) end
  function db.autocommit(self, fn) -- (in a transactional step: commit, fn's statements, begin again)
    if not self.tx then return fn(self) end
    emit("COMMIT")
    self.tx = false
    local r = table.pack(fn(self))
    emit("BEGIN")
    self.tx = true
    return table.unpack(r, 1, r.n)
  end
  function db.in_transaction(self) return self.tx end
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
  local function emit(sql, params) out[#out + 1] = M.render(sql, params or NO_PARAMS, s.dialect) end
  local db = M.recorder(s.dialect, emit)
  local t = version.tables(s.config, s.dialect)
  local fresh = online_sql.state() -- (what op.online added and dropped, from expand to contract)
  out[#out + 1] = ("-- luamig %s %s (%s)"):format(direction == "up" and "upgrade" or "downgrade", range, s.dialect.name)
  if #ids > 0 then version.ensure(db, s.dialect, t, true) end
  -- one migration's phase in its own transaction, with its version updates
  local function step(id, phase, fn, replay, dir)
    local script = g.revs[id]
    local label = script.phased and phase or dir -- ("-- up ID", "-- down ID" for plain migrations)
    out[#out + 1] = ("\n-- %s %s: %s (%s)"):format(label, id, script.message, script.path)
    if script.transactional then emit("BEGIN") end
    db.tx = script.transactional
    if not fn then errors.raise("script", ("%s: revision %s has no downgrade(db)"):format(script.path, id)) end
    db.running = script.path
    local ctx = step_mod.new(db, s.dialect, script, { root = s.config.dir, offline = fresh,
      still_written = s.config.still_written or 300 })
    local ok, err = step_mod.call(ctx, script, pcall, function() step_mod.phase(ctx, phase, fn, replay, db) end)
    db.running = nil
    if not ok then error(err, 0) end
    if phase ~= "contract" then
      local new = plan.step_heads(g, heads, id, dir)
      version.set_heads(db, t, heads, new)
      heads = new
    end
    if script.phased then version.set_expanded(db, t, id, phase == "expand", s.dialect.now_text()) end
    version.record(db, t, { revision = id, direction = dir, status = "ok", checksum = script.checksum,
      transactional = script.transactional, phase = phase }, s.dialect.now_text()) -- as the runner's finish_step
    if script.transactional then emit("COMMIT") end
    db.tx = false
  end
  local contracts = {}
  for _, id in ipairs(ids) do
    local script = g.revs[id]
    if direction == "up" then
      step(id, script.phased and "expand" or "upgrade", script.upgrade, false, "up")
      if script.phased then contracts[#contracts + 1] = id end
    else
      step(id, "downgrade", script.downgrade or (script.phased and script.upgrade), not script.downgrade, "down")
    end
  end
  if #contracts > 0 then
    out[#out + 1] = "\n-- contract phases: run these once the old application is gone (`luamig contract`)"
    for _, id in ipairs(contracts) do
      local script = g.revs[id]
      step(id, "contract", script.contract or script.upgrade, not script.contract, "up")
    end
  end
  return table.concat(out, "\n") .. "\n"
end

return M
