--- PostgreSQL's part of the online ops (luamig.run.online): a BEFORE trigger
--- keeps two columns in sync, constraints are added NOT VALID and validated
--- apart, indexes are built CONCURRENTLY. `run(sql, ...)` runs one DDL
--- statement under the step's lock_timeout, with retries.
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

---SET NOT NULL without a scan under the exclusive lock: a CHECK added NOT
---VALID, validated (SHARE UPDATE EXCLUSIVE), then SET NOT NULL uses it.
---The check (`check_name`) stays until the contract phase drops it.
function M.not_null(run, t, col, check_name)
  M.drop_check(run, t, check_name) -- (a killed run's NOT VALID leftover)
  run(("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID"):format(ddl.qualified(t), q(check_name),
    q(col)))
  run(("ALTER TABLE %s VALIDATE CONSTRAINT %s"):format(ddl.qualified(t), q(check_name)))
  run(("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL"):format(ddl.qualified(t), q(col)))
end

---Drop the check `name` when it exists.
function M.drop_check(run, t, name)
  run(("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s"):format(ddl.qualified(t), q(name)))
end

---A constraint clause (CHECK (...), FOREIGN KEY ...) added NOT VALID, then
---validated (again from the start when a killed run left it).
function M.validated(run, t, name, clause)
  M.drop_check(run, t, name)
  run(("ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID"):format(ddl.qualified(t), q(name), clause))
  run(("ALTER TABLE %s VALIDATE CONSTRAINT %s"):format(ddl.qualified(t), q(name)))
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
  run(("ALTER TABLE %s ADD CONSTRAINT %s UNIQUE USING INDEX %s"):format(ddl.qualified(t), q(name), q(name)))
end

function M.drop_unique(run, _, t, name)
  M.drop_check(run, t, name) -- (drops its index with it)
end

---Whether CREATE INDEX CONCURRENTLY can run in a step of this kind.
function M.needs_autocommit() return true end

return M
