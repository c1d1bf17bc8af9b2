-- The editor definitions (share/luamig/types/*.lua) against the running
-- objects: every function a migration, seed, plugin or drill file can reach
-- must be typed, and everything typed must exist, on both drivers.
--
-- Discovery goes through the public entry points only, so it survives moves
-- inside lua/luamig/: a real project (spec.support.sh) whose migration, seed,
-- plugin command and drill script each append "CLASS<TAB>KEY<TAB>TYPE" lines
-- for what they were given (see DUMP and the files in `project_files`).
local sh = require "spec.support.sh"
local fixtures = require "spec.support.fixtures"
local types = require "spec.support.luals_meta"

local TYPES = sh.source_dir .. "/share/luamig/types"
local defs, def_files = types.parse_dir(TYPES)

-- Methods of the SQLite rebuild object that batch_alter_table hands out but that
-- are its own helpers, not API (the PostgreSQL batch has none of them).
local INTERNAL = { ["luamig.Batch"] = { last_column = true, add_constraint = true } }
-- Classes typed in part (typed members must exist; others may too).
local PARTIAL = { ["luamig.Graph"] = true, ["luamig.Revision"] = true, ["luamig.Config"] = true }

-- Appends what `t` holds (its own keys, then its metatable's __index table)
-- to $OUT; `probe` lists names to read even when pairs cannot see them
-- (lazy fields behind an __index function).
local DUMP = [[
local function dump(class, t, probe)
  local f = assert(io.open(os.getenv("LUAMIG_TYPES_OUT"), "a"))
  local seen = {}
  local function add(k, v)
    if type(k) == "string" and v ~= nil and not seen[k] then
      seen[k] = true
      f:write(class, "\t", k, "\t", type(v), "\n")
    end
  end
  if type(t) == "table" or type(t) == "userdata" then for k, v in pairs(t) do add(k, v) end end -- (db: __pairs)
  local mt = getmetatable(t)
  if type(mt) == "table" and type(mt.__index) == "table" then
    for k, v in pairs(mt.__index) do add(k, v) end
  end
  for _, k in ipairs(probe or {}) do add(k, t[k]) end
  f:close()
end
local function own(t) -- a file's environment without the _G behind it
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end
]]

-- A column using each typed luamig.ColumnSpec key, and the same column
-- without it: the key must change the CREATE TABLE (name/type: must not).
local COLUMN_SAMPLES = {
  name = { '{ name = "v", type = "integer" }', '{ "v", "integer" }', same = true },
  type = { '{ "v", type = "integer" }', '{ "v", "integer" }', same = true },
  nullable = { '{ "v", "integer", nullable = false }', '{ "v", "integer" }' },
  primary_key = { '{ "v", "integer", primary_key = true }', '{ "v", "integer" }' },
  autoincrement = { '{ "v", "bigint", primary_key = true, autoincrement = true }', -- SQLite: the rowid
    '{ "v", "bigint", primary_key = true }' },
  unique = { '{ "v", "integer", unique = true }', '{ "v", "integer" }' },
  default = { '{ "v", "integer", default = 7 }', '{ "v", "integer" }' },
  server_default = { '{ "v", "integer", server_default = "1 + 1" }', '{ "v", "integer" }' },
  references = { '{ "v", "integer", references = "t.id" }', '{ "v", "integer" }' },
  on_delete = { '{ "v", "integer", references = "t.id", on_delete = "CASCADE" }',
    '{ "v", "integer", references = "t.id" }' },
  on_update = { '{ "v", "integer", references = "t.id", on_update = "CASCADE" }',
    '{ "v", "integer", references = "t.id" }' },
  check = { '{ "v", "integer", check = "v > 0" }', '{ "v", "integer" }' },
}

-- A SQLite migration reporting, per sample, whether the key changed the DDL.
local function columns_migration()
  local lines = { 'revision = "a00000000003"', 'down_revision = "a00000000002"', "function upgrade(db)",
    '  if db.dialect ~= "sqlite" then return end',
    '  local f = assert(io.open(os.getenv("LUAMIG_TYPES_OUT"), "a"))',
    "  local function sql(t) return (db:scalar('SELECT sql FROM sqlite_master WHERE name = ?', t):gsub(t, 'T')) end" }
  for key, s in pairs(COLUMN_SAMPLES) do
    lines[#lines + 1] = ("  op.create_table(%q, { %s }); op.create_table(%q, { %s })"):format("c_" .. key, s[1],
      "b_" .. key, s[2])
    lines[#lines + 1] = ('  f:write("column\\t%s\\t", sql(%q) == sql(%q) and "same" or "differs", "\\n")'):format(key,
      "c_" .. key, "b_" .. key)
  end
  lines[#lines + 1] = "  f:close()\nend\n"
  return table.concat(lines, "\n")
end

local function list_literal(names)
  local q = {}
  for i, n in ipairs(names) do q[i] = ("%q"):format(n) end
  return "{ " .. table.concat(q, ", ") .. " }"
end

-- The project whose files report what they see. `env.*` records the
-- globals each loader provides (read before the file defines its own).
local function project_files(p)
  p:write("migrations/001_dump.lua", DUMP .. [[
dump("env.migration", own(_ENV))
revision = "a00000000001"
function change(op)
  dump("luamig.Op", op)
  dump("luamig.Api", luamig)
  dump("luamig.Progress", luamig.progress(1, "types"))
  op.create_table("t", { { "id", "integer", primary_key = true }, { "x", "integer" } })
  op.batch_alter_table("t", function(b) dump("luamig.Batch", b) end)
end
]])
  p:write("migrations/002_db.lua", DUMP .. [[
revision = "a00000000002"
down_revision = "a00000000001"
function upgrade(db)
  if db.offline_enums then return dump("offline.Db", db) end -- `upgrade --sql`: the recording stand-in
  dump("luamig.Db", db)
  local stmt = db:prepare("SELECT 1")
  dump("luamig.Statement", stmt)
  stmt:close()
  db:pipeline(function(p) dump("luamig.Pipeline", p) end)
end
]])
  p:write("migrations/003_columns.lua", columns_migration())
  assert(os.execute("mkdir -p " .. sh.quote(p.dir .. "/seeds") .. " " .. sh.quote(p.dir .. "/plugins") .. " " ..
    sh.quote(p.dir .. "/drills")))
  p:write("seeds/01_dump.lua", DUMP .. [[
dump("env.seed", own(_ENV))
function seed(db, h)
  dump("luamig.SeedHelpers", h)
  dump("luamig.Fake", h.fake)
end
]])
  p:write("plugins/dump.lua", DUMP .. ([[
dump("env.plugin", own(_ENV))
return { name = "dump", commands = { dumpctx = { help = "types spec", run = function(ctx)
  dump("luamig.PluginContext", ctx, %s)
  dump("luamig.Log", ctx.log)
  dump("luamig.Config", ctx.config)
  dump("luamig.Graph", ctx.graph)
  dump("luamig.Revision", ctx.graph.revs.a00000000001)
  return {}
end } } }
]]):format(list_literal(defs.classes["luamig.PluginContext"].order)))
  p:write("schema.lua", DUMP .. [[
dump("env.schema", own(_ENV))
dump("luamig.Declare", schema, { "table", "index", "enum", "extension", "view", "materialized_view", "func", "trigger",
  "sequence", "comment", "policy", "domain", "sql" })
]])
  p:write("drills/dump.lua", DUMP .. [[
dump("env.drill", own(_ENV))
dump("luamig.Drill", drill)
]])
end

-- class -> key -> type, read from the dump file.
local function read_dump(path)
  local out = {}
  for line in io.lines(path) do
    local class, key, ty = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
    out[class] = out[class] or {}
    out[class][key] = ty
  end
  return out
end

-- Runs every reporter on `backend` (the migrations on each; the rest once).
local function discover(backend, everything)
  local p = sh.project_on(backend)
  project_files(p)
  local out = os.tmpname()
  local env = "LUAMIG_TYPES_OUT=" .. sh.quote(out)
  p:ok("upgrade head", env)
  if everything then
    p:ok("seed", env)
    p:ok("dumpctx", env)
    p:ok("drill drills/dump.lua", env)
    p:ok("upgrade --sql a00000000001:a00000000002", env)
    p:ok("check", env) -- loads schema.lua (which declares nothing)
  end
  local found = read_dump(out)
  os.remove(out)
  return found
end

local runtime = {}
for _, b in ipairs(sh.backends()) do runtime[b.name] = discover(b, b.name == "sqlite") end

-- Problems between typed class `name` and what backend `bname` holds.
local function compare(name, bname, got)
  local class = defs.classes[name]
  local problems = {}
  for _, key in ipairs(class.order) do
    local m = class.members[key]
    local here = m.only == nil or m.only == bname
    if here and got[key] == nil and not m.optional then
      problems[#problems + 1] = ("%s.%s is typed but %s has no %s"):format(name, key, bname, key)
    elseif not here and got[key] ~= nil then
      problems[#problems + 1] = ("%s.%s is typed as %s only but %s has it"):format(name, key, m.only, bname)
    end
  end
  if not PARTIAL[name] then
    for key, ty in pairs(got) do
      if ty == "function" and not class.members[key] and not (INTERNAL[name] or {})[key] then
        problems[#problems + 1] = ("%s (%s) has function %s, which %s does not type"):format(name, bname, key, TYPES)
      end
    end
  end
  table.sort(problems)
  return problems
end

describe("editor types", function()
  it("describe every function: a description, and a @param for each parameter", function()
    assert.are.same({}, defs.problems)
  end)

  for _, bname in ipairs({ "sqlite", "postgresql" }) do
    for _, name in ipairs({ "luamig.Db", "luamig.Statement", "luamig.Op", "luamig.Batch", "luamig.Pipeline" }) do
      it(("match %s on %s"):format(name, bname), function()
        assert.is_table(runtime[bname][name], "nothing reported " .. name)
        assert.are.same({}, compare(name, bname, runtime[bname][name]))
      end)
    end
  end

  for _, name in ipairs({ "luamig.Api", "luamig.Progress", "luamig.Drill", "luamig.SeedHelpers", "luamig.Fake",
    "luamig.PluginContext", "luamig.Log", "luamig.Config", "luamig.Graph", "luamig.Revision", "luamig.Declare" }) do
    it("match " .. name, function()
      assert.is_table(runtime.sqlite[name], "nothing reported " .. name)
      assert.are.same({}, compare(name, "sqlite", runtime.sqlite[name]))
    end)
  end

  it("cover every class the spec checks, and check every class with functions", function()
    local checked = { ["luamig.Db"] = true, ["luamig.Statement"] = true, ["luamig.Op"] = true, ["luamig.Batch"] = true,
      ["luamig.Pipeline"] = true }
    for name in pairs(runtime.sqlite) do checked[name] = true end
    for name, class in pairs(defs.classes) do
      if class.functions > 0 then assert.is_true(checked[name] or false, name .. " has functions nobody checks") end
    end
  end)

  it("type every method of the db that `upgrade --sql` gives migrations", function()
    local untyped = {}
    for key, ty in pairs(runtime.sqlite["offline.Db"]) do
      if ty == "function" and not defs.classes["luamig.Db"].members[key] then untyped[#untyped + 1] = key end
    end
    assert.is_truthy(runtime.sqlite["offline.Db"].exec)
    assert.are.same({}, untyped)
  end)

  it("type the hooks a plugin may define", function()
    local p = sh.project()
    assert(os.execute("mkdir " .. sh.quote(p.dir .. "/plugins")))
    p:write("plugins/bad.lua", 'return { name = "bad", hooks = { not_a_hook = function() end } }')
    local code, _, err = p:luamig("plugins")
    assert.are.equal(2, code, err)
    local hooks = {}
    for h in assert(err:match("%(hooks: ([%w_, ]+)%)"), err):gmatch("[%w_]+") do hooks[#hooks + 1] = h end
    table.sort(hooks)
    assert.are.same(hooks, types.sorted_keys(defs.classes["luamig.Hooks"].members))
  end)

  it("declare the globals each loader provides", function()
    for _, kind in ipairs({ "migration", "seed", "plugin", "drill", "schema" }) do
      for key in pairs(runtime.sqlite["env." .. kind] or {}) do
        assert.is_true(defs.globals[key] or false, ("a %s file sees global %s, which is not typed"):format(kind, key))
      end
    end
    assert.are.equal("table", runtime.sqlite["env.migration"].op) -- (the report itself works)
  end)

  -- Spec tables (arguments a user builds) are not objects to enumerate: their
  -- fields must be those the runtime's own annotations list, wherever the
  -- module defining them lives under lua/.
  for _, name in ipairs({ "luamig.ColumnSpec", "luamig.ConstraintSpec", "luamig.BackfillSpec", "luamig.Config" }) do
    it("type every field of " .. name .. " the runtime annotates", function()
      local theirs = types.annotated_fields(sh.source_dir .. "/lua", name)
      assert.is_table(theirs, "no ---@class " .. name .. " under lua/")
      for _, field in ipairs(theirs) do
        assert.is_truthy(defs.classes[name].members[field], ("%s.%s is not typed"):format(name, field))
      end
    end)
  end

  it("type only column keys that change the table luamig creates", function()
    local expected, got = {}, {}
    for key, s in pairs(COLUMN_SAMPLES) do expected[key] = s.same and "same" or "differs" end
    for _, key in ipairs(defs.classes["luamig.ColumnSpec"].order) do got[key] = runtime.sqlite.column[key] or "no sample" end
    assert.are.same(expected, got)
  end)
end)

describe("editor set-up files", function()
  local function luacheck_globals(text)
    local env = { files = setmetatable({}, { __index = function(t, k) rawset(t, k, {}) return t[k] end }) }
    assert(load(text, "=luacheckrc", "t", env))()
    local names = {}
    for _, f in pairs(env.files) do
      for _, list in ipairs({ f.globals or {}, f.read_globals or {} }) do
        for _, g in ipairs(list) do names[g] = true end
      end
    end
    return names
  end

  it("give the .luacheckrc template exactly the typed globals", function()
    local text = sh.slurp(sh.source_dir .. "/share/luamig/luacheckrc.lua")
    assert.are.same(types.sorted_keys(defs.globals), types.sorted_keys(luacheck_globals(text)))
  end)

  it("let luacheck pass a project's files and catch an undefined global", function()
    local dir = fixtures.tmpdir()
    local editor = require "luamig.project.editor"
    fixtures.write(dir .. "/.luacheckrc", assert(editor.luacheckrc()))
    assert(os.execute("mkdir " .. sh.quote(dir .. "/migrations") .. " " .. sh.quote(dir .. "/drills")))
    fixtures.write(dir .. "/migrations/001_a.lua", 'revision = "a1"\ndown_revision = nil\n' ..
      "function upgrade(db) op.create_table(\"t\", {}) luamig.backfill { table = \"t\" } db:exec \"\" end\n")
    fixtures.write(dir .. "/drills/d.lua", "drill.upgrade()\n")
    local code, out = sh.run("cd " .. sh.quote(dir) .. " && luacheck --no-color -q migrations drills")
    assert.are.equal(0, code, out)
    fixtures.write(dir .. "/drills/d.lua", "drill.upgrade()\nop.drop_table(\"t\")\n")
    code, out = sh.run("cd " .. sh.quote(dir) .. " && luacheck --no-color -q migrations drills")
    assert.are.equal(1, code, out)
    assert.matches("accessing undefined variable 'op'", out, 1, true)
  end)

  it("install the definitions with the binary, and find them from it", function()
    local build = sh.bin:match("^(.*)/[^/]+$")
    local prefix = fixtures.tmpdir()
    local code, _, err = sh.run(("cmake --install %s --prefix %s"):format(sh.quote(build), sh.quote(prefix)))
    assert.are.equal(0, code, err)
    for _, f in ipairs(def_files) do
      assert.are.equal(sh.slurp(TYPES .. "/" .. f), sh.slurp(prefix .. "/share/luamig/types/" .. f))
    end
    local src = fixtures.write(os.tmpname() .. ".lua", [[
local editor = require "luamig.project.editor"
io.write(assert(editor.types_dir()), "\n", assert(editor.luarc_json()))
]])
    local out
    code, out, err = sh.run(("env -u LUAMIG_SOURCE_DIR LUAMIG_LUA_DIR=%s %s %s"):format(
      sh.quote(sh.source_dir .. "/spec/support/harness"), sh.quote(prefix .. "/bin/luamig"), sh.quote(src)))
    os.remove(src)
    assert.are.equal(0, code, err)
    local dir, json = out:match("^([^\n]*)\n(.*)$")
    assert.are.equal(prefix .. "/share/luamig/types", dir)
    assert.are.same({ dir }, require("cjson").decode(json)["workspace.library"])
  end)
end)
