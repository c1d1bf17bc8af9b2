--- Failures while running: the message and history record of a failed step
--- (what failed and what became of its work), and of an error between steps.
local host = require "luamig.host"
local errors = require "luamig.util.errors"
local version = require "luamig.run.version"
local text = require "luamig.util.text"

local M = {}

-- What a run in each direction is called in messages.
local VERB = { up = "upgrade", down = "downgrade", contract = "contract" }

-- The longest error text a failure shows and stores in the history table.
M.MAX_ERROR_BYTES = 8192

-- What to do about statements a transaction refuses: PostgreSQL's SQLSTATE
-- 25001 (CREATE INDEX CONCURRENTLY, VACUUM, ...), 55P04 (a new enum value used
-- in the transaction that added it), SQLite's VACUUM; and 55P03, a lock_timeout.
local function advice(e)
  if type(e) ~= "table" then return nil end
  local msg = tostring(e.message or "")
  if e.code == "25001" or msg:find("within a transaction", 1, true) then
    return "this statement cannot run inside a transaction: set  transactional = false  in the migration, " ..
        "or wrap the statement in db:autocommit(function(db) ... end)"
  end
  if e.code == "55P04" then
    return "a new enum value cannot be used in the transaction that added it: add it inside " ..
        "db:autocommit(function(db) ... end) or in an earlier migration"
  end
  if e.code == "55P03" then
    return "another session held a lock this migration needed for longer than its lock_timeout: " ..
        "run it when the table is quiet, or set  lock_retries = N  to retry it"
  end
end

