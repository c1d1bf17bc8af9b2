--- The lint rules: each reads one recorded statement (its SQL text and
--- what the observer saw it do) and may return a finding with a severity,
--- what it blocks and the safer recipe. Rules that depend on the server's
--- real behaviour (rewrites, validation scans) ask the observation, not
--- the text: widening a varchar, or SET NOT NULL after a validated CHECK,
--- is not reported.
local sqltext = require "luamig.model.sql"

local M = {}

---@class luamig.LintFinding
---@field rule string
---@field severity "error"|"warning"
---@field where string?    migration file:line of the statement
---@field relation string?
---@field lock string?     the lock mode it took on that relation
---@field blocks string    what other sessions wait for meanwhile
---@field message string
---@field recipe string    the safer way
---@field sql string

-- The table a name token (maybe quoted, maybe schema-qualified) stands for.
local function ident(tok)
  if not tok then return nil end
  tok = tok:gsub("^.*%.", "")
  local quoted = tok:match('^"(.*)"$')
  return quoted and quoted:gsub('""', '"') or tok:lower()
end

local NAME = '("?[%w_$.]+"?)'

-- SQL text as the rules match it: upper case, comments and literals out,
-- single spaces.
local function shape(sql)
  local s = sql:gsub("%-%-[^\n]*", " "):gsub("/%*.-%*/", " "):gsub("'[^']*'", "''")
  return (s:upper():gsub("%s+", " "):gsub("^ ", ""))
end

-- The table an ALTER TABLE / CREATE INDEX / DROP TABLE / CREATE TABLE statement is about.
local function target(sql)
  local s = (" " .. sql:gsub("%s+", " ") .. " "):gsub(" [Ii][Ff] [Nn][Oo][Tt] [Ee][Xx][Ii][Ss][Tt][Ss] ", " ")
    :gsub(" [Ii][Ff] [Ee][Xx][Ii][Ss][Tt][Ss] ", " "):gsub(" [Oo][Nn][Ll][Yy] ", " ")
  return ident(s:match("^ [Aa][Ll][Tt][Ee][Rr] [Tt][Aa][Bb][Ll][Ee] " .. NAME) or
    s:match("^ [Cc][Rr][Ee][Aa][Tt][Ee] [Tt][Aa][Bb][Ll][Ee] " .. NAME) or
    s:match("^ [Cc][Rr][Ee][Aa][Tt][Ee] %a+ [Tt][Aa][Bb][Ll][Ee] " .. NAME) or s:match(" [Oo][Nn] " .. NAME) or
    s:match("^ [Dd][Rr][Oo][Pp] [Tt][Aa][Bb][Ll][Ee] " .. NAME))
end

local SERIAL_TYPES = { SERIAL = true, BIGSERIAL = true, SMALLSERIAL = true }

-- A volatile call in shaped SQL `s`, or a serial type (its default is nextval()).
local function volatile(s)
  local call = sqltext.volatile_call(s)
  if call then return call end
  for word in s:gmatch(" (%a+)") do
    if SERIAL_TYPES[word] then return word:lower() end
  end
end

local function has(list, name)
  for _, x in ipairs(list or {}) do if x == name then return true end end
  return false
end

local NOT_COLUMN = { CONSTRAINT = true, PRIMARY = true, UNIQUE = true, FOREIGN = true, CHECK = true, EXCLUDE = true }

local TWO_STEP = "two migrations: the first adds it NOT VALID, the second runs " ..
  "ALTER TABLE ... VALIDATE CONSTRAINT (SHARE UPDATE EXCLUSIVE: reads and writes go on)"

