--- op.online.*: zero-downtime schema changes. Each op does its part of the
--- phase running now (ctx.phase): `expand` adds (a new column kept in sync
--- with the old one by a trigger, then backfilled: one pass per table,
--- luamig.run.online_fill), `contract` removes what only the old
--- application needed, `downgrade` undoes the expand and `uncontract` the
--- contract. What differs between backends is the dialect's `online` part.
--- Every DDL statement runs under the step's lock_timeout; outside a
--- transaction each one first waits out maintenance on its table (the
--- dialect's hold_maintenance) and is retried with a doubling backoff when
--- it times out on a lock.
local errors = require "luamig.util.errors"
local host = require "luamig.host"
local ddl = require "luamig.model.ddl"
local sqltext = require "luamig.model.sql"
local online_fill = require "luamig.run.online_fill"
local online_retype = require "luamig.run.online_retype"
local online_sql = require "luamig.run.online_sql"
local timeouts = require "luamig.run.timeouts"
local json = require "luamig.util.json"
local cjson = require "cjson"

local M = {}

M.RETRIES = 10 -- per DDL statement, outside a transaction
M.WRITES = "luamig_online_writes" -- last write through each synced old column (the "still written" rule)
M.SHAPES = "luamig_online_shapes" -- rename/alter_column: the old column's shape, from expand until it is undone

---@param ctx luamig.StepContext
local function raise(ctx, fmt, ...)
  errors.raise("migration", fmt:format(...), { where = host.where(ctx.path) })
end

-- Calls fn() (ok, err) until it succeeds or fails otherwise than on a
-- lock_timeout (55P03), at most 1 + M.RETRIES times, with backoff. Each
-- retry's warning names who held table `t` then (the dialect's blocker).
local function retried(ctx, what, t, fn)
  local delay = timeouts.FIRST_DELAY
  for attempt = 1, M.RETRIES + 1 do
    local ok, r = fn()
    if ok then return r end
    if attempt > M.RETRIES or not (errors.is(r) and r.code == "55P03") then error(r, 0) end
    if ctx.log then
      local o = ctx.dialect.online
      local ok_b, who = pcall(function() return t and o.blocker and o.blocker(ctx.db, t) end)
      ctx.log:warn(("%s: lock_timeout; retrying in %.1fs (attempt %d of %d): %s%s"):format(ctx.revision, delay,
        attempt + 1, M.RETRIES + 1, what, ok_b and who and (" (waiting on " .. who .. ")") or ""))
    end
    host.sleep_ms(math.floor(delay * 1000))
    delay = math.min(delay * 2, timeouts.MAX_DELAY)
  end
end

