--- Autogenerate: the schema at head (the migrations applied to a scratch
--- database, or the target database with --against-db) against the declared
--- schema (schema.lua built on a second scratch database, or a live
--- database with --from-url), as changes and as migration bodies. Shared by
--- `revision --autogenerate` and `check`.
local compare = require "luamig.schema.compare"
local connect = require "luamig.db.connect"
local session = require "luamig.run.session"
local declare = require "luamig.schema.declare"
local dialects = require "luamig.dialect"
local errors = require "luamig.util.errors"
local host = require "luamig.host"
local lfs = require "lfs"
local log_mod = require "luamig.util.log"
local render = require "luamig.schema.render"
local runner = require "luamig.run.runner"
local scratch = require "luamig.run.scratch"
local snapshot_cache = require "luamig.schema.snapshot_cache"

local M = {}

local snapshot = compare.snapshot

-- fn(s) on a new scratch session next to the target, dropped afterwards.
local function on_scratch(ctx, fn)
  return scratch.with(session.scratch_options(ctx, { what = "the schema comparison", fast = true,
    log = log_mod.new({ quiet = true }) }), fn)
end

-- What a scratch snapshot of `side` depends on besides its own inputs: the
-- server (the target's URL), the settings that shape it, luamig itself.
local function cache_key(ctx, side)
  local c = ctx.config
  return table.concat({ side, host.version, session.target(ctx), tostring(c.schema), table.concat(c.schemas or {}, ","),
    tostring(c.compare_privileges), c.version_table }, "\n")
end

-- The cache slot of `side` of this project.
local function cache_slot(ctx, side)
  return (ctx.config.file or ctx.config.dir or ".") .. "\n" .. side .. "\n" .. session.target(ctx)
end

-- Database files and folders a project's files do not include.
local function skipped(name) return name:match("^%.") or name:match("%.db") or name:match("%.sqlite") end

-- The size and modification time of every file under `dir` (a migration
-- may read a file: op.execute_file, a plugin), up to `limit` files.
local function file_stamps(dir, out, depth, limit)
  if depth > 4 or #out >= limit then return out end
  local ok, iter, state = pcall(lfs.dir, dir)
  if not ok then return out end
  local names = {}
  for name in iter, state do if not skipped(name) then names[#names + 1] = name end end
  table.sort(names)
  for _, name in ipairs(names) do
    local path = dir .. "/" .. name
    local a = lfs.attributes(path)
    if a and a.mode == "directory" then
      file_stamps(path, out, depth + 1, limit)
    elseif a and a.mode == "file" and #out < limit then
      out[#out + 1] = ("%s %d %d"):format(path, a.size, a.modification)
    end
  end
  return out
end

-- The snapshot of the migrations at head, applied to a scratch database;
-- from the cache while no migration file changed (their checksums), nor
-- any other file of the project (their sizes and modification times).
local function head_snapshot(ctx)
  local g = session.graph(ctx)
  local parts = file_stamps(ctx.config.dir or ".", { cache_key(ctx, "head") }, 0, 5000)
  for _, id in ipairs(g.load) do parts[#parts + 1] = id .. " " .. tostring(g.revs[id].checksum) end
  local key, slot = table.concat(parts, "\n"), cache_slot(ctx, "head")
  local snap = snapshot_cache.get(slot, key)
  if snap then return snap end
  snap = on_scratch(ctx, function(s)
    runner.run_to(s, "up", "heads")
    return snapshot(s.db, s.dialect)
  end)
  snapshot_cache.put(slot, key, snap)
  return snap
end

-- The snapshot of declaration `decl` built on a scratch database (not yet
-- spelled: compare.spell marks it); from the cache while its files are unchanged.
local function declared_snapshot(ctx, decl)
  local parts = { cache_key(ctx, "declared") }
  for _, path in ipairs(decl.files or {}) do
    local f = io.open(path, "rb")
    parts[#parts + 1] = path .. " " .. (f and host.checksum(f:read("a")) or "?")
    if f then f:close() end
  end
  local key, slot = table.concat(parts, "\n"), cache_slot(ctx, "declared")
  local snap = decl.files and snapshot_cache.get(slot, key)
  if snap then return snap end
  snap = on_scratch(ctx, function(s)
    declare.realize(decl, s.db, s.dialect)
    return snapshot(s.db, s.dialect)
  end)
  if decl.files then snapshot_cache.put(slot, key, snap) end
  return snap
end

local function live_snapshot(url, cfg)
  local db, dialect = connect.open(url, cfg)
  local ok, snap = pcall(snapshot, db, dialect)
  db:close()
  if not ok then error(snap, 0) end
  return snap
end

---The declared schema of the project, or nil when it has none (no
---schema.lua, or one that declares nothing, as `luamig init` writes it).
---@param ctx luamig.Context
---@return luamig.Declared?
function M.declared(ctx)
  local files = declare.files(ctx.config.dir or ".")
  local decl = files and declare.load(files)
  if decl and #decl.items > 0 then return decl end
  return nil
end

---@class luamig.Comparison
---@field dialect luamig.Dialect
---@field up table[]     changes from head to the declared schema
---@field down table[]   changes back
---@field declared luamig.Declared?

---Compare the schema at head with the declared one.
---@param ctx luamig.Context
---@param opts {against_db: boolean?, from_url: string?, decl: luamig.Declared?}
---@return luamig.Comparison
function M.compare(ctx, opts)
  local url = session.target(ctx)
  local decl = opts.decl
  if not decl and not opts.from_url then
    decl = M.declared(ctx)
    if not decl then
      errors.raise("usage", ("no declared schema: %s/schema.lua (or schema/*.lua) is missing or declares nothing; " ..
        "declare the tables there (`luamig init` writes an example), or pass --from-url URL"):format(ctx.config.dir or "."))
    end
  end
  local head = opts.against_db and live_snapshot(url, ctx.config) or head_snapshot(ctx)
  local dialect = dialects.load(connect.parse(url).backend)
  local target
  if opts.from_url then
    target = live_snapshot(opts.from_url, ctx.config)
  else
    target = declared_snapshot(ctx, decl)
    compare.spell(target, decl, dialect)
  end
  local up_hints, down_hints
  if decl then up_hints, down_hints = compare.hints(decl) end
  return { dialect = dialect, declared = decl,
    up = compare.changes(head, target, up_hints), down = compare.changes(target, head, down_hints) }
end

-- The lock_timeout an online-safe migration sets when the config gives none.
local ONLINE_LOCK_TIMEOUT = "2s"

---The upgrade and downgrade bodies of comparison `c`; `warn(text)` for each
---destructive step of the upgrade. Unless opts.offline, changes to existing
---tables are written online-safe where the dialect can (render_style.online),
---with a lock_timeout when `config` sets none (migration_timeouts).
---@param c luamig.Comparison
---@param warn fun(text: string)
---@param opts {offline: boolean?, config: luamig.Config?}?
---@return luamig.MigrationBody
function M.bodies(c, warn, opts)
  opts = opts or {}
  local online = not opts.offline
  local up, outside_up = render.body(c.up, c.dialect, warn, compare.column_spec, false, online)
  local down, outside_down = render.body(c.down, c.dialect, function() end, compare.column_spec, true, online)
  local timeouts = opts.config and opts.config.migration_timeouts or {}
  return { upgrade = table.concat(up, "\n"), downgrade = table.concat(down, "\n"),
    transactional = not (outside_up or outside_down),
    lock_timeout = online and c.dialect.render_style.online and not timeouts.lock_timeout and ONLINE_LOCK_TIMEOUT or nil }
end

---The differences of comparison `c` as lines (the upgrade's op calls).
---@param c luamig.Comparison
---@return string[]
function M.lines(c)
  local lines = render.body(c.up, c.dialect, function() end, compare.column_spec)
  for i, l in ipairs(lines) do lines[i] = l:gsub("^%s+", "") end
  return lines
end

return M