---The rules, in report order: id, severity, what they block, recipe, and
---check(st, s, table) returning a message (or nil); `s` is the shaped SQL,
---`table` the existing table it is about.
M.LIST = {
  { id = "create-index", severity = "error", blocks = "writes", check = function(_, s)
    if (s:match("^CREATE INDEX") or s:match("^CREATE UNIQUE INDEX")) and not s:find("CONCURRENTLY") then
      return "CREATE INDEX without CONCURRENTLY holds SHARE on the table for the whole build"
    end
  end, recipe = "op.create_index(name, table, columns, { concurrently = true }) in a migration with " ..
    "transactional = false" },
  { id = "add-column-rewrite", severity = "error", blocks = "reads and writes", check = function(st, s, t)
    local added = s:match("^ALTER TABLE .* ADD (%w+)")
    if not added or NOT_COLUMN[added] then return nil end
    local stored = s:match("GENERATED ALWAYS AS .* STORED")
    local vol = volatile(s)
    if stored or vol or has(st.rewrote, t) then
      return ("ADD COLUMN %s rewrites the table under ACCESS EXCLUSIVE"):format(stored and
        "with a stored generated column" or ("with a volatile default (%s)"):format(vol or "observed rewrite"))
    end
  end, recipe = "add the column without a default (or with a constant one), backfill it in batches " ..
    "(luamig.backfill), then set the default in a later migration" },
  { id = "set-not-null", severity = "error", blocks = "reads and writes", check = function(st, s, t)
    if s:match("ALTER COLUMN %S+ SET NOT NULL") and (has(st.scanned, t) or not st.observed) then
      return "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE (no validated CHECK proves it)"
    end
  end, recipe = "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a second migration, then " ..
    "SET NOT NULL (no scan) and drop the check" },
  { id = "constraint-not-valid", severity = "error", blocks = "writes (and reads, for CHECK)",
    check = function(_, s)
      if (s:match(" ADD CONSTRAINT %S+ FOREIGN KEY") or s:match(" ADD FOREIGN KEY") or
          s:match(" ADD CONSTRAINT %S+ CHECK") or s:match(" ADD CHECK")) and not s:find("NOT VALID") then
        return "the constraint is validated by scanning the table(s) while its lock is held"
      end
    end, recipe = TWO_STEP },
  { id = "type-rewrite", severity = "error", blocks = "reads and writes", check = function(st, s, t)
    local changes = s:match("ALTER COLUMN %S+ TYPE ") or s:match("ALTER COLUMN %S+ SET DATA TYPE ")
    if changes and (has(st.rewrote, t) or has(st.scanned, t)) then
      return ("the type change %s the table under ACCESS EXCLUSIVE"):format(has(st.rewrote, t) and "rewrote"
        or "scanned")
    end
  end, recipe = "add a new column of the new type, backfill it, switch the code, drop the old one " ..
    "(expand, then contract)" },
  { id = "unique-constraint", severity = "error", blocks = "reads and writes", check = function(_, s)
    if (s:match(" ADD CONSTRAINT %S+ UNIQUE") or s:match(" ADD UNIQUE") or s:match(" ADD CONSTRAINT %S+ PRIMARY KEY")
        or s:match(" ADD PRIMARY KEY")) and not s:find("USING INDEX") then
      return "the constraint builds its index under ACCESS EXCLUSIVE"
    end
  end, recipe = "CREATE UNIQUE INDEX CONCURRENTLY (op.create_index(..., { unique = true, concurrently = true }), " ..
    "transactional = false), then ALTER TABLE ... ADD CONSTRAINT name UNIQUE USING INDEX idx" },
  { id = "exclusion-constraint", severity = "error", blocks = "reads and writes", check = function(_, s)
    if s:match(" ADD CONSTRAINT %S+ EXCLUDE") or s:match(" ADD EXCLUDE") then
      return "the exclusion constraint builds its index and checks every row under ACCESS EXCLUSIVE"
    end
  end, recipe = "there is no concurrent way to add one: create it with the table, or build a new table with " ..
    "the constraint and move the rows in batches (expand, then contract)" },
  { id = "rename", severity = "warning", blocks = "running code that uses the old name", check = function(_, s)
    -- (op.online.retype_column's swap: the column keeps its name)
    if s:match("^ALTER TABLE .* RENAME ") and not s:match(" RENAME CONSTRAINT ") and not s:match("_LUAMIG_OLD\"? *$")
      and not s:match(" RENAME COLUMN \"?[%w_]+_LUAMIG_NEW\"? ") then
      return "renaming breaks the running application, which still uses the old name"
    end
  end, recipe = "expand and contract: add the new column (or a view with the new name), write both, " ..
    "switch the code, drop the old one in a later migration" },
  { id = "drop", severity = "warning", blocks = "running code that still reads it", check = function(_, s)
    -- (DROP COLUMN's COLUMN is optional; ALTER COLUMN ... DROP DEFAULT is no drop)
    local bare = not s:find(" ALTER COLUMN ") and s:match("^ALTER TABLE .* DROP ([%w_\"]+) *$")
    if s:match("^ALTER TABLE .* DROP COLUMN \"?[%w_]+_LUAMIG_OLD\"? *$") then return nil end -- (a retype's swap)
    if s:match("^DROP TABLE ") or s:match("^ALTER TABLE .* DROP COLUMN ") or (bare and bare ~= "CONSTRAINT") then
      return "dropping breaks the running application if it still reads or writes it"
    end
  end, recipe = "deploy code that no longer uses it first; drop it in a later migration" },
}

local LOCK_TIMEOUT = { id = "lock-timeout", severity = "warning", blocks = "every query that queues behind it",
  recipe = 'set  lock_timeout = "2s"  and  lock_retries = 3  in the migration file ' ..
    '(or migration_timeouts = { lock_timeout = "2s" } in the config)' }

-- The observed json and serial columns a statement added (st.columns, on
-- new tables too), the identifiers PostgreSQL would truncate (SQL text:
-- the server only says so in a NOTICE), ...
local JSON = { id = "json", severity = "warning", blocks = "nothing now; every later query on the column",
  recipe = "use jsonb: json keeps the text as written, so it cannot be indexed or compared (no = operator), " ..
    "and every access re-parses it" }
local SERIAL = { id = "prefer-identity", severity = "warning", blocks = "nothing now; later schema changes",
  recipe = "declare the column  integer GENERATED ALWAYS AS IDENTITY  (or BY DEFAULT): its sequence belongs " ..
    "to the column, follows it through dumps and grants, and ALWAYS rejects stray explicit ids" }
local LONG_NAME = { id = "long-identifier", severity = "warning", blocks = "nothing now; the next object whose " ..
  "name shares the first 63 bytes", recipe = "use a name of at most 63 bytes (NAMEDATALEN - 1): PostgreSQL " ..
  "truncates longer ones silently, so luamig, the code and the database disagree on the name" }
-- ... a transaction that goes on after taking ACCESS EXCLUSIVE (observed),
local AFTER_EXCLUSIVE = { id = "after-exclusive", severity = "warning", blocks = "reads and writes, until COMMIT",
  recipe = "take the ACCESS EXCLUSIVE lock last: move the other statements before it or into their own " ..
    "migration (a backfill into luamig.backfill), or combine the ALTERs into one statement" }
-- ... ALTER TYPE ... ADD VALUE and the value used in the same transaction
-- (refused by the server: 55P04; before PostgreSQL 12 ADD VALUE itself is
-- refused inside a transaction, 25001),
local ENUM_VALUE = { id = "enum-add-value", severity = "error", blocks = "the migration: it fails",
  recipe = "add the value in its own migration (or a db:autocommit section) and use it in a later one" }
-- ... and the foreign keys the migration added with no index on their
-- referencing columns at its end (observed: pg_index).
local FK_INDEX = { id = "fk-index", severity = "warning",
  blocks = "writes: each DELETE or key UPDATE on the referenced table scans the referencing one under its lock",
  recipe = "create an index on the referencing columns (op.create_index(..., { concurrently = true }) for a " ..
    "table that exists), in the same migration or before the foreign key" }

-- ... and, with --contention, the workload's reads waiting longer than --max-wait.
local CONTENTION = { id = "contention", severity = "error", blocks = "the application's queries (measured)",
  recipe = 'let it give up instead of queueing reads: lock_timeout = "200ms" with lock_retries = 5 in the ' ..
    "migration file; or avoid the lock: CREATE INDEX CONCURRENTLY, ADD CONSTRAINT ... NOT VALID then " ..
    "VALIDATE CONSTRAINT, or an expand/contract op (add, backfill, switch the code, drop)" }

---Every rule's id beside M.LIST's (for lint.ignore).
M.OTHER = { JSON, SERIAL, LONG_NAME, AFTER_EXCLUSIVE, ENUM_VALUE, FK_INDEX, LOCK_TIMEOUT, CONTENTION }

local MAX_NAME = 63

-- The first identifier in `sql` longer than PostgreSQL keeps (comments and
-- string literals aside), or nil.
local function long_name(sql)
  local s = sql:gsub("%-%-[^\n]*", " "):gsub("/%*.-%*/", " "):gsub("'[^']*'", "''")
  for q in s:gmatch('"([^"]+)"') do
    if #q > MAX_NAME then return q end
  end
  for w in s:gsub('"[^"]*"', " "):gmatch("[%a_][%w_$]*") do
    if #w > MAX_NAME then return w:lower() end
  end
end

-- The ids a `luamig:lint ignore ID[, ID...]` marker in `text` names.
local function marker_ids(text, into)
  for list in text:gmatch("luamig:lint ignore[ \t]+([^\n]*)") do
    into = into or {}
    for id in list:gmatch("[%w%-]+") do into[id] = true end
  end
  return into
end

-- Where a quoted Lua string starting at i (quote q) ends.
local function skip_quoted(src, i, q)
  local j = i + 1
  while j <= #src do
    local c = src:sub(j, j)
    if c == "\\" then j = j + 1 elseif c == q or c == "\n" then return j end
    j = j + 1
  end
  return #src
end

---The ignore markers of a migration file: line -> ids, for the line of
---code that follows each `-- luamig:lint ignore ID, ...` comment (or the
---line a trailing one ends). Text inside Lua strings is not a comment.
---@param src string
---@return table<integer, table<string, true>>
function M.markers(src)
  local out, pending, line, i, code = {}, nil, 1, 1, false
  local function mark() -- code starts on `line`
    if pending then out[line], pending = pending, nil end
    code = true
  end
  local function skip_to(j) -- past src[i..j], counting lines
    for _ in src:sub(i, j):gmatch("\n") do line = line + 1 end
    i = j + 1
  end
  while i <= #src do
    local c = src:sub(i, i)
    local long = src:match("^%[(=*)%[", src:sub(i, i + 1) == "--" and i + 2 or i)
    if c == "\n" then
      line, i, code = line + 1, i + 1, false
    elseif src:sub(i, i + 1) == "--" and long then -- a long comment
      local _, e = src:find("]" .. long .. "]", i, true)
      skip_to(e or #src)
    elseif src:sub(i, i + 1) == "--" then
      local e = (src:find("\n", i, true) or #src + 1) - 1
      local ids = marker_ids(src:sub(i, e))
      if ids and code then
        out[line] = marker_ids(src:sub(i, e), out[line])
      elseif ids then
        pending = pending or {}
        for id in pairs(ids) do pending[id] = true end
      end
      i = e + 1
    elseif long then -- a long string
      mark()
      local _, e = src:find("]" .. long .. "]", i, true)
      skip_to(e or #src)
    elseif c == '"' or c == "'" then
      mark()
      skip_to(skip_quoted(src, i, c))
    elseif c:match("%s") then
      i = i + 1
    else
      mark()
      i = i + 1
    end
  end
  return out
end

---Is rule `id` ignored for statement `st` (its sql and where, either may
---be nil): the config's lint.ignore lists it, the statement's own SQL has
---`-- luamig:lint ignore ID`, or such a comment in the migration file
---stands right before the statement's line? Ids match exactly.
---@param id string
---@param st {sql: string?, where: string?}
---@param ctx {ignore: table<string, true>, source: string?, markers: table?}
---@return boolean
function M.ignored(id, st, ctx)
  if ctx.ignore[id] then return true end
  local own = st.sql and marker_ids(st.sql)
  if own and own[id] then return true end
  local line = st.where and tonumber(st.where:match(":(%d+)$"))
  if not line or not ctx.source then return false end
  ctx.markers = ctx.markers or M.markers(ctx.source)
  return ctx.markers[line] ~= nil and ctx.markers[line][id] == true
end

---A finding of `rule` on statement `st` (its sql and where), about table `t`.
function M.finding(rule, st, t, message, lock)
  return { rule = rule.id, severity = rule.severity, where = st.where, relation = t, lock = lock,
    blocks = rule.blocks, message = message, recipe = rule.recipe, sql = st.sql:gsub("%s+", " "):sub(1, 200) }
end

-- The findings on statement `st` that any table may get: json and serial
-- columns (observed), a name PostgreSQL truncates.
local function anywhere(st, add)
  for _, c in ipairs(st.columns or {}) do
    if c.json then add(JSON, st, c.relation, ("column %s.%s is json, not jsonb"):format(c.relation, c.column)) end
    if c.serial then
      add(SERIAL, st, c.relation, ("column %s.%s is a serial (a default from a sequence it owns), not an identity")
        :format(c.relation, c.column))
    end
  end
  local name = long_name(st.sql)
  if name then
    add(LONG_NAME, st, target(st.sql), ("identifier %s is %d bytes: PostgreSQL keeps the first %d (%s)"):format(
      name, #name, MAX_NAME, name:sub(1, MAX_NAME)))
  end
end

-- Statements after the one that took ACCESS EXCLUSIVE, in its transaction
-- (st.exclusive: the table the observer saw it held on after st): one
-- finding per migration, on the first of them, with how long they kept it.
local function after_exclusive(statements, add)
  local taken
  for i, st in ipairs(statements) do
    if not st.where then
      if st.sql:match("^%s*[Cc][Oo][Mm][Mm][Ii][Tt]") or st.sql:match("^%s*[Rr][Oo][Ll][Ll][Bb][Aa][Cc][Kk]") then
        taken = nil
      end
    elseif taken and st.exclusive == taken.exclusive then
      local last, n = st, 1
      for k = i + 1, #statements do
        local nx = statements[k]
        if not nx.where or nx.exclusive ~= taken.exclusive then break end
        last, n = nx, n + 1
      end
      add(AFTER_EXCLUSIVE, st, taken.exclusive, ("%d statement%s ran after %s took ACCESS EXCLUSIVE on %s, " ..
        "holding it %.1f ms longer"):format(n, n == 1 and "" or "s", taken.where, taken.exclusive,
        last.started + last.ms - st.started))
      return
    elseif st.exclusive then
      taken = st
    end
  end
end

-- ALTER TYPE ... ADD VALUE refused, or its value refused later in the transaction.
local function enum_value(statements, add)
  local added
  for _, st in ipairs(statements) do
    local s = st.where and shape(st.sql)
    if s and s:match("^ALTER TYPE %S+ ADD VALUE") then
      if st.error and st.error:find("25001", 1, true) then
        add(ENUM_VALUE, st, nil, "ALTER TYPE ... ADD VALUE cannot run inside a transaction on this server")
      end
      added = added or st
    elseif added and st.error and (st.error:find("55P04", 1, true) or st.error:find("unsafe use of new value", 1, true))
    then
      add(ENUM_VALUE, added, nil, ("the value added here is used at %s in the same transaction: the server " ..
        "refuses it until the ADD VALUE commits"):format(st.where or "?"))
    end
  end
end

---The statements (by file:line: every attempt of a retried one) whose
---workload `kind` ("reads", the default, or "writes") waited longer than
---ctx.max_wait_ms: one finding each, on its worst attempt, naming the lock
---it held (ctx.held_mode) or queued for.
function M.contended(statements, ctx, add, kind)
  kind = kind or "reads"
  if not ctx.max_wait_ms then return end
  local worst, order, lock = {}, {}, {}
  for _, st in ipairs(statements) do
    local c = st.contention
    if c and st.where then
      lock[st.where] = lock[st.where] or (ctx.held_mode and ctx.held_mode(st))
      if c[kind].max and c[kind].max > ctx.max_wait_ms and
          (not worst[st.where] or c[kind].max > worst[st.where].contention[kind].max) then
        if not worst[st.where] then order[#order + 1] = st.where end
        worst[st.where] = st
      end
    end
  end
  for _, where in ipairs(order) do
    local st, l = worst[where], lock[where]
    local r = st.contention[kind]
    local attempts = 0
    for _, x in ipairs(statements) do if x.where == where then attempts = attempts + 1 end end
    add(CONTENTION, st, l and l.relation, ("the workload's %s waited up to %.0f ms (p99 %.0f, p50 %.0f; %d of " ..
      "%d failed) behind %s%s%s"):format(kind, r.max, r.p99, r.p50, r.failed, r.n,
      l and (l.mode .. " on " .. l.relation) or "this statement", st.contention.queued_ms and
      (", which queued %.0f ms behind the long transaction"):format(st.contention.queued_ms) or "",
      attempts > 1 and (" (worst of %d attempts)"):format(attempts) or ""), l and l.mode)
  end
end

---The findings for one migration's statements.
---@param statements luamig.LintStatement[]
---@param ctx {existing: table<string, true>, ignore: table<string, true>, source: string?,
---  lock_of: fun(st, t): string?, unindexed: table[]?}
---@return luamig.LintFinding[]
function M.check(statements, ctx)
  local out, timeout_said = {}, false
  local function add(rule, st, t, message, lock)
    if not M.ignored(rule.id, st, ctx) then out[#out + 1] = M.finding(rule, st, t, message, lock) end
  end
  for _, st in ipairs(statements) do
    if st.where and not st.error then anywhere(st, add) end
    local t = st.where and not st.error and target(st.sql)
    if t and ctx.existing[t] then
      local s = shape(st.sql)
      for _, rule in ipairs(M.LIST) do
        local message = rule.check(st, s, t)
        if message and not M.ignored(rule.id, st, ctx) then
          out[#out + 1] = M.finding(rule, st, t, message, ctx.lock_of(st, t))
        end
      end
    end
    local strong = st.where and ctx.strong_lock and ctx.strong_lock(st)
    if strong and not timeout_said and (st.lock_timeout == "0" or st.lock_timeout == "0ms") and
        not M.ignored(LOCK_TIMEOUT.id, st, ctx) then
      timeout_said = true
      out[#out + 1] = M.finding(LOCK_TIMEOUT, st, strong.relation, ("takes %s on %s with no lock_timeout: it waits " ..
        "behind any long query, and every query on the table then waits behind it"):format(strong.mode,
        strong.relation), strong.mode)
    end
  end
  after_exclusive(statements, add)
  enum_value(statements, add)
  M.contended(statements, ctx, add)
  for _, k in ipairs(ctx.unindexed or {}) do
    add(FK_INDEX, k, k.relation, ("foreign key %s on %s (%s) has no index on its referencing columns"):format(
      k.constraint, k.relation, k.columns))
  end
  return out
end

return M
