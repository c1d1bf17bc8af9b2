--- The shipped seed plugin: `luamig seed [NAME...]` runs seeds/*.lua in name
--- order (or the named ones), each in its own transaction, each given `db`
--- and helpers: upsert (idempotent inserts), fake (deterministic fake data),
--- ref (look up an id). A seed file:
---
---   requires = "4be1c0a9d2f3"      -- optional: skipped until this revision is applied
---   env = { "dev", "test" }        -- optional: only for these (--env or $LUAMIG_ENV, default dev);
---                                     without it, dev and test only
---   tables = { "users" }           -- optional: what --reset empties
---   function seed(db, h) h.upsert("users", { { email = h.fake.email() } }, { "email" }) end
local errors = require "luamig.util.errors"
local fs = require "luamig.util.fs"
local sandbox = require "luamig.util.sandbox"
local db_methods = require "luamig.db.rows"
local fake = require "luamig.tools.fake"
local host = require "luamig.host"

local function quote(db, name) return db:quote_ident(name) end

-- Where a seed file that declares no `env` runs: never in production by accident.
local DEFAULT_ENVS = { "dev", "test" }

-- INSERT ... ON CONFLICT (keys) DO UPDATE: the same rows twice leave one copy.
local function upsert(db, tbl, rows, keys)
  if #rows == 0 then return 0 end
  if type(keys) ~= "table" or #keys == 0 then
    errors.raise("script", 'upsert needs the conflict columns, e.g. { "email" }', nil, 2)
  end
  local cols = db_methods.columns_of(rows)
  local is_key, sets, qkeys = {}, {}, {}
  for i, k in ipairs(keys) do is_key[k], qkeys[i] = true, quote(db, k) end
  for _, c in ipairs(cols) do
    if not is_key[c] then sets[#sets + 1] = ("%s = excluded.%s"):format(quote(db, c), quote(db, c)) end
  end
  return db_methods.insert_rows(db, tbl, cols, rows, ("ON CONFLICT (%s) DO %s"):format(table.concat(qkeys, ", "),
    #sets > 0 and ("UPDATE SET " .. table.concat(sets, ", ")) or "NOTHING"))
end

-- The id of the one row of `tbl` matching `where` ({ column = value }).
local function ref(db, tbl, where, column)
  local conds, params = {}, {}
  local keys = {}
  for k in pairs(where) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    conds[#conds + 1] = quote(db, k) .. " = ?"
    params[#params + 1] = where[k]
  end
  local rows = db:query(("SELECT %s AS id FROM %s WHERE %s"):format(quote(db, column or "id"), quote(db, tbl),
    table.concat(conds, " AND ")), table.unpack(params))
  if #rows ~= 1 then
    errors.raise("migration", ("ref: %d rows of %s match %s"):format(#rows, tbl, table.concat(keys, ", ")), nil, 2)
  end
  return rows[1].id
end

-- The seed files of `dir`, loaded (name order).
local function load_seeds(dir)
  local names, paths = fs.list_lua(dir)
  if not names then
    errors.raise("config", ("seeds directory %s not found (set `seeds` in luamig.lua)"):format(dir))
  end
  local seeds = {}
  for i, path in ipairs(paths) do
    local env = sandbox.env()
    sandbox.run_file(path, env, "script")
    if type(rawget(env, "seed")) ~= "function" then
      errors.raise("script", "no seed(db, h) function defined", { where = path .. ":1" })
    end
    local envs = rawget(env, "env")
    seeds[i] = { name = names[i]:gsub("%.lua$", ""), path = path, fn = rawget(env, "seed"),
      requires = rawget(env, "requires"), env = type(envs) == "string" and { envs } or envs,
      tables = rawget(env, "tables") or {} }
  end
  return seeds
end

-- Does `name` (as typed) pick seed `s` ("01_users" or "users")?
local function picks(name, s)
  return s.name == name or s.name:gsub("^%d+[_-]", "") == name
end

-- Ask on a terminal; without one nobody can answer, so only --yes will do.
local function confirm(tables)
  local what = "every row of " .. table.concat(tables, ", ")
  if not host.isatty(0) then
    errors.raise("usage", ("--reset would delete %s, and stdin is not a terminal: pass --yes"):format(what))
  end
  io.stderr:write("Delete ", what, "? [y/N] ")
  local answer = io.stdin:read("l") or ""
  return answer:lower():match("^y") ~= nil
end

-- Refuse to seed a database with pending migrations (unless --force).
-- The revisions of graph `g` not in `applied`, in upgrade order.
local function pending_of(g, applied)
  local pending = {}
  for _, id in ipairs(g.order) do
    if not applied[id] then pending[#pending + 1] = id end
  end
  return pending
end

local function check_at_head(pending)
  if #pending > 0 then
    errors.raise("migration", ("the database is not at head (%d pending: %s); run `luamig upgrade` first, " ..
      "or pass --force"):format(#pending, table.concat(pending, ", ")))
  end
end

-- The seeds `names` picks among `all` (all of them when none is named).
local function choose(all, names, dir)
  if not names or #names == 0 then return all end
  local chosen = {}
  for _, name in ipairs(names) do
    local found
    for _, s in ipairs(all) do
      if picks(name, s) then found = s end
    end
    if not found then errors.raise("usage", ("no seed named %s in %s"):format(name, dir)) end
    chosen[#chosen + 1] = found
  end
  return chosen
end

-- Does seed `s` run in environment `env`?
local function for_env(s, env)
  for _, e in ipairs(s.env or DEFAULT_ENVS) do
    if e == env then return true end
  end
  return false
end

-- --reset: empty the tables of the chosen seeds that run in `env`, last
-- seed's last table first.
local function reset(ctx, chosen, env, args)
  local db, tables = ctx.db, {}
  for i = #chosen, 1, -1 do
    if for_env(chosen[i], env) then
      for j = #chosen[i].tables, 1, -1 do tables[#tables + 1] = chosen[i].tables[j] end
    end
  end
  if #tables > 0 then
    if not args.yes and not confirm(tables) then
      errors.raise("usage", "reset cancelled")
    end
    db:transaction(function()
      for _, t in ipairs(tables) do db:exec("DELETE FROM " .. quote(db, t)) end
    end)
    ctx.log:info("reset: emptied " .. table.concat(tables, ", "))
  end
  return tables
end

-- Why a seed without `requires` may have failed on a database not at head
-- (drill --with-seeds, seed --force): "" at head.
local function requires_hint(s, pending)
  if s.requires or #pending == 0 then return "" end
  return ("; it ran before %s was applied (%d pending): a seed that needs the tables of a revision declares " ..
    'requires = "<revision>" in %s, and waits until that revision is applied'):format(pending[1], #pending, s.path)
end

-- Run seed `s` in its own transaction, or say why it is skipped.
local function run_one(ctx, s, env, applied, pending)
  local db, rec = ctx.db, { name = s.name }
  if not for_env(s, env) then
    rec.status, rec.reason = "skipped", s.env and ("not for environment %s (only %s)"):format(env,
      table.concat(s.env, ", ")) or "declares no env, so it runs in dev and test only"
  elseif s.requires and not applied[s.requires] then
    rec.status, rec.reason = "skipped", ("needs revision %s, which is not applied"):format(s.requires)
  else
    local t0 = host.now_ms()
    local helpers = {
      fake = fake.new(s.name),
      upsert = function(tbl, rows, keys) return upsert(db, tbl, rows, keys) end,
      ref = function(tbl, where, column) return ref(db, tbl, where, column) end,
      progress = ctx.progress,
    }
    local ok, err = pcall(db.transaction, db, function() s.fn(db, helpers) end)
    if not ok then
      errors.raise("migration", ("seed %s (%s) failed and was rolled back: %s%s"):format(s.name, s.path,
        errors.text(err), requires_hint(s, pending)))
    end
    rec.status, rec.ms = "ran", math.floor((host.now_ms() - t0) * 10 + 0.5) / 10
  end
  return rec
end

local function run(ctx, args)
  local applied = ctx.graph:ancestors(ctx.heads())
  local pending = pending_of(ctx.graph, applied)
  if not args.force then check_at_head(pending) end
  local env = args.env or os.getenv("LUAMIG_ENV") or "dev"
  if env == "" then env = "dev" end
  local chosen = choose(load_seeds(ctx.config.seeds), args.names, ctx.config.seeds)
  local result = { env = env, seeds = {} }
  if args.reset then result.reset = reset(ctx, chosen, env, args) end
  for _, s in ipairs(chosen) do
    local rec = run_one(ctx, s, env, applied, pending)
    if not args.quiet then
      ctx.log:info(("%-8s %s%s"):format(rec.status, s.name, rec.reason and ("  (" .. rec.reason .. ")")
        or ("  " .. rec.ms .. " ms")))
    end
    result.seeds[#result.seeds + 1] = rec
  end
  if #chosen == 0 and not args.quiet then ctx.log:info("no seed files in " .. ctx.config.seeds .. ": nothing to seed") end
  return result
end

return {
  name = "seed",
  -- for other parts of luamig (drill --with-seeds): run(ctx, args) as the command does
  api = { run = run },
  commands = {
    seed = {
      help = "Fill the database with seed data (seeds/*.lua); safe to run twice.",
      args = { { "names", "Seeds to run (file names, with or without their number; default: all).", "*" } },
      options = {
        { "--env", "Environment (default: $LUAMIG_ENV or dev).", "ENV" },
        { "--reset", "Empty the seeded tables first (asks on a terminal; without one, needs --yes).", flag = true },
        { "--yes", "Do not ask before --reset.", flag = true },
        { "--force", "Run even when the database is not at head.", flag = true },
      },
      run = run,
    },
  },
}
