--- PostgreSQL's part of the online ops (luamig.run.online): a BEFORE trigger
--- keeps two columns in sync, constraints are added NOT VALID and validated
--- apart, indexes are built CONCURRENTLY. `run(sql, t)` runs one DDL
--- statement on table `t` under the step's lock_timeout, with retries;
--- `atomic(what, t, fn)` the statements fn runs as one transaction.
local common = require "luamig.model.sql"
local ddl = require "luamig.model.ddl"

local M = {}

local q = common.quote_ident

-- BEFORE triggers fill a column before NOT NULL is checked: the new column
-- can be NOT NULL from the expand on, and the old one stays NOT NULL.
M.not_null_in_expand = true

-- "schema."-prefix of a possibly qualified table name ("" when unqualified).
local function schema_of(t)
  local s = t:match("^(.+)%.[^.]+$")
  return s and (q(s) .. ".") or ""
end

---The column's type, NOT NULL and default, or nil when it does not exist.
---@return {type: string, not_null: boolean, default: string?}?
function M.column(db, t, col)
  local r = db:first([[
SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS "default"
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ?::regclass AND a.attname = ? AND NOT a.attisdropped]], ddl.qualified(t), col)
  if not r then return nil end
  return { type = r.type, not_null = r.not_null == true or r.not_null == "t", default = r.default }
end

---The CHECK constraints on `col` alone, each { name, condition }.
---@return {name: string, condition: string}[]
function M.checks(db, t, col)
  local out = {}
  for i, r in ipairs(db:query([[
SELECT c.conname AS name, pg_catalog.pg_get_expr(c.conbin, c.conrelid) AS condition
FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attname = ?
WHERE c.conrelid = ?::regclass AND c.contype = 'c' AND c.conkey = ARRAY[a.attnum] ORDER BY c.conname]], col,
    ddl.qualified(t))) do
    out[i] = { name = r.name, condition = r.condition }
  end
  return out
end

---The table's column names.
---@return string[]
function M.columns(db, t)
  local out = {}
  for i, r in ipairs(db:query("SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = ?::regclass AND " ..
    "attnum > 0 AND NOT attisdropped ORDER BY attnum", ddl.qualified(t))) do out[i] = r.attname end
  return out
end

