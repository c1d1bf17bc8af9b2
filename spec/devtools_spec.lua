-- What a developer's tools see of luamig: help pages, --version, the files
-- `init` writes, revision templates, the graph as a picture, shell
-- completion (driven through bash's compgen) and the man page (groff -ww).
local sh = require "spec.support.sh"

local function need(program)
  local why = sh.missing(sh.have(program), program)
  if why then pending(why) end
  return not why
end

-- A project with a branchy history: a1 <- b2 (applied), a1 <- c3 [audit] <- d4 depends_on b2.
local function branchy()
  local p = sh.project()
  p:ok("revision -m 'create users' --rev-id a1")
  p:ok("revision -m 'add email' --rev-id b2")
  p:ok("revision -m audit --rev-id c3 --head a1 --splice --branch-label audit")
  p:ok("revision -m 'audit users' --rev-id d4 --head c3 --depends-on b2")
  p:ok("upgrade b2")
  return p
end

describe("help", function()
  it("`help CMD` is CMD --help; option columns align; an unknown command gets a did-you-mean", function()
    local p = sh.project()
    local page = p:ok("help revision")
    assert.are.equal(p:ok("revision --help"), page)
    assert.matches("\n   %-c, %-%-config FILE +Config file", page)
    -- every option's description starts in the same column
    local cols = {}
    for line in page:match("\nOptions:\n(.-)\n\n"):gmatch("[^\n]+") do
      local label, gap = line:match("^   (%S.-%S)(  +)%S")
      assert.is_string(label, line)
      cols[#cols + 1] = 3 + #label + #gap
    end
    assert.is_true(#cols >= 12)
    for _, c in ipairs(cols) do assert.are.equal(cols[1], c) end
    local code, _, err = p:luamig("help upgrad")
    assert.are.equal(2, code)
    assert.matches('unknown command "upgrad" %(did you mean upgrade%?%)', err)
  end)

  it("luamig help and check --help list every exit code, 5 included", function()
    local p = sh.project()
    for _, args in ipairs({ "help", "--help", "check --help" }) do
      local page = p:ok(args)
      for code = 0, 5 do assert.matches("[ ,]" .. code .. " [%w`]", page:match("Exit codes: [^\n]+"), nil, args) end
      assert.matches("5 `check`: the declared schema", page, 1, true)
    end
    assert.matches("check +Exit 0 when the database is at head, 3 when not, 4 on drift %(%-%-fail%-on%-drift%), " ..
      "5 when the declared schema differs", p:ok("help"))
  end)

  it("an option value that looks like a relative target (-m '-1 fix') arrives as typed", function()
    local p = sh.project()
    local doc = p:json("revision -m '-1 fix' --rev-id x1")
    assert.are.equal("-1 fix", doc.message)
    assert.matches("^%-%- %-1 fix\n", sh.slurp(p.dir .. "/" .. doc.path))
  end)

  it("--version names luamig, Lua, SQLite and libpq", function()
    local out = sh.project():ok("--version")
    assert.matches("^luamig %d+%.%d+%.%d+ %(Lua 5%.4%)\nSQLite 3%.%d+%.%d+\nlibpq %d+%.%d+\n$", out)
  end)

  it("the man page renders with groff -ww without a warning and covers every command", function()
    if not need("groff") then return end
    local p = sh.project()
    p:write("luamig.1", p:ok("help --man"))
    local code, out, err = sh.run(("cd %s && groff -ww -man -Tutf8 luamig.1"):format(sh.quote(p.dir)))
    assert.are.equal(0, code, err)
    assert.are.equal("", err)
    local plain = out:gsub(".\b", "")
    for _, c in ipairs({ "upgrade", "history", "graph", "completion", "help" }) do
      assert.matches("\n   " .. c .. "\n", plain, nil, c)
    end
    assert.matches("luamig upgrade head %-%-dry%-run", plain)
  end)
end)

describe("init", function()
  it("writes .gitignore, .luarc.json pointing at the editor types, and .luacheckrc", function()
    local p = sh.project()
    local out = p:ok("init app")
    for _, f in ipairs({ ".gitignore", ".luarc.json", ".luacheckrc" }) do
      assert.matches("created app/" .. f:gsub("%p", "%%%0") .. "\n", out)
    end
    local ignore = sh.slurp(p.dir .. "/app/.gitignore")
    for _, f in ipairs({ "luamig.db", "luamig.db-journal", "luamig.db-wal", "luamig.db-luamig.lock" }) do
      assert.matches("\n" .. f:gsub("%p", "%%%0") .. "\n", ignore)
    end
    local luarc = require("cjson").decode(sh.slurp(p.dir .. "/app/.luarc.json"))
    local types = luarc["workspace.library"][1]
    assert.are.equal("file", require("lfs").attributes(types .. "/luamig.lua", "mode"))
    if not need("luacheck") then return end
    -- luacheck with the written .luacheckrc knows a migration's globals
    local app = sh.project()
    app.dir = p.dir .. "/app"
    app:ok("revision -m x --template sql")
    local code, out2 = sh.run(("cd %s && luacheck --no-color migrations"):format(sh.quote(app.dir)))
    assert.are.equal(0, code, out2)
  end)

  it("a luamig with no installed share/ (a build directory, a copied binary) still writes the editor files",
    function()
      local bindir = sh.tmpdir()
      assert(os.execute(("cp %s %s/luamig"):format(sh.quote(sh.bin), sh.quote(bindir))))
      local p = sh.project()
      local code, out, err = sh.run(("cd %s && env -u LUAMIG_SOURCE_DIR -u LUAMIG_LUA_DIR %s/luamig init app")
        :format(sh.quote(p.dir), sh.quote(bindir)))
      assert.are.same({ 0, "" }, { code, err })
      assert.is_nil(out:find("skipped", 1, true), out)
      for _, f in ipairs({ ".luarc.json", ".luacheckrc", ".luamig/types/luamig.lua", ".luamig/types/db.lua" }) do
        assert.matches("created app/" .. f:gsub("%p", "%%%0") .. "\n", out)
      end
      local luarc = require("cjson").decode(sh.slurp(p.dir .. "/app/.luarc.json"))
      assert.are.same({ ".luamig/types" }, luarc["workspace.library"])
      for _, f in ipairs({ "luamig.lua", "db.lua", "op.lua", "plugin.lua", "schema.lua" }) do
        assert.are.equal(sh.slurp(sh.source_dir .. "/share/luamig/types/" .. f),
          sh.slurp(p.dir .. "/app/.luamig/types/" .. f))
      end
      assert.are.equal(sh.slurp(sh.source_dir .. "/share/luamig/luacheckrc.lua"), sh.slurp(p.dir .. "/app/.luacheckrc"))
    end)

  it("adds its lines to an existing .gitignore once", function()
    local p = sh.project()
    p:write(".gitignore", "node_modules/\nluamig.db\n")
    p:ok("init")
    local text = sh.slurp(p.dir .. "/.gitignore")
    assert.are.equal("node_modules/\nluamig.db\nluamig.db-journal\nluamig.db-wal\nluamig.db-shm\n" ..
      "luamig.db-luamig.lock\n", text)
  end)
end)

describe("revision --template", function()
  local function new_file(p, args)
    local out = p:ok("revision -m t " .. args)
    return sh.slurp(p.dir .. "/" .. out:match("Created (%S+)"))
  end

  it("change writes change(op); sql raw SQL in upgrade/downgrade; both run", function()
    local p = sh.project()
    local change = new_file(p, "--template change --rev-id c1")
    assert.matches("\nfunction change%(op%)\n", change)
    assert.is_nil(change:find("function upgrade", 1, true))
    local sql = new_file(p, "--template sql --rev-id s2")
    assert.matches("function upgrade%(db%)\n  db:exec %[%[", sql)
    assert.matches("function downgrade%(db%)\n  db:exec %[%[", sql)
    assert.matches('revision      = "s2"\ndown_revision = "c1"\n', sql)
    p:ok("upgrade head")
    p:ok("downgrade base")
  end)

  it("a project's templates/NAME.lua is a template; an unknown name lists the choices", function()
    local p = sh.project()
    assert(os.execute("mkdir " .. sh.quote(p.dir .. "/templates")))
    p:write("templates/table.lua", "-- ${message}\nrevision = ${revision}\ndown_revision = ${down_revision}\n" ..
      "function upgrade(db) db:exec 'CREATE TABLE x (id INTEGER)' end\n")
    assert.are.equal("-- t\nrevision = \"t1\"\ndown_revision = nil\nfunction upgrade(db) db:exec 'CREATE TABLE x " ..
      "(id INTEGER)' end\n", new_file(p, "--template table --rev-id t1"))
    p:ok("upgrade head")
    assert.are.equal("luamig_version luamig_version_history x\n", p:tables())
    local code, _, err = p:luamig("revision -m u --template nope")
    assert.are.equal(2, code)
    assert.matches("%-%-template nope: no such template %(there are: change, sql, table, upgrade;", err)
    p:write("templates/bad.lua", "revision = ${id}\n")
    code, _, err = p:luamig("revision -m u --template bad")
    assert.are.equal(2, code)
    assert.matches("templates/bad%.lua: unknown placeholder %${id}", err)
  end)
end)

describe("the revision graph as a picture", function()
  it("history --graph draws lanes, applied marks, labels, heads and depends_on", function()
    local out = branchy():ok("history --graph")
    assert.are.equal(table.concat({
      "o  d4 (audit, head)  audit users  [depends on b2]",
      "|\\",
      "o :  c3 (audit)  audit",
      "| *  b2 (head) (current)  add email",
      "|/",
      "*  a1 (branchpoint)  create users",
    }, "\n") .. "\n", out)
  end)

  it("graph --format dot renders with Graphviz; mermaid is a flowchart", function()
    local p = branchy()
    local dot = p:ok("graph")
    assert.matches("^digraph luamig {", dot)
    assert.matches("\"b2\" -> \"d4\" [style=dashed", dot, 1, true)
    assert.matches("^flowchart TD\n", p:ok("graph --format mermaid"))
    local code, _, err = p:luamig("graph --format png")
    assert.are.equal(2, code)
    assert.matches("must be one of 'dot', 'mermaid'", err)
    if not need("dot") then return end
    p:write("g.dot", dot)
    local svg_code, svg, svg_err = sh.run(("dot -Tsvg %s"):format(sh.quote(p.dir .. "/g.dot")))
    assert.are.equal(0, svg_code, svg_err)
    assert.are.equal("", svg_err)
    assert.matches("<svg", svg, 1, true)
    assert.matches(">d4</text>", svg, 1, true)
  end)

  it("graph --format dot quotes every node id: Graphviz sees one node per revision", function()
    local p = sh.project()
    p:ok("revision -m one --rev-id 6b384dec4dcd")
    p:ok("revision -m two --rev-id 1e2")
    p:ok("revision -m 'odd id' --rev-id 7_x")
    p:ok("revision -m dep --rev-id 0a --head 6b384dec4dcd --splice --depends-on 1e2")
    local dot = p:ok("graph")
    if not need("dot") then return end
    p:write("g.dot", dot)
    local code, plain, err = sh.run(("dot -Tplain %s"):format(sh.quote(p.dir .. "/g.dot")))
    assert.are.same({ 0, "" }, { code, err })
    local nodes, edges = {}, {}
    local function name(s) return s:match('^"(.*)"$') or s end -- -Tplain quotes what needs it
    for kind, rest in plain:gmatch("(%a+) ([^\n]*)") do
      if kind == "node" then nodes[#nodes + 1] = name(rest:match("^(%S+)")) end
      if kind == "edge" then
        local a, b = rest:match("^(%S+) (%S+)")
        edges[#edges + 1] = name(a) .. "->" .. name(b)
      end
    end
    table.sort(nodes)
    table.sort(edges)
    assert.are.same({ "0a", "1e2", "6b384dec4dcd", "7_x" }, nodes)
    assert.are.same({ "1e2->0a", "1e2->7_x", "6b384dec4dcd->0a", "6b384dec4dcd->1e2" }, edges)
  end)
end)

describe("shell completion", function()
  -- What bash offers for the words of a command line (the last one being
  -- completed), through the generated script and compgen.
  local function bash_offers(p, words)
    p:write("completion.bash", p:ok("completion bash"))
    local quoted = { sh.quote(sh.bin) }
    for _, w in ipairs(words) do quoted[#quoted + 1] = sh.quote(w) end
    local script = ("source completion.bash; COMP_WORDS=(%s); COMP_CWORD=%d; _luamig; printf '%%s\\n' " ..
      "\"${COMPREPLY[@]}\""):format(table.concat(quoted, " "), #words)
    local code, out, err = sh.run(("cd %s && env -u LUAMIG_LUA_DIR -u LUAMIG_URL -u DATABASE_URL bash -c %s")
      :format(sh.quote(p.dir), sh.quote(script)))
    assert.are.equal(0, code, err)
    local list = {}
    for w in out:gmatch("[^\n]+") do list[#list + 1] = w end
    table.sort(list)
    return list
  end

  it("bash completes commands (plugin commands too), options, targets and choices", function()
    local p = branchy()
    assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/plugins")))
    p:write("plugins/hello.lua", 'return { name = "hello", commands = { ["hello-world"] = { help = "Hi.", ' ..
      'run = function() return {} end } } }\n')
    assert.are.same({ "heads", "hello-world", "help", "history" }, bash_offers(p, { "h" }))
    assert.are.same({ "--debug", "--dry-run" }, bash_offers(p, { "upgrade", "--d" }))
    assert.are.same({ "a1", "audit", "audit@base", "audit@head" }, bash_offers(p, { "upgrade", "a" }))
    assert.are.same({ "b2", "base" }, bash_offers(p, { "--quiet", "downgrade", "b" }))
    assert.are.same({ "head", "heads" }, bash_offers(p, { "revision", "-m", "x", "--head", "he" }))
    assert.are.same({ "check" }, bash_offers(p, { "help", "ch" }))
    assert.are.same({ "dot", "mermaid" }, bash_offers(p, { "graph", "--format", "" }))
    assert.are.same({ "migrations" }, bash_offers(p, { "-c", "migr" }))
    assert.are.same({}, bash_offers(p, { "revision", "-m", "" }))
  end)

  it("the zsh and fish scripts are valid; fish offers the same words", function()
    local p = branchy()
    if not need("zsh") or not need("fish") then return end
    p:write("_luamig", p:ok("completion zsh"))
    local zsh_code, _, zsh_err = sh.run("zsh -n " .. sh.quote(p.dir .. "/_luamig"))
    assert.are.equal(0, zsh_code, zsh_err)
    p:write("luamig.fish", p:ok("completion fish"))
    local script = ("source luamig.fish; complete -C %s"):format(sh.quote("luamig upgrade a"))
    local code, out, err = sh.run(("cd %s && PATH=%s:$PATH fish --no-config -c %s"):format(sh.quote(p.dir),
      sh.quote(sh.bin:match("^(.*)/")), sh.quote(script)))
    assert.are.equal(0, code, err)
    assert.matches("^a1\naudit\naudit@base\naudit@head\n$", out)
  end)
end)
