--- Split a SQL script (plain pg_dump output included) into statements, psql
--- meta-commands and COPY ... FROM stdin data, each with its line. A minimal
--- tokenizer: quotes ('', E'', ""), dollar quotes, -- and nested /* */
--- comments; BEGIN ... END bodies of CREATE FUNCTION/PROCEDURE/TRIGGER
--- (SQL-standard and SQLite trigger bodies) hold their own semicolons.
--- (To be replaced by the shared SQL tokenizer: callers use only M.split.)
local M = {}

---@class luamig.SqlPiece
---@field kind "sql"|"meta"|"copy"
---@field text string    the statement (from its first token to before its `;`), or the meta-command's line
---@field line integer   the line it starts on
---@field data string?   "copy": the data lines, each ending in "\n", without the closing `\.`

-- The statements whose BEGIN/CASE ... END nest: their `;` inside a body do not end them.
local function has_body(stmt)
  local words = {}
  for w in stmt:sub(1, 200):gmatch("[%a_]+") do
    words[#words + 1] = w:upper()
    if #words == 6 then break end
  end
  if words[1] ~= "CREATE" then return false end
  for i = 2, #words do
    local w = words[i]
    if w == "FUNCTION" or w == "PROCEDURE" or w == "TRIGGER" then return true end
    if w ~= "OR" and w ~= "REPLACE" and w ~= "TEMP" and w ~= "TEMPORARY" and w ~= "CONSTRAINT" then return false end
  end
  return false
end

local function lines_in(s) return select(2, s:gsub("\n", "")) end

-- A problem in the text at `line`, for M.split to return.
local function fail(line, fmt, ...)
  error({ split_line = line, message = fmt:format(...) }, 0)
end

-- "$tag$" (or "$$") starting at position j of text, else nil.
local function dollar_tag(text, j)
  return text:match("^%$%$", j) or text:match("^%$[%a_][%w_]*%$", j)
end

local function scan(text)
  local out = {}
  local i, line, n = 1, 1, #text
  local first, first_line, last -- the current statement's first token (position, line), its last one's end
  local body, depth = nil, 0 -- has_body() of the current statement, its BEGIN/CASE depth
  local function plain(a, b) -- text outside quotes and comments: tokens start a statement, words nest
    local seg = text:sub(a, b)
    local s = seg:find("%S")
    if not s then return end
    last = a + seg:find("%S%s*$") - 1
    if not first then
      first, first_line = a + s - 1, line + lines_in(seg:sub(1, s - 1))
      body = has_body(text:sub(first, first + 200))
    end
    if body then
      for w in seg:gmatch("[%a_][%w_]*") do
        local u = w:upper()
        if u == "BEGIN" or u == "CASE" then depth = depth + 1
        elseif u == "END" and depth > 0 then depth = depth - 1 end
      end
    end
  end
  local function close(at) -- the statement before position `at`, then the COPY data after it
    if not first then return at end
    local stmt = text:sub(first, last)
    local piece = { kind = "sql", text = stmt, line = first_line }
    out[#out + 1] = piece
    first, body, depth = nil, nil, 0
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
  while i <= n do
    local j = text:find("[-/'\"$;\\\n]", i)
    if not j then
      plain(i, n)
      break
    end
    plain(i, j - 1)
    local c, start_line = text:sub(j, j), line
    local function unterminated(what) fail(start_line, "unterminated %s", what) end
    if c == "\n" then
      line = line + 1
      i = j + 1
    elseif c == "-" and text:sub(j + 1, j + 1) == "-" then
      i = text:find("\n", j, true) or n + 1
    elseif c == "/" and text:sub(j + 1, j + 1) == "*" then
      local d, k = 1, j + 2
      while d > 0 do
        local a, b = text:find("[/*][*/]", k)
        if not a then unterminated("/* comment") end
        local pair = text:sub(a, b)
        if pair == "/*" then d = d + 1 elseif pair == "*/" then d = d - 1 end
        k = (pair == "/*" or pair == "*/") and b + 1 or a + 1
      end
      line = line + lines_in(text:sub(j, k - 1))
      i = k
    elseif c == "'" or c == '"' then
      plain(j, j) -- (a quote starts a statement too)
      local escapes = c == "'" and text:sub(j - 1, j - 1):match("[Ee]") and not text:sub(j - 2, j - 2):match("[%w_]")
      local k = j + 1
      while true do
        local a = text:find(escapes and "[\\']" or c, k)
        if not a then unterminated(c == "'" and "string" or "quoted name") end
        if escapes and text:sub(a, a) == "\\" then
          k = a + 2
        elseif text:sub(a + 1, a + 1) == c then
          k = a + 2
        else
          k = a + 1
          break
        end
      end
      line = line + lines_in(text:sub(j, k - 1))
      i, last = k, k - 1
    elseif c == "$" and not text:sub(j - 1, j - 1):match("[%w_]") and dollar_tag(text, j) then
      plain(j, j)
      local tag = dollar_tag(text, j)
      local _, e = text:find(tag, j + #tag, true)
      if not e then unterminated("dollar-quoted string " .. tag) end
      line = line + lines_in(text:sub(j, e))
      i, last = e + 1, e
    elseif c == ";" and depth == 0 then
      i = close(j)
    elseif c == "\\" then
      local e = text:find("\n", j, true) or n + 1
      out[#out + 1] = { kind = "meta", text = text:sub(j, e - 1), line = line }
      i = e
    else -- a lone - / $ or a ; inside a body
      plain(j, j)
      i = j + 1
    end
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
