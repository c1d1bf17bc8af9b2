--- The lint rules: each reads one recorded statement (its SQL text and
--- what the observer saw it do) and may return a finding with a severity,
--- what it blocks and the safer recipe. Rules that depend on the server's
--- real behaviour (rewrites, validation scans) ask the observation, not
--- the text: widening a varchar, or SET NOT NULL after a validated CHECK,
--- is not reported.
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

-- The table an ALTER TABLE / CREATE INDEX / DROP TABLE statement is about.
local function target(sql)
  local s = (" " .. sql:gsub("%s+", " ") .. " "):gsub(" [Ii][Ff] [Nn][Oo][Tt] [Ee][Xx][Ii][Ss][Tt][Ss] ", " ")
    :gsub(" [Ii][Ff] [Ee][Xx][Ii][Ss][Tt][Ss] ", " "):gsub(" [Oo][Nn][Ll][Yy] ", " ")
  return ident(s:match("^ [Aa][Ll][Tt][Ee][Rr] [Tt][Aa][Bb][Ll][Ee] " .. NAME) or s:match(" [Oo][Nn] " .. NAME) or
    s:match("^ [Dd][Rr][Oo][Pp] [Tt][Aa][Bb][Ll][Ee] " .. NAME))
end

local VOLATILE = { "RANDOM%(", "CLOCK_TIMESTAMP%(", "GEN_RANDOM_UUID%(", "UUID_GENERATE_V", "NEXTVAL%(",
  "TIMEOFDAY%(", " SERIAL", " BIGSERIAL", " SMALLSERIAL" }

local function volatile(s)
  for _, p in ipairs(VOLATILE) do
    if s:find(p) then return (p:gsub("%%%(", "()"):gsub("^ ", ""):lower()) end
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
  { id = "rename", severity = "warning", blocks = "running code that uses the old name", check = function(_, s)
    if s:match("^ALTER TABLE .* RENAME ") and not s:match(" RENAME CONSTRAINT ") then
      return "renaming breaks the running application, which still uses the old name"
    end
  end, recipe = "expand and contract: add the new column (or a view with the new name), write both, " ..
    "switch the code, drop the old one in a later migration" },
  { id = "drop", severity = "warning", blocks = "running code that still reads it", check = function(_, s)
    -- (DROP COLUMN's COLUMN is optional; ALTER COLUMN ... DROP DEFAULT is no drop)
    local bare = not s:find(" ALTER COLUMN ") and s:match("^ALTER TABLE .* DROP ([%w_\"]+) *$")
    if s:match("^DROP TABLE ") or s:match("^ALTER TABLE .* DROP COLUMN ") or (bare and bare ~= "CONSTRAINT") then
      return "dropping breaks the running application if it still reads or writes it"
    end
  end, recipe = "deploy code that no longer uses it first; drop it in a later migration" },
}

local LOCK_TIMEOUT = { id = "lock-timeout", severity = "warning", blocks = "every query that queues behind it",
  recipe = 'set  lock_timeout = "2s"  and  lock_retries = 3  in the migration file ' ..
    '(or migration_timeouts = { lock_timeout = "2s" } in the config)' }

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

local function finding(rule, st, t, message, lock)
  return { rule = rule.id, severity = rule.severity, where = st.where, relation = t, lock = lock,
    blocks = rule.blocks, message = message, recipe = rule.recipe, sql = st.sql:gsub("%s+", " "):sub(1, 200) }
end

---The findings for one migration's statements.
---@param statements luamig.LintStatement[]
---@param ctx {existing: table<string, true>, ignore: table<string, true>, source: string?, lock_of: fun(st, t): string?}
---@return luamig.LintFinding[]
function M.check(statements, ctx)
  local out, timeout_said = {}, false
  for _, st in ipairs(statements) do
    local t = st.where and not st.error and target(st.sql)
    if t and ctx.existing[t] then
      local s = shape(st.sql)
      for _, rule in ipairs(M.LIST) do
        local message = rule.check(st, s, t)
        if message and not M.ignored(rule.id, st, ctx) then
          out[#out + 1] = finding(rule, st, t, message, ctx.lock_of(st, t))
        end
      end
    end
    local strong = st.where and ctx.strong_lock and ctx.strong_lock(st)
    if strong and not timeout_said and (st.lock_timeout == "0" or st.lock_timeout == "0ms") and
        not M.ignored(LOCK_TIMEOUT.id, st, ctx) then
      timeout_said = true
      out[#out + 1] = finding(LOCK_TIMEOUT, st, strong.relation, ("takes %s on %s with no lock_timeout: it waits " ..
        "behind any long query, and every query on the table then waits behind it"):format(strong.mode,
        strong.relation), strong.mode)
    end
  end
  return out
end

return M
