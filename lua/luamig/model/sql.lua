--- SQL text shared by the dialects: ANSI quoting.
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
