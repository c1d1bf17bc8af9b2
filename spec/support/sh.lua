--- Helpers for specs: run the real luamig binary and Lua scripts through it.
local M = {}

M.bin = os.getenv("LUAMIG_BIN") or "build/luamig"
if not M.bin:match("^/") then M.bin = (os.getenv("PWD") or ".") .. "/" .. M.bin end
M.source_dir = os.getenv("LUAMIG_SOURCE_DIR") or "."
if not M.source_dir:match("^/") then M.source_dir = (os.getenv("PWD") or ".") .. "/" .. M.source_dir end
M.sample_dir = M.source_dir .. "/examples/sample" -- the sample project ./run.sh uses

---True when `program` is on PATH.
---@param program string
---@return boolean
function M.have(program)
  return os.execute("command -v " .. program .. " >/dev/null 2>&1") == true
end

---Why a spec cannot run here (its tool or server `what` is missing), or nil
---when `present`. In CI (CI set) a missing tool fails the spec instead: the
---scripts must install it. Use: `local why = sh.missing(ok, "dot"); if why then pending(why) return end`
---@param present any
---@param what string
---@return string?
function M.missing(present, what)
  if present then return nil end
  if os.getenv("CI") then error(what .. " is missing in CI: .ci/deps.sh or test.sh must provide it", 2) end
  return what .. " is missing here: skipped (in CI this fails)"
end

---Quote a string for /bin/sh.
---@param s string
---@return string
function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

---A file's whole text.
---@param path string
---@return string
function M.slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local slurp = M.slurp

---Run a shell command; returns exit code, stdout, stderr.
---@param cmd string
---@return integer code, string out, string err
function M.run(cmd)
  local out, err = os.tmpname(), os.tmpname()
  local ok, how, code = os.execute(cmd .. " >" .. out .. " 2>" .. err)
  local o, e = slurp(out), slurp(err)
  os.remove(out)
  os.remove(err)
  if how == "signal" then code = 128 + code end
  return ok and 0 or code, o, e
end

---Make a fresh temporary directory; returns its path.
---@return string
function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p " .. M.quote(p)))
  return p
end

---Write a file.
function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

---Run Lua source through the host (drivers and runner modules available).
---@param src string Lua source
---@return integer code, string out, string err
function M.lua(src, ...)
  local path = os.tmpname() .. ".lua"
  M.write(path, src)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = M.quote(a) end
  local cmd = ("LUAMIG_LUA_DIR=%s/spec/support/harness LUAMIG_SOURCE_DIR=%s %s %s %s"):format(
    M.quote(M.source_dir), M.quote(M.source_dir), M.quote(M.bin), M.quote(path), table.concat(args, " "))
  local code, out, err = M.run(cmd)
  os.remove(path)
  return code, out, err
end

---@class spec.Project
---@field dir string
local Project = {}
Project.__index = Project

---A file's first line (or the value io.read(fmt) gives), nil when it is missing.
function M.first_line(path, fmt)
  local f = io.open(path)
  if not f then return nil end
  local v = f:read(fmt or "l")
  f:close()
  return v
end

