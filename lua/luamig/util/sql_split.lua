--- Split a SQL script (plain pg_dump output included) into statements, psql
--- meta-commands and COPY ... FROM stdin data, each with its line. The
--- drivers' tokenizer (src/sql_tokens.c, PostgreSQL rules) reads quotes,
--- comments and dollar quotes; BEGIN ... END bodies of CREATE
--- FUNCTION/PROCEDURE/TRIGGER (SQL-standard and SQLite trigger bodies) hold
--- their own semicolons.
local host = require "luamig.host"

local M = {}

---@class luamig.SqlPiece
---@field kind "sql"|"meta"|"copy"
---@field text string    the statement (from its first token to before its `;`), or the meta-command's line
---@field line integer   the line it starts on
---@field data string?   "copy": the data lines, each ending in "\n", without the closing `\.`

-- Whether a statement whose first words are `words` (upper case) has a
-- body whose BEGIN/CASE ... END nest: true, false, or nil (not known yet).
local PREFIX = { OR = true, REPLACE = true, TEMP = true, TEMPORARY = true, CONSTRAINT = true }
local function has_body(words)
  if words[1] ~= "CREATE" then return false end
  local w = words[#words]
  if #words == 1 or PREFIX[w] then
    if #words < 6 then return nil end
    return false
  end
  return w == "FUNCTION" or w == "PROCEDURE" or w == "TRIGGER"
end

local function lines_in(s) return select(2, s:gsub("\n", "")) end

-- A problem in the text at `line`, for M.split to return.
local function fail(line, fmt, ...)
  error({ split_line = line, message = fmt:format(...) }, 0)
end

-- What an unterminated token `tok` is, for the message.
local function unterminated(kind, tok)
  if kind == "comment" then return "/* comment" end
  if kind == "name" then return "quoted name" end
  local tag = tok:match("^%$[%w_]*%$")
  return tag and ("dollar-quoted string " .. tag) or "string"
end

local function scan(text)
  local out, line, n = {}, 1, #text
  local first, first_line, last -- the current statement's first token (position, line), its last one's end
  local words, body, depth = {}, nil, 0 -- its first words, has_body(), its BEGIN/CASE depth
  -- The statement before position `at` (its `;`, or the end); then the COPY
  -- data after it. Returns where the tokens go on.
  local function close(at)
    if not first then return at + 1 end
    local stmt = text:sub(first, last)
    local piece = { kind = "sql", text = stmt, line = first_line }
    out[#out + 1] = piece
    first, words, body, depth = nil, {}, nil, 0
    if not stmt:upper():match("^COPY%s.*%sFROM%s+STDIN") then return at + 1 end
    piece.kind = "copy"
    local eol = text:find("\n", at, true)
    if not eol then fail(piece.line, "COPY ... FROM stdin has no data lines ending in \\.") end
    local data_start, pos = eol + 1, eol + 1
    line = line + lines_in(text:sub(at, eol))
    while true do
      if pos > n then fail(piece.line, "COPY ... FROM stdin has no closing \\.") end
      local e = text:find("\n", pos, true) or n + 1
      if text:sub(pos, e - 1) == "\\." then
        piece.data = text:sub(data_start, pos - 1)
        line = line + 1
        return e + 1
      end
      line = line + 1
      pos = e + 1
    end
  end
  local pos = 1
  while pos <= n do
    local resume
    for kind, a, b, open in host.sql_tokens(text, "postgresql", pos) do
      local tok = text:sub(a, b)
      if open then fail(line, "unterminated %s", unterminated(kind, tok)) end
      if tok == ";" and depth == 0 then
        resume = close(a)
        break
      elseif tok == "\\" then -- a psql meta-command: the rest of its line
        local e = text:find("\n", a, true) or n + 1
        out[#out + 1] = { kind = "meta", text = text:sub(a, e - 1), line = line }
        resume = e
        break
      elseif kind ~= "space" and kind ~= "comment" then
        if not first then first, first_line = a, line end
        last = b
        if kind == "word" then
          local u = tok:upper()
          if body == nil then
            words[#words + 1] = u
            body = has_body(words)
          elseif body and (u == "BEGIN" or u == "CASE") then
            depth = depth + 1
          elseif body and u == "END" and depth > 0 then
            depth = depth - 1
          end
        end
      end
      line = line + lines_in(tok)
    end
    if not resume then break end
    pos = resume
  end
  close(n + 1)
  return out
end

---The pieces of `text`, in order; or nil, the line and what is wrong (an
---unterminated quote, comment or COPY block).
---@param text string
---@return luamig.SqlPiece[]? pieces
---@return integer? line
---@return string? problem
function M.split(text)
  local ok, r = pcall(scan, text)
  if ok then return r end
  if type(r) == "table" and r.split_line then return nil, r.split_line, r.message end
  error(r, 0)
end

return M
