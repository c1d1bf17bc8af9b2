---@meta _
-- Editor types for luamig (Lua Language Server definitions): what a
-- migration, seed, plugin or drill file sees. Nothing here runs; the editor
-- reads it through `workspace.library` (see README, "Editor set-up").
-- This file: the globals, luamig.*, drill and the seed helpers; db.lua, op.lua
-- and plugin.lua: the rest. spec/inproc/types_spec.lua checks every class
-- against the running objects; "SQLite only" / "PostgreSQL only" at the start
-- of a description marks a method only that driver's handle has.

-- ------------------------------------------------------------ globals

---Schema operations bound to the running migration's connection.
---@type luamig.Op
op = nil

---luamig's helpers for migration files: backfill, progress, null.
---@type luamig.Api
luamig = nil

---The scripted-drill API (`luamig drill FILE.lua`).
---@type luamig.Drill
drill = nil

-- What a migration file defines (read by the loader).

---The revision id (letters, digits and _).
---@type string
revision = nil
---The parent revision(s); nil for a root.
---@type string|string[]|nil
down_revision = nil
---Labels naming the branch this revision starts.
---@type string|string[]|nil
branch_labels = nil
---Revisions (or labels) of other branches that must be applied first.
---@type string|string[]|nil
depends_on = nil
---false runs the migration outside a transaction (default true).
---@type boolean?
transactional = nil
---PostgreSQL: SET LOCAL lock_timeout for this step, a duration such as "2s" (default: the config's migration_timeouts). SQLite: ignored.
---@type string?
lock_timeout = nil
---PostgreSQL: SET LOCAL statement_timeout for this step, e.g. "5min" (default: the config's migration_timeouts). SQLite: ignored.
---@type string?
statement_timeout = nil
---Retries (0 to 100) of this transactional migration when it hits its lock_timeout (SQLSTATE 55P03), with backoff.
---@type integer?
lock_retries = nil
---The revision's message (default: the file's first comment line).
---@type string?
message = nil

---Apply the revision.
---@param db luamig.Db
function upgrade(db) end

---Revert the revision.
---@param db luamig.Db
function downgrade(db) end

---Zero-downtime migrations: the additive phase, run by `luamig upgrade` (instead of upgrade).
---@param db luamig.Db
function expand(db) end

---Zero-downtime migrations: the removing phase, run by `luamig contract` once the old
---application is gone (default: generated from expand's op.online calls).
---@param db luamig.Db
function contract(db) end

---Undo contract (needed to downgrade past a contracted revision).
---@param db luamig.Db
function uncontract(db) end

---Apply the revision with ops luamig can reverse (instead of upgrade/downgrade).
---@param op luamig.Op
function change(op) end

-- What a seed file defines (read by the seed plugin).

---Skip the seed until this revision is applied.
---@type string?
requires = nil
---Environments the seed runs in (--env, $LUAMIG_ENV; default dev). Without
---it, the seed runs in dev and test only.
---@type string|string[]|nil
env = nil
---Tables `luamig seed --reset` empties first.
---@type string[]?
tables = nil

---Fill the database; runs in its own transaction.
---@param db luamig.Db
---@param h luamig.SeedHelpers
function seed(db, h) end

-- ------------------------------------------------------------ luamig

---The `luamig` global of migration files.
---@class luamig.Api
---@field null lightuserdata  spells NULL inside a Lua table of values (also `require "luamig.null"`)
local Api = {}

---Walk a table in key order, in batches, writing each row's new values; returns the rows visited.
---@param spec luamig.BackfillSpec
---@return integer rows
function Api.backfill(spec) end

---A progress bar (terminal) or line (otherwise) for the migration's own loops.
---@param total integer? the amount of work, if known
---@param label string?
---@return luamig.Progress
function Api.progress(total, label) end

---luamig.backfill's argument.
---@class luamig.BackfillSpec
---@field table string                         the table to walk
---@field key string?                          a unique column to walk by (default "id")
---@field columns string[]?                    columns to read (default all)
---@field where string?                        SQL condition on the rows to visit
---@field params any[]?                        bound parameters of `where`
---@field batch_size integer?                  rows per batch (default 1000)
---@field set (fun(row: luamig.Row): table?)?  new values for one row (nil leaves it)
---@field batch (fun(rows: luamig.Row[]): luamig.Row[]?)? or: new values for a batch, each with its key
---@field sleep_ms number?                     pause between batches
---@field name string?                         names the checkpoint and the progress line (default the table)

---A progress display (luamig.progress, ctx.progress, h.progress).
---@class luamig.Progress
local Progress = {}

---Count n more done (default 1).
---@param n integer?
function Progress:add(n) end

---Finish the display.
function Progress:done() end

---End a bar drawn in place without finishing it (before an error message).
function Progress:stop() end

-- ------------------------------------------------------------ drill

---The `drill` global of scripted drills, on a scratch database.
---@class luamig.Drill
---@field db luamig.Db  the scratch database
local Drill = {}

---Upgrade the scratch database (default: heads).
---@param target string?
function Drill.upgrade(target) end

---Downgrade the scratch database (-1, a revision, base).
---@param target string
function Drill.downgrade(target) end

---The scratch database's schema now.
---@return luamig.Schema
function Drill.snapshot() end

---Fail (naming the script's line) unless two snapshots are the same.
---@param a luamig.Schema
---@param b luamig.Schema
---@param message string?
function Drill.assert_same(a, b, message) end

---Run one named step; an error fails the step and the drill, and the next steps still run.
---@param name string
---@param fn fun()
function Drill.step(name, fn) end

-- ------------------------------------------------------------ seeds

---Helpers a seed gets as its second argument.
---@class luamig.SeedHelpers
---@field fake luamig.Fake          deterministic fake data, seeded by the seed file's name
---@field progress fun(total: integer?, label: string?): luamig.Progress
local SeedHelpers = {}

---INSERT ... ON CONFLICT (keys) DO UPDATE: the same rows twice leave one copy; returns the count.
---@param table_name string
---@param rows luamig.Row[]
---@param keys string[] the conflict columns
---@return integer count
function SeedHelpers.upsert(table_name, rows, keys) end

---The id (or `column`) of the one row of the table matching `where`.
---@param table_name string
---@param where table<string, any> column = value
---@param column string? default "id"
---@return any id
function SeedHelpers.ref(table_name, where, column) end

---Deterministic fake data: the same seed gives the same values everywhere.
---@class luamig.Fake
local Fake = {}

---An integer in [a, b].
---@param a integer
---@param b integer
---@return integer
function Fake.int(a, b) end

---One item of the list.
---@generic T
---@param list T[]
---@return T
function Fake.pick(list) end

---true with probability p (default 0.5).
---@param p number?
---@return boolean
function Fake.bool(p) end

---A first name.
---@return string
function Fake.first_name() end

---A last name.
---@return string
function Fake.last_name() end

---A full name.
---@return string
function Fake.name() end

---An email for `name` (a fresh one when nil); `n` makes it unique.
---@param name string?
---@param n integer?
---@return string
function Fake.email(name, n) end

---A word.
---@return string
function Fake.word() end

---n words separated by spaces.
---@param n integer
---@return string
function Fake.words(n) end

---A sentence of n words (default 4 to 9).
---@param n integer?
---@return string
function Fake.sentence(n) end

---A URL slug of `text` (default three words).
---@param text string?
---@return string
function Fake.slug(text) end

---A date "YYYY-MM-DD" between from and to (default 2020-01-01 .. 2026-12-31).
---@param from string?
---@param to string?
---@return string
function Fake.date(from, to) end

---A version-4-shaped UUID.
---@return string
function Fake.uuid() end
