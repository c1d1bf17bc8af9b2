-- bench/lint.sh's table: luamig lint's findings (observed on PostgreSQL)
-- and squawk's (read from the same migrations' `upgrade --sql` text), side
-- by side, migration by migration, with the hint of Eugene's list
-- (github.com/kaaveland/eugene, docs/src/hints.md) that names the same
-- hazard as each luamig finding, where one does. A lock or rewrite hazard
-- squawk flags that luamig does not is a failure (exit 1) unless the
-- corpus documents why the observation contradicts it (squawk_only).
-- Usage: lua5.4 bench/lint_compare.lua LINT.json SQUAWK_DIR|-
package.path = "./?.lua;" .. package.path
local cjson = require "cjson"
local corpus = require "spec.support.lint_corpus"

-- squawk's rules that name a lock or rewrite hazard, and the luamig rules
-- ("refused": a statement the transaction refused) that cover it.
local HAZARD = {
  ["require-concurrent-index-creation"] = { "create-index" },
  ["adding-field-with-default"] = { "add-column-rewrite" },
  ["adding-serial-primary-key-field"] = { "add-column-rewrite" },
  ["adding-not-nullable-field"] = { "set-not-null" },
  ["adding-foreign-key-constraint"] = { "constraint-not-valid" },
  ["constraint-missing-not-valid"] = { "constraint-not-valid", "unique-constraint", "exclusion-constraint" },
  ["changing-column-type"] = { "type-rewrite" },
  ["disallowed-unique-constraint"] = { "unique-constraint" },
  ["renaming-column"] = { "rename" },
  ["renaming-table"] = { "rename" },
  ["ban-drop-column"] = { "drop" },
  ["ban-drop-table"] = { "drop" },
  ["require-lock-timeout"] = { "lock-timeout" },
  ["require-timeout-settings"] = { "lock-timeout" },
  ["ban-concurrent-index-creation-in-transaction"] = { "refused" },
  -- (and two of squawk's style rules that luamig reports too)
  ["prefer-identity"] = { "prefer-identity" },
  ["identifier-too-long"] = { "long-identifier" },
}

-- Eugene's hints (E1..E15, W12..W14) by the luamig rule that reports the same hazard.
local EUGENE = {
  ["constraint-not-valid"] = "E1", ["set-not-null"] = "E2", json = "E3", ["after-exclusive"] = "E4",
  ["type-rewrite"] = "E5", ["create-index"] = "E6", ["unique-constraint"] = "E7", ["exclusion-constraint"] = "E8",
  ["lock-timeout"] = "E9", ["add-column-rewrite"] = "E11", ["prefer-identity"] = "E11", ["fk-index"] = "E15",
}

local function covered(rules, ours)
  for _, r in ipairs(rules) do
    if ours[r] then return true end
  end
  return false
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local t = f:read("a")
  f:close()
  return t
end

local lint = cjson.decode((assert(read(arg[1]), "no " .. tostring(arg[1]))))
local squawk_dir = arg[2] ~= "-" and arg[2] or nil

local function set_list(set)
  local out = {}
  for k in pairs(set) do out[#out + 1] = k end
  table.sort(out)
  return out
end

print("| migration | luamig lint (observed) | Eugene hint | squawk | |")
print("|---|---|---|---|---|")
local missed = 0
for i, m in ipairs(lint.migrations) do
  local case = corpus.CASES[i + 1]
  local ours = {}
  for _, f in ipairs(m.findings) do ours[f.rule .. (f.lock and (" (" .. f.lock .. ")") or "")] = true end
  local ours_rules = {}
  for _, f in ipairs(m.findings) do ours_rules[f.rule] = true end
  if #m.refused > 0 then ours_rules.refused = true end
  local seen = {}
  if m.observed.rewritten and #m.observed.rewritten > 0 then
    seen[#seen + 1] = "rewrote " .. table.concat(m.observed.rewritten, ", ")
  end
  if m.result ~= "ok" then seen[#seen + 1] = #m.refused > 0 and "FAILED: refused in a transaction" or "FAILED" end
  local hints = {}
  for rule in pairs(ours_rules) do
    if EUGENE[rule] then hints[EUGENE[rule]] = true end
  end
  if m.observed.rewritten and #m.observed.rewritten > 0 then hints.E10 = true end
  local hint_cell = table.concat(set_list(hints), ", ")
  local cell = table.concat(set_list(ours), "; ")
  if #seen > 0 then cell = cell .. (cell ~= "" and "; " or "") .. table.concat(seen, "; ") end
  local theirs, note = {}, ""
  if squawk_dir then
    local doc = cjson.decode(read(("%s/%s.json"):format(squawk_dir, m.revision)) or "[]")
    local other = {}
    for _, f in ipairs(doc) do
      local ours_for = HAZARD[f.rule_name]
      if ours_for then
        theirs[f.rule_name] = true
        if not covered(ours_for, ours_rules) then
          if case.squawk_only then
            note = case.squawk_only
          else
            missed = missed + 1
            note = "MISSED by luamig: " .. f.rule_name
          end
        end
      else
        other[f.rule_name] = true
      end
    end
    local o = set_list(other)
    if #o > 0 then theirs["(style: " .. table.concat(o, ", ") .. ")"] = true end
  end
  local theirs_cell = table.concat(set_list(theirs), "; ")
  print(("| %s | %s | %s | %s | %s |"):format(corpus.file(i):gsub("%.lua$", ""), cell ~= "" and cell or "-",
    hint_cell ~= "" and hint_cell or "-", squawk_dir and (theirs_cell ~= "" and theirs_cell or "-") or "(skipped)", note))
end
if missed > 0 then
  io.stderr:write(("bench: luamig missed %d hazard(s) squawk flags\n"):format(missed))
  os.exit(1)
end
