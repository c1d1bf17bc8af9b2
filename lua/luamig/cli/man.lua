--- The manual page luamig.1 (roff, man macros), generated from the command
--- registry: the build writes it with `luamig help --man`.
local parser = require "luamig.cli.parser"

local M = {}

-- Text as roff: backslashes and hyphens escaped, no line starting with a
-- control character.
local function esc(s)
  s = s:gsub("\\", "\\e"):gsub("%-", "\\-")
  return (s:gsub("^([.'])", "\\&%1"):gsub("\n([.'])", "\n\\&%1"))
end

local function option_lines(out, options)
  for _, o in ipairs(options) do
    local label = parser.label(o)
    local names, arg = label:match("^(.-) (%S+)$")
    if o.flag or not names then names, arg = label, nil end
    out[#out + 1] = ".TP"
    out[#out + 1] = "\\fB" .. esc(names) .. "\\fR" .. (arg and (" \\fI" .. esc(arg) .. "\\fR") or "")
    out[#out + 1] = esc(o[2] or "")
  end
end

local function synopsis(c)
  local parts = { "\\fBluamig " .. esc(c.name) .. "\\fR" }
  for _, o in ipairs(c.options or {}) do
    local first = o[1]:match("^(%S+)")
    parts[#parts + 1] = "[\\fB" .. esc(first) .. "\\fR" .. (o.flag and "" or (" \\fI" .. esc(o[3] or "VALUE") .. "\\fR")) .. "]"
  end
  for _, a in ipairs(c.args or {}) do
    local n = a[3] or 1
    local word = "\\fI" .. esc(a[1]:upper()) .. "\\fR" .. ((n == "*" or n == "+") and "..." or "")
    parts[#parts + 1] = (n == "?" or n == "*") and ("[" .. word .. "]") or word
  end
  return table.concat(parts, " ")
end

local function command_section(out, c)
  out[#out + 1] = ".SS " .. esc(c.name)
  out[#out + 1] = synopsis(c)
  out[#out + 1] = ".PP"
  out[#out + 1] = esc(c.help)
  for _, a in ipairs(c.args or {}) do
    out[#out + 1] = ".TP"
    out[#out + 1] = "\\fI" .. esc(a[1]:upper()) .. "\\fR"
    out[#out + 1] = esc(a[2] or "")
  end
  option_lines(out, c.options or {})
  local ex = parser.examples(c)
  if #ex > 0 then
    out[#out + 1] = ".PP"
    out[#out + 1] = #ex > 1 and "Examples:" or "Example:"
    out[#out + 1] = ".RS"
    out[#out + 1] = ".nf"
    for _, e in ipairs(ex) do out[#out + 1] = esc(e) end
    out[#out + 1] = ".fi"
    out[#out + 1] = ".RE"
  end
end

---The man page of `commands` (parser.commands of the registry's list).
---@param commands luamig.Command[]
---@param version string
---@return string
function M.page(commands, version)
  local out = {
    ('.TH LUAMIG 1 "" "luamig %s" "User Commands"'):format(esc(version)),
    ".SH NAME", "luamig \\- " .. esc(parser.SUMMARY:gsub("^%u", string.lower):gsub("%.$", "")),
    ".SH SYNOPSIS", "\\fBluamig\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]",
    ".br", "\\fBluamig help\\fR \\fICOMMAND\\fR",
    ".SH DESCRIPTION",
    "Migrations are Lua files in \\fImigrations/\\fR with \\fBupgrade(db)\\fR and \\fBdowngrade(db)\\fR " ..
      "(or \\fBchange(op)\\fR), chained by \\fBdown_revision\\fR into a revision graph, as in Alembic.",
    ".SH OPTIONS", "These options are accepted before or after any command.",
  }
  option_lines(out, parser.COMMON)
  option_lines(out, { { "--version", "Print the versions of luamig, Lua, SQLite and libpq and exit.", flag = true } })
  out[#out + 1] = ".SH COMMANDS"
  for _, c in ipairs(commands) do command_section(out, c) end
  for _, sec in ipairs({ { "TARGETS", parser.TARGETS }, { "EXIT STATUS", parser.EXIT_CODES .. "." } }) do
    out[#out + 1] = ".SH " .. sec[1]
    out[#out + 1] = esc(sec[2])
  end
  out[#out + 1] = ".SH ENVIRONMENT"
  out[#out + 1] = ".TP\n\\fBLUAMIG_URL\\fR, \\fBDATABASE_URL\\fR\nThe database URL when \\-\\-url is not given."
  out[#out + 1] = ".SH FILES"
  out[#out + 1] = ".TP\n\\fIluamig.lua\\fR\nThe project's configuration (written by \\fBluamig init\\fR)."
  out[#out + 1] = ".SH SEE ALSO"
  out[#out + 1] = "\\fBsqlite3\\fR(1), \\fBpsql\\fR(1)"
  return table.concat(out, "\n") .. "\n"
end

return M
