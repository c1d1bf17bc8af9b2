--- Reads LuaLS ---@meta files the way spec/inproc/types_spec.lua needs:
--- its classes with their members (---@field lines and `function X:name`
--- declarations after `local X = {}`), its globals, and the functions that
--- lack a description or a @param.
local lfs = require "lfs"

local M = {}

---@class spec.MetaMember
---@field kind "field"|"function"
---@field only "sqlite"|"postgresql"|nil  a description starting "SQLite only" / "PostgreSQL only"
---@field optional boolean?  a field typed `T?` or `...|nil`

---@class spec.MetaClass
---@field members table<string, spec.MetaMember>
---@field order string[]      member names in file order
---@field functions integer

---@class spec.Meta
---@field classes table<string, spec.MetaClass>
---@field globals table<string, true>
---@field problems string[]

---Parse the text of a ---@meta file (into `into`, to merge several files).
---@param text string
---@param file string  its name, for problems
---@param into spec.Meta?
---@return spec.Meta
function M.parse(text, file, into)
  into = into or { classes = {}, globals = {}, problems = {} }
  local classes, globals, problems = into.classes, into.globals, into.problems
  classes["?"] = { members = {}, order = {}, functions = 0 }
  local class, var_class = nil, {}
  local doc = {} -- the ---lines above the current line
  local n = 0
  local function add(name, key, member)
    local c = classes[name]
    if not c.members[key] then c.order[#c.order + 1] = key end
    c.members[key] = member
    if member.kind == "function" then c.functions = c.functions + 1 end
  end
  for line in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    local cname = line:match("^%-%-%-@class%s+([%w_.]+)")
    local field, ftype = line:match("^%-%-%-@field%s+([%a_][%w_]*)%s+(%S+)")
    local var = line:match("^local%s+([%a_][%w_]*)%s*=%s*{}")
    local owner, sep, fname, args = line:match("^function%s+([%a_][%w_]*)([.:])([%a_][%w_]*)%s*%((.-)%)")
    local gfunc, gargs = line:match("^function%s+([%a_][%w_]*)%s*%((.-)%)")
    local gvar = line:match("^([%a_][%w_]*)%s*=%s*nil")
    if cname then
      class = cname
      classes[cname] = classes[cname] or { members = {}, order = {}, functions = 0 }
    elseif field and class then
      add(class, field, { kind = "field", optional = ftype:match("%?$") ~= nil or ftype:match("|nil") ~= nil })
    elseif var and class then
      var_class[var] = class
    elseif owner or gfunc then
      local desc = doc[1] and not doc[1]:match("^@") and doc[1] or nil
      local params = {}
      for _, d in ipairs(doc) do
        local p = d:match("^@param%s+([%w_.]+)")
        if p then params[p] = true end
      end
      for a in (args or gargs):gmatch("[%w_.]+") do
        if not params[a] then problems[#problems + 1] = ("%s:%d: no ---@param %s"):format(file, n, a) end
      end
      if not desc then problems[#problems + 1] = ("%s:%d: no one-line description"):format(file, n) end
      if owner then
        if not var_class[owner] then problems[#problems + 1] = ("%s:%d: %s is no class's table"):format(file, n, owner) end
        local only = desc and (desc:match("^SQLite only") and "sqlite" or desc:match("^PostgreSQL only") and "postgresql")
        add(var_class[owner] or "?", fname, { kind = "function", only = only or nil, method = sep == ":" })
      else
        globals[gfunc] = true
      end
    elseif gvar then
      globals[gvar] = true
    end
    local d = line:match("^%-%-%-(.*)$")
    if d then doc[#doc + 1] = d else doc = {} end
    if not (cname or field or d) and line ~= "" then class = class and var and class or nil end
  end
  classes["?"] = nil
  return into
end

---Parse every .lua file of `dir` (name order) into one spec.Meta.
---@param dir string
---@return spec.Meta meta, string[] files
function M.parse_dir(dir)
  local files = {}
  for entry in lfs.dir(dir) do
    if entry:match("%.lua$") then files[#files + 1] = entry end
  end
  table.sort(files)
  local meta
  for _, f in ipairs(files) do
    local h = assert(io.open(dir .. "/" .. f, "rb"))
    meta = M.parse(h:read("a"), f, meta)
    h:close()
  end
  return meta, files
end

---The keys of a table, sorted.
---@param t table
---@return string[]
function M.sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

---The sorted ---@field names of `---@class name` in any .lua file under
---`dir`, or nil when no file declares it.
---@param dir string
---@param name string
---@return string[]?
function M.annotated_fields(dir, name)
  for entry in lfs.dir(dir) do
    local path = dir .. "/" .. entry
    local mode = entry:sub(1, 1) ~= "." and lfs.attributes(path, "mode")
    local found
    if mode == "directory" then
      found = M.annotated_fields(path, name)
    elseif mode == "file" and entry:match("%.lua$") then
      local f = assert(io.open(path, "rb"))
      local text = f:read("a")
      f:close()
      local block = text:match("%-%-%-@class%s+" .. name:gsub("%.", "%%.") .. "%f[^%w_.][^\n]*\n(.-)\n[^-]")
      if block then
        local fields = {}
        for field in block:gmatch("%-%-%-@field%s+([%a_][%w_]*)") do fields[field] = true end
        found = M.sorted_keys(fields)
      end
    end
    if found then return found end
  end
  return nil
end

return M
