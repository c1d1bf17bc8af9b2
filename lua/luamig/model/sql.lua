--- SQL text shared by the dialects: ANSI quoting, column names replaced.
local M = {}

---Quote an identifier: "name", doubling inner quotes.
---@param s string
---@return string
function M.quote_ident(s)
  if type(s) ~= "string" or s == "" or s:find("\0", 1, true) then
    error("quote_ident: expected a non-empty name without NUL bytes", 3)
  end
  return '"' .. s:gsub('"', '""') .. '"'
end

---Quote a value as an SQL literal: strings in single quotes, numbers and
---booleans as themselves, nil as NULL.
---@param v string|number|boolean|nil
---@return string
function M.quote_literal(v)
  local t = type(v)
  if v == nil then return "NULL" end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then error("quote_literal: not a finite number", 3) end
    return math.type(v) == "integer" and tostring(v) or ("%.17g"):format(v)
  end
  if t == "boolean" then return v and "TRUE" or "FALSE" end
  if t ~= "string" then error("quote_literal: cannot quote a " .. t, 3) end
  if v:find("\0", 1, true) then error("quote_literal: text with NUL bytes must be bound as a parameter", 3) end
  return "'" .. v:gsub("'", "''") .. "'"
end

---Values as a comma-separated list of literals (an IN list, an enum's labels).
---@param values any[]
---@return string
function M.literal_list(values)
  local parts = {}
  for i, v in ipairs(values) do parts[i] = M.quote_literal(v) end
  return table.concat(parts, ", ")
end

---`sql` with the column names it holds replaced through `map`, from byte
---`from_pos` on: a bare word by map[word:lower()], a quoted name by
---map['"name"'] (the caller gives the keys its names answer to). A word
---before "(" (a call), or after "::" or "." (a type, a qualified name), is
---no column. Tokens are the drivers' tokenizer's, of dialect `flavour`.
---@param sql string
---@param map table<string, string>
---@param flavour string  "postgresql" or "sqlite"
---@param from_pos integer?
---@return string
function M.columns_replaced(sql, map, flavour, from_pos)
  local toks = {}
  for kind, first, last in require("luamig.host").sql_tokens(sql, flavour) do
    if kind ~= "space" and kind ~= "comment" then toks[#toks + 1] = { kind, first, last } end
  end
  local out, pos = {}, 1
  for i, tk in ipairs(toks) do
    local kind, first, last = tk[1], tk[2], tk[3]
    local text = sql:sub(first, last)
    local to = first >= (from_pos or 1) and ((kind == "word" and map[text:lower()]) or (kind == "name" and map[text]))
    local before = toks[i - 1] and sql:sub(toks[i - 1][2], toks[i - 1][3])
    local after = toks[i + 1] and sql:sub(toks[i + 1][2], toks[i + 1][3])
    if to and before ~= "::" and before ~= ":" and before ~= "." and after ~= "(" then
      out[#out + 1] = sql:sub(pos, first - 1) .. to
      pos = last + 1
    end
  end
  out[#out + 1] = sql:sub(pos)
  return table.concat(out)
end

-- Calls whose value differs from row to row: a column added with one in its
-- default makes PostgreSQL compute it for every row, rewriting the table.
local VOLATILE = { "RANDOM%(", "CLOCK_TIMESTAMP%(", "GEN_RANDOM_UUID%(", "UUID_GENERATE_V", "NEXTVAL%(",
  "TIMEOFDAY%(" }

---The volatile call in SQL expression `expr` ("nextval()", ...), or nil.
---@param expr string
---@return string?
function M.volatile_call(expr)
  local up = expr:upper()
  for _, p in ipairs(VOLATILE) do
    if up:find(p) then return (p:gsub("%%%(", "()"):lower()) end
  end
end

return M
