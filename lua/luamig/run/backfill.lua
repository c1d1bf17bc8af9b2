--- Backfills (`luamig.backfill{...}` in migrations): walk a table by its key
--- in batches (keyset pagination), ask a Lua function for each row's new
--- values, write them with one prepared UPDATE per column set, and report
--- progress; or, with `set = { column = "SQL" }`, have the server compute
--- them: one UPDATE per batch over the batch's key range, only the range
--- fetched. Inside a transaction (a transactional migration's) everything is
--- part of it. Outside one (`transactional = false`, a db:autocommit
--- section) each batch commits with a checkpoint, so a run that is killed
--- resumes after the last committed batch. A completed backfill keeps its checkpoint,
--- marked done, until the runner records the migration (M.forget, in the
--- same transaction), so a migration that fails after it does not redo it.
local ddl = require "luamig.model.ddl"
local errors = require "luamig.util.errors"
local text = require "luamig.util.text"
local host = require "luamig.host"
local limits = require "luamig.db.limits"
local progress_mod = require "luamig.util.progress"

local M = {}

local CHECKPOINTS = "luamig_backfill"

-- The checkpoint table, quoted and plain (for has_table), qualified with the
-- schema resolved at connect time, as the version tables are: a migration's
-- search_path cannot move it.
local function checkpoints(db)
  local d = db.dialect
  local home = d.home_schema and d.home_schema(db)
  if not home then return d.quote_ident(CHECKPOINTS), CHECKPOINTS end
  return d.quote_ident(home) .. "." .. d.quote_ident(CHECKPOINTS), home .. "." .. CHECKPOINTS
end

---@class luamig.BackfillSpec
---@field table string            (schema-qualified: "schema.table")
---@field key string?              a unique, non-NULL-for-the-rows-wanted column (default "id")
---@field columns string[]?        columns to read (default: all)
---@field where string?            SQL condition on the rows to visit
---@field params any[]?            bound parameters of `where`
---@field batch_size integer?      rows per batch (default limits.BACKFILL_BATCH_ROWS)
---@field set (fun(row: table): table?)|table<string, string>  new values for one row (nil: leave it); or
---                                a table { column = "SQL expression" } the server computes for each row
---@field batch fun(rows: table[]): table[]? or: new values for a batch, each with the key
---@field sleep_ms number?         pause between batches (spare a busy server)
---@field name string?             names the checkpoint and the progress line (default: the table)

local function ensure_checkpoints(db)
  db:exec("CREATE TABLE IF NOT EXISTS " .. checkpoints(db) .. " (revision TEXT NOT NULL, name TEXT NOT NULL, " ..
    "last_key TEXT, key_is_integer INTEGER, rows_done INTEGER NOT NULL, PRIMARY KEY (revision, name))")
end

-- A checkpoint: the last key committed and the rows done; `done` (stored
-- as key_is_integer = 2) once the backfill completed.
local function load_checkpoint(db, revision, name)
  local r = db:first("SELECT last_key, key_is_integer, rows_done FROM " .. checkpoints(db) ..
    " WHERE revision = ? AND name = ?", revision, name)
  if not r then return nil end
  local key, kind = r.last_key, tonumber(r.key_is_integer) or 0
  if kind == 1 then key = math.tointeger(tonumber(key)) end
  return { key = key, rows = math.tointeger(r.rows_done) or r.rows_done, done = kind == 2 }
end

local function save_checkpoint(db, revision, name, key, rows, done)
  local t = checkpoints(db)
  db:exec("DELETE FROM " .. t .. " WHERE revision = ? AND name = ?", revision, name)
  db:exec("INSERT INTO " .. t .. " (revision, name, last_key, key_is_integer, rows_done) " ..
    "VALUES (?, ?, ?, ?, ?)", revision, name, key ~= nil and tostring(key) or nil,
    done and 2 or math.type(key) == "integer" and 1 or 0, rows)
end

---Drop `revision`'s checkpoints: called in the transaction that records it.
---@param db luamig.Db
---@param revision string
function M.forget(db, revision)
  local t, plain = checkpoints(db)
  if db:has_table(plain) then db:exec("DELETE FROM " .. t .. " WHERE revision = ?", revision) end
end

-- What a failed checkpointed backfill left: read back from the database,
-- which is what a rerun will see.
local function committed_text(db, revision, name, key)
  local ok, cp = pcall(load_checkpoint, db, revision, name)
  if not ok then return "" end
  if not cp then return " (no batch was committed; a rerun starts from the first row)" end
  return (" (%s committed; a rerun resumes after %s = %s)"):format(text.count(cp.rows, "row"), key,
    tostring(cp.key))
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

---@class luamig.BackfillWriter  (a dialect's backfill_writer(db, table, key, prepared))
---@field write fun(sig: table, values: table, key_value: any)  one row's new values; sig.cols lists them
---@field flush fun()   write what is pending (the end of a batch)

---@alias luamig.BackfillStatements fun(id: string, sql: fun(): string): table
---  the statement prepared for `id` (from sql() the first time), closed when the backfill ends

-- The dialect's writer behind one function, update(values, key_value); and
-- flush and close.
local function writer(ctx, spec, key)
  local db, stmts = ctx.db, {}
  local function prepared(id, sql)
    local stmt = stmts[id]
    if not stmt then
      stmt = db:prepare(sql())
      stmts[id] = stmt
    end
    return stmt
  end
  local w = ctx.dialect.backfill_writer(db, spec.table, key, prepared)
  local prev
  local function update(values, key_value)
    local sig = signature(values, key, prev)
    prev = sig
    if #sig.cols > 0 then w.write(sig, values, key_value) end
  end
  local function close()
    for _, st in pairs(stmts) do st:close() end
  end
  return update, w.flush, close
end

-- (errors at level 4: the user's line that called luamig.backfill)
local function check_server_set(set)
  local form = 'luamig.backfill: set = { column = "SQL expression", ... }'
  if next(set) == nil then errors.raise("migration", form .. ": set = {} names no column", nil, 4) end
  for c, expr in pairs(set) do
    if type(c) ~= "string" then errors.raise("migration", form .. ": a column name is a string key", nil, 4) end
    if type(expr) ~= "string" or not expr:match("%S") then
      errors.raise("migration", ("%s: set.%s is a %s, not an SQL expression"):format(form, c,
        type(expr) == "string" and "blank string" or type(expr)), nil, 4)
    end
  end
end

local function check_spec(spec)
  if type(spec) ~= "table" or type(spec.table) ~= "string" then
    errors.raise("migration", "luamig.backfill{ table = ..., set = function(row) ... end }", nil, 3)
  end
  if type(spec.set) == "table" then
    check_server_set(spec.set) -- (not a tail call: the level counts this frame)
    return
  end
  if type(spec.set) ~= "function" and type(spec.batch) ~= "function" then
    errors.raise("migration", 'luamig.backfill needs set = function(row), set = { column = "SQL expression" } ' ..
      "or batch = function(rows)", nil, 3)
  end
end

-- The first and the following batches' SELECTs (keyset pagination), and
-- the counts of all the rows and of those after a key.
local function batch_queries(db, spec, key, size)
  local cols = "*"
  if spec.columns then -- the wanted columns, and the key
    local q, has_key = {}, false
    for i, c in ipairs(spec.columns) do
      q[i], has_key = db:quote_ident(c), has_key or c == key
    end
    if not has_key then q[#q + 1] = db:quote_ident(key) end
    cols = table.concat(q, ", ")
  end
  local where = spec.where and ("(" .. spec.where .. ") AND ") or ""
  local qkey, qtable = db:quote_ident(key), ddl.qualified(spec.table)
  local head = ("SELECT %s FROM %s WHERE %s%s"):format(cols, qtable, where, qkey)
  local tail = (" ORDER BY %s LIMIT %d"):format(qkey, size)
  local count = ("SELECT count(*) FROM %s WHERE %s%s"):format(qtable, where, qkey)
  return head .. " IS NOT NULL" .. tail, head .. " > ?" .. tail, count .. " IS NOT NULL", count .. " > ?"
end

-- New values for one batch of rows, handed to update(values, key).
local function apply_batch(spec, key, rows, update)
  if spec.batch then
    for _, u in ipairs(spec.batch(rows) or {}) do
      if u[key] == nil then errors.raise("migration", ("batch: each update needs its %s"):format(key)) end
      update(u, u[key])
    end
    return
  end
  local set, at = spec.set, 0
  local good, e = pcall(function() -- one protected call per batch; `at` names the row on error
    for i = 1, #rows do
      at = i
      local row = rows[i]
      local values = set(row)
      if values then update(values, row[key]) end
    end
  end)
  if not good then
    errors.raise("migration", ("row %s = %s: %s"):format(key, tostring(rows[at][key]), errors.text(e)))
  end
end

---@class luamig.BackfillPass  how one form of backfill pages and writes
---@field next fun(args: any[], first: boolean): integer, any, any  the next batch: its row count, last key and
---                                what write needs (args: the where's parameters, then the last key)
---@field write fun(batch: any)   write one batch
---@field close fun()

-- The row form: a batch's rows fetched, their new values from spec.set
-- (or spec.batch) written through the dialect's writer.
local function row_pass(ctx, spec, key, size)
  local db = ctx.db
  local first_sql, next_sql = batch_queries(db, spec, key, size)
  local update, flush, close = writer(ctx, spec, key)
  return {
    next = function(args, first)
      local rows = db:query(first and first_sql or next_sql, table.unpack(args))
      return #rows, rows[#rows] and rows[#rows][key], rows
    end,
    write = function(rows)
      apply_batch(spec, key, rows, update)
      flush()
    end,
    close = close,
  }
end

-- The server form (set = { column = "SQL" }): of a batch only its count and
-- key range are fetched, and one UPDATE over that range (and the where)
-- computes the values; `before(db)` runs before it, in the batch's transaction.
local function server_pass(ctx, spec, key, size, before)
  local db = ctx.db
  local first_sql, next_sql = batch_queries(db, { table = spec.table, where = spec.where, columns = { key } }, key,
    size)
  local qkey = db:quote_ident(key)
  local function range(sql)
    return ("SELECT count(*) AS n, min(%s) AS lo, max(%s) AS hi FROM (%s) AS batch"):format(qkey, qkey, sql)
  end
  first_sql, next_sql = range(first_sql), range(next_sql)
  local update = ddl.range_update(spec.table, spec.set, spec.where, key, "?", "?")
  local params = spec.params or {}
  return {
    next = function(args, first)
      local r = db:first(first and first_sql or next_sql, table.unpack(args))
      return math.tointeger(r.n) or 0, r.hi, r
    end,
    write = function(r)
      if before then before(db) end
      local args = { table.unpack(params) }
      args[#args + 1], args[#args + 2] = r.lo, r.hi
      local ok, e = pcall(db.exec, db, update, table.unpack(args))
      if not ok then
        errors.raise("migration", ("rows %s = %s..%s: %s"):format(key, tostring(r.lo), tostring(r.hi), errors.text(e)))
      end
    end,
    close = function() end,
  }
end

---@class luamig.BackfillWalk
---@field last any        the last key written
---@field done integer    rows done

-- Walk the table batch by batch from `walk` through `pass`, updating it as
-- it goes; `checkpointed`: each batch commits with its checkpoint.
local function walk_table(ctx, spec, size, walk, bar, pass, checkpointed)
  local db, name = ctx.db, spec.name or spec.table
  local params = spec.params or {}
  local ok, err = pcall(function()
    while true do
      local args = { table.unpack(params) }
      if walk.last ~= nil then args[#args + 1] = walk.last end
      local n, last, batch = pass.next(args, walk.last == nil)
      if n == 0 then break end
      local function apply()
        pass.write(batch)
        walk.last, walk.done = last, walk.done + n
        if checkpointed then save_checkpoint(db, ctx.revision, name, walk.last, walk.done) end
      end
      if checkpointed then db:transaction(apply) else apply() end
      bar:add(n)
      if n < size then break end
      if spec.sleep_ms and spec.sleep_ms > 0 then host.sleep_ms(spec.sleep_ms) end
      if ctx.replicas then ctx.replicas:throttle(name, ctx.log) end -- max_replica_lag
    end
  end)
  pass.close()
  return ok, err
end

---Run a backfill in the step `ctx`. Returns the number of rows it visited
---in this run (a dry run writes them too, in the transaction it rolls back).
---@param ctx luamig.StepContext
---@param spec luamig.BackfillSpec
---@param before fun(db: luamig.Db)?  (luamig's own callers) run before each server-side UPDATE, in its transaction
---@return integer rows
function M.run(ctx, spec, before)
  check_spec(spec)
  if ctx.offline then -- (upgrade --sql: no rows to page through)
    if type(spec.set) ~= "table" then
      errors.raise("migration", ("luamig.backfill with %s needs the database, which --sql cannot give; write " ..
        'set = { column = "SQL expression" }, or run it against a database'):format(spec.batch and
        "batch = function(rows)" or "set = function(row)"), nil, 3)
    end
    require("luamig.run.online_sql").new(ctx):backfill(spec)
    return 0
  end
  local db, log = ctx.db, ctx.log
  local key = spec.key or "id"
  local size = spec.batch_size or limits.BACKFILL_BATCH_ROWS
  local name = spec.name or spec.table
  local checkpointed = not db:in_transaction() -- (transactional = false, or a db:autocommit section)
  if checkpointed then ensure_checkpoints(db) end
  local resume = checkpointed and load_checkpoint(db, ctx.revision, name) or nil
  if resume and resume.done then
    if log then
      log:info(("backfill %s: done in an earlier run (%s)"):format(name, text.count(resume.rows, "row")))
    end
    return 0
  end
  local walk = { last = resume and resume.key, done = resume and resume.rows or 0 }
  -- (resuming: the rows done and those after the last key; the where may no longer match the rows done)
  local _, _, count_all, count_after = batch_queries(db, spec, key, size)
  local args = { table.unpack(spec.params or {}) }
  if resume then args[#args + 1] = walk.last end
  local total = walk.done + (tonumber(db:scalar(resume and count_after or count_all, table.unpack(args))) or 0)
  if resume and log then
    log:info(("backfill %s: resuming after %s = %s (%s done)"):format(name, key, tostring(walk.last),
      text.count(walk.done, "row")))
  end
  local bar = progress_mod.new(log)(total, "backfill " .. name)
  bar:add(walk.done)
  local pass = type(spec.set) == "table" and server_pass(ctx, spec, key, size, before) or row_pass(ctx, spec, key, size)
  local ok, err = walk_table(ctx, spec, size, walk, bar, pass, checkpointed)
  if not ok then
    bar:stop()
    errors.raise("migration", ("backfill %s failed: %s%s"):format(name, errors.text(err),
      checkpointed and committed_text(db, ctx.revision, name, key) or ""))
  end
  bar:done()
  if checkpointed then -- (one transaction: a kill between its DELETE and INSERT would lose the checkpoint)
    db:transaction(function() save_checkpoint(db, ctx.revision, name, walk.last, walk.done, true) end)
  end
  local this_run = walk.done - (resume and resume.rows or 0)
  ctx.rows = (ctx.rows or 0) + this_run
  if ctx.dry_run and log then
    log:info(("backfill %s: %s (dry run: rolled back)"):format(name, text.count(this_run, "row")))
  end
  return this_run
end

return M
