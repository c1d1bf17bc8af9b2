--- SQLite's part of the online ops (luamig.run.online): AFTER triggers keep
--- two columns in sync; constraints and NOT NULL go through the table
--- rebuild (there is no NOT VALID); indexes are plain (one writer at a time).
local common = require "luamig.model.sql"
local ddl = require "luamig.model.ddl"
local alter = require "luamig.dialect.sqlite.alter"
local table_sql = require "luamig.dialect.sqlite.table_sql"

local M = {}

local q = common.quote_ident

-- AFTER triggers run after NOT NULL is checked: expand makes a NOT NULL old
-- column nullable, and NOT NULL on the new one waits for the contract
-- (`nullable = false` in the op's options).
M.not_null_in_expand = false

-- NOT NULL, defaults, constraints and dropped columns rebuild the table
-- (luamig.dialect.sqlite.rebuild), which reads its definition first.
M.rebuilds = true

---The column's type, NOT NULL and default, or nil when it does not exist.
---@return {type: string, not_null: boolean, default: string?}?
function M.column(db, t, col)
  for _, r in ipairs(db:query(("PRAGMA table_info(%s)"):format(q(t)))) do
    if r.name == col then return { type = r.type, not_null = r.notnull == 1, default = r.dflt_value } end
  end
  return nil
end

---The CHECK clauses in `col`'s definition, each { name?, condition }.
---@return {name: string?, condition: string}[]
function M.checks(db, t, col)
  local sql = db:scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", t)
  local out = {}
  for _, item in ipairs(sql and table_sql.parse(sql).items or {}) do
    if item.kind == "column" and item.name == col then
      local _, _, clauses = table_sql.column_parts(item.text)
      for _, cl in ipairs(clauses) do
        local name, cond = cl:match("^[Cc][Oo][Nn][Ss][Tt][Rr][Aa][Ii][Nn][Tt]%s+(.-)%s+[Cc][Hh][Ee][Cc][Kk]%s*(%b())")
        cond = cond or cl:match("^[Cc][Hh][Ee][Cc][Kk]%s*(%b())")
        if cond then out[#out + 1] = { name = name and table_sql.unquote(name), condition = cond:sub(2, -2) } end
      end
    end
  end
  return out
end

---The table's column names.
---@return string[]
function M.columns(db, t)
  local out = {}
  for i, r in ipairs(db:query(("PRAGMA table_info(%s)"):format(q(t)))) do out[i] = r.name end
  return out
end

local function trigger(run, name, event, t, cond, set_col, expr)
  run(("CREATE TRIGGER IF NOT EXISTS %s AFTER %s ON %s WHEN %s BEGIN UPDATE %s SET %s = %s WHERE rowid = NEW.rowid; END")
    :format(q(name), event, ddl.qualified(t), cond, ddl.qualified(t), q(set_col), expr))
end

---Triggers `name_*` on `t` that fill `b` from `a` (expression `up`, in
---terms of NEW) and `a` from `b` (`down`) as each side is written (`down`
---nil: `b` only, when a write leaves it NULL). Each fires only when the
---other side does not hold the translated value yet, so they stop.
---`seen` is the statement that notes a write through `a`, or "".
function M.sync(run, t, name, a, b, up, down, seen)
  local B = "NEW." .. q(b)
  trigger(run, name .. "_ia", "INSERT", t, ("%s IS NULL"):format(B), b, up)
  if not down then
    return trigger(run, name .. "_ub", "UPDATE", t, ("%s IS NULL"):format(B), b, up)
  end
  local A = "NEW." .. q(a)
  trigger(run, name .. "_ib", "INSERT", t, ("%s IS NOT NULL AND %s IS NOT %s"):format(B, A, down), a, down)
  trigger(run, name .. "_ua", "UPDATE OF " .. q(a), t, ("%s IS NOT OLD.%s AND %s IS NOT %s"):format(A, q(a), B, up),
    b, up)
  trigger(run, name .. "_ub", "UPDATE OF " .. q(b), t, ("%s IS NOT OLD.%s AND %s IS NOT %s"):format(B, q(b), A, down),
    a, down)
  if seen ~= "" then
    -- (a write through `b` reaches `a` through _ub's UPDATE, which fires this too: that one leaves `a` holding
    -- `b`'s translation, a write through `a` does not)
    run(("CREATE TRIGGER IF NOT EXISTS %s AFTER UPDATE OF %s ON %s WHEN %s IS NOT OLD.%s AND %s IS NOT %s BEGIN %s END")
      :format(q(name .. "_sa"), q(a), ddl.qualified(t), A, q(a), A, down, seen))
    run(("CREATE TRIGGER IF NOT EXISTS %s AFTER INSERT ON %s WHEN %s IS NULL BEGIN %s END")
      :format(q(name .. "_si"), ddl.qualified(t), B, seen))
  end
end

function M.drop_sync(run, _, name)
  for _, s in ipairs({ "_ia", "_ib", "_ua", "_ub", "_sa", "_si" }) do run("DROP TRIGGER IF EXISTS " .. q(name .. s)) end
end

---No session switch: the triggers' conditions leave a backfill's own writes alone.
function M.quiet() end

---The statement a trigger runs to note a write through `col` of `t`.
function M.seen_sql(writes, t, col)
  return ("INSERT OR REPLACE INTO %s (table_name, column_name, written_at) VALUES (%s, %s, unixepoch());")
    :format(writes, common.quote_literal(t), common.quote_literal(col))
end

function M.ensure_writes(db, writes)
  db:exec("CREATE TABLE IF NOT EXISTS " .. writes .. " (table_name TEXT NOT NULL, column_name TEXT NOT NULL, " ..
    "written_at INTEGER NOT NULL, PRIMARY KEY (table_name, column_name))")
end

function M.since_write(db, writes, t, col)
  local v = db:scalar("SELECT unixepoch() - written_at FROM " .. writes .. " WHERE table_name = ? AND column_name = ?",
    t, col)
  return v and tonumber(v)
end

---NOT NULL on `cols` through the table rebuild (no check is left for contract to drop).
function M.not_null(_, t, cols, _, db)
  for _, c in ipairs(cols) do alter.alter_column(db, t, c, { nullable = false }) end
end

---A constraint added through the table rebuild (which checks every row);
---one of that name already there (a rerun) stays.
function M.validated(_, t, name, clause, db, spec)
  local _ = clause
  local sql = db:scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", t)
  for _, item in ipairs(sql and table_sql.parse(sql).items or {}) do
    if item.kind == "constraint" and item.name == name then return end
  end
  spec.name = name
  alter.add_constraint(db, t, spec)
end

function M.index(run, _, _, sql) run((sql:gsub(" CONCURRENTLY ", " "))) end

function M.drop_index(run, name) run("DROP INDEX IF EXISTS " .. q(name)) end

function M.drop_unique(run, _, _, name) run("DROP INDEX IF EXISTS " .. q(name)) end

function M.unique(run, _, t, name, cols)
  run(("CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (%s)"):format(q(name), ddl.qualified(t), ddl.names(cols)))
end

function M.needs_autocommit() return false end

return M
