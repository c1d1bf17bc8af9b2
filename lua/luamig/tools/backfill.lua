--- Backfills (`luamig.backfill{...}` in migrations): walk a table by its key
--- in batches (keyset pagination), ask a Lua function for each row's new
--- values, write them with one prepared UPDATE per column set, and report
--- progress. Inside a transactional migration everything is part of the
--- migration's transaction. In a `transactional = false` migration each
--- batch commits with a checkpoint, so a run that is killed resumes after
--- the last committed batch; the migration is recorded as applied only when
--- its body (and so the backfill) completes.
local errors = require "luamig.util.errors"
local host = require "luamig.host"
local progress_mod = require "luamig.util.progress"

local M = {}

local CHECKPOINTS = "luamig_backfill"

---@class luamig.StepContext
---@field db table
---@field revision string
---@field transactional boolean
---@field log luamig.Log?
---@field dry_run boolean?
---@field rows integer    rows written by backfills in this step

---@type luamig.StepContext?
M.current = nil -- set by the runner while a migration body runs

---@class luamig.BackfillSpec
---@field table string
---@field key string?              a unique, non-NULL-for-the-rows-wanted column (default "id")
---@field columns string[]?        columns to read (default: all)
---@field where string?            SQL condition on the rows to visit
---@field params any[]?            bound parameters of `where`
---@field batch_size integer?      rows per batch (default 1000)
---@field set fun(row: table): table?        new values for one row (nil: leave it)
---@field batch fun(rows: table[]): table[]? or: new values for a batch, each with the key
---@field sleep_ms number?         pause between batches (spare a busy server)
---@field name string?             names the checkpoint and the progress line (default: the table)

local function quote(db, s) return db:quote_ident(s) end

local function ensure_checkpoints(db)
  db:exec("CREATE TABLE IF NOT EXISTS " .. CHECKPOINTS .. " (revision TEXT NOT NULL, name TEXT NOT NULL, " ..
    "last_key TEXT, key_is_integer INTEGER, rows_done INTEGER NOT NULL, PRIMARY KEY (revision, name))")
end

local function load_checkpoint(db, revision, name)
  local r = db:first("SELECT last_key, key_is_integer, rows_done FROM " .. CHECKPOINTS ..
    " WHERE revision = ? AND name = ?", revision, name)
  if not r then return nil end
  local key = r.last_key
  if r.key_is_integer == 1 or r.key_is_integer == true then key = math.tointeger(tonumber(key)) end
  return { key = key, rows = r.rows_done }
end

local function save_checkpoint(db, revision, name, key, rows)
  db:exec("DELETE FROM " .. CHECKPOINTS .. " WHERE revision = ? AND name = ?", revision, name)
  db:exec("INSERT INTO " .. CHECKPOINTS .. " (revision, name, last_key, key_is_integer, rows_done) " ..
    "VALUES (?, ?, ?, ?, ?)", revision, name, tostring(key), math.type(key) == "integer" and 1 or 0, rows)
end

