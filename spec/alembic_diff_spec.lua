-- Differential test against Alembic itself (Debian's python3-alembic): the
-- same revision graphs, written as an Alembic project and as a luamig
-- project whose migrations record 'up <id>' / 'down <id>' in a trace table,
-- and the same command sequences run through both. luamig must fail where
-- Alembic fails, and otherwise run the same migrations in the same order,
-- store the same heads, and list the same history. Fixed tricky cases plus
-- a seeded random DAG generator (LUAMIG_DIFF_SEED, LUAMIG_DIFF_CASES).
local sh = require "spec.support.sh"
local cjson = require "cjson"

local PYTHON = "/usr/bin/python3"
local SEED = tonumber(os.getenv("LUAMIG_DIFF_SEED") or "20261129")
local RANDOM_CASES = tonumber(os.getenv("LUAMIG_DIFF_CASES") or "200")

-- ------------------------------------------------------------ cases

local function r(id, down, extra)
  local rev = { id = id, down = down or {}, depends_on = {}, labels = {} }
  for k, v in pairs(extra or {}) do rev[k] = v end
  return rev
end

local fixed = {
  { name = "linear: relative steps, partial ids, past the ends",
    revisions = { r("aaaa0001"), r("aaaa0002", { "aaaa0001" }), r("bbbb0003", { "aaaa0002" }) },
    commands = { { "upgrade", "+2" }, { "upgrade", "+2" }, { "upgrade", "bbbb" }, { "downgrade", "-1" },
      { "downgrade", "aaaa" }, { "downgrade", "-3" }, { "upgrade", "aaaa0001+1" }, { "downgrade", "+1" },
      { "upgrade", "-1" }, { "downgrade", "base" }, { "downgrade", "-1" }, { "upgrade", "bbbb0003-1" },
      { "upgrade", "zzzz" }, { "history", "aaaa0002:" }, { "history", "-1:" }, { "history", ":aaaa0002" } } },
  { name = "branches with labels: LABEL@head, LABEL@base, LABEL@+1, LABEL@-1, LABEL@REV",
    revisions = { r("root0000"), r("xone0001", { "root0000" }, { labels = { "x" } }),
      r("yone0001", { "root0000" }, { labels = { "y" } }), r("xtwo0002", { "xone0001" }),
      r("ytwo0002", { "yone0001" }) },
    commands = { { "upgrade", "head" }, { "upgrade", "x@head" }, { "upgrade", "y@+1" }, { "heads" },
      { "downgrade", "x@base" }, { "upgrade", "heads" }, { "downgrade", "y@-1" }, { "downgrade", "-1" },
      { "upgrade", "+1" }, { "downgrade", "y@xone0001" }, { "downgrade", "x@xone0001" }, { "stamp", "y@head" },
      { "history", "x@base:x@head" }, { "history", "y@base:" }, { "stamp", "base" }, { "upgrade", "y@xtwo0002" } } },
  { name = "merge point: collapse and split the stored heads; -1 from a merge",
    revisions = { r("root0000"), r("left0001", { "root0000" }), r("rght0001", { "root0000" }),
      r("merg0002", { "left0001", "rght0001" }), r("tail0003", { "merg0002" }) },
    commands = { { "upgrade", "left0001" }, { "upgrade", "rght0001" }, { "upgrade", "+1" }, { "upgrade", "head" },
      { "downgrade", "-1" }, { "downgrade", "-1" }, { "downgrade", "left0001" }, { "downgrade", "base" },
      { "upgrade", "merg0002" }, { "downgrade", "merg0002-1" }, { "downgrade", "rght0001" },
      { "stamp", "left0001" }, { "history", "left0001:" } } },
  { name = "several roots and depends_on across them",
    revisions = { r("aaaa0001"), r("bbbb0001"), r("aaaa0002", { "aaaa0001" }, { depends_on = { "bbbb0001" } }),
      r("bbbb0002", { "bbbb0001" }), r("aaaa0003", { "aaaa0002" }) },
    commands = { { "upgrade", "aaaa0002" }, { "heads" }, { "upgrade", "heads" }, { "downgrade", "bbbb0001" },
      { "downgrade", "aaaa0001" }, { "downgrade", "base" }, { "upgrade", "+1" }, { "stamp", "heads" },
      { "downgrade", "bbbb0002-1" }, { "history", ":aaaa0003" } } },
  { name = "errors: several heads, ambiguous prefix, unknown id, not an ancestor",
    revisions = { r("abcd0001"), r("abcd0002", { "abcd0001" }), r("abce0003", { "abcd0001" }) },
    commands = { { "upgrade", "head" }, { "upgrade", "abc" }, { "upgrade", "abcd" }, { "upgrade", "nope" },
      { "downgrade", "abce0003" }, { "upgrade", "heads" }, { "downgrade", "-1" }, { "downgrade", "abcd0002" },
      { "stamp", "head" }, { "history", "abcd0002:abce0003" } } },
  { name = "a cycle", revisions = { r("aaaa0001", { "bbbb0002" }), r("bbbb0002", { "aaaa0001" }) },
    commands = { { "upgrade", "heads" }, { "heads" } } },
  { name = "a dependency on a missing revision", revisions = { r("aaaa0001", {}, { depends_on = { "nope0000" } }) },
    commands = { { "upgrade", "heads" } } },
}

-- Random DAGs: roots, branches from heads or from older revisions, merges of
-- two heads, depends_on, branch labels on roots and branch starts. The ids
-- share prefixes so that partial ids are sometimes ambiguous.
local function random_case(n)
  local prefixes = { "abcd", "abce", "dcba", "feed" }
  local revs, heads, all, ids = {}, {}, {}, {}
  local labels = 0
  local size = n % 10 == 0 and math.random(15, 40) or math.random(2, 10) -- some larger graphs
  local function new_id()
    local id
    repeat id = prefixes[math.random(#prefixes)] .. ("%04x"):format(math.random(0, 0xffff)) until not ids[id]
    ids[id] = true
    return id
  end
  for i = 1, size do
    local id, down, branch_start = new_id(), {}, false
    local x = math.random()
    if i > 1 and x > 0.12 then
      if x < 0.72 or #heads < 2 then
        if math.random() < 0.7 then
          down = { heads[math.random(#heads)] }
        else
          down = { all[math.random(#all)] }
          branch_start = true
        end
      else
        local a = math.random(#heads)
        local b = a % #heads + 1
        down = { heads[a], heads[b] }
      end
    end
    local rev = r(id, down)
    if (#down == 0 or branch_start) and math.random() < 0.5 then
      labels = labels + 1
      rev.labels = { "l" .. labels }
    end
    if i > 2 and math.random() < 0.15 then rev.depends_on = { all[math.random(#all)] } end
    revs[#revs + 1], all[#all + 1] = rev, id
    local kept = {}
    for _, h in ipairs(heads) do
      local parent = false
      for _, d in ipairs(down) do parent = parent or d == h end
      if not parent then kept[#kept + 1] = h end
    end
    kept[#kept + 1] = id
    heads = kept
  end
  local function pick(list) return list[math.random(#list)] end
  local function rev_id() return pick(all) end
  local function label()
    return labels > 0 and ("l" .. math.random(labels)) or "nolabel"
  end
  local targets = {
    upgrade = { "heads", "head", "+1", "+2", "base", function() return rev_id() end,
      function() return rev_id():sub(1, 5) end, function() return rev_id() .. "+1" end,
      function() return label() .. "@head" end, function() return label() .. "@+1" end,
      function() return label() .. "@" .. rev_id() end, function() return rev_id() .. "-1" end },
    downgrade = { "base", "-1", "-2", function() return rev_id() end, function() return rev_id() .. "-1" end,
      function() return label() .. "@base" end, function() return label() .. "@-1" end,
      function() return label() .. "@" .. rev_id() end, function() return rev_id():sub(1, 6) end },
    stamp = { "heads", "base", function() return rev_id() end, function() return label() .. "@head" end },
    history = { function() return "" end, function() return rev_id() end, function() return "base" end,
      function() return "-1" end, function() return label() .. "@base" end, function() return label() .. "@head" end },
  }
  local function target(kind)
    local t = pick(targets[kind])
    return type(t) == "function" and t() or t
  end
  local commands = { { "upgrade", math.random() < 0.6 and "heads" or target("upgrade") }, { "history", ":" } }
  for _ = 1, math.random(4, 8) do
    local kind = pick({ "upgrade", "upgrade", "downgrade", "downgrade", "stamp", "history", "heads" })
    if kind == "history" then
      commands[#commands + 1] = { "history", target("history") .. ":" .. (math.random() < 0.5 and "" or target("history")) }
    elseif kind == "heads" then
      commands[#commands + 1] = { "heads" }
    else
      commands[#commands + 1] = { kind, target(kind) }
    end
  end
  return { name = ("random #%d (seed %d)"):format(n, SEED), revisions = revs, commands = commands }
end

-- ------------------------------------------------------------ luamig side

local slurp = sh.slurp

local function sorted(list)
  local out = {}
  for i, v in ipairs(list or {}) do out[i] = v end
  table.sort(out)
  return out
end

-- What luamig did for command `cmd` (spec/support/luamig_run.lua's record);
-- `before` is the heads before it (what history and heads leave).
local function luamig_result(rec, cmd, before)
  local doc = rec.doc
  local heads = before
  if rec.rc ~= 0 then
    heads = rec.current
  elseif cmd[1] ~= "history" and cmd[1] ~= "heads" then
    heads = doc.heads
  end
  local res = { ok = rec.rc == 0, rc = rec.rc, heads = sorted(heads), trace = {}, error = rec.error or "" }
  for _, s in ipairs(doc.steps or {}) do res.trace[#res.trace + 1] = s.direction .. " " .. s.revision end
  if cmd[1] == "history" and doc.revisions then
    res.revisions = {}
    for _, x in ipairs(doc.revisions) do res.revisions[#res.revisions + 1] = x.revision end
  end
  if cmd[1] == "heads" and doc.heads then res.heads_of_files = sorted(doc.heads) end
  return res
end

local function same(a, b)
  return cjson.encode(a or cjson.null) == cjson.encode(b or cjson.null)
end

-- Differences between Alembic's and luamig's results for one command.
local function compare(a, l, cmd)
  local diffs = {}
  local function add(fmt, ...) diffs[#diffs + 1] = fmt:format(...) end
  if a.crashed then
    -- Alembic crashed (see alembic_run.py); luamig applies the migration
    if not l.ok then add("Alembic crashed (%s); luamig failed too: %s", a.error, l.error) end
    return diffs
  end
  if a.warned then
    -- Alembic warns that it picks one of several heads (and will refuse in a
    -- future release); luamig refuses now.
    if l.ok then add("Alembic warned of an ambiguous request, luamig did not refuse it") end
    return diffs
  end
  if a.ok ~= l.ok then
    add("Alembic %s, luamig %s", a.ok and "succeeded" or ("failed (" .. a.error .. ")"),
      l.ok and "succeeded" or ("failed, exit " .. tostring(l.rc) .. " (" .. l.error:gsub("\n.*", "") .. ")"))
    return diffs
  end
  if not a.ok and l.rc ~= 2 then add("luamig failed with exit %s, not 2: %s", tostring(l.rc), l.error) end
  if not same(a.trace, l.trace) then add("ran %s, Alembic ran %s", cjson.encode(l.trace), cjson.encode(a.trace)) end
  if not same(a.heads, l.heads) then add("heads %s, Alembic's %s", cjson.encode(l.heads), cjson.encode(a.heads)) end
  if cmd[1] == "history" and a.ok and not same(a.revisions, l.revisions) then
    add("history %s, Alembic's %s", cjson.encode(l.revisions or {}), cjson.encode(a.revisions))
  end
  if cmd[1] == "heads" and a.ok and not same(a.heads_of_files, l.heads_of_files) then
    add("heads of the files %s, Alembic's %s", cjson.encode(l.heads_of_files or {}), cjson.encode(a.heads_of_files))
  end
  return diffs
end

local function describe_case(case)
  local lines = {}
  for _, rev in ipairs(case.revisions) do
    lines[#lines + 1] = ("  %s <- %s%s%s"):format(rev.id, #rev.down > 0 and table.concat(rev.down, ",") or "base",
      #rev.depends_on > 0 and (" depends_on " .. table.concat(rev.depends_on, ",")) or "",
      #rev.labels > 0 and (" labels " .. table.concat(rev.labels, ",")) or "")
  end
  return table.concat(lines, "\n")
end

describe("revision graphs against Alembic", function()
  it("has Alembic (/usr/bin/python3 -m alembic)", function()
    local code, out, err = sh.run(PYTHON .. " -c 'import alembic; print(alembic.__version__)'")
    assert.are.equal(0, code, "python3-alembic is missing: " .. err)
    assert.matches("^1%.", out)
  end)

  it(("behaves as Alembic on %d fixed and %d generated graphs"):format(#fixed, RANDOM_CASES), function()
    math.randomseed(SEED)
    local cases = {}
    for _, c in ipairs(fixed) do cases[#cases + 1] = c end
    for n = 1, RANDOM_CASES do cases[#cases + 1] = random_case(n) end

    local function now() return tonumber(io.popen("date +%s.%N"):read("a")) end
    local t0 = now()
    local work = sh.tmpdir()
    sh.write(work .. "/cases.json", cjson.encode(cases))
    local code, _, err = sh.run(("%s %s/spec/support/alembic_run.py %s/cases.json %s/alembic.json %s"):format(
      PYTHON, sh.quote(sh.source_dir), work, work, work))
    assert.are.equal(0, code, err)
    local alembic = cjson.decode(slurp(work .. "/alembic.json"))
    local t1 = now()

    code, _, err = sh.run(("cd %s && env -u LUAMIG_URL -u DATABASE_URL LUAMIG_LUA_DIR=%s/spec/support/harness " ..
      "LUAMIG_SOURCE_DIR=%s %s %s/spec/support/luamig_run.lua %s/cases.json %s/luamig.json %s"):format(
      work, sh.quote(sh.source_dir), sh.quote(sh.source_dir), sh.quote(sh.bin), sh.quote(sh.source_dir), work, work,
      work))
    assert.are.equal(0, code, err)
    local luamig = cjson.decode(slurp(work .. "/luamig.json"))
    local t2 = now()

    local failures, compared, alembic_errors = {}, 0, 0
    for n, case in ipairs(cases) do
      local a, lm = alembic[n], luamig[n]
      assert.are.equal(case.name, a.name)
      local full, complete, heads = {}, true, {}
      for i, cmd in ipairs(case.commands) do
        local l = luamig_result(lm.commands[i], cmd, heads)
        heads = l.heads
        for _, s in ipairs(l.trace) do full[#full + 1] = s end
        local diffs = compare(a.commands[i], l, cmd)
        compared = compared + 1
        if (a.commands[i].warned or a.commands[i].crashed) and #diffs == 0 then -- the databases differ from here
          complete = false
          break
        end
        if not a.commands[i].ok then alembic_errors = alembic_errors + 1 end
        if #diffs > 0 then
          local before = {}
          for k = 1, i - 1 do before[k] = table.concat(case.commands[k], " ") end
          failures[#failures + 1] = ("%s: `%s` (after: %s)\n%s\n%s"):format(case.name, table.concat(cmd, " "),
            table.concat(before, "; "), table.concat(diffs, "\n"), describe_case(case))
          complete = false
          break
        end
      end
      -- what the migrations themselves recorded matches what luamig reported
      if complete then assert.are.same(full, lm.trace, case.name) end
    end
    print(("\n%d cases, %d commands compared (%d of them errors in Alembic); Alembic %.1f s, luamig %.1f s")
      :format(#cases, compared, alembic_errors, t1 - t0, t2 - t1))
    assert(#failures == 0, #failures .. " cases differ from Alembic; the first ones:\n\n" ..
      table.concat(failures, "\n\n", 1, math.min(#failures, 5)))
    os.execute("rm -rf " .. sh.quote(work))
  end)
end)
