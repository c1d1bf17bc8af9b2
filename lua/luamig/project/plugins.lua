--- Plugins: Lua files returning
---   { name = "...", commands = { name = { help, args = {...}, options = {...}, run = fn(ctx, args) } },
---     hooks = { before_run, after_run, before_migration, after_migration, on_error } }
--- found among the shipped ones (lua/luamig/shipped_plugins/, embedded in the
--- binary) and the project's plugin directories (config `plugins`, default
--- plugins/ next to the config). A project plugin overrides a shipped one of
--- the same name. Hooks run in plugin-name order.
local errors = require "luamig.util.errors"
local fs = require "luamig.util.fs"
local sandbox = require "luamig.util.sandbox"
local config_mod = require "luamig.project.config"

local M = {}

M.HOOKS = { "before_run", "after_run", "before_migration", "after_migration", "on_error" }
local HOOK_SET = {}
for _, h in ipairs(M.HOOKS) do HOOK_SET[h] = true end

M.SHIPPED = { "seed" } -- lua/luamig/shipped_plugins/<name>.lua

---@class luamig.Plugin
---@field name string
---@field path string       where it came from (a file, or "(shipped)")
---@field commands table<string, table>
---@field hooks table<string, function>

local function fail(path, fmt, ...)
  errors.raise("config", ("plugin %s: " .. fmt):format(path, ...))
end

local COUNTS = { ["?"] = true, ["*"] = true, ["+"] = true }

local function valid_count(n)
  return n == nil or COUNTS[n] or (math.type(n) == "integer" and n >= 0)
end

-- A command's help, args and options, as the parser reads them (the shape
-- the built-in commands declare too):
--   args = { { NAME, help, count } }, options = { { "-s --long", help, ARGNAME, flag = true, count = N } }
local function validate_declaration(c, bad)
  if c.help ~= nil and type(c.help) ~= "string" then bad("help must be a string") end
  for _, field in ipairs({ "args", "options" }) do
    if c[field] ~= nil and type(c[field]) ~= "table" then bad("%s must be a list of tables", field) end
  end
  for i, a in ipairs(c.args or {}) do
    if type(a) ~= "table" then bad("args[%d] must be a table { NAME, help, count }", i) end
    if type(a[1]) ~= "string" then bad("args[%d] needs a name", i) end
    if not valid_count(a[3]) then bad("args[%d] count must be a number, \"?\", \"*\" or \"+\"", i) end
  end
  for i, o in ipairs(c.options or {}) do
    if type(o) ~= "table" then bad("options[%d] must be a table { \"--name\", help, ARGNAME }", i) end
    if type(o[1]) ~= "string" or not o[1]:match("^%-") then bad("options[%d] needs a name such as \"--name\"", i) end
    if not valid_count(o.count) then bad("options[%d] count must be a number, \"?\", \"*\" or \"+\"", i) end
  end
end

-- Check a plugin table's shape; returns it normalized.
local function validate(p, path, builtin)
  if type(p) ~= "table" then fail(path, "must return a table { name = ..., commands = ..., hooks = ... }") end
  if type(p.name) ~= "string" or not p.name:match("^[%w_-]+$") then
    fail(path, "needs name = \"...\" (letters, digits, _ and -)")
  end
  p.commands = p.commands or {}
  p.hooks = p.hooks or {}
  if type(p.commands) ~= "table" then fail(path, "commands must be a table") end
  if type(p.hooks) ~= "table" then fail(path, "hooks must be a table") end
  for name, c in pairs(p.commands) do
    if builtin[name] then fail(path, "command '%s' is built into luamig; rename it", name) end
    if type(c) ~= "table" or type(c.run) ~= "function" then
      fail(path, "command '%s' needs run = function(ctx, args)", tostring(name))
    end
    validate_declaration(c, function(fmt, ...) fail(path, "command '%s': " .. fmt, name, ...) end)
  end
  for name, h in pairs(p.hooks) do
    if not HOOK_SET[name] then
      fail(path, "unknown hook '%s' (hooks: %s)", tostring(name), table.concat(M.HOOKS, ", "))
    end
    if type(h) ~= "function" then fail(path, "hook '%s' must be a function", name) end
  end
  p.path = path
  return p
end

local function load_file(path)
  return sandbox.run_file(path, sandbox.env(), "config")
end

-- The project's plugin directories (or files).
local function dirs(cfg)
  local v = cfg.plugins
  if v == nil then return { config_mod.join(cfg.dir, "plugins") } end
  local list = type(v) == "table" and v or { v }
  local out = {}
  for i, d in ipairs(list) do out[i] = config_mod.join(cfg.dir, d) end
  return out
end

---Load the shipped and project plugins, sorted by name.
---@param cfg luamig.Config
---@param builtin table<string, true>  built-in command names
---@return luamig.Plugin[]
function M.load(cfg, builtin)
  local by_name = {}
  for _, name in ipairs(M.SHIPPED) do
    local p = validate(require("luamig.shipped_plugins." .. name), "(shipped) " .. name, builtin)
    p.shipped = true
    by_name[p.name] = p
  end
  for _, dir in ipairs(dirs(cfg)) do
    local _, paths = fs.list_lua(dir)
    if not paths and fs.exists(dir) then paths = { dir } end -- a plugin file named in `plugins`
    for _, path in ipairs(paths or {}) do
      local p = validate(load_file(path), path, builtin)
      local other = by_name[p.name]
      if other and not other.shipped then
        fail(path, "name '%s' is already used by %s", p.name, other.path)
      end
      by_name[p.name] = p -- a project plugin overrides a shipped one
    end
  end
  local list = {}
  for _, p in pairs(by_name) do list[#list + 1] = p end
  table.sort(list, function(a, b) return a.name < b.name end)
  local owner = {}
  for _, p in ipairs(list) do
    for c in pairs(p.commands) do
      if owner[c] then fail(p.path, "command '%s' is also defined by %s", c, owner[c].path) end
      owner[c] = p
    end
  end
  return list
end

---The plugin command named `name`, and its plugin.
function M.command(list, name)
  for _, p in ipairs(list) do
    if p.commands[name] then return p.commands[name], p end
  end
end

---Call hook `name` of every plugin (in name order) with (ctx, a copy of
---info). An error names the plugin and its file and line.
function M.run_hook(list, name, ctx, info)
  for _, p in ipairs(list or {}) do
    local h = p.hooks[name]
    if h then
      local ok, err = pcall(sandbox.call, p.path, "migration", h, ctx, sandbox.copy_data(info))
      if not ok then
        errors.raise("migration", ("plugin %s: hook %s failed: %s"):format(p.name, name, errors.text(err)),
          { where = errors.is(err) and err.where or nil, cause = err }) -- (the text names the line once)
      end
    end
  end
end

return M
