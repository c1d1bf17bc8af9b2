-- The `luamig lint` corpus (spec/lint_spec.lua, bench/lint.sh): one
-- PostgreSQL migration per hazard, each followed by its safe twin, in one
-- linear chain on the tables 000_base creates. Every migration but the
-- lock-timeout hazard sets lock_timeout first, so that a hazard reports
-- its own rule only. `expect` lists the findings: rule, lock mode and the
-- body line (1 = the first line of upgrade's body) of the statement.
local M = {}

local LT = "db:exec \"SET LOCAL lock_timeout = '2s'\""
local NAME64 = ("t" .. ("_0123456789abcdef"):rep(4)):sub(1, 64) -- one byte over PostgreSQL's limit
local CONCURRENT = "observed: CONCURRENTLY takes SHARE UPDATE EXCLUSIVE: reads and writes never queue behind it"

---@class spec.LintCase
---@field name string
---@field body string[]            lines of upgrade(db)
---@field expect {rule: string, lock: string?, line: integer}[]
---@field transactional boolean?
---@field fails boolean?           the migration fails on the scratch database
---@field squawk_only string?      why squawk's finding is not luamig's (bench/lint_compare.lua)

M.CASES = {
  { name = "base", body = {
    "op.create_table('users', { { 'id', 'serial', primary_key = true }, { 'name', 'varchar(20)' },",
    "  { 'email', 'text' }, { 'age', 'integer' } })",
    "op.create_table('orders', { { 'id', 'serial', primary_key = true }, { 'user_id', 'integer' },",
    "  { 'total', 'integer' }, { 'note', 'text' } })",
    "op.create_table('events', { { 'id', 'serial', primary_key = true }, { 'kind', 'text' } })",
    "op.create_index('orders_user_id', 'orders', { 'user_id' })", "db:exec \"CREATE TYPE mood AS ENUM ('ok')\"" },
    expect = {} },
  { name = "index", body = { LT, "db:exec 'CREATE INDEX users_email ON users (email)'" },
    expect = { { rule = "create-index", lock = "SHARE", line = 2 } } },
  { name = "index_concurrently", transactional = false, body = {
    "op.create_index('users_name', 'users', { 'name' }, { concurrently = true })" }, expect = {},
    squawk_only = CONCURRENT },
  { name = "op_index", body = { LT, "op.create_index('orders_total', 'orders', { 'total' })" },
    expect = { { rule = "create-index", lock = "SHARE", line = 2 } } },
  { name = "add_column_volatile", body = { LT,
    "db:exec 'ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()'" },
    expect = { { rule = "add-column-rewrite", lock = "ACCESS EXCLUSIVE", line = 2 } } },
  { name = "add_column_stored", body = { LT,
    "db:exec 'ALTER TABLE orders ADD COLUMN total2 integer GENERATED ALWAYS AS (total * 2) STORED'" },
    expect = { { rule = "add-column-rewrite", lock = "ACCESS EXCLUSIVE", line = 2 } } },
  { name = "add_column_constant", body = { LT,
    "db:exec \"ALTER TABLE users ADD COLUMN status text DEFAULT 'new', ADD COLUMN created_at timestamptz DEFAULT now()\"" },
    expect = {} },
  { name = "set_not_null", body = { LT, "db:exec 'ALTER TABLE users ALTER COLUMN email SET NOT NULL'" },
    expect = { { rule = "set-not-null", lock = "ACCESS EXCLUSIVE", line = 2 } } },
  { name = "check_not_null_not_valid", body = { LT,
    "db:exec 'ALTER TABLE users ADD CONSTRAINT users_age_nn CHECK (age IS NOT NULL) NOT VALID'" }, expect = {} },
  { name = "check_validate", body = { LT, "db:exec 'ALTER TABLE users VALIDATE CONSTRAINT users_age_nn'" },
    expect = {} },
  { name = "set_not_null_after_check", body = { LT, "db:exec 'ALTER TABLE users ALTER COLUMN age SET NOT NULL'" },
    expect = {}, squawk_only = "observed: the validated CHECK (age IS NOT NULL) proves it: no scan (pg_stat_xact_user_tables)" },
  { name = "foreign_key", body = { LT,
    "db:exec 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)'" },
    expect = { { rule = "constraint-not-valid", lock = "SHARE ROW EXCLUSIVE", line = 2 } } },
  { name = "foreign_key_not_valid", body = { LT,
    "db:exec 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk2 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID'" },
    expect = {} },
  { name = "foreign_key_validate", body = { LT, "db:exec 'ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk2'" },
    expect = {} },
  { name = "check", body = { LT, "db:exec 'ALTER TABLE orders ADD CONSTRAINT orders_total_pos CHECK (total > 0)'" },
    expect = { { rule = "constraint-not-valid", lock = "ACCESS EXCLUSIVE", line = 2 } } },
  { name = "check_not_valid", body = { LT,
    "db:exec 'ALTER TABLE orders ADD CONSTRAINT orders_total_max CHECK (total < 1000000000) NOT VALID'" },
    expect = {} },
  { name = "type_rewrite", body = { LT, "db:exec 'ALTER TABLE users ALTER COLUMN age TYPE bigint'" },
    expect = { { rule = "type-rewrite", lock = "ACCESS EXCLUSIVE", line = 2 } } },
  { name = "varchar_widening", body = { LT, "db:exec 'ALTER TABLE users ALTER COLUMN name TYPE varchar(100)'" },
    expect = {}, squawk_only = "observed: widening a varchar is done in place (relfilenode unchanged)" },
  { name = "unique", body = { LT, "db:exec 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)'" },
    expect = { { rule = "unique-constraint", lock = "ACCESS EXCLUSIVE", line = 2 } } },
  { name = "unique_index_concurrently", transactional = false, body = {
    "db:exec 'CREATE UNIQUE INDEX CONCURRENTLY orders_note_idx ON orders (id, note)'" }, expect = {},
    squawk_only = CONCURRENT },
  { name = "unique_using_index", body = { LT,
    "db:exec 'ALTER TABLE orders ADD CONSTRAINT orders_note_key UNIQUE USING INDEX orders_note_idx'" },
    expect = {} },
  { name = "rename_column", body = { LT, "db:exec 'ALTER TABLE events RENAME COLUMN kind TO type'" },
    expect = { { rule = "rename", lock = "ACCESS EXCLUSIVE", line = 2 } } },
  { name = "rename_table", body = { LT, "db:exec 'ALTER TABLE events RENAME TO happenings'" },
    expect = { { rule = "rename", lock = "ACCESS EXCLUSIVE", line = 2 } } },
  { name = "drop_column", body = { LT, "db:exec 'ALTER TABLE orders DROP COLUMN total2'" },
    expect = { { rule = "drop", lock = "ACCESS EXCLUSIVE", line = 2 } } },
  { name = "drop_table", body = { LT, "db:exec 'DROP TABLE happenings'" },
    expect = { { rule = "drop", line = 2 } } },
  { name = "no_lock_timeout", body = { "db:exec 'ALTER TABLE users ADD COLUMN bio text'" },
    expect = { { rule = "lock-timeout", lock = "ACCESS EXCLUSIVE", line = 1 } } },
  { name = "lock_timeout_set", body = { LT, "db:exec 'ALTER TABLE users ADD COLUMN bio2 text'" }, expect = {} },
  { name = "built_from_lua", body = { LT, "for _, c in ipairs({ 'name', 'email' }) do",
    "  db:exec(('CREATE INDEX users_%s_built ON users (%s)'):format(c, c))", "end" },
    expect = { { rule = "create-index", lock = "SHARE", line = 3 }, { rule = "create-index", lock = "SHARE", line = 3 } } },
  { name = "refused", fails = true, body = { LT, "db:exec 'CREATE INDEX CONCURRENTLY orders_note ON orders (note)'" },
    expect = {} },
  { name = "new_table", body = { LT, "db:exec 'CREATE TABLE tags (id integer PRIMARY KEY, label text)'",
    "db:exec 'CREATE INDEX tags_label ON tags (label)'", "db:exec 'ALTER TABLE tags ADD CHECK (id > 0)'" },
    expect = {} },
  { name = "ignored", body = { LT, "-- luamig:lint ignore create-index",
    "db:exec 'CREATE INDEX orders_user ON orders (user_id)'" }, expect = {},
    squawk_only = "suppressed by its -- luamig:lint ignore comment" },
  { name = "drop_default", body = { LT, "db:exec 'ALTER TABLE users ALTER COLUMN status DROP DEFAULT'" }, expect = {} },
  { name = "fk_no_index", body = { LT,
    "db:exec 'CREATE TABLE comments (id integer PRIMARY KEY, user_id integer REFERENCES users (id))'" },
    expect = { { rule = "fk-index", line = 2 } } },
  { name = "fk_with_index", body = { LT,
    "db:exec 'CREATE TABLE likes (id integer PRIMARY KEY, user_id integer REFERENCES users (id))'",
    "db:exec 'CREATE INDEX likes_user ON likes (user_id)'" }, expect = {} },
  { name = "exclusion", body = { LT, "db:exec 'ALTER TABLE orders ADD COLUMN during tstzrange, " ..
    "ADD CONSTRAINT orders_no_overlap EXCLUDE USING gist (during WITH &&)'" },
    expect = { { rule = "exclusion-constraint", lock = "ACCESS EXCLUSIVE", line = 2 } } },
  { name = "exclusion_new_table", body = { LT,
    "db:exec 'CREATE TABLE bookings (id integer PRIMARY KEY, during tstzrange, EXCLUDE USING gist (during WITH &&))'" },
    expect = {} },
  { name = "json", body = { LT, "db:exec 'ALTER TABLE users ADD COLUMN prefs json'" },
    expect = { { rule = "json", line = 2 } } },
  { name = "jsonb", body = { LT, "db:exec 'ALTER TABLE users ADD COLUMN prefs2 jsonb'" }, expect = {} },
  { name = "after_exclusive", body = { LT, "db:exec 'ALTER TABLE users ADD COLUMN nick text'",
    "db:exec 'UPDATE users SET nick = name'" }, expect = { { rule = "after-exclusive", line = 3 } } },
  { name = "exclusive_last", body = { LT, "db:exec 'SELECT count(*) FROM users'",
    "db:exec 'UPDATE users SET nick = email'", "db:exec 'ALTER TABLE users ADD COLUMN nick2 text'" }, expect = {} },
  { name = "enum_value_used", fails = true, body = { LT, "db:exec \"ALTER TYPE mood ADD VALUE 'happy'\"",
    "db:exec \"SELECT 'happy'::mood\"" }, expect = { { rule = "enum-add-value", line = 2 } } },
  { name = "enum_value_alone", body = { LT, "db:exec \"ALTER TYPE mood ADD VALUE 'sad'\"" }, expect = {} },
  { name = "enum_value_later", body = { LT, "db:exec \"SELECT 'sad'::mood\"" }, expect = {} },
  { name = "serial", body = { LT, "db:exec 'CREATE TABLE counters (id serial PRIMARY KEY, n integer)'" },
    expect = { { rule = "prefer-identity", line = 2 } } },
  { name = "identity", body = { LT,
    "db:exec 'CREATE TABLE counters2 (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n integer)'" },
    expect = {} },
  { name = "long_identifier", body = { LT, "db:exec 'CREATE TABLE " .. NAME64 .. " (id integer)'" },
    expect = { { rule = "long-identifier", line = 2 } } },
  { name = "identifier_63", body = { LT, "db:exec 'CREATE TABLE u" .. NAME64:sub(2, 63) .. " (id integer)'" }, expect = {} },
}

-- Lines of the file before upgrade's body.
local HEADER = 4

---A corpus of `cases` with revision ids starting with `letter`: id(i),
---file(i), text(i), line(n), write(dir) (i is 0-based: the base is 0).
---@param cases spec.LintCase[]
---@param letter string
function M.of(cases, letter)
  local c = { CASES = cases }
  function c.id(i) return ("%s%011d"):format(letter, i) end
  function c.file(i) return ("%03d_%s.lua"):format(i, cases[i + 1].name) end
  function c.text(i)
    local case = cases[i + 1]
    return ("revision = %q\ndown_revision = %s\ntransactional = %s\nfunction upgrade(db)\n%s\nend\n"):format(
      c.id(i), i == 0 and "nil" or ("%q"):format(c.id(i - 1)), tostring(case.transactional ~= false),
      table.concat(case.body, "\n"))
  end
  function c.line(n) return HEADER + n end
  function c.write(dir)
    os.execute("mkdir -p '" .. dir .. "/migrations'")
    for i = 0, #cases - 1 do
      local f = assert(io.open(dir .. "/migrations/" .. c.file(i), "w"))
      f:write(c.text(i))
      f:close()
    end
  end
  return c
end

local pg = M.of(M.CASES, "c")
M.id, M.file, M.text, M.line, M.write = pg.id, pg.file, pg.text, pg.line, pg.write

return M
