-- Runs revision-graph cases through luamig's command line, in one host
-- process (spec/alembic_diff_spec.lua; alembic_run.py does the same with
-- Alembic). Usage, through the host's spec harness (sh.lua's M.lua):
--   luamig_run.lua CASES.json RESULTS.json WORKDIR
-- Each command runs as `luamig <command> ... --json` would, through the
-- runner's own cli.main on a real SQLite file; stdout is captured.
local cjson = require "cjson"
local lfs = require "lfs"
local sqlite = require "luamig.sqlite"

local src = os.getenv("LUAMIG_SOURCE_DIR") or "."
local cli = dofile(src .. "/lua/luamig/cli/init.lua") -- the real one, not the harness's

local cases_path, results_path, work = ...

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function lua_list(l)
  if #l == 0 then return "nil" end
  local q = {}
  for i, v in ipairs(l) do q[i] = ("%q"):format(v) end
  return "{ " .. table.concat(q, ", ") .. " }"
end

local function migration(rev)
  return ([[
revision = %q
down_revision = %s
branch_labels = %s
depends_on = %s
function upgrade(db) db:exec("INSERT INTO trace (step) VALUES ('up %s')") end
function downgrade(db) db:exec("INSERT INTO trace (step) VALUES ('down %s')") end
]]):format(rev.id, lua_list(rev.down), lua_list(rev.labels), lua_list(rev.depends_on), rev.id, rev.id)
end

-- Run cli.main(argv); returns exit code, stdout, stderr.
-- luacheck: push ignore 122 (io.stdout and io.stderr are swapped for capturing tables)
local function luamig(argv)
  local out, err = {}, {}
  local real_out, real_err = io.stdout, io.stderr
  io.stdout = { write = function(_, ...) for _, s in ipairs({ ... }) do out[#out + 1] = s end end }
  io.stderr = { write = function(_, ...) for _, s in ipairs({ ... }) do err[#err + 1] = s end end }
  local ok, code = pcall(cli.main, argv)
  io.stdout, io.stderr = real_out, real_err
  if not ok then return 99, "", tostring(code) end
  return code, table.concat(out), table.concat(err)
end
-- luacheck: pop

local function argv_of(cmd)
  if cmd[1] == "history" then return { "history", "-r", cmd[2], "--json" } end
  if cmd[1] == "heads" then return { "heads", "--json" } end
  return { cmd[1], cmd[2], "--json" }
end

local function decode(text)
  local ok, doc = pcall(cjson.decode, text)
  return ok and doc or {}
end

local function run_case(case, dir)
  assert(lfs.mkdir(dir))
  assert(lfs.mkdir(dir .. "/migrations"))
  for i, rev in ipairs(case.revisions) do
    write(("%s/migrations/%04d_%s.lua"):format(dir, i, rev.id), migration(rev))
  end
  local db = sqlite.open(dir .. "/luamig.db")
  db:exec "CREATE TABLE trace (n INTEGER PRIMARY KEY AUTOINCREMENT, step TEXT)"
  db:close()
  assert(lfs.chdir(dir))
  local results = {}
  for _, cmd in ipairs(case.commands) do
    local code, out, err = luamig(argv_of(cmd))
    local doc = decode(out)
    local r = { rc = code, doc = doc, error = doc.error and doc.error.message or err }
    if code ~= 0 then r.current = decode((select(2, luamig({ "current", "--json" })))).heads end
    results[#results + 1] = r
  end
  assert(lfs.chdir(work))
  db = sqlite.open(dir .. "/luamig.db")
  local trace = {}
  for row in db:rows "SELECT step FROM trace ORDER BY n" do trace[#trace + 1] = row.step end
  db:close()
  return { commands = results, trace = trace }
end

local f = assert(io.open(cases_path))
local cases = cjson.decode(f:read("a"))
f:close()
local all = {}
for n, case in ipairs(cases) do all[n] = run_case(case, ("%s/luamig_%d"):format(work, n)) end
write(results_path, cjson.encode(all))
