--- What the loader learnt from each migration file (revision, parents,
--- labels, message, checksum ...), kept between runs so that commands that
--- only read the graph (heads, history, current) need not compile thousands
--- of files. An entry is used only while the file's size and modification
--- time are unchanged and the file was last modified before the second the
--- cache was written in (a file changed again within that second is read
--- anew). Stored under $XDG_CACHE_HOME/luamig (or ~/.cache/luamig), one
--- file per migrations directory and cache format; LUAMIG_CACHE=off turns
--- it off. A cache that cannot be read or written is ignored.
local lfs = require "lfs"
local host = require "luamig.host"
local fs = require "luamig.util.fs"

local M = {}

-- (in the file's name too: luamig versions with other formats keep their own files)
local VERSION = 5
local HEADER = "luamig-script-cache " .. VERSION

---@class luamig.Cache
---@field path string?
---@field root string?
---@field written_at integer   seconds
---@field text string?   the cache file: header, listing, then the entry lines (sorted by file name)
---@field listing_at integer?  where the listing starts in text (host.stat_list's form: "name/size/mtime\n" each)
---@field listing_end integer? where it ends (the entries start after)
---@field entries table<string, string>?  by file name: the entry's line, parsed on lookup
---@field memo string?   a result derived from exactly these files (see M.save)

local function cache_file(dir)
  local root = fs.cache_root()
  if not root then return nil end
  local abs = dir:match("^/") and dir or (lfs.currentdir() .. "/" .. dir)
  return ("%s/luamig/%s-%d.tsv"):format(root, host.checksum(abs), VERSION), root
end

-- Fields are tab-separated; in text, %, tab, newline and comma are %XX-escaped,
-- and lists are comma-separated.
local function esc(s)
  return (s:gsub("[%%\t\n,]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function unesc(s)
  if not s:find("%", 1, true) then return s end
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function list_of(s)
  local out = {}
  if s == "" then return out end
  for item in s:gmatch("[^,]+") do out[#out + 1] = unesc(item) end
  return out
end

-- A list as the script store keeps it (nil, one id, or a list) as a field.
local function join(list)
  if list == nil then return "" end
  if type(list) == "string" then return esc(list) end
  local parts = {}
  for i, v in ipairs(list) do parts[i] = esc(v) end
  return table.concat(parts, ",")
end

---Read the cache for migrations directory `dir` (empty when absent or unreadable).
---@param dir string
---@return luamig.Cache
function M.open(dir)
  local path, root = cache_file(dir)
  local cache = { path = path, root = root, written_at = 0 }
  if not path then return cache end
  local f = io.open(path, "rb")
  if not f then return cache end
  local text = f:read("a")
  f:close()
  if text:sub(1, #HEADER + 1) ~= HEADER .. "\t" then return cache end
  local written, memo, size, at = text:match("^(%d+)\t([^\n\t]*)\t(%d+)\n()", #HEADER + 2)
  if not written then return cache end
  cache.written_at = math.tointeger(tonumber(written)) or 0
  cache.memo = memo ~= "" and unesc(memo) or nil
  cache.text, cache.listing_at, cache.listing_end = text, at, at + tonumber(size) - 1
  return cache
end

-- The entries by file name, parsed from the text on first use.
local function entries(cache)
  if not cache.entries then
    cache.entries = {}
    if cache.text then
      for name, rest in cache.text:gmatch("\n([^\t\n]+)\t([^\n]*)", cache.listing_end) do
        cache.entries[unesc(name)] = rest
      end
    end
  end
  return cache.entries
end

local LINE = "^(%d+)\t(%d+)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([01])\t(%d+)\t(%x+)" ..
  "\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(%d*)$"

---The cached fields for file `name` (a fresh table) while its size and
---mtime (ns) still match.
---@return table?
function M.lookup(cache, name, size, mtime)
  local rest = entries(cache)[name]
  if not rest then return nil end
  local sz, mt, id, parents, deps, labels, replaces, tx, line, sum, msg, lock_t, stmt_t, retries = rest:match(LINE)
  if not sz or tonumber(sz) ~= size or tonumber(mt) ~= mtime or mtime >= cache.written_at * 1000000000 then
    return nil
  end
  return { id = unesc(id), parents = list_of(parents), depends_on = list_of(deps), branch_labels = list_of(labels),
    replaces = list_of(replaces), transactional = tx == "1", line = tonumber(line), checksum = sum, message = unesc(msg),
    lock_timeout = lock_t ~= "" and unesc(lock_t) or nil, statement_timeout = stmt_t ~= "" and unesc(stmt_t) or nil,
    lock_retries = math.tointeger(tonumber(retries)) }
end

---True when the files named `names` (in `prefix`, as the script listing
---gives them) are exactly the ones the cache describes, none changed since
---(same size, same date, dated before the second the cache was written in):
---then `cache.memo` still holds.
---@param cache luamig.Cache
---@param names string[]
---@param prefix string
function M.unchanged(cache, names, prefix)
  if not cache.text then return false end
  local listing, latest = host.stat_list(prefix, names)
  return listing ~= nil and latest < cache.written_at * 1000000000
    and #listing == cache.listing_end - cache.listing_at + 1
    and cache.text:sub(cache.listing_at, cache.listing_end) == listing
end

---Write the cache: `store` holds the scripts' fields and their files' sizes
---and dates (luamig.ScriptStore, in file-name order); `memo` is text derived
---from exactly these files (e.g. the heads), or nil. Failures are ignored
---(the cache is an optimisation).
---@param cache luamig.Cache
---@param store luamig.ScriptStore
---@param memo string?
function M.save(cache, store, memo)
  if not cache.path then return end
  local listing = {}
  for i = 1, store.n do listing[i] = ("%s/%d/%d\n"):format(store.name[i], store.size[i], store.mtime[i]) end
  listing = table.concat(listing)
  local lines = { HEADER .. "\t" .. os.time() .. "\t" .. (memo and esc(memo) or "") .. "\t" .. #listing .. "\n" ..
    listing:sub(1, -2) }
  for i = 1, store.n do
    lines[#lines + 1] = table.concat({ esc(store.name[i]), store.size[i], store.mtime[i], esc(store.id[i]),
      join(store.parents[i]), join(store.depends_on[i]), join(store.branch_labels[i]),
      join(store.replaces[i]), store.nontx[i] and "0" or "1", store.line[i], ("%016x"):format(store.checksum[i]),
      esc(store.message[i]), esc(store.lock_timeout[i] or ""), esc(store.statement_timeout[i] or ""),
      store.lock_retries[i] or "" }, "\t")
  end
  lfs.mkdir(cache.root)
  lfs.mkdir(cache.root .. "/luamig")
  local tmp = ("%s.%d.tmp"):format(cache.path, host.getpid())
  local f = io.open(tmp, "wb")
  if not f then return end
  local ok = f:write(table.concat(lines, "\n"), "\n")
  f:close()
  if ok then os.rename(tmp, cache.path) else os.remove(tmp) end
end

---Number of files the cache knows.
function M.count(cache)
  local n = 0
  for _ in pairs(entries(cache)) do n = n + 1 end
  return n
end

return M