-- run(sql, t): one DDL statement on table `t` (nil: none); outside a
-- transaction a lock_timeout is retried, since the failed statement changed
-- nothing. atomic(what, t, fn): the statements fn runs commit together
-- (retried as one), so that no application write lands between them (the
-- trigger gone, the column not). Both first wait out maintenance on `t`
-- (the dialect's hold_maintenance: autovacuum) in their transaction.
local function runner(ctx)
  local db, o = ctx.db, ctx.dialect.online
  local grouped = false
  -- fn() in a transaction that first waits out maintenance on `t`
  local function held(t, fn)
    return pcall(db.transaction, db, function()
      if t and o.hold_maintenance then o.hold_maintenance(db, t) end
      return fn()
    end)
  end
  local function run(sql, t)
    if grouped or ctx.offline or db:in_transaction() then return db:exec(sql) end
    local function exec() return db:exec(sql) end
    return retried(ctx, sql:match("^%s*([^\n]*)"), t, function()
      if t and o.hold_maintenance then return held(t, exec) end
      return pcall(exec)
    end)
  end
  local function atomic(what, t, fn)
    if grouped or (not ctx.offline and db:in_transaction()) then return fn() end
    if ctx.offline then -- (the recorder's transaction prints nothing)
      db:exec("BEGIN")
      fn()
      return db:exec("COMMIT")
    end
    return retried(ctx, what, t, function()
      grouped = true
      local ok, r = held(t, fn)
      grouped = false
      return ok, r
    end)
  end
  return run, atomic
end

-- A luamig-owned table (M.WRITES, M.SHAPES), quoted and plain (for
-- has_table), qualified as the version tables are (offline: unqualified).
local function owned_table(ctx, name)
  local d = ctx.dialect
  local home = not ctx.offline and d.home_schema and d.home_schema(ctx.db)
  if not home then return d.quote_ident(name), name end
  return d.quote_ident(home) .. "." .. d.quote_ident(name), home .. "." .. name
end

-- `expr` with each of `cols` it names (a bare or quoted identifier) spelled
-- NEW."col", for a trigger body.
local function of_new(d, expr, cols)
  local map = {}
  for _, c in ipairs(cols) do
    local new = "NEW." .. d.quote_ident(c)
    map[c:lower()], map['"' .. c .. '"'] = new, new
  end
  return sqltext.columns_replaced(expr, map, d.name)
end

local function base(t) return t:match("[^.]+$") end
local function sync_name(t, col) return ("luamig_sync_%s_%s"):format(base(t), col):sub(1, 60) end
local function check_name(t, col) return ("%s_%s_not_null"):format(base(t), col):sub(1, 60) end

-- The ops of one step context.
local function build(ctx)
  local db, d = ctx.db, ctx.dialect
  local o = d.online
  local run, atomic = runner(ctx)
  local sql = ctx.offline and online_sql.new(ctx) -- (upgrade --sql: the fresh state, no database)
  local live = not sql and db or nil -- (for the dialect's catalog checks)
  if sql and not ctx.transactional then
    sql:note(("each statement below waits at most the migration's lock_timeout; one that times out on a lock is " ..
      "retried up to %d times with backoff (how often depends on live traffic)"):format(M.RETRIES))
  end
  local function col(t, c)
    if sql then return sql:column(t, c) end
    return o.column(db, t, c)
  end
  -- a change of a column or constraint (`what`), by fn(); offline on a
  -- dialect that rebuilds the table for it, a note
  local function reshape(t, what, fn)
    if sql and o.rebuilds then return sql:rebuilt(t, what) end
    return fn()
  end
  local function alter(t, c, opts)
    reshape(t, "alter column " .. c, function() d.alter_column(db, t, c, opts) end)
  end
  local function validated(t, name, clause, spec)
    reshape(t, "add constraint " .. name, function() o.validated(run, t, name, clause, live, spec) end)
  end
  local function drop_constraint(t, name)
    reshape(t, "drop constraint " .. name, function() d.drop_constraint(db, t, name) end)
  end
  local function need_autocommit(name)
    if ctx.transactional and o.needs_autocommit() then
      raise(ctx, "op.online.%s builds an index CONCURRENTLY, which cannot run in a transaction: " ..
        "set transactional = false in this migration", name)
    end
  end
  local function add(t, c, type_sql, default)
    if sql then
      if sql:added(t, c) then return end
      sql:set(t, c, { type = type_sql, default = default, not_null = false, added = true })
    elseif col(t, c) then
      return -- (a rerun after a kill)
    end
    run(("ALTER TABLE %s ADD COLUMN %s %s%s"):format(ddl.qualified(t), d.quote_ident(c), type_sql,
      default and (" DEFAULT " .. default) or ""), t)
  end
  local function drop(t, c)
    if sql then
      if not sql:exists(t, c) then return end
      sql:set(t, c, false)
    elseif not col(t, c) then
      return
    end
    reshape(t, "drop column " .. c, function() d.drop_column(db, t, c) end)
  end
  local function seen(t, old)
    local w = (owned_table(ctx, M.WRITES))
    o.ensure_writes(db, w)
    return o.seen_sql(w, t, old)
  end
  -- NOT NULL on those of `cols` that are not yet, together
  local function not_null(t, cols)
    if type(cols) == "string" then cols = { cols } end
    local todo, names = {}, {}
    for _, c in ipairs(cols) do
      local info = col(t, c)
      if info and not info.not_null then
        todo[#todo + 1], names[#names + 1] = c, check_name(t, c)
        if sql then sql:set(t, c, { not_null = true }) end
      end
    end
    if #todo == 0 then return end
    reshape(t, "NOT NULL on " .. table.concat(todo, ", "), function()
      o.not_null(run, t, todo, names, live, atomic)
    end)
  end
  local fills = online_fill.new(ctx, not_null)
  -- target = expr for the rows that exist now (newer ones get it from the
  -- trigger), in the table's one pass; then `follow` (NOT NULL, after())
  local function fill(t, opts, target, expr, follow)
    if not sql then return fills.add(t, opts, target, expr, follow) end
    sql:fill(t, opts or {}, target, expr, o.quiet)
    follow = follow or {}
    if follow.not_null then not_null(t, target) end
    if follow.after then follow.after() end
  end
  local function drop_check(t, c)
    if o.drop_check then o.drop_check(run, t, check_name(t, c), live) end
  end
  local function still_written(t, old)
    if ctx.force or (ctx.still_written or 0) <= 0 then return end
    if sql then
      return sql:note(("contract refuses to drop %s.%s if the sync trigger saw a write through it within the last " ..
        "%ds (still_written; checked at run time)"):format(t, old, math.floor(ctx.still_written)))
    end
    local w, plain = owned_table(ctx, M.WRITES)
    if not db:has_table(plain) then return end
    local ago = o.since_write(db, w, t, old)
    if ago and ago < ctx.still_written then
      raise(ctx, "contract would drop %s.%s, which is still written: the sync trigger saw a write through that " ..
        "name %ds ago (within still_written = %ds); stop the old application first, or run contract --force",
        t, old, math.floor(ago), math.floor(ctx.still_written))
    end
  end
  -- the sync trigger (re)created in one transaction: a rerun after a kill
  -- replaces it without a moment in which writes go unsynced
  local function sync(t, name, a, b, up, down, seen_sql)
    atomic("sync " .. t .. "." .. b, t, function() o.sync(run, t, name, a, b, up, down, seen_sql) end)
  end
  local function unsync(t, new)
    o.drop_sync(run, t, sync_name(t, new))
  end
  -- a two-way sync of old and new, then the new one backfilled (in the
  -- table's one pass), NOT NULL when `not_null_after`, then after()
  local function synced(t, old, new, up, down, opts, not_null_after, after)
    local cols = { old, new }
    local info = col(t, old)
    if info and info.not_null and not o.not_null_in_expand then -- (a trigger here cannot fill it before the check)
      alter(t, old, { nullable = true })
    end
    sync(t, sync_name(t, new), old, new, of_new(d, up, cols), of_new(d, down, cols), seen(t, old))
    fill(t, opts, new, up, { not_null = not_null_after and o.not_null_in_expand, after = after })
  end

  -- The shape of t.c (type, NOT NULL, default, its own checks) kept in
  -- M.SHAPES from expand on (a rerun keeps the first record: the old
  -- column may be relaxed by then), for an exact uncontract.
  local function remember(t, c)
    if sql then
      return sql:note(("luamig keeps %s.%s's type, default, NOT NULL and checks (read from the database) in %s, " ..
        "for uncontract"):format(t, c, M.SHAPES))
    end
    local info = col(t, c)
    local shapes = owned_table(ctx, M.SHAPES)
    db:exec("CREATE TABLE IF NOT EXISTS " .. shapes .. " (table_name TEXT NOT NULL, column_name TEXT NOT NULL, " ..
      "revision TEXT NOT NULL, shape TEXT NOT NULL, PRIMARY KEY (table_name, column_name))")
    local checks = {}
    for _, k in ipairs(o.checks(db, t, c)) do
      if k.name ~= check_name(t, c) then checks[#checks + 1] = k end -- (not luamig's own NOT NULL helper)
    end
    db:exec("INSERT INTO " .. shapes .. " (table_name, column_name, revision, shape) VALUES (?, ?, ?, ?) " ..
      "ON CONFLICT (table_name, column_name) DO NOTHING", t, c, ctx.revision, json.encode({ type = info.type,
        not_null = info.not_null, default = info.default, checks = checks }))
  end
  local function recalled(t, c)
    if sql then
      sql:note(("%s.%s's shape as expand found it is read from %s at run time"):format(t, c, M.SHAPES))
      return { type = ("<type of %s.%s at expand>"):format(t, c), checks = {} }
    end
    local shapes, plain = owned_table(ctx, M.SHAPES)
    if not db:has_table(plain) then return nil end
    local text = db:scalar("SELECT shape FROM " .. shapes .. " WHERE table_name = ? AND column_name = ?", t, c)
    return text and cjson.decode(text)
  end
  local function forget(t, c)
    if sql then return sql:note(("luamig forgets %s.%s's shape in %s"):format(t, c, M.SHAPES)) end
    local shapes, plain = owned_table(ctx, M.SHAPES)
    if db:has_table(plain) then db:exec("DELETE FROM " .. shapes .. " WHERE table_name = ? AND column_name = ?", t, c) end
  end

  -- where expand made the old column nullable (no trigger can fill it
  -- before NOT NULL is checked), undoing it makes it NOT NULL again: as
  -- expand found it (M.SHAPES), else when the op says nullable = false
  local function relax_undone(t, old, opts)
    local shape = recalled(t, old)
    local was = shape and shape.not_null or (not shape and opts and opts.nullable == false)
    if was and not o.not_null_in_expand then alter(t, old, { nullable = false }) end
    forget(t, old)
  end

  -- uncontract: `old` back as `shape` says (type, default, NOT NULL where
  -- the dialect keeps it in expand, its checks), synced with `new` again
  -- through `up` and `down`, and filled from it through `down`; `new`
  -- nullable again where expand left it so
  local function readded(t, old, new, shape, up, down, opts)
    add(t, old, shape.type) -- (its default after the fill: a default would fill the rows that exist now)
    if opts and opts.nullable == false and not o.not_null_in_expand then alter(t, new, { nullable = true }) end
    local cols = { old, new }
    sync(t, sync_name(t, new), old, new, of_new(d, up, cols), of_new(d, down, cols), seen(t, old))
    fill(t, opts, old, down, { not_null = shape.not_null and o.not_null_in_expand, after = function()
      if shape.default then alter(t, old, { server_default = shape.default }) end
      for _, k in ipairs(shape.checks or {}) do
        validated(t, k.name or ("%s_%s_check"):format(base(t), old), ("CHECK (%s)"):format(k.condition),
          { type = "check", condition = k.condition })
      end
    end })
  end

  -- the trigger that gives rows the old application writes `c` = `expr`
  local function fill_new(t, c, expr)
    sync(t, sync_name(t, c), nil, c, of_new(d, expr, sql and sql:known(t, "id") or o.columns(db, t)), nil, "")
  end

  local P = {}

  P.rename_column = {
    expand = function(t, old, new, opts)
      local info = col(t, old) or raise(ctx, "op.online.rename_column: %s has no column %s", t, old)
      remember(t, old)
      add(t, new, info.type)
      synced(t, old, new, d.quote_ident(old), d.quote_ident(new), opts, info.not_null)
    end,
    check_contract = function(t, old) still_written(t, old) end,
    contract = function(t, old, new, opts)
      local info = col(t, old)
      still_written(t, old)
      atomic("contract " .. t .. "." .. old, t, function()
        unsync(t, new)
        if info and info.default then alter(t, new, { server_default = info.default }) end
        drop_check(t, new)
        drop(t, old)
      end)
      if opts and opts.nullable == false then not_null(t, new) end
    end,
    downgrade = function(t, old, new, opts)
      atomic("undo " .. t .. "." .. new, t, function()
        unsync(t, new)
        drop_check(t, new)
        drop_check(t, old) -- (uncontract's, when it ran)
        drop(t, new)
      end)
      relax_undone(t, old, opts)
    end,
    uncontract = function(t, old, new, opts)
      local info = col(t, new) or raise(ctx, "op.online.rename_column: %s has no column %s", t, new)
      local shape = recalled(t, old) -- (its checks went with it; the type, default and NOT NULL are the new one's)
      readded(t, old, new, { type = info.type, default = info.default, not_null = info.not_null,
        checks = shape and shape.checks }, d.quote_ident(old), d.quote_ident(new), opts)
    end,
  }

  P.alter_column = {
    expand = function(t, c, new, opts)
      if type(opts) ~= "table" or type(opts.type) ~= "string" or type(opts.up) ~= "string"
        or type(opts.down) ~= "string" then
        raise(ctx, 'op.online.alter_column(table, column, new_name, { type = "...", up = "SQL", down = "SQL" })')
      end
      if not col(t, c) then raise(ctx, "op.online.alter_column: %s has no column %s", t, c) end
      remember(t, c)
      add(t, new, opts.type)
      synced(t, c, new, opts.up, opts.down, opts, opts.nullable == false, opts.check and function()
        validated(t, ("%s_%s_check"):format(base(t), new), ("CHECK (%s)"):format(opts.check),
          { type = "check", condition = opts.check })
      end)
    end,
    check_contract = function(t, c) still_written(t, c) end,
    contract = function(t, c, new, opts)
      still_written(t, c)
      atomic("contract " .. t .. "." .. c, t, function()
        unsync(t, new)
        drop_check(t, new)
        drop(t, c)
      end)
      if opts and opts.nullable == false then not_null(t, new) end
    end,
    downgrade = function(t, c, new, opts)
      atomic("undo " .. t .. "." .. new, t, function()
        unsync(t, new)
        drop_check(t, c) -- (uncontract's, when it ran)
        drop(t, new)
      end)
      relax_undone(t, c, opts)
    end,
    -- back to the expanded shape: the old column as expand found it (its
    -- type, default, NOT NULL where the dialect keeps it in expand, its
    -- checks), filled from the new one through `down`, both kept in sync
    uncontract = function(t, c, new, opts)
      local shape = recalled(t, c) or raise(ctx, "op.online.alter_column: luamig kept no record of %s.%s's shape " ..
        "(its expand ran before luamig kept one in %s); write uncontract(db) without it", t, c, M.SHAPES)
      readded(t, c, new, shape, opts.up, opts.down, opts)
    end,
  }

  P.add_column = {
    expand = function(t, c, opts)
      if type(opts) ~= "table" or type(opts.type) ~= "string" then
        raise(ctx, 'op.online.add_column(table, column, { type = "...", nullable = false, default = "SQL", ' ..
          'backfill = "SQL" })')
      end
      if opts.nullable == false and not opts.default and not opts.backfill then
        raise(ctx, "op.online.add_column: a NOT NULL column needs default or backfill (the old application " ..
          "does not write %s)", c)
      end
      add(t, c, opts.type, opts.default)
      local value = opts.backfill or opts.default
      if opts.backfill then fill_new(t, c, opts.backfill) end
      local nn = opts.nullable == false and o.not_null_in_expand
      if value then fill(t, opts, c, value, { not_null = nn }) elseif nn then not_null(t, c) end
    end,
    contract = function(t, c, opts)
      if opts and opts.backfill then unsync(t, c) end
      drop_check(t, c)
      if opts and opts.nullable == false then not_null(t, c) end
    end,
    downgrade = function(t, c)
      atomic("undo " .. t .. "." .. c, t, function()
        unsync(t, c)
        drop_check(t, c)
        drop(t, c)
      end)
    end,
    -- back to the expanded shape: nullable where expand left it so (its helper
    -- check is not restored), the old application's rows get the backfill again
    uncontract = function(t, c, opts)
      if opts and opts.nullable == false and not o.not_null_in_expand then
        alter(t, c, { nullable = true })
      end
      if opts and opts.backfill then fill_new(t, c, opts.backfill) end
    end,
  }

  P.add_check = {
    expand = function(t, name, condition)
      validated(t, name, ("CHECK (%s)"):format(condition), { type = "check", condition = condition })
    end,
    downgrade = function(t, name) drop_constraint(t, name) end,
  }

  P.add_foreign_key = {
    expand = function(name, source, referent, local_cols, remote_cols, opts)
      opts = opts or {}
      local clause = ("FOREIGN KEY (%s)%s"):format(ddl.names(local_cols), ddl.references(referent, remote_cols,
        opts.on_delete, opts.on_update))
      validated(source, name, clause, { type = "foreign_key", columns = local_cols, references = referent,
        ref_columns = remote_cols, on_delete = opts.on_delete, on_update = opts.on_update })
    end,
    downgrade = function(name, source) drop_constraint(source, name) end,
  }

  P.add_unique = {
    expand = function(t, name, cols)
      need_autocommit("add_unique")
      o.unique(run, live, t, name, cols)
    end,
    downgrade = function(t, name) o.drop_unique(run, db, t, name) end,
  }

  P.create_index = {
    expand = function(name, t, cols, opts)
      need_autocommit("create_index")
      o.index(run, live, name, ddl.create_index(d, name, t, cols, opts, "CONCURRENTLY "))
    end,
    downgrade = function(name)
      need_autocommit("create_index")
      o.drop_index(run, name)
    end,
  }

  P.drop_index = {
    contract = function(name)
      need_autocommit("drop_index")
      o.drop_index(run, name)
    end,
  }

  local retype = online_retype.new(ctx, { run = run, atomic = atomic, fills = fills, sync_name = sync_name,
    of_new = of_new })
  P.retype_column = { upgrade = retype, downgrade = retype }

  P.drop_column = { contract = function(t, c) drop(t, c) end }
  P.drop_table = { contract = function(t) run("DROP TABLE IF EXISTS " .. ddl.qualified(t)) end }
  return P, fills.settle
end

-- Why an op's contract cannot be undone (uncontract).
local NO_UNDO = { drop_column = "the dropped column's data is gone",
  drop_table = "the dropped table's rows are gone", drop_index = "the index's definition is gone" }

-- The ops whose backfill waits for the table's one pass (luamig.run.online_fill).
local QUEUES = { rename_column = true, alter_column = true, add_column = true }

-- The ops that do all they do in one call, in upgrade(db) or downgrade(db)
-- (not expand/contract).
local WHOLE = { retype_column = true }

---Run the backfills the phase's op.online calls queued (one pass per
---table) and what waits for them: at the end of the phase.
---@param ctx luamig.StepContext
function M.settle(ctx)
  if ctx.settle_online then ctx.settle_online() end
end

---op.online for step `ctx`: each op does its part of ctx.phase; during a
---replay (luamig.run.step.phase) the part waits in ctx.deferred.
---@param ctx luamig.StepContext
---@return table
function M.new(ctx)
  local parts, settle
  ctx.settle_online = function() if settle then settle() end end
  local out = {}
  for _, name in ipairs({ "rename_column", "alter_column", "add_column", "add_check", "add_foreign_key",
    "add_unique", "create_index", "drop_index", "drop_column", "drop_table", "retype_column" }) do
    out[name] = function(...)
      if WHOLE[name] and (ctx.replay or (ctx.phase ~= "upgrade" and ctx.phase ~= "downgrade")) then
        raise(ctx, "op.online.%s changes the column in one step: call it in upgrade(db) or downgrade(db), not in " ..
          "%s(db)", name, ctx.replay and "expand" or ctx.phase)
      elseif ctx.phase == "upgrade" and not WHOLE[name] then
        raise(ctx, "op.online.%s runs in expand(db) and contract(db), not in upgrade(db): rename upgrade to expand " ..
          "(its contract phase then runs with `luamig contract`)", name)
      end
      if not parts then parts, settle = build(ctx) end
      if not QUEUES[name] and not ctx.replay then settle() end -- (what it does may need the filled columns)
      local f = parts[name][ctx.phase]
      if not f then
        if ctx.phase == "uncontract" and parts[name].contract then
          errors.raise("migration", ("op.online.%s: its contract cannot be undone by luamig (%s); write " ..
            "uncontract(db) without it"):format(name, NO_UNDO[name] or "no inverse"),
            { where = host.where(ctx.path), refused_op = "op.online." .. name })
        end
        return -- (nothing to do in this phase)
      end
      if not ctx.replay then return f(...) end
      local args, where = table.pack(...), host.where(ctx.path)
      local function later(fn)
        return function()
          local ok, e = pcall(fn, table.unpack(args, 1, args.n))
          if ok then return end
          if errors.is(e) and not e.where then e.where = where end
          error(e, 0)
        end
      end
      ctx.deferred[#ctx.deferred + 1] = later(f)
      local check = parts[name]["check_" .. ctx.phase]
      if check then ctx.prechecks[#ctx.prechecks + 1] = later(check) end
    end
  end
  return setmetatable(out, { __index = function(_, name)
    raise(ctx, "op.online.%s does not exist (online ops: add_check, add_column, add_foreign_key, add_unique, " ..
      "alter_column, create_index, drop_column, drop_index, drop_table, rename_column, retype_column)", tostring(name))
  end })
end

---The step's `op`: the schema ops `op` plus op.online; during a replay the
---plain ops do nothing (expand's own statements ran when it did).
---@param ctx luamig.StepContext
---@param op table  luamig.schema.ops.new(ctx)
---@return table
function M.ops(ctx, op)
  local out = {}
  -- (each made on first use: most steps never touch op, and making them
  -- all made every op of luamig.schema.ops for each step)
  local function get(_, k)
    local f
    if k == "online" then
      f = M.new(ctx)
    else
      local plain = op[k] -- (an unknown name raises here, naming it)
      f = function(...)
        if ctx.replay then return end
        return plain(...)
      end
    end
    rawset(out, k, f)
    return f
  end
  return setmetatable(out, {
    __index = get,
    __pairs = function()
      for k in pairs(op) do
        if rawget(out, k) == nil then get(out, k) end
      end
      if rawget(out, "online") == nil then get(out, "online") end
      return next, out, nil
    end,
  })
end

---The `db` a replayed expand(db) sees: reads pass through, writes do nothing.
---@param db table
---@return table
function M.inert_db(db)
  local out = {}
  for k, v in pairs(db) do out[k] = v end
  out.exec = function() return 0 end
  out.prepare = function() errors.raise("migration", "db:prepare in expand(db) cannot be replayed; write contract(db)") end
  return out
end

return M
