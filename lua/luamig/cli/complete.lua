--- What to offer for the word being completed on a luamig command line: the
--- decision the completion scripts of every shell ask for (`luamig
--- completion --complete -- WORDS`), made from the command registry.
local parser = require "luamig.cli.parser"
local registry = require "luamig.cli.registry"

local M = {}

---@alias luamig.Offer string[]|"files"|"dirs"

-- What an option's value or an argument is completed with: its choices, the
-- revision targets, file names, or nothing. `spec.complete` overrides.
local function value_kind(spec, is_target)
  if spec.choices then return spec.choices end
  if spec.complete then return spec.complete end
  if is_target then return "targets" end
  return nil
end

local function option_kind(o)
  if o.flag then return nil end
  local argname = o[3] or "VALUE"
  if argname == "FILE" then return "files" end
  return value_kind(o, parser.TARGET_ARGNAMES[argname]) or "nothing"
end

-- The option named `word` among `options`.
local function find_option(options, word)
  for _, o in ipairs(options) do
    for alias in o[1]:gmatch("%S+") do
      if alias == word then return o end
    end
  end
end

local function option_names(options, out)
  for _, o in ipairs(options) do
    for alias in o[1]:gmatch("%S+") do out[#out + 1] = alias end
  end
  return out
end

-- The command word, the positional arguments after it, and the config file
-- named on the line, in words[2 .. #words - 1].
local function scan(words, list)
  local cmd, options, positional, config = nil, parser.COMMON, 0, nil
  local i = 2
  while i < #words do
    local w = words[i]
    local o = w:match("^%-") and find_option(options, w)
    if o and not o.flag then
      if o.target == "config" then config = words[i + 1] end
      i = i + 1
    elseif not w:match("^%-") or w:match("^%-%d") then
      if cmd then
        positional = positional + 1
      else
        local entry = registry.find(list, w)
        cmd = entry and registry.load(entry) or { name = w }
        options = { table.unpack(parser.COMMON) }
        for _, co in ipairs(cmd.options or {}) do options[#options + 1] = co end
      end
    end
    i = i + 1
  end
  return cmd, options, positional, config
end

-- The declared argument at position n (a "*" or "+" one takes the rest).
local function argument_at(cmd, n)
  local args = cmd.args or {}
  for i, a in ipairs(args) do
    if i == n or (i < n and i == #args and (a[3] == "*" or a[3] == "+")) then return a end
  end
end

---What to offer for words[#words] (words[1] is the program): a list of
---words (the shell filters them by prefix), "files", "dirs", or the
---revision targets ("targets", which the caller lists), and the config file
---the line names.
---@param words string[]
---@param list luamig.Command[]  registry.list(plugins)
---@return luamig.Offer|"targets"|"commands", string? config
function M.offer(words, list)
  local cmd, options, positional, config = scan(words, list)
  local cur, prev = words[#words] or "", words[#words - 1] or ""
  local o = prev:match("^%-") and find_option(options, prev)
  if o and not o.flag then
    local kind = option_kind(o)
    return kind == "nothing" and {} or kind, config
  end
  if cur:match("^%-") and not cur:match("^%-%d") then
    local names = option_names(options, { "-h", "--help" })
    if not cmd then names[#names + 1] = "--version" end
    return names, config
  end
  if not cmd then return "commands", config end
  local a = argument_at(cmd, positional + 1)
  if not a then return {}, config end
  return value_kind(a, parser.TARGET_ARGS[a[1]]) or "files", config
end

---The names of the commands of `list`.
---@param list luamig.Command[]
---@return string[]
function M.command_names(list)
  local out = {}
  for i, e in ipairs(list) do out[i] = e.name end
  return out
end

---The revision targets of a graph: head, heads, base, every id, every
---branch label and LABEL@head / LABEL@base.
---@param g luamig.Graph
---@return string[]
function M.targets(g)
  local out, labels = { "head", "heads", "base" }, {}
  for _, id in ipairs(g.load) do out[#out + 1] = id end
  for key, node in pairs(g.map) do
    if key ~= node.id then labels[#labels + 1] = key end
  end
  table.sort(labels)
  for _, l in ipairs(labels) do
    out[#out + 1] = l
    out[#out + 1] = l .. "@head"
    out[#out + 1] = l .. "@base"
  end
  return out
end

return M