-- What became of a failed step's work, for its message.
local function outcome(s, tx, rolled_back_to, partial, err, direction)
  if s.dry_run then return "dry run: nothing was changed" end
  if err.nothing_ran then
    return "nothing ran" .. (rolled_back_to and ("; the database is still at " .. rolled_back_to) or "")
  end
  if err.lost and tx then
    return ("lost the connection to the database: the server rolled the step back%s; run `luamig %s` again " ..
      "once the database is reachable"):format(partial and " after its last db:autocommit section (the sections " ..
      "before it were committed)" or ", so none of it was committed", VERB[direction])
  end
  if err.ended_tx then
    return "the migration ended the step's transaction itself, so luamig did not record the step: " ..
        "check the schema, then rerun or `luamig stamp`"
  end
  if partial then
    return "the part after its last db:autocommit section was rolled back, the rest was committed: " ..
        "check the schema, then rerun or `luamig stamp`"
  end
  if err.refused_op and not tx then -- (raised by the op before it did anything; the body's earlier lines ran)
    return ("refused at %s, before %s did anything; %s(db) runs outside a transaction (transactional = false), so " ..
      "what it ran before that line stays: check the schema, then rerun or `luamig stamp`"):format(err.where,
      err.refused_op, err.phase or "the step")
  end
  if tx then
    return rolled_back_to and ("the step was rolled back; the database is still at " .. rolled_back_to)
        or "the run was rolled back"
  end
  return "it ran outside a transaction: check the schema, then rerun or `luamig stamp`"
end

---@class luamig.StepFailure
---@field s luamig.Session
---@field t luamig.VersionTables
---@field id string
---@field direction "up"|"down"|"contract"
---@field tx boolean               it ran in a transaction
---@field err luamig.Error         what failed (errors.caught; lost, ended_tx as checked_body set them; phase:
---                                the body that failed; nothing_ran: a refusal before any of the step ran;
---                                refused_op: the op (op.online.x) that refused, at err.where, in a hand-written body)
---@field ms number?
---@field rolled_back_to string?   the heads the rollback left (per-step transactions)
---@field partial boolean?         a db:autocommit section committed part of it

---Record a step's failure (not in a dry run: it leaves no trace; an
---interrupted step is recorded as such), then raise its "migration" error:
---what failed and what became of the step's work. Its `where` is the
---failure's (the migration's line), its `cause` the failure itself.
---@param f luamig.StepFailure
function M.step(f)
  local s, err = f.s, f.err
  local script = s.graph.revs[f.id]
  local verb = err.phase or VERB[f.direction] -- (the phase: "expand exp00001 failed")
  if not s.dry_run then
    pcall(function()
      s.db:transaction(function(db)
        version.ensure(db, s.dialect, f.t)
        version.record(db, f.t, { revision = f.id, direction = f.direction, status = host.interrupted() and
          "interrupted" or "failed", checksum = script.checksum, ms = f.ms, transactional = f.tx,
          error = errors.capped(errors.text(err), M.MAX_ERROR_BYTES) })
      end)
    end)
  end
  local hint = advice(err)
  -- (the message names the place as the failure's text does: tostring does not repeat it)
  errors.raise("migration", ("%s %s (%s) failed: %s\n%s%s"):format(verb, f.id, script.path,
    errors.capped(errors.text(err), M.MAX_ERROR_BYTES), hint and (hint .. "\n") or "",
    outcome(s, f.tx, f.rolled_back_to, f.partial, err, f.direction)),
    { where = err.where ~= "" and err.where or nil, traceback = err.traceback, cause = err })
end

-- True when the connection is gone (the server ended it, or it broke): a
-- transaction that is no longer open was then rolled back by the server, not
-- ended by the migration. A connection error says so; one the migration
-- caught shows when the next statement cannot reach the server.
local function connection_lost(db, err)
  local code = err and tostring(err.code or "") or ""
  if db:is_closed() or code:match("^08") or code:match("^57P0") then return true end
  local alive, e = pcall(db.scalar, db, "SELECT 1")
  return not alive and (db:is_closed() or tostring(type(e) == "table" and e.code or ""):match("^08") ~= nil)
end

-- The step's error when its body returned (ok) but the step failed anyway.
local function failed(ok, err, message)
  if not ok then return err end
  return errors.new("migration", message)
end

-- A step body's result, checked against the driver's own state: a
-- transactional step's transaction must still be open (whatever the
-- migration caught), and an interrupt the migration swallowed still fails it.
-- A failure's error says which: `lost` (the connection), `ended_tx`.
---@param s luamig.Session
---@param tx boolean  the step ran in the step's transaction
---@param ok boolean
---@param err luamig.Error?
---@return boolean ok, luamig.Error? err
function M.checked_body(s, tx, ok, err)
  if tx and not s.db:is_closed() and not s.db:in_transaction() and connection_lost(s.db, err) then
    err = failed(ok, err, "the connection to the database was lost during the step")
    err.lost = true
    return false, err
  end
  if tx and not s.db:is_closed() and not s.db:in_transaction() then
    err = failed(ok, err, "the migration ended its own transaction (BEGIN, COMMIT or ROLLBACK): " ..
      "a transactional migration cannot; use db:autocommit(function(db) ... end) or transactional = false")
    err.ended_tx = true
    return false, err
  end
  if ok and host.interrupted() then
    return false, errors.new("migration", ("interrupted (%s)"):format(host.interrupted()))
  end
  return ok, err
end

-- Raises the error `e` (errors.caught) met between two steps: a lost
-- connection or an interrupt says which step was next and what the run
-- committed; the runner's own errors (a plan that cannot run) pass as they are.
---@param r table     the run (label(id): "expand exp00001"; committed: the labels of the steps it committed)
---@param walk table  the walk (plan, expected heads)
---@param e luamig.Error
---@param where string?  where it happened (default: before the next step)
function M.between_steps(r, walk, e, where)
  if e.kind ~= "db" and e.kind ~= "connect" and e.kind ~= "internal" then error(e, 0) end
  local code = tostring(e.code or "")
  local lost = r.s.db:is_closed() or code:match("^08") or code:match("^57P0")
  local next_id = walk.plan and walk.plan[1]
  local done = r.committed
  where = where or (next_id and ("before " .. r.label(next_id)) or "between steps")
  errors.raise("migration", ("%s %s: %s\n%s; a rerun continues from there"):format(
    lost and "lost the connection" or "stopped", where, errors.text(e), #done > 0 and ("committed: " ..
      table.concat(done, ", ") .. "; the database is at " .. text.heads(walk.expected or {}))
      or "nothing was committed"), { cause = e, traceback = e.traceback })
end

return M
