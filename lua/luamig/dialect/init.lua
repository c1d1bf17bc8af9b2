--- The dialect contract: what every backend (dialect/sqlite/,
--- dialect/postgresql/) implements, checked when it loads. Generic code asks
--- its dialect; it never branches on a backend's name.
local errors = require "luamig.util.errors"

local M = {}

---Backend names, one spelling each.
M.NAMES = { "sqlite", "postgresql" }

---What every dialect must provide: functions, unless M.TABLES names them.
M.REQUIRED = {
  -- SQL text and types (luamig.schema.ddl)
  "quote_ident", "quote_literal", "types", "type_names", "autoincrement", "known_type", "index_features",
  -- introspection (db:has_*, db:schema())
  "has_table", "has_column", "has_index", "snapshot",
  -- drill --with-seeds: a table's row count and checksum (luamig.tools.drill)
  "fingerprint",
  -- luamig dump (luamig.schema.dump)
  "dump_items",
  -- the run: lock, each step's transaction and connection set-up
  "begin_locked", "lock_run", "unlock_run", "step_setup", "apply_setup", "check_step",
  "apply_timeouts", "now_text",
  -- a fleet's no-op check: many version tables' heads in one read
  "read_heads",
  -- the schema ops (luamig.schema.ops)
  "column_spec", "add_column", "drop_column", "alter_column", "add_constraint", "drop_constraint",
  "drop_primary_key", "validate_constraint",
  "batch_alter_table", "concurrently", "create_extension", "drop_extension", "rename_default_pkey",
  -- enum types
  "create_enum", "drop_enum", "add_enum_value", "rename_enum_value", "drop_enum_value",
  -- backfills (luamig.run.backfill)
  "backfill_writer",
  -- the scratch database of drill, lint and autogenerate (luamig.run.scratch): a luamig.DialectScratch
  "scratch",
}

-- Optional: max_identifier (the longest identifier in bytes; nil when unlimited).

---The entries of REQUIRED that are tables, not functions.
M.TABLES = { types = true, type_names = true, index_features = true, scratch = true }

---What luamig.run.scratch gives the dialect's scratch part.
---@class luamig.ScratchEnv
---@field open fun(url: string): luamig.Db        a connection to the target's server (no schema made)
---@field file fun(url: string): string?          the file a sqlite:/// URL names, resolved; nil in memory
---@field tmpdir string                            where scratch files go ($TMPDIR, else /tmp)
---@field is_leftover fun(name: string): boolean   a scratch name a killed run of this host left
---@field removed fun(name: string, err: any?)     reports a leftover removed (or why it was not)
---@field what string                              who needs the scratch database ("the drill", "lint", ...)
---@field hint string?                             the option that names one instead ("--scratch-url URL ...")

---A scratch database created next to the target.
---@class luamig.ScratchPlace
---@field url string      its URL or connection string
---@field shown string    the same without a password

---Which database a connection is on: two that share a key are the same.
---@class luamig.ScratchIdentity
---@field keys string[]
---@field shown string    in words, for messages

---The dialect's part of the scratch session.
---@class luamig.DialectScratch
---@field create fun(target: string, name: string, env: luamig.ScratchEnv): luamig.ScratchPlace
---@field drop fun(target: string, name: string, env: luamig.ScratchEnv)   removes it, if it exists
---@field identity fun(db: luamig.Db): luamig.ScratchIdentity
---@field target_identity fun(url: string, env: luamig.ScratchEnv): luamig.ScratchIdentity  (never creates it)
---@field tables fun(db: luamig.Db, limit: integer): {schema: string?, name: string}[]
---@field fast fun(db: luamig.Db)   set a throwaway database up for speed

local loaded = {}

---The entries of the contract dialect `d` lacks (or has of the wrong type).
---@param d table
---@return string[]
function M.missing(d)
  local out = {}
  for _, f in ipairs(M.REQUIRED) do
    if type(d[f]) ~= (M.TABLES[f] and "table" or "function") then out[#out + 1] = f end
  end
  return out
end

---Check that `d`, loaded as `name`, implements the contract; raises a
---"config" error naming what it lacks.
---@param d table
---@param name string
---@return table d
function M.check(d, name)
  if type(d) ~= "table" or d.name ~= name then
    errors.raise("config", ("dialect %s names itself %s"):format(name, tostring(type(d) == "table" and d.name or d)))
  end
  local missing = M.missing(d)
  if #missing > 0 then
    errors.raise("config", ("dialect %s does not implement the dialect contract: it lacks %s")
      :format(name, table.concat(missing, ", ")))
  end
  return d
end

---Load the dialect named `name` and check it implements the contract.
---@param name "sqlite"|"postgresql"
---@return table dialect
function M.load(name)
  local d = loaded[name]
  if d then return d end
  d = M.check(require("luamig.dialect." .. name), name)
  loaded[name] = d
  return d
end

---The dialect of connection (or recorder) `db`, by its backend name.
---@param db table
---@return table dialect
function M.of(db)
  return M.load(db.backend)
end

return M
