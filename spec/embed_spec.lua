-- Migrating from inside the application: libluamig.so (include/luamig.h)
-- from a C program compiled here, the Lua module luamig.so from Debian's
-- plain lua5.4, and the start-up pieces (--wait-for-db, check --heads-only,
-- the lock-timeout exit code, waiters that stop on the holder's failure).
local sh = require "spec.support.sh"
local cjson = require "cjson"

local build = sh.bin:match("^(.*)/[^/]*$") or "."
local src = sh.source_dir
local school = src .. "/examples/school"
local pg = os.getenv("LUAMIG_TEST_PG")
local CYCLES = tonumber(os.getenv("LUAMIG_EMBED_CYCLES")) or 50
-- The ASan/UBSan build's library needs the sanitizer runtime loaded first in
-- a host that is not built with it (the C program, lua5.4); valgrind cannot
-- run it at all (the release build's run covers valgrind).
local SANITIZED = os.getenv("LUAMIG_SANITIZED") ~= nil
local PRELOAD = ""
if SANITIZED then
  local f = assert(io.popen("cc -print-file-name=libasan.so"))
  PRELOAD = "LD_PRELOAD=" .. sh.quote((f:read("l"))) .. " "
  f:close()
end

-- The C program: apply, status, downgrade one step, check, a failing
-- migration as a value, NULL arguments; or (argv[4] = N) N cycles of
-- open/upgrade/status/downgrade base/close.
local C_PROGRAM = [[
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <luamig.h>

static int cycles(const char *cfg, const char *url, int n) {
  int i;
  for (i = 0; i < n; i++) {
    char *err = NULL, *json = NULL;
    luamig *p = luamig_open(cfg, url, &err);
    if (!p) { printf("open: %s\n", err); luamig_free(err); return 1; }
    if (luamig_upgrade(p, "head", &err) != 0) { printf("upgrade: %s\n", err); return 1; }
    if (luamig_status_json(p, &json, &err) != 0 || !strstr(json, "\"pending\":[]")) return 1;
    luamig_free(json);
    if (luamig_downgrade(p, "base", &err) != 0) { printf("downgrade: %s\n", err); return 1; }
    luamig_close(p);
  }
  printf("cycles %d\n", n);
  return 0;
}

int main(int argc, char **argv) {
  char *err = NULL, *json = NULL;
  luamig *p, *bad;
  int rc;
  if (argc > 4) return cycles(argv[1], argv[2], atoi(argv[4]));
  printf("version %s %d\n", luamig_version(), LUAMIG_VERSION_NUMBER);
  p = luamig_open(argv[1], argv[2], &err);
  if (!p) { printf("open failed: %s\n", err); return 1; }
  rc = luamig_upgrade(p, "head", &err);
  printf("upgrade %d %s\n", rc, err ? err : "-");
  rc = luamig_status_json(p, &json, &err);
  printf("status %d %s\n", rc, json);
  luamig_free(json);
  rc = luamig_downgrade(p, "-1", &err);
  printf("downgrade %d\n", rc);
  rc = luamig_check(p, &err);
  printf("check %d\n", rc);
  rc = luamig_upgrade(NULL, "head", &err);
  printf("null handle %d %s\n", rc, err);
  luamig_free(err);
  rc = luamig_upgrade(p, NULL, &err);
  printf("null target %d %s\n", rc, err);
  luamig_free(err);
  rc = luamig_status_json(p, NULL, &err);
  printf("null json %d\n", rc);
  luamig_free(err);
  luamig_close(p);
  luamig_close(NULL);
  bad = luamig_open(argv[3], NULL, &err);
  rc = luamig_upgrade(bad, "head", &err);
  printf("failing %d %s\n", rc, err ? err : "-");
  luamig_free(err);
  luamig_close(bad);
  p = luamig_open("/nonexistent/luamig.lua", NULL, &err);
  printf("missing config %s %s\n", p ? "opened" : "NULL", err);
  luamig_free(err);
  p = luamig_open(argv[1], "postgresql://postgres@127.0.0.1:1/none", &err);
  rc = luamig_wait_for_db(p, 0.3, &err);
  rc = luamig_upgrade(p, "head", &err);
  printf("no server %d %s\n", rc, err);
  luamig_free(err);
  luamig_close(p);
  printf("still running\n");
  return 0;
}
]]

-- The Lua script (plain lua5.4): the same steps, and what the module must
-- not touch in the host.
local LUA_SCRIPT = [[
local cfg, url, failing, cycles = ...
local before_path, before_cpath, globals = package.path, package.cpath, {}
for k in pairs(_G) do globals[k] = true end
local luamig = require "luamig"
local function out(...) io.write(table.concat({ ... }, " "), "\n") end
if cycles then
  for _ = 1, tonumber(cycles) do
    local p = assert(luamig.open { config = cfg, url = url })
    assert(p:upgrade("head"))
    assert(#p:status().pending == 0)
    assert(p:downgrade("base"))
    p:close()
  end
  out("cycles", cycles)
  return
end
local p = assert(luamig.open { config = cfg, url = url })
local steps = {}
local res, code = p:upgrade("head", { lock_timeout = 30, on_step = function(s) steps[#steps + 1] = s.revision end })
out("upgrade", code, #res.steps, table.concat(steps, ","))
local inner
res = p:downgrade("-1", { on_step = function() inner = select(2, pcall(p.status, p)) end })
out("reentry", tostring(res.steps[1].revision), tostring(inner))
assert(p:upgrade("head"))
local st = p:status()
out("status", tostring(st.at_head), #st.applied, #st.pending, table.concat(st.heads, ","))
res, code = p:downgrade("-1")
out("downgrade", code, res.steps[1].revision)
local _, check_code = p:check()
out("check", check_code, tostring(p:status().at_head))
local r, e = p:upgrade(42)
out("bad target", tostring(r), e.kind)
p:close(); p:close()
local ok, err = pcall(p.status, p)
out("closed", tostring(ok), tostring(err))
local bad = assert(luamig.open { config = failing })
r, e = bad:upgrade("head")
out("failing", tostring(r), e.kind, tostring(e.where), e.message)
out("failing text", tostring(e))
r, e = bad:status()
out("failed recorded", r.failed and r.failed.revision or "none")
bad:close()
r, e = luamig.open { config = "/nonexistent/luamig.lua" }
out("missing config", tostring(r), e.kind, tostring(e))
r, e = luamig.open { config = cfg, url = "mysql://x" }
out("bad url", tostring(r), e.kind)
r, e = luamig.open { config = failing .. ".missing-migrations.lua" }
out("no migrations", tostring(r), e.kind, e.message)
local changed = {}
for k in pairs(_G) do if not globals[k] then changed[#changed + 1] = k end end
out("globals", #changed == 0 and "unchanged" or table.concat(changed, ","))
out("paths", tostring(package.path == before_path and package.cpath == before_cpath))
out("still running")
]]

-- A LUAMIG_LUA_DIR (the CLI's development switch) whose luamig code would
-- take over a host that honoured it.
local function swapped_lua_dir(dir)
  os.execute("mkdir -p " .. sh.quote(dir .. "/swap/luamig/cli"))
  sh.write(dir .. "/swap/luamig/cli/api.lua", "error('the host environment swapped luamig code')\n")
  return "LUAMIG_LUA_DIR=" .. sh.quote(dir .. "/swap") .. " "
end

local function need(program)
  local missing = sh.missing(sh.have(program), program)
  if missing then pending(missing) end
  return not missing
end

-- A project whose one migration fails (and tries os.exit: the sandbox).
local function failing_project()
  local p = sh.project({
    ["001_a.lua"] = sh.migration("a00000000001", nil, "db:exec 'CREATE TABLE ok (id INTEGER)'"),
    ["002_b.lua"] = sh.migration("b00000000002", "a00000000001", "os.exit(3)"),
  })
  p:write("luamig.lua", "return { url = 'sqlite:///" .. p.dir .. "/f.db' }\n")
  p:write("luamig.lua.missing-migrations.lua", "return { migrations = 'nowhere' }\n")
  return p
end

local function targets()
  local t = { { name = "sqlite", url = function(dir) return "sqlite:///" .. dir .. "/school.db" end } }
  if pg then t[2] = { name = "postgresql", url = function() return sh.fresh_pg() end } end
  return t
end

describe("libluamig.so from a C program", function()
  local dir, prog
  setup(function()
    dir = sh.tmpdir()
    prog = dir .. "/app"
    sh.write(dir .. "/app.c", C_PROGRAM)
    local code, out, err = sh.run(("cc -Wall -Wextra -Werror -I%s/include %s/app.c -L%s -lluamig -Wl,-rpath,%s -o %s")
      :format(sh.quote(src), sh.quote(dir), sh.quote(build), sh.quote(build), sh.quote(prog)))
    assert(code == 0, out .. err)
  end)
  teardown(function() os.execute("rm -rf " .. sh.quote(dir)) end)

  for _, t in ipairs(targets()) do
    it("on " .. t.name .. ": applies the school example, reads status, downgrades a step; errors are values", function()
      local bad = failing_project()
      local code, out, err = sh.run(("cd %s && %s%s %s %s %s"):format(sh.quote(dir), PRELOAD, sh.quote(prog),
        sh.quote(school .. "/luamig.lua"), sh.quote(t.url(dir)), sh.quote(bad.dir .. "/luamig.lua")))
      assert.are.equal(0, code, out .. err)
      assert.matches("version 0%.1%.0 100\n", out)
      assert.matches("upgrade 0 %-\n", out)
      local status = cjson.decode(out:match("status 0 ([^\n]*)"))
      assert.are.same({ "c3d4e5f6a1b2" }, status.heads)
      assert.are.equal(3, #status.applied)
      assert.matches("downgrade 0\n", out)
      assert.matches("check 3\n", out)
      assert.matches("null handle 2 luamig_upgrade: the luamig handle is NULL\n", out, 1, true)
      assert.matches("null target 2 luamig_upgrade: the target is NULL\n", out, 1, true)
      assert.matches("null json 2\n", out)
      assert.matches("failing 1 [^\n]*002_b%.lua:%d+[^\n]*os%.exit would stop luamig", out)
      assert.matches("missing config NULL config file /nonexistent/luamig.lua not found", out, 1, true)
      assert.matches("no server 1 the database did not accept connections within 0.3s", out, 1, true)
      assert.matches("still running\n$", out)
      assert.matches("^luamig: waiting for the database %(attempt 1, next in 0%.%d+s%): cannot connect[^\n]*\n", err)
      assert.is_nil(err:gsub("luamig: waiting for the database[^\n]*\n", ""):match("."), err)
    end)
  end

  it("ignores LUAMIG_LUA_DIR in the host's environment: the library runs its own embedded code", function()
    local code, out, err = sh.run(("cd %s && %s%s%s %s %s x 1"):format(sh.quote(dir), swapped_lua_dir(dir), PRELOAD,
      sh.quote(prog), sh.quote(school .. "/luamig.lua"), sh.quote("sqlite:///" .. dir .. "/swap.db")))
    assert.are.equal(0, code, out .. err)
    assert.are.equal("cycles 1\n", out)
  end)

  it("runs " .. CYCLES .. " open/upgrade/status/downgrade/close cycles under valgrind: no leak, no invalid access",
    function()
      if SANITIZED then pending("valgrind cannot run the ASan build: the release build's run covers this") return end
      if not need("valgrind") then return end
      local code, out, err = sh.run(("cd %s && valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect " ..
        "--error-exitcode=99 %s %s %s x %d"):format(sh.quote(dir), sh.quote(prog), sh.quote(school .. "/luamig.lua"),
        sh.quote("sqlite:///" .. dir .. "/cycles.db"), CYCLES))
      assert.are.equal(0, code, out .. err)
      assert.are.equal("cycles " .. CYCLES .. "\n", out)
      assert.are.equal("", err)
    end)
end)

describe("require \"luamig\" from plain lua5.4", function()
  local dir, script
  local function lua(args, env)
    return sh.run(("cd %s && env -u LUA_PATH -u LUA_PATH_5_4 %s%sLUA_CPATH=%s lua5.4 %s %s"):format(sh.quote(dir),
      env or "", PRELOAD, sh.quote(build .. "/lua/?.so"), sh.quote(script), args))
  end
  setup(function()
    dir = sh.tmpdir()
    script = dir .. "/app.lua"
    sh.write(script, LUA_SCRIPT)
  end)
  teardown(function() os.execute("rm -rf " .. sh.quote(dir)) end)

  for _, t in ipairs(targets()) do
    it("on " .. t.name .. ": applies the school example, reads status, downgrades a step; errors are values", function()
      local bad = failing_project()
      local code, out, err = lua(("%s %s %s"):format(sh.quote(school .. "/luamig.lua"), sh.quote(t.url(dir)),
        sh.quote(bad.dir .. "/luamig.lua")))
      assert.are.equal(0, code, out .. err)
      assert.matches("upgrade 0 3 a1b2c3d4e5f6,b2c3d4e5f6a1,c3d4e5f6a1b2\n", out, 1, true)
      assert.matches("reentry c3d4e5f6a1b2 luamig: this project is busy (a method called from its own on_step)\n",
        out, 1, true)
      assert.matches("status true 3 0 c3d4e5f6a1b2\n", out, 1, true)
      assert.matches("downgrade 0 c3d4e5f6a1b2\n", out, 1, true)
      assert.matches("check 3 false\n", out, 1, true)
      assert.matches("bad target nil usage\n", out, 1, true)
      assert.matches("closed false luamig: this project is closed", out, 1, true)
      -- the migration ran in the CLI's sandbox: os.exit raised, the host lives on; where is
      -- the migration's line (the message says it too, and tostring says it once)
      local where = out:match("failing nil migration (%S+) upgrade b00000000002 %(")
      assert.matches("/migrations/002_b%.lua:6$", where or out)
      assert.matches("failing nil migration [^\n]*os%.exit would stop luamig", out)
      assert.matches("failing text upgrade b00000000002 %([^\n]*002_b%.lua%) failed: " .. where:gsub("%p", "%%%0") ..
        ": os%.exit would stop luamig", out)
      assert.matches("failed recorded b00000000002\n", out, 1, true)
      assert.matches("missing config nil config config file /nonexistent/luamig.lua not found\n", out, 1, true)
      assert.matches("bad url nil config\n", out, 1, true)
      assert.matches("no migrations nil config the migrations folder [^\n]*/nowhere cannot be read\n", out)
      assert.matches("globals unchanged\npaths true\nstill running\n$", out)
      assert.are.equal("", err)
    end)
  end

  it("ignores LUAMIG_LUA_DIR in the host's environment: the module runs its own embedded code", function()
    local code, out, err = lua(("%s %s x 1"):format(sh.quote(school .. "/luamig.lua"),
      sh.quote("sqlite:///" .. dir .. "/swap.db")), swapped_lua_dir(dir))
    assert.are.equal(0, code, out .. err)
    assert.are.equal("cycles 1\n", out)
  end)

  it("runs " .. CYCLES .. " open/upgrade/status/downgrade/close cycles under valgrind: no leak, no invalid access",
    function()
      if SANITIZED then pending("valgrind cannot run the ASan build: the release build's run covers this") return end
      if not need("valgrind") then return end
      local code, out, err = sh.run(("cd %s && env -u LUA_PATH LUA_CPATH=%s valgrind -q --leak-check=full " ..
        "--errors-for-leak-kinds=definite,indirect --error-exitcode=99 lua5.4 %s %s %s x %d"):format(sh.quote(dir),
        sh.quote(build .. "/lua/?.so"), sh.quote(script), sh.quote(school .. "/luamig.lua"),
        sh.quote("sqlite:///" .. dir .. "/cycles.db"), CYCLES))
      assert.are.equal(0, code, out .. err)
      assert.are.equal("cycles " .. CYCLES .. "\n", out)
      assert.are.equal("", err)
    end)
end)

-- `n` luamig runs of `args` started at once in project `p`; waits for all
-- and returns their exit codes and stderr texts.
local function many(p, n, args)
  local d = sh.quote(p.dir)
  local cmd = p:command(args)
  local script = ""
  for i = 1, n do
    script = script .. ("( %s >%s/out.%d 2>%s/err.%d; echo $? >%s/rc.%d ) &\n"):format(cmd, d, i, d, i, d, i)
  end
  assert(os.execute("( " .. script .. " ) >/dev/null 2>&1"))
  local codes, errs = {}, {}
  for i = 1, n do
    codes[i] = assert(sh.poll(function() return sh.first_line(p.dir .. "/rc." .. i, "n") end), "run " .. i .. " ended")
    errs[i] = sh.slurp(p.dir .. "/err." .. i)
  end
  return codes, errs
end

describe("safe start-up on PostgreSQL", function()
  if not pg then
    it("needs LUAMIG_TEST_PG", function() pending("LUAMIG_TEST_PG is not set") end)
    return
  end

  local function sleeper(seconds, fail)
    return {
      ["001_a.lua"] = sh.migration("a00000000001", nil, "db:exec 'CREATE TABLE t (id INTEGER)'"),
      ["002_slow.lua"] = sh.migration("b00000000002", "a00000000001",
        ("db:exec 'SELECT pg_sleep(%g)'\n%s"):format(seconds, fail and "error('slow step failed')" or
          "db:exec 'CREATE TABLE slow (id INTEGER)'")),
    }
  end

  local function sleeping(p)
    return p:sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND datname = " ..
      "current_database() AND pid <> pg_backend_pid()") == "1\n"
  end

  it("twelve replicas at once: all end at head, the slow migration applies once, waiters say who held the lock",
    function()
      local p = sh.project_on(sh.backends()[2], sleeper(4))
      local codes, errs = many(p, 12, "upgrade head")
      local waited = 0
      for i = 1, 12 do
        assert.are.equal(0, codes[i], errs[i])
        if errs[i]:find("waiting for the migration lock held by pid %d+ %(application_name \"luamig\"") then
          waited = waited + 1
        end
      end
      assert.is_true(waited >= 8, "waiters named the holder: " .. waited)
      assert.are.equal("1\n", p:sql("SELECT count(*) FROM luamig_version_history WHERE revision = 'b00000000002'"))
      assert.are.equal("b00000000002\n", p:sql("SELECT version_num FROM luamig_version"))
    end)

  it("with lock_timeout shorter than the migration, the late replicas exit 6 and the holder finishes", function()
    local p = sh.project_on(sh.backends()[2], sleeper(3))
    p:write("luamig.lua", "return { lock_timeout = 1 }\n")
    local codes, errs = many(p, 12, "upgrade head")
    local ok, late = 0, 0
    for i = 1, 12 do
      if codes[i] == 0 then ok = ok + 1 end
      if codes[i] == 6 then
        late = late + 1
        assert.matches("timed out after 1s waiting for the migration lock held by", errs[i])
      end
    end
    assert.are.equal(12, ok + late, table.concat(codes, ","))
    assert.is_true(late >= 8, "late replicas: " .. late)
    assert.are.equal("b00000000002\n", p:sql("SELECT version_num FROM luamig_version"))
    assert.are.equal("1\n", p:sql("SELECT count(*) FROM luamig_version_history WHERE revision = 'b00000000002'"))
  end)

  it("a waiter that finds the holder's failure stops with it instead of running the step again", function()
    local p = sh.project_on(sh.backends()[2], sleeper(4, true))
    local first = sh.project({})
    first.dir, first.url = p.dir .. "/first", p.url
    assert(os.execute("mkdir -p " .. sh.quote(first.dir) .. " && cp -r " .. sh.quote(p.dir .. "/migrations") .. " " ..
      sh.quote(first.dir)))
    sh.spawn(first, "upgrade head")
    assert(sh.poll(function() return sleeping(p) end), "the holder is in its slow step")
    local code, _, err = p:luamig("upgrade head")
    assert.are.equal(1, code, err)
    assert.matches("b00000000002 upgrade failed in another run while this one waited for the migration lock: " ..
      "[^\n]*slow step failed", err)
    assert.are.equal(1, sh.exit_code(first))
    assert.are.equal("1\n", p:sql("SELECT count(*) FROM luamig_version_history WHERE status = 'failed'"))
  end)

  it("check --heads-only answers while another run holds the lock mid-migration", function()
    local p = sh.project_on(sh.backends()[2], sleeper(6))
    p:write("schema.lua", "table 'nope' { column 'id' 'integer' }\n")
    local holder = sh.project({})
    holder.dir, holder.url = p.dir .. "/holder", p.url
    assert(os.execute("mkdir -p " .. sh.quote(holder.dir) .. " && cp -r " .. sh.quote(p.dir .. "/migrations") ..
      " " .. sh.quote(holder.dir)))
    sh.spawn(holder, "upgrade head")
    assert(sh.poll(function() return sleeping(p) end), "the holder is in its slow step")
    local doc, code, err = p:json("check --heads-only")
    -- answered while the holder is still in its step (it has not ended, the step still runs)
    assert.is_nil(sh.first_line(holder.dir .. "/rc"), "the holder had finished")
    assert.is_true(sleeping(p), "the holder's step was still running")
    assert.are.equal(3, code, err)
    assert.are.same({ "a00000000001" }, doc.heads)
    assert.are.same({ "b00000000002" }, doc.pending)
    assert.is_nil(doc.schema_differences) -- no scratch database, no schema comparison
    assert.are.equal(0, sh.exit_code(holder))
    assert.are.equal(0, select(2, p:json("check --heads-only")))
  end)

  it("upgrade --wait-for-db started before the server completes once the server is up", function()
    if not os.execute("ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1") then pending("no pg_ctl") return end
    local cluster = sh.tmpdir()
    local init = ([[bash -c 'source %s/.ci/pg.sh; bin=$(pg_bin); d=%s; ((EUID == 0)) && chown postgres: "$d";
      pg_as "$bin/initdb" -D "$d/data" -U postgres -A trust --no-sync >"$d/initdb.log" 2>&1; pg_free_port']])
      :format(sh.quote(src), sh.quote(cluster))
    local code, port = sh.run(init)
    assert.are.equal(0, code)
    port = port:match("%d+")
    finally(function()
      os.execute(([[bash -c 'source %s/.ci/pg.sh; pg_stop_cluster %s' >/dev/null 2>&1]]):format(sh.quote(src),
        sh.quote(cluster)))
    end)
    local p = sh.project(sh.chain(2))
    p.url = ("postgresql://postgres@127.0.0.1:%s/postgres"):format(port)
    sh.spawn(p, "upgrade head --wait-for-db 60s")
    -- it retries while there is no server
    assert(sh.poll(function()
      local e = sh.first_line(p.dir .. "/err", "a")
      return e and select(2, e:gsub("waiting for the database %(attempt", "")) >= 2
    end), "luamig said it was waiting")
    assert.is_nil(sh.first_line(p.dir .. "/rc"))
    assert(os.execute(([[bash -c 'source %s/.ci/pg.sh; pg_as "$(pg_bin)/pg_ctl" -D %s/data -l %s/server.log -w ]] ..
      [[-o "-c listen_addresses=127.0.0.1 -p %s -k %s" start' >/dev/null 2>&1]]):format(sh.quote(src),
      sh.quote(cluster), sh.quote(cluster), port, sh.quote(cluster))))
    assert.are.equal(0, sh.exit_code(p), sh.slurp(p.dir .. "/err"))
    assert.matches("luamig: waiting for the database %(attempt 1, next in 0%.25s%): cannot connect", sh.slurp(p.dir ..
      "/err"))
    local _, out = sh.run(("psql %s -XtAc 'SELECT version_num FROM luamig_version'"):format(sh.quote(p.url)))
    assert.are.equal("a00000000002\n", out)
  end)
end)
