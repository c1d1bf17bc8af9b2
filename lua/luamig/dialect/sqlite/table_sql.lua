--- A SQLite CREATE TABLE statement as editable parts: its column definitions
--- and table constraints, split at top-level commas (quotes, brackets,
--- comments and nested parentheses respected: the drivers' tokenizer).
--- SQLite cannot alter most of a table in place; the batch rebuild edits
--- these parts and writes the table anew. Introspection reads CHECK
--- constraints from them.
local errors = require "luamig.util.errors"
local host = require "luamig.host"

local M = {}

---@class luamig.SqliteItem
---@field kind "column"|"constraint"
---@field name string?     the column's name, or the constraint's CONSTRAINT name
---@field text string      the item as written

---@class luamig.SqliteTable
---@field head string      "CREATE TABLE name"
---@field items luamig.SqliteItem[]
---@field tail string      after the closing parenthesis (e.g. " WITHOUT ROWID")

-- Calls on(text, first, depth) for each token of `s` outside comments and
-- whitespace (SQLite's rules: src/sql_tokens.c, the drivers' tokenizer);
-- `depth` counts the open parentheses, "(" included. on returning false stops.
local function scan(s, on)
  local depth = 0
  for kind, first, last in host.sql_tokens(s, "sqlite") do
    if kind ~= "space" and kind ~= "comment" then
      local text = s:sub(first, last)
      if text == "(" then depth = depth + 1 end
      if on(text, first, depth, kind) == false then return end
      if text == ")" then depth = depth - 1 end
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
  local tok, rest = "", ""
  scan(text, function(t, first)
    tok, rest = t, text:sub(first + #t)
    return false
  end)
  return tok, rest
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
  scan(rest, function(t, i, depth, kind)
    if depth == 0 and kind == "word" and CLAUSE_WORDS[t:upper()] then starts[#starts + 1] = { i, t:upper() } end
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