-- BEFORE INSERT OR UPDATE trigger `name` on `t` running function `fn`
-- (created or replaced) of body `body`.
local function trigger(run, t, name, fn, body)
  run(([[
CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $luamig$
BEGIN
%s
  RETURN NEW;
END $luamig$]]):format(fn, body))
  run(("DROP TRIGGER IF EXISTS %s ON %s"):format(q(name), ddl.qualified(t)))
  -- (WHEN: the backfill's own writes skip the function call altogether)
  run(("CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW WHEN " ..
    "(pg_catalog.current_setting('luamig.sync', true) IS DISTINCT FROM 'off') EXECUTE FUNCTION %s()")
    :format(q(name), ddl.qualified(t), fn))
end

---A trigger `name` on `t` that fills `b` from `a` (expression `up`, in
---terms of NEW) and `a` from `b` (`down`) as each side is written; `down`
---nil: `b` only (a fill from `up` when a write leaves it NULL). Writes by
---luamig's own backfill (M.quiet) pass untouched. `seen(side)` is the SQL
---that notes a write through `a` (the "still written" rule), or "".
function M.sync(run, t, name, a, b, up, down, seen)
  local fn = schema_of(t) .. q(name)
  local B = "NEW." .. q(b)
  local body
  if down then
    local A = "NEW." .. q(a)
    body = ([[
  IF TG_OP = 'INSERT' THEN
    IF %s IS NULL THEN %s := %s; %s
    ELSE %s := %s; END IF;
  ELSIF %s IS DISTINCT FROM OLD.%s AND %s IS NOT DISTINCT FROM OLD.%s THEN %s := %s; %s
  ELSIF %s IS DISTINCT FROM OLD.%s AND %s IS NOT DISTINCT FROM OLD.%s THEN %s := %s;
  END IF;]]):format(B, B, up, seen, A, down, A, q(a), B, q(b), B, up, seen, B, q(b), A, q(a), A, down)
  else
    body = ("  IF %s IS NULL THEN %s := %s; END IF;"):format(B, B, up)
  end
  trigger(run, t, name, fn, body)
end

---A trigger `name` on `t` that sets `b` to `up` (in terms of NEW) in every
---row written (op.online.retype_column's shadow column); luamig's own
---backfill writes (M.quiet) pass untouched.
function M.mirror(run, t, name, b, up)
  trigger(run, t, name, schema_of(t) .. q(name), ("  NEW.%s := %s;"):format(q(b), up))
end

function M.drop_sync(run, t, name)
  run(("DROP TRIGGER IF EXISTS %s ON %s"):format(q(name), ddl.qualified(t)))
  run(("DROP FUNCTION IF EXISTS %s()"):format(schema_of(t) .. q(name)))
end

---Inside a backfill batch's transaction: this session's writes skip the sync triggers.
function M.quiet(db) db:exec("SET LOCAL luamig.sync = 'off'") end

---The SQL a trigger runs to note a write through column `col` of `t` in
---`writes` (a table luamig keeps: table, column, last write), at most once
---a second per column and session so that busy tables do not contend on one row.
function M.seen_sql(writes, t, col)
  return ([[IF pg_catalog.current_setting('luamig.seen_' || %s, true) IS DISTINCT FROM
      pg_catalog.to_char(pg_catalog.now(), 'YYYYMMDDHH24MISS') THEN
      INSERT INTO %s (table_name, column_name, written_at) VALUES (%s, %s, pg_catalog.now())
        ON CONFLICT (table_name, column_name) DO UPDATE SET written_at = excluded.written_at;
      PERFORM pg_catalog.set_config('luamig.seen_' || %s, pg_catalog.to_char(pg_catalog.now(), 'YYYYMMDDHH24MISS'), false);
    END IF;]]):format(common.quote_literal(col), writes, common.quote_literal(t), common.quote_literal(col),
    common.quote_literal(col))
end

---The table that seen_sql writes, created if missing.
function M.ensure_writes(db, writes)
  db:exec("CREATE TABLE IF NOT EXISTS " .. writes .. " (table_name TEXT NOT NULL, column_name TEXT NOT NULL, " ..
    "written_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (table_name, column_name))")
end

---Seconds since the last write seen_sql noted through `col` of `t` (nil: none).
function M.since_write(db, writes, t, col)
  local v = db:scalar("SELECT extract(epoch FROM pg_catalog.now() - written_at)::float8 FROM " .. writes ..
    " WHERE table_name = ? AND column_name = ?", t, col)
  return v and tonumber(v)
end

-- The names of `names` that are constraints of `t` (db nil: the fresh
-- state of upgrade --sql, all of them, dropped IF EXISTS).
local function existing(db, t, names)
  if not db then return names end
  local out = {}
  for _, n in ipairs(names) do
    if db:scalar("SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = ?::regclass AND conname = ?",
      ddl.qualified(t), n) then out[#out + 1] = n end
  end
  return out
end

-- One ALTER TABLE of `t` applying fmt to each of `list` (one lock taken, not one per item).
local function alter_each(t, fmt, list)
  local parts = {}
  for i, x in ipairs(list) do parts[i] = fmt:format(q(x)) end
  return ("ALTER TABLE %s %s"):format(ddl.qualified(t), table.concat(parts, ", "))
end

---Drop the checks `names` of `t` that exist (an ALTER TABLE takes ACCESS
---EXCLUSIVE even when IF EXISTS finds nothing: the catalog is asked first).
function M.drop_checks(run, t, names, db)
  local found = existing(db, t, names)
  if #found > 0 then run(alter_each(t, "DROP CONSTRAINT IF EXISTS %s", found), t) end
end

---SET NOT NULL on `cols` of `t` without a scan under the exclusive lock:
---CHECK (col IS NOT NULL) NOT VALID for all (one ACCESS EXCLUSIVE), one
---VALIDATE (SHARE UPDATE EXCLUSIVE, the scan), then in one transaction SET
---NOT NULL (proven by the checks) and the helper checks `names` dropped
---(one ACCESS EXCLUSIVE: DROP in the same ALTER TABLE would run first and
---make SET NOT NULL scan).
function M.not_null(run, t, cols, names, db, atomic)
  M.drop_checks(run, t, names, db) -- (a killed run's NOT VALID leftovers)
  local adds, validates, sets = {}, {}, {}
  for i, c in ipairs(cols) do
    adds[i] = ("ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID"):format(q(names[i]), q(c))
    validates[i] = "VALIDATE CONSTRAINT " .. q(names[i])
    sets[i] = ("ALTER COLUMN %s SET NOT NULL"):format(q(c))
  end
  local qt = ddl.qualified(t)
  run(("ALTER TABLE %s %s"):format(qt, table.concat(adds, ", ")), t)
  run(("ALTER TABLE %s %s"):format(qt, table.concat(validates, ", ")), t)
  atomic("not null " .. t, t, function()
    run(("ALTER TABLE %s %s"):format(qt, table.concat(sets, ", ")))
    run(alter_each(t, "DROP CONSTRAINT %s", names))
  end)
end

---Drop the check `name` when it exists.
function M.drop_check(run, t, name, db)
  M.drop_checks(run, t, { name }, db)
end

---A constraint clause (CHECK (...), FOREIGN KEY ...) added NOT VALID, then
---validated (again from the start when a killed run left it).
function M.validated(run, t, name, clause, db)
  M.drop_check(run, t, name, db)
  run(("ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID"):format(ddl.qualified(t), q(name), clause), t)
  run(("ALTER TABLE %s VALIDATE CONSTRAINT %s"):format(ddl.qualified(t), q(name)), t)
end

---Inside the transaction of a DDL statement on `t`, before it: take SHARE
---UPDATE EXCLUSIVE, which no application statement conflicts with (so
---waiting for it holds no application up), waiting up to 3 x
---deadlock_timeout rather than lock_timeout. Autovacuum holds that lock, and
---yields only to a waiter that waited deadlock_timeout (1 s) -- longer than
---a 500ms lock_timeout lets the DDL itself wait, so without this its
---retries never get past it. Held, it keeps autovacuum from starting again
---before the DDL's own lock (under lock_timeout) is granted.
function M.hold_maintenance(db, t)
  local lt = db:scalar("SELECT pg_catalog.current_setting('lock_timeout')")
  if lt ~= "0" then
    db:exec("SELECT pg_catalog.set_config('lock_timeout', (3 * setting::int)::text, true) FROM pg_catalog.pg_settings " ..
      "WHERE name = 'deadlock_timeout'")
  end
  db:exec(("LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE"):format(ddl.qualified(t)))
  if lt ~= "0" then db:exec("SELECT pg_catalog.set_config('lock_timeout', ?, true)", lt) end
end

---Who holds a lock on `t` now, the longest-running first: "pid N (backend
---type: query, mode, for S s)", for the lock_timeout retry's warning; nil: nobody.
function M.blocker(db, t)
  local r = db:first([[
SELECT a.pid, a.backend_type, left(a.query, 80) AS query, l.mode,
       round(extract(epoch FROM pg_catalog.now() - coalesce(a.xact_start, a.backend_start))::numeric, 1) AS secs
FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.locktype = 'relation' AND l.relation = ?::regclass AND l.pid <> pg_catalog.pg_backend_pid()
ORDER BY coalesce(a.xact_start, a.backend_start) LIMIT 1]], ddl.qualified(t))
  if not r then return nil end
  return ("pid %s (%s: %s; %s for %ss)"):format(r.pid, r.backend_type, r.query, r.mode, r.secs)
end

---CREATE [UNIQUE] INDEX CONCURRENTLY; an INVALID index of that name (a
---killed build's leftover) is dropped and built again. `sql` is the
---CREATE INDEX CONCURRENTLY statement; `db` nil: the fresh state (upgrade --sql), nothing to check.
function M.index(run, db, name, sql)
  if not db then return run(sql) end
  local valid = db:scalar("SELECT i.indisvalid FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON " ..
    "c.oid = i.indexrelid WHERE c.relname = ? AND pg_catalog.pg_table_is_visible(c.oid)", name)
  if valid == true or valid == "t" then return end
  if valid ~= nil then run("DROP INDEX CONCURRENTLY IF EXISTS " .. q(name)) end
  run(sql)
end

function M.drop_index(run, name) run("DROP INDEX CONCURRENTLY IF EXISTS " .. q(name)) end

---A unique constraint from a unique index built CONCURRENTLY.
function M.unique(run, db, t, name, cols)
  M.index(run, db, name, ("CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s)"):format(q(name), ddl.qualified(t),
    ddl.names(cols)))
  run(("ALTER TABLE %s ADD CONSTRAINT %s UNIQUE USING INDEX %s"):format(ddl.qualified(t), q(name), q(name)), t)
end

function M.drop_unique(run, db, t, name)
  M.drop_check(run, t, name, db) -- (drops its index with it)
end

-- Type families in which a change of length or precision alone rewrites
-- nothing when it only widens: varchar(n) -> varchar(m >= n), text, or
-- unbounded varchar; numeric(p, s) -> numeric(q >= p, s) or unbounded numeric.
local function family(ty)
  ty = ty:lower()
  local base, args = ty:match("^([%a ]-)%s*%((.*)%)$")
  base = base or ty
  local n = {}
  for x in (args or ""):gmatch("%d+") do n[#n + 1] = tonumber(x) end
  if base == "character varying" or base == "varchar" then return "varchar", n end
  if base == "text" then return "text", n end
  if base == "numeric" or base == "decimal" then return "numeric", n end
  return base, n
end

---Whether changing a column from type `from` to `to` (the catalog's
---spelling, format_type) makes PostgreSQL rewrite the table: every change
---but a widening of length or precision (varchar(n) to varchar(m >= n) or
---text; numeric(p, s) to numeric(q >= p, s)).
---@param from string
---@param to string
---@return boolean
function M.rewrites_type(from, to)
  local fb, fa = family(from)
  local tb, ta = family(to)
  if fb == "varchar" and (tb == "text" or (tb == "varchar" and (ta[1] == nil or (fa[1] and ta[1] >= fa[1])))) then
    return false
  end
  if fb == "text" and tb == "varchar" and ta[1] == nil then return false end
  if fb == "numeric" and tb == "numeric" then
    return not (ta[1] == nil or (fa[1] and ta[1] >= fa[1] and (ta[2] or 0) == (fa[2] or 0)))
  end
  return from:lower() ~= to:lower()
end

M.retype = require "luamig.dialect.postgresql.retype"

---Whether CREATE INDEX CONCURRENTLY can run in a step of this kind.
function M.needs_autocommit() return true end

return M
