--- Fleet targets: the databases (or schemas) a fleet run migrates, from the
--- config's `targets` (a list, or a function returning one) or a --targets
--- FILE (one per line: URL, NAME URL, or NAME URL SCHEMA).
local errors = require "luamig.util.errors"
local redact = require "luamig.util.redact"
local text = require "luamig.util.text"

local M = {}

---@class luamig.Target
---@field name string     shown in the live line, the summary and --json (never a password)
---@field url string
---@field schema string?  PostgreSQL schema of this target (schema-per-tenant)
---@field base string?    what a relative sqlite:/// path is relative to (the config's directory)

-- A display name for a target given without one: its URL with the password
-- removed, and the schema after "#".
local function default_name(url, schema)
  return redact.url(url) .. (schema and ("#" .. schema) or "")
end

local function bad_field(v, what)
  if v == nil then return nil end
  if type(v) ~= "string" or v == "" or v:find("\0", 1, true) then
    return ("%s must be a non-empty string"):format(what)
  end
end

-- One entry (a URL, or { name =, url =, schema = }) as a luamig.Target;
-- `where` names it in messages.
local function normalize(entry, where)
  if type(entry) == "string" then entry = { url = entry } end
  if type(entry) ~= "table" then
    errors.raise("config", ("%s must be a URL or { name =, url =, schema = }, not a %s"):format(where, type(entry)))
  end
  for k in pairs(entry) do
    if k ~= "name" and k ~= "url" and k ~= "schema" then
      errors.raise("config", ("%s: unknown field '%s' (name, url, schema)"):format(where, tostring(k)))
    end
  end
  if entry.url == nil then errors.raise("config", ("%s has no url"):format(where)) end
  local bad = bad_field(entry.url, "url") or bad_field(entry.name, "name") or bad_field(entry.schema, "schema")
  if bad then errors.raise("config", ("%s: %s"):format(where, bad)) end
  return { name = entry.name or default_name(entry.url, entry.schema), url = entry.url, schema = entry.schema }
end

---The targets of a list (as `targets` or its function gives it), checked:
---every entry well-formed, no name twice. `source` names the list in messages.
---@param list any
---@param source string
---@return luamig.Target[]
function M.from_list(list, source)
  if type(list) ~= "table" then
    errors.raise("config", ("%s must give a list of targets (got %s)"):format(source, type(list)))
  end
  local out, seen = {}, {}
  for i, entry in ipairs(list) do
    local t = normalize(entry, ("%s: target %d"):format(source, i))
    if seen[t.name] then
      errors.raise("config", ("%s: duplicate target name %s (targets %d and %d)"):format(source,
        text.visible(t.name, true), seen[t.name], i))
    end
    seen[t.name] = i
    out[#out + 1] = t
  end
  return out
end

-- The lines of a --targets FILE as entries. Blank lines and lines whose
-- first non-blank is "#" are skipped; a "#" anywhere else is data (a
-- password or a file name may hold one). Errors name FILE:LINE, never the
-- line's text (it may hold a password).
local function file_entries(path)
  local f, err = io.open(path, "r")
  if not f then errors.raise("usage", ("--targets %s: %s"):format(path, err)) end
  local list, n = {}, 0
  for line in f:lines() do
    n = n + 1
    local words = {}
    if not line:match("^%s*#") then
      for w in line:gmatch("%S+") do words[#words + 1] = w end
    end
    if #words == 1 then
      list[#list + 1] = words[1]
    elseif #words == 2 or #words == 3 then
      list[#list + 1] = { name = words[1], url = words[2], schema = words[3] }
    elseif #words > 3 then
      f:close()
      errors.raise("usage", ("--targets %s:%d: expected URL, NAME URL or NAME URL SCHEMA, found %d words%s")
        :format(path, n, #words, line:match("%s#") and " (a # starts a comment only at the start of a line)" or ""))
    end
  end
  f:close()
  return list
end

---Every target of the project: --targets FILE if given, else the config's
---`targets` (a function is called now, once).
---@param cfg luamig.Config
---@param file string?  --targets
---@return luamig.Target[]
function M.all(cfg, file)
  if file then return M.from_list(file_entries(file), file) end
  local t = cfg.targets
  if t == nil then
    errors.raise("usage", "--all and --target need targets: set `targets` in luamig.lua or pass --targets FILE")
  end
  local source = (cfg.file or "luamig.lua") .. ": targets"
  if type(t) == "function" then
    local ok, res = pcall(t)
    if not ok then errors.raise("config", ("%s function failed: %s"):format(source, errors.text(res))) end
    t = res
  end
  local list = M.from_list(t, source)
  for _, target in ipairs(list) do target.base = cfg.dir end
  return list
end

---The targets a run names: all of them (--all), or those of --target NAME...
---in the order given (an unknown name is a usage error).
---@param list luamig.Target[]
---@param names string[]?
---@return luamig.Target[]
function M.select(list, names)
  if not names or #names == 0 then return list end
  local by, out = {}, {}
  for _, t in ipairs(list) do by[t.name] = t end
  for _, n in ipairs(names) do
    if not by[n] then
      local near = text.closest(by, n)
      errors.raise("usage", ("no target named %s%s"):format(text.visible(n, true),
        #near > 0 and ("; did you mean " .. text.visible(table.concat(near, " or "), true) .. "?") or ""))
    end
    out[#out + 1] = by[n]
  end
  return out
end

---Which database target `t` is on (its URL, and what a relative SQLite path
---is relative to): targets with one key share a connection (the no-op
---check, a job's next schema).
---@param t luamig.Target
---@return string
function M.database(t)
  return t.url .. "\0" .. (t.base or "")
end

---The 32-bit FNV-1a hash of `s`'s bytes: the same number on every run and
---machine (what --shard splits the fleet by).
---@param s string
---@return integer
function M.fnv1a(s)
  local h = 2166136261
  for i = 1, #s do
    h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff
  end
  return h
end

---Parse --shard K/N (1 <= K <= N); a usage error otherwise.
---@param v string
---@return integer k, integer n
function M.parse_shard(v)
  local k, n = tostring(v):match("^(%d+)/(%d+)$")
  k, n = math.tointeger(tonumber(k)), math.tointeger(tonumber(n))
  if not k or not n or n < 1 or k < 1 or k > n then
    errors.raise("usage", ("--shard must be K/N with 1 <= K <= N, e.g. --shard 2/8 (got %s)"):format(text.visible(v)))
  end
  return k, n
end

---The targets of shard `k` of `n`: those whose name's fnv1a hash is k - 1
---modulo n, in their listed order. Shards 1..n partition any list.
---@param list luamig.Target[]
---@param k integer
---@param n integer
---@return luamig.Target[]
function M.shard(list, k, n)
  local out = {}
  for _, t in ipairs(list) do
    if M.fnv1a(t.name) % n == k - 1 then out[#out + 1] = t end
  end
  return out
end

return M