-- The columns (sorted, key left out) a row's new values set, reusing the
-- previous list when the row sets the same ones (the usual case).
local function signature(values, key, prev)
  if prev then
    local n, same = 0, true
    for c in pairs(values) do
      if c ~= key then
        n = n + 1
        if not prev.set[c] then same = false break end
      end
    end
    if same and n == #prev.cols then return prev end
  end
  local cols, set = {}, {}
  for c in pairs(values) do
    if c ~= key then cols[#cols + 1], set[c] = c, true end
  end
  table.sort(cols)
  return { cols = cols, set = set, id = table.concat(cols, "\0") }
end

-- Writes a batch's new values: one prepared UPDATE per row on SQLite (an
-- in-process call; a multi-row UPDATE ... FROM (VALUES ...) measured 1.6x
-- slower there), one UPDATE ... FROM (VALUES ...) per batch and column set
-- on PostgreSQL (one round trip instead of one per row: 2.5x faster).
local function writer(db, spec, key)
  local null = require "luamig.null"
  local stmts, prev, args = {}, nil, {}
  local qt, qk = quote(db, spec.table), quote(db, key)
  local types -- PostgreSQL: column -> SQL type, to type the VALUES list
  local function pg_types()
    if not types then
      types = {}
      for _, r in ipairs(db:query([[
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS t FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped]], qt)) do types[r.attname] = r.t end
    end
    return types
  end
  local pending = {} -- PostgreSQL: signature id -> { sig, rows }
  local function flush()
    for id, group in pairs(pending) do
      local sig, rows = group.sig, group.rows
      local t = pg_types()
      local cols = { key }
      for _, c in ipairs(sig.cols) do cols[#cols + 1] = c end
      local one = {}
      for i, c in ipairs(cols) do
        if not t[c] then error(("table %s has no column %s"):format(spec.table, c), 0) end
        one[i] = "CAST(? AS " .. t[c] .. ")"
      end
      local params = {}
      for _, r in ipairs(rows) do
        for _, c in ipairs(cols) do
          local v = r[c]
          if v == nil then v = null end
          params[#params + 1] = v
        end
      end
      -- one prepared statement per column set and row count: full batches reuse it
      local stmt_key = id .. "\0" .. #rows
      local stmt = stmts[stmt_key]
      if not stmt then
        local plain = "(" .. ("?, "):rep(#cols - 1) .. "?)"
        local values = { "(" .. table.concat(one, ", ") .. ")" } -- the first row's casts type the rest
        for i = 2, #rows do values[i] = plain end
        local names, sets = {}, {}
        for i, c in ipairs(cols) do names[i] = quote(db, c) end
        for _, c in ipairs(sig.cols) do sets[#sets + 1] = ("%s = v.%s"):format(quote(db, c), quote(db, c)) end
        stmt = db:prepare(("UPDATE %s SET %s FROM (VALUES %s) AS v (%s) WHERE %s.%s = v.%s"):format(qt,
          table.concat(sets, ", "), table.concat(values, ", "), table.concat(names, ", "), qt, qk, qk))
        stmts[stmt_key] = stmt
      end
      stmt:exec(table.unpack(params))
      pending[id] = nil
    end
  end
  local function write(values, key_value)
    local sig = signature(values, key, prev)
    prev = sig
    if #sig.cols == 0 then return end
    if db.dialect == "postgresql" then
      local group = pending[sig.id]
      if not group then
        group = { sig = sig, rows = {} }
        pending[sig.id] = group
      end
      local r = { [key] = key_value }
      for _, c in ipairs(sig.cols) do r[c] = values[c] end
      group.rows[#group.rows + 1] = r
      -- libpq refuses a statement description over 30,000 bytes: at most ~7,500
      -- parameters per prepared statement
      if #group.rows * (#sig.cols + 1) >= 6000 then flush() end
      return
    end
    local stmt = stmts[sig.id]
    if not stmt then
      local sets = {}
      for i, c in ipairs(sig.cols) do sets[i] = quote(db, c) .. " = ?" end
      stmt = db:prepare(("UPDATE %s SET %s WHERE %s = ?"):format(qt, table.concat(sets, ", "), qk))
      stmts[sig.id] = stmt
    end
    local ncols = #sig.cols
    for i = 1, ncols do
      local v = values[sig.cols[i]]
      if v == nil then v = null end
      args[i] = v
    end
    args[ncols + 1] = key_value
    stmt:exec(table.unpack(args, 1, ncols + 1))
  end
  local function close()
    for _, st in pairs(stmts) do st:close() end
  end
  return write, flush, close
end

---Run a backfill in the running migration. Returns the number of rows
---visited (with --dry-run: counted, nothing written).
---@param spec luamig.BackfillSpec
---@return integer rows
function M.run(spec)
  local ctx = M.current
  if not ctx then error("luamig.backfill is only available while a migration runs", 2) end
  if type(spec) ~= "table" or type(spec.table) ~= "string" then
    error("luamig.backfill{ table = ..., set = function(row) ... end }", 2)
  end
  if type(spec.set) ~= "function" and type(spec.batch) ~= "function" then
    error("luamig.backfill needs set = function(row) or batch = function(rows)", 2)
  end
  local db = ctx.db
  local key = spec.key or "id"
  local size = spec.batch_size or 1000
  local name = spec.name or spec.table
  local cols = "*"
  if spec.columns then -- the wanted columns, and the key
    local q, has_key = {}, false
    for i, c in ipairs(spec.columns) do
      q[i], has_key = quote(db, c), has_key or c == key
    end
    if not has_key then q[#q + 1] = quote(db, key) end
    cols = table.concat(q, ", ")
  end
  local where = spec.where and ("(" .. spec.where .. ") AND ") or ""
  local params = spec.params or {}
  local qkey, qtable = quote(db, key), quote(db, spec.table)

  local total = db:scalar(("SELECT count(*) FROM %s WHERE %s%s IS NOT NULL"):format(qtable, where, qkey),
    table.unpack(params))
  if ctx.dry_run then
    if ctx.log then ctx.log:info(("backfill %s: %d rows (dry run: nothing written)"):format(name, total)) end
    return total
  end
  local checkpointed = not ctx.transactional
  if checkpointed then ensure_checkpoints(db) end
  local resume = checkpointed and load_checkpoint(db, ctx.revision, name) or nil
  local last, done = resume and resume.key, resume and resume.rows or 0
  if resume and ctx.log then ctx.log:info(("backfill %s: resuming after %s = %s (%d rows done)"):format(name, key,
    tostring(last), done)) end
  local bar = progress_mod.new(ctx.log)(total, "backfill " .. name)
  bar:add(done)
  local update, flush, close = writer(db, spec, key)
  local first_sql = ("SELECT %s FROM %s WHERE %s%s IS NOT NULL ORDER BY %s LIMIT %d"):format(cols, qtable, where,
    qkey, qkey, size)
  local next_sql = ("SELECT %s FROM %s WHERE %s%s > ? ORDER BY %s LIMIT %d"):format(cols, qtable, where, qkey, qkey,
    size)
  local ok, err = pcall(function()
    while true do
      local args = { table.unpack(params) }
      if last ~= nil then args[#args + 1] = last end
      local rows = db:query(last == nil and first_sql or next_sql, table.unpack(args))
      if #rows == 0 then break end
      local function apply()
        if spec.batch then
          local updates = spec.batch(rows) or {}
          for _, u in ipairs(updates) do
            if u[key] == nil then error(("batch: each update needs its %s"):format(key), 0) end
            update(u, u[key])
          end
        else
          local set, at = spec.set, 0
          local good, e = pcall(function() -- one protected call per batch; `at` names the row on error
            for i = 1, #rows do
              at = i
              local row = rows[i]
              local values = set(row)
              if values then update(values, row[key]) end
            end
          end)
          if not good then error(("row %s = %s: %s"):format(key, tostring(rows[at][key]), errors.text(e)), 0) end
        end
        flush()
        last = rows[#rows][key]
        done = done + #rows
        if checkpointed then save_checkpoint(db, ctx.revision, name, last, done) end
      end
      if checkpointed then
        db:transaction(apply)
      else
        apply()
      end
      bar:add(#rows)
      if #rows < size then break end
      if spec.sleep_ms and spec.sleep_ms > 0 then host.sleep_ms(spec.sleep_ms) end
    end
  end)
  close()
  if not ok then errors.raise("migration", ("backfill %s failed: %s%s"):format(name, errors.text(err),
    checkpointed and (" (batches before it are committed; a rerun resumes after " .. key .. " = " ..
      tostring(last) .. ")") or "")) end
  bar:done()
  if checkpointed then
    db:exec("DELETE FROM " .. CHECKPOINTS .. " WHERE revision = ? AND name = ?", ctx.revision, name)
  end
  ctx.rows = (ctx.rows or 0) + done
  return done
end

---The `luamig` global of migration files.
M.api = setmetatable({
  backfill = function(spec) return M.run(spec) end,
  ---A progress bar/line for the running migration's own loops: p = luamig.progress(total, label); p:add(n); p:done().
  progress = function(total, label)
    local ctx = M.current
    return progress_mod.new(ctx and ctx.log)(total, label)
  end,
  null = require "luamig.null",
}, { __newindex = function() error("luamig is read-only", 2) end })

return M
