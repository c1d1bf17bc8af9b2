--- A SQLite CREATE TABLE statement as editable parts: its column definitions
--- and table constraints, split at top-level commas (quotes, brackets,
--- comments and nested parentheses respected). SQLite cannot alter most of a
--- table in place; the batch rebuild edits these parts and writes the table
--- anew. Introspection reads CHECK constraints from them.
local errors = require "luamig.util.errors"

local M = {}

---@class luamig.SqliteItem
---@field kind "column"|"constraint"
---@field name string?     the column's name, or the constraint's CONSTRAINT name
---@field text string      the item as written

---@class luamig.SqliteTable
---@field head string      "CREATE TABLE name"
---@field items luamig.SqliteItem[]
---@field tail string      after the closing parenthesis (e.g. " WITHOUT ROWID")

-- Scan `s` from position i; calls on(c, pos, depth) for characters outside
-- quotes and comments. Returns nothing; quotes/comments are skipped whole.
local function scan(s, on)
  local i, depth, n = 1, 0, #s
  while i <= n do
    local c = s:sub(i, i)
    local two = s:sub(i, i + 1)
    if c == "'" or c == '"' or c == "`" then
      local j = i + 1
      while j <= n do
        if s:sub(j, j) == c then
          if s:sub(j + 1, j + 1) == c then j = j + 1 else break end
        end
        j = j + 1
      end
      i = j + 1
    elseif c == "[" then
      i = (s:find("]", i + 1, true) or n) + 1
    elseif two == "--" then
      i = (s:find("\n", i, true) or n) + 1
    elseif two == "/*" then
      local _, e = s:find("*/", i + 2, true)
      i = (e or n) + 1
    else
      if c == "(" then depth = depth + 1 end
      if on(c, i, depth) == false then return end
      if c == ")" then depth = depth - 1 end
      i = i + 1
    end
  end
end

---An identifier token as written -> its name ("a""b" -> a"b, [x] -> x).
function M.unquote(tok)
  local first = tok:sub(1, 1)
  if first == '"' or first == "`" then return (tok:sub(2, -2):gsub(first .. first, first)) end
  if first == "[" then return tok:sub(2, -2) end
  return tok
end

-- The first token of `text` (a quoted identifier or a word) and the rest.
local function first_token(text)
  local s = text:match("^%s*(.-)$")
  local c = s:sub(1, 1)
  if c == '"' or c == "`" then
    local j = 2
    while j <= #s do
      if s:sub(j, j) == c then
        if s:sub(j + 1, j + 1) == c then j = j + 1 else break end
      end
      j = j + 1
    end
    return s:sub(1, j), s:sub(j + 1)
  elseif c == "[" then
    local e = s:find("]", 2, true) or #s
    return s:sub(1, e), s:sub(e + 1)
  end
  local word = s:match("^[^%s(,]+") or ""
  return word, s:sub(#word + 1)
end
M.first_token = first_token

local CONSTRAINT_WORDS = { CONSTRAINT = true, PRIMARY = true, UNIQUE = true, CHECK = true, FOREIGN = true }

---Split a CREATE TABLE statement into head, items and tail.
---@param sql string
---@return luamig.SqliteTable
function M.parse(sql)
  local open, close
  local cuts = {}
  scan(sql, function(c, i, depth)
    if c == "(" and depth == 1 and not open then open = i end
    if c == "," and depth == 1 and open then cuts[#cuts + 1] = i end
    if c == ")" and depth == 1 and open then
      close = i
      return false
    end
  end)
  if not open or not close then errors.raise("migration", "cannot read the table definition: " .. sql) end
  local items, from = {}, open + 1
  cuts[#cuts + 1] = close
  for _, cut in ipairs(cuts) do
    local text = sql:sub(from, cut - 1):match("^%s*(.-)%s*$")
    local tok, rest = first_token(text)
    local item = { text = text }
    if CONSTRAINT_WORDS[tok:upper()] then
      item.kind = "constraint"
      if tok:upper() == "CONSTRAINT" then item.name = M.unquote((first_token(rest))) end
    else
      item.kind, item.name = "column", M.unquote(tok)
    end
    items[#items + 1] = item
    from = cut + 1
  end
  return { head = sql:sub(1, open - 1):match("^(.-)%s*$"), items = items, tail = sql:sub(close + 1) }
end

---The statement for `t`, with the table named `name` (quoted).
function M.render(t, quoted_name)
  local texts = {}
  for i, item in ipairs(t.items) do texts[i] = item.text end
  return ("CREATE TABLE %s (\n  %s\n)%s"):format(quoted_name, table.concat(texts, ",\n  "), t.tail)
end

local CLAUSE_WORDS = { CONSTRAINT = true, PRIMARY = true, NOT = true, NULL = true, UNIQUE = true, CHECK = true,
  DEFAULT = true, COLLATE = true, REFERENCES = true, GENERATED = true, AS = true }

---A column definition as name, type text and its constraint clauses (each
---a string such as "NOT NULL", "DEFAULT 0", "REFERENCES t (id) ON DELETE CASCADE").
---@param text string
---@return string name, string type, string[] clauses
function M.column_parts(text)
  local name_tok, rest = first_token(text)
  -- word starts at top level (outside quotes and parentheses)
  local starts = {}
  local prev_space = true
  scan(rest, function(c, i, depth)
    if depth == 0 and prev_space and c:match("[%a]") then
      local word = rest:match("^[%a_]+", i):upper()
      if CLAUSE_WORDS[word] then starts[#starts + 1] = { i, word } end
    end
    prev_space = c:match("[%s)]") ~= nil
  end)
  -- "NOT NULL", "PRIMARY KEY", "CONSTRAINT x CHECK" are one clause each: keep
  -- only starts that do not continue the clause before them
  local clauses, type_end = {}, #rest
  local kept = {}
  for k, st in ipairs(starts) do
    local before = starts[k - 1]
    local joins = before and ((before[2] == "NOT" and st[2] == "NULL") or before[2] == "CONSTRAINT"
      or (before[2] == "GENERATED" and st[2] == "AS"))
    if not joins then kept[#kept + 1] = st[1] end
  end
  if kept[1] then type_end = kept[1] - 1 end
  for k, at in ipairs(kept) do
    local stop = (kept[k + 1] or (#rest + 1)) - 1
    clauses[#clauses + 1] = rest:sub(at, stop):match("^%s*(.-)%s*$")
  end
  return M.unquote(name_tok), rest:sub(1, type_end):match("^%s*(.-)%s*$"), clauses
end

return M
