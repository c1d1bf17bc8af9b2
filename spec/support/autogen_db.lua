-- What the in-process autogenerate specs share: snapshots as compared,
-- scratch databases emptied between cases, op calls run from text.
local compare = require "luamig.schema.compare"
local backfill = require "luamig.run.backfill"
local connect = require "luamig.db.connect"
local ops = require "luamig.schema.ops"
local online = require "luamig.run.online"
local fixtures = require "spec.support.fixtures"

local M = {}

---The snapshot of `db` to compare; SQLite keeps a default as written ("0"
---by CREATE TABLE, "(0)" after a rebuild), so outer parentheses go.
function M.snap(db)
  local s = compare.snapshot(db, (require "luamig.dialect").of(db))
  for _, t in pairs(s.tables) do
    for _, c in ipairs(t.columns) do
      while c.default and c.default:match("^%b()$") do c.default = c.default:sub(2, -2) end
    end
  end
  return s
end

---A database of backend `b` that h.reset() empties (and reconnects h.db,
---h.dialect); h.close() closes and removes it.
function M.scratch(b)
  local url, remove = fixtures.fresh_url(b)
  local h = { url = url }
  function h.reset()
    if h.db then h.db:close() end
    if b.name == "sqlite" then os.remove((url:gsub("^sqlite:///", ""))) end
    h.db, h.dialect = connect.open(url, { foreign_keys = false })
    if b.name == "postgresql" then h.db:exec "DROP SCHEMA public CASCADE; CREATE SCHEMA public" end
  end
  function h.close()
    if h.db then h.db:close() end
    remove()
    if b.name == "postgresql" then -- (fixtures leave PostgreSQL databases behind)
      local admin = connect.open(os.getenv("LUAMIG_TEST_PG"), {})
      admin:exec("DROP DATABASE IF EXISTS " .. admin:quote_ident(url:match("/([^/?]+)%??[^/]*$")))
      admin:close()
    end
  end
  return h
end

---Run the op calls of `lines` on h.db (in a transaction unless `outside`;
---`db:autocommit(fn)` commits, runs fn outside it and begins again;
---luamig.backfill and op.online.retype_column run as in a migration `label`).
function M.apply(h, lines, outside, label)
  local db = { autocommit = function(_, fn)
    if not outside then h.db:exec "COMMIT" end
    fn()
    if not outside then h.db:exec "BEGIN" end
  end }
  local luamig = { backfill = function(spec)
    return backfill.run({ db = h.db, dialect = h.dialect, revision = label, rows = 0 }, spec)
  end }
  -- (op.online too: autogenerate retypes a column with op.online.retype_column)
  local ctx = { db = h.db, dialect = h.dialect, revision = label, path = label, transactional = not outside,
    phase = "upgrade", rows = 0 }
  local env = setmetatable({ op = online.ops(ctx, ops.new(ctx)), db = db, luamig = luamig }, { __index = _G })
  local chunk = assert(load("return function()\n" .. table.concat(lines, "\n") .. "\nend", label, "t", env))()
  if outside then return chunk() end
  h.db:exec "BEGIN"
  local ok, err = pcall(chunk)
  h.db:exec(ok and "COMMIT" or "ROLLBACK")
  if not ok then error(err, 0) end
end

return M
