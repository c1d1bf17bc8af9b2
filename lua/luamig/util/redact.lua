--- Passwords out of everything shown: the secret substrings are found in the
--- raw text the user gave (a URL or a libpq key/value string), before any
--- parser has split it, and those exact substrings are scrubbed from any
--- text, libpq's own messages included.
local M = {}

M.MASK = "***"

-- "%41" -> "A"; nil when nothing is encoded.
local function decoded(s)
  if not s:find("%", 1, true) then return nil end
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- The user information of a URL: the text before the last "@" ahead of the
-- query string (or, when the password holds a "?", before the last "@"),
-- without the scheme and its slashes. Nil without an "@".
local function userinfo(raw)
  local q = raw:find("?", 1, true)
  local head = q and raw:sub(1, q - 1):match("^(.*)@") or raw:match("^(.*)@")
  if not head then return nil end
  if head:match("^%a[%w+.-]*:/") then head = head:gsub("^%a[%w+.-]*:/*", "") end
  return head
end

---The password of a URL's user information (`user:password@host`), as
---written; nil when there is none.
---@param raw string
---@return string?
function M.url_password(raw)
  local info = userinfo(raw)
  local pw = info and info:match("^[^:]*:(.+)$")
  return pw
end

-- A libpq value starting at `i` of `s`: quoted ('...' with \' and \\) or
-- up to white space (backslash escapes the next character). Returns the
-- raw text of the value.
local function libpq_value(s, i)
  local quoted = s:sub(i, i) == "'"
  local j = quoted and i + 1 or i
  while j <= #s do
    local c = s:sub(j, j)
    if c == "\\" then
      j = j + 1
    elseif (quoted and c == "'") or (not quoted and c:match("%s")) then
      break
    end
    j = j + 1
  end
  return s:sub(i, quoted and j or j - 1)
end

---The secret substrings of `raw`, longest first: a URL's password (also
---decoded), `password=` values of a query string (up to & or #) or of a
---libpq string (libpq quoting; also unquoted and unescaped).
---@param raw string
---@return string[]
function M.secrets(raw)
  local found, seen = {}, {}
  local function add(s)
    if s and s ~= "" and not seen[s] then seen[s], found[#found + 1] = true, s end
  end
  local pw = M.url_password(raw)
  add(pw)
  add(pw and decoded(pw))
  local init = 1
  while true do
    local s, e, before = raw:find("()%f[%w_][%w_]*password%s*=%s*", init)
    if not s then break end
    local value
    if raw:sub(before - 1, before - 1):match("[?&]") then
      value = raw:match("^[^&#]*", e + 1)
      add(decoded(value))
    else
      value = libpq_value(raw, e + 1)
      local inner = value:match("^'(.*)'$") or value
      add(inner)
      add((inner:gsub("\\(.)", "%1")))
    end
    add(value)
    init = e + 1
  end
  table.sort(found, function(a, b) return #a > #b end)
  return found
end

---`text` with every one of `secrets` replaced by ***.
---@param text string
---@param secrets string[]
---@return string
function M.scrub(text, secrets)
  for _, s in ipairs(secrets) do
    local out, i = {}, 1
    while true do
      local a, b = text:find(s, i, true)
      if not a then break end
      out[#out + 1] = text:sub(i, a - 1) .. M.MASK
      i = b + 1
    end
    out[#out + 1] = text:sub(i)
    text = table.concat(out)
  end
  return text
end

---The secrets of several raw texts (nils skipped), longest first.
---@param ... string?
---@return string[]
function M.secrets_of(...)
  local all = {}
  for i = 1, select("#", ...) do
    local raw = select(i, ...)
    if type(raw) == "string" then
      for _, s in ipairs(M.secrets(raw)) do all[#all + 1] = s end
    end
  end
  table.sort(all, function(a, b) return #a > #b end)
  return all
end

---`raw` (a URL or libpq string) with its passwords replaced by ***.
---@param raw string
---@return string
function M.url(raw)
  return M.scrub(raw, M.secrets(raw))
end

return M