---`luamig ARGS` started in the background in project `p` (stdout to out,
---stderr to err, its exit code to rc when it ends), with `env` as for
---Project:command; returns its pid.
function M.spawn(p, args, env)
  local cmd = p:command(args, env):gsub("&& env ", "&& exec env ", 1)
  local d = M.quote(p.dir)
  for _, f in ipairs({ "pid", "rc" }) do os.remove(p.dir .. "/" .. f) end -- (an earlier run's)
  -- out and err exist (empty) before the pid does: a poll of err may start at once
  for _, f in ipairs({ "out", "err" }) do M.write(p.dir .. "/" .. f, "") end
  assert(os.execute(("(%s >%s/out 2>%s/err & echo $! >%s/pid; wait $!; echo $? >%s/rc) >/dev/null 2>&1 &")
    :format(cmd, d, d, d, d)))
  return (assert(M.poll(function() return M.first_line(p.dir .. "/pid") end), "not started"))
end

---The exit code of the run M.spawn started, once it ends (killed after 15 s).
function M.exit_code(p)
  local rc = M.poll(function() return M.first_line(p.dir .. "/rc", "n") end)
  if not rc then os.execute("kill -9 " .. M.first_line(p.dir .. "/pid")) end
  return assert(rc, "luamig did not stop")
end

---A fresh project directory with a migrations/ folder; `files` maps names
---under migrations/ to their text.
---@param files table<string, string>?
---@return spec.Project
function M.project(files)
  local p = setmetatable({ dir = M.tmpdir() }, Project)
  assert(os.execute("mkdir -p " .. M.quote(p.dir .. "/migrations")))
  for name, text in pairs(files or {}) do p:write("migrations/" .. name, text) end
  return p
end

---Write a file relative to the project.
function Project:write(rel, text)
  M.write(self.dir .. "/" .. rel, text)
end

---Remove a file relative to the project.
function Project:remove(rel)
  assert(os.remove(self.dir .. "/" .. rel))
end

---The shell command that runs `luamig ARGS` inside the project directory
---with the embedded runner (no LUAMIG_LUA_DIR), as a user would; on the
---project's backend database when it has one (as LUAMIG_URL).
function Project:command(args, env)
  local url = self.url and ("LUAMIG_URL=" .. M.quote(self.url)) or "-u LUAMIG_URL"
  return ("cd %s && env -u LUAMIG_LUA_DIR -u DATABASE_URL %s %s %s %s"):format(
    M.quote(self.dir), url, env or "", M.quote(M.bin), args)
end

---Run `luamig ARGS` (a shell-ready string) in the project; see Project:command.
---@return integer code, string out, string err
function Project:luamig(args, env)
  return M.run(self:command(args, env))
end

---Run luamig and insist on success; returns stdout.
function Project:ok(args, env)
  local code, out, err = self:luamig(args, env)
  if code ~= 0 then error(("luamig %s -> exit %d\nstdout: %s\nstderr: %s"):format(args, code, out, err), 2) end
  return out, err
end

---Run luamig --json and decode stdout.
function Project:json(args, env)
  local code, out, err = self:luamig(args .. " --json", env)
  local cjson = require "cjson"
  local ok, doc = pcall(cjson.decode, out)
  if not ok then error(("not JSON (exit %d): %s\nstderr: %s"):format(code, out, err), 2) end
  return doc, code, err
end

---Run SQL on the project's database (sqlite3 or psql); returns the rows
---as text, columns separated by "|", one line per row.
function Project:sql(sql)
  return (self.backend or M.backends()[1]).sql(self, sql)
end

---The project's tables (outside the catalog), sorted, space-separated, plus "\n".
function Project:tables()
  return (self.backend or M.backends()[1]).tables(self)
end

---@class spec.Backend
---@field name "sqlite"|"postgresql"
---@field fresh fun(): string?    URL of a new empty database (nil: the default sqlite:///luamig.db)
---@field sql fun(p: spec.Project, sql: string): string
---@field tables fun(p: spec.Project): string
---@field run_file fun(p: spec.Project, path: string): integer, string, string  a SQL script, by sqlite3 or psql
---@field errors table<string, string>  Lua patterns for driver messages the specs expect

local made = 0

-- The databases fresh_pg made that are not dropped yet (name -> server URL).
local to_drop = {}

-- Drop them (each test end, and when busted exits): one is ~8 MB, and a run
-- makes a thousand. One still in use stays for the next try.
local function drop_made()
  for name, url in pairs(to_drop) do
    if M.run(("psql %s -qc %s"):format(M.quote(url), M.quote("DROP DATABASE IF EXISTS " .. name))) == 0 then
      to_drop[name] = nil
    end
  end
  return nil, true -- (busted: keep going, keep subscribed)
end

local subscribed = false
local function drop_after_tests()
  if subscribed then return end
  subscribed = true
  local ok, busted = pcall(require, "busted")
  if ok and type(busted) == "table" and busted.subscribe then
    busted.subscribe({ "test", "end" }, drop_made)
    busted.subscribe({ "exit" }, drop_made)
  end
end

---A new, empty PostgreSQL database on $LUAMIG_TEST_PG's server; its URL.
---It is dropped when the test ends, unless `keep` (then the caller drops it,
---e.g. one made in setup() for a whole describe block).
---@param keep boolean?
---@return string
function M.fresh_pg(keep)
  local url = assert(os.getenv("LUAMIG_TEST_PG"), "LUAMIG_TEST_PG is not set: run the specs through ./test.sh")
  drop_after_tests()
  made = made + 1
  -- a name unique to this process: math.random repeats across processes
  -- started in the same second when the seed does (e.g. without ASLR)
  local tmp = os.tmpname()
  os.remove(tmp)
  local name = ("luamig_spec_%d_%s_%d"):format(os.time() % 100000, tmp:match("([%w]+)$"):lower(), made)
  local code, _, err = M.run(("psql %s -qc %s"):format(M.quote(url), M.quote("CREATE DATABASE " .. name)))
  assert(code == 0, err)
  if not keep then to_drop[name] = url end
  return (url:gsub("/[^/]*$", "/" .. name))
end

local function checked(cmd)
  local code, out, err = M.run(cmd)
  assert(code == 0, err)
  return out
end

local backends = {
  {
    name = "sqlite",
    fresh = function() return nil end,
    sql = function(p, sql)
      local path = p.url and p.url:match("^sqlite:///(.+)$") or (p.dir .. "/luamig.db")
      return checked(("sqlite3 %s %s"):format(M.quote(path), M.quote(sql)))
    end,
    tables = function(p)
      return p:sql("SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master " ..
        "WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name)")
    end,
    run_file = function(p, path)
      local db = p.url and p.url:match("^sqlite:///(.+)$") or (p.dir .. "/luamig.db")
      return M.run(("sqlite3 -bail %s < %s"):format(M.quote(db), M.quote(path)))
    end,
    errors = { no_table = "sqlite SQLITE_ERROR: no such table: nope" },
  },
  {
    name = "postgresql",
    fresh = M.fresh_pg,
    sql = function(p, sql)
      return checked(("psql %s -XtAq -v ON_ERROR_STOP=1 -c %s"):format(M.quote(p.url), M.quote(sql)))
    end,
    tables = function(p)
      return p:sql("SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables " ..
        "WHERE schemaname = current_schema()")
    end,
    run_file = function(p, path)
      return M.run(("psql %s -Xq -v ON_ERROR_STOP=1 -f %s"):format(M.quote(p.url), M.quote(path)))
    end,
    errors = { no_table = 'pg 42P01: relation "nope" does not exist' },
  },
}

---Both drivers, for specs that must hold on each: SQLite, then PostgreSQL.
---@return spec.Backend[]
function M.backends()
  return backends
end

---A project (see M.project) on a fresh database of `backend`.
---@param backend spec.Backend
---@param files table<string, string>?
---@return spec.Project
function M.project_on(backend, files)
  local p = M.project(files)
  p.backend, p.url = backend, backend.fresh()
  return p
end

---A migration file's text.
---@param id string
---@param down string|nil
---@param up string   body of upgrade(db)
---@param down_body string?  body of downgrade(db)
---@param extra string? more lines (e.g. "transactional = false")
function M.migration(id, down, up, down_body, extra)
  return ("-- migration %s\nrevision = %q\ndown_revision = %s\n%s\nfunction upgrade(db)\n%s\nend\n"):format(
    id, id, down and ("%q"):format(down) or "nil", extra or "", up) ..
    (down_body and ("function downgrade(db)\n%s\nend\n"):format(down_body) or "")
end

---A linear chain of n migrations each creating table t<i>; returns files.
function M.chain(n, prefix)
  prefix = prefix or "a"
  local files, prev = {}, nil
  for i = 1, n do
    local id = ("%s%011d"):format(prefix, i)
    files[("%03d_%s.lua"):format(i, id)] = M.migration(id, prev,
      ("db:exec 'CREATE TABLE t%d (id INTEGER PRIMARY KEY)'"):format(i),
      ("db:exec 'DROP TABLE t%d'"):format(i))
    prev = id
  end
  return files
end

---The first true value of f(), tried every 50 ms for up to `secs` seconds
---(15 by default); nil after.
---@param f fun(): any
---@param secs number?
function M.poll(f, secs)
  for _ = 1, math.ceil((secs or 15) * 20) do
    local v = f()
    if v then return v end
    os.execute("sleep 0.05")
  end
end

local first_line = M.first_line

---`luamig ARGS` started in the background in project `p` (M.spawn).
---@return integer pid
function Project:spawn(args, env)
  return math.tointeger(tonumber((M.spawn(self, args, env))))
end

---The exit code of the run Project:spawn started once it ends within `secs`
---seconds (default 15), and the seconds it took to end; nil (after killing
---it) when it does not.
---@return integer? code, number waited
function Project:wait(secs)
  local t0 = os.time()
  local rc = M.poll(function() return first_line(self.dir .. "/rc", "n") end, secs)
  if not rc then os.execute("kill -9 " .. first_line(self.dir .. "/pid") .. " 2>/dev/null") end
  return rc, os.difftime(os.time(), t0)
end

---Whether process `pid` is still alive.
function M.alive(pid)
  return os.execute("kill -0 " .. math.tointeger(pid) .. " 2>/dev/null") == true
end

return M
