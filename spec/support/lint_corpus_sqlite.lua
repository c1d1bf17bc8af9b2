-- The SQLite `luamig lint` corpus (spec/lint_spec.lua): one migration per
-- hazard, each followed by its safe twin, in one chain on the tables
-- 000_base creates, linted with 2,000 rows per table: table rebuilds,
-- index builds on filled tables, writes of many rows in one statement
-- (the write lock held meanwhile), foreign-key checks, triggers on
-- existing tables. `expect` as in spec/support/lint_corpus.lua.
local corpus = require "spec.support.lint_corpus"

local CASES = {
  { name = "base", body = {
    "op.create_table('owners', { { 'id', 'integer', primary_key = true }, { 'name', 'text' } })",
    "op.create_table('items', { { 'id', 'integer', primary_key = true }, { 'name', 'text' }, " ..
      "{ 'price', 'integer' }, { 'owner_id', 'integer' } })",
    "op.create_table('logs', { { 'id', 'integer', primary_key = true }, { 'msg', 'text' } })",
    "op.create_table('tags', { { 'id', 'integer', primary_key = true }, { 'label', 'text' } })" }, expect = {} },
  { name = "rebuild_not_null", body = { "op.alter_column('items', 'name', { nullable = false, server_default = \"''\" })" },
    expect = { { rule = "table-rebuild", line = 1 } } },
  { name = "add_column", body = { "op.add_column('items', { 'qty', 'integer' })" }, expect = {} },
  { name = "rebuild_drop_column", body = { "op.drop_column('tags', 'label')" },
    expect = { { rule = "table-rebuild", line = 1 } } },
  { name = "add_column_default", body = { "op.add_column('items', { 'color', 'text', server_default = \"'red'\" })" },
    expect = {} },
  { name = "index", body = { "db:exec 'CREATE INDEX items_name ON items (name)'" },
    expect = { { rule = "index-build", line = 1 } } },
  { name = "index_new_table", body = { "db:exec 'CREATE TABLE notes (id integer PRIMARY KEY, body text)'",
    "db:exec 'CREATE INDEX notes_body ON notes (body)'" }, expect = {} },
  { name = "op_index", body = { "op.create_index('items_price', 'items', { 'price' })" },
    expect = { { rule = "index-build", line = 1 } } },
  { name = "index_small_table", body = { "db:exec 'CREATE INDEX owners_few ON owners (name) WHERE id < 10'",
    "db:exec 'DELETE FROM logs WHERE id > 10'", "db:exec 'CREATE INDEX logs_msg ON logs (msg)'" },
    expect = { { rule = "index-build", line = 1 }, { rule = "unbatched-write", line = 2 } } },
  { name = "update_all", body = { "db:exec 'UPDATE items SET qty = 1'" },
    expect = { { rule = "unbatched-write", line = 1 } } },
  { name = "update_batch", body = { "db:exec 'UPDATE items SET qty = 2 WHERE id <= 500'" }, expect = {} },
  { name = "delete_all", body = { "db:exec 'DELETE FROM tags WHERE id > 1500'",
    "db:exec 'DELETE FROM tags WHERE id > 200'" }, expect = { { rule = "unbatched-write", line = 2 } } },
  { name = "delete_batch", body = { "db:exec 'DELETE FROM tags WHERE id > 100'" }, expect = {} },
  { name = "insert_select", body = { "db:exec 'INSERT INTO logs (msg) SELECT name FROM items'" },
    expect = { { rule = "unbatched-write", line = 1 } } },
  { name = "insert_values", body = { "db:exec \"INSERT INTO logs (msg) VALUES ('one')\"" }, expect = {} },
  { name = "trigger", body = { "db:exec [[CREATE TRIGGER items_log AFTER UPDATE ON items BEGIN " ..
    "INSERT INTO logs (msg) VALUES (new.name); END]]" }, expect = { { rule = "trigger", line = 1 } } },
  { name = "trigger_new_table", body = { "db:exec 'CREATE TABLE audit (id integer PRIMARY KEY, what text)'",
    "db:exec [[CREATE TRIGGER audit_log AFTER INSERT ON audit BEGIN INSERT INTO logs (msg) VALUES (new.what); END]]" },
    expect = {} },
  { name = "update_fires_trigger", body = { "db:exec 'UPDATE items SET name = name WHERE id <= 1200'" },
    expect = { { rule = "unbatched-write", line = 1 } } },
  { name = "drop_trigger", body = { "db:exec 'DROP TRIGGER items_log'" }, expect = {} },
  { name = "foreign_key", body = {
    "op.create_foreign_key('items_owner', 'items', 'owners', { 'owner_id' }, { 'id' })" },
    expect = { { rule = "table-rebuild", line = 1 }, { rule = "foreign-key-check", line = 1 } } },
  { name = "foreign_key_new_table", body = {
    "db:exec 'CREATE TABLE pets (id integer PRIMARY KEY, owner_id integer REFERENCES owners (id))'" }, expect = {} },
  { name = "rename_column", body = { "db:exec 'ALTER TABLE logs RENAME COLUMN msg TO message'" }, expect = {} },
  { name = "create_table_as", body = { "db:exec 'CREATE TABLE logs_copy AS SELECT * FROM logs WHERE id < 10'" },
    expect = {} },
  { name = "rebuild_batch", body = { "op.batch_alter_table('logs', function(b) b:alter_column('message', " ..
    "{ nullable = false, server_default = \"''\" }) end)" }, expect = { { rule = "table-rebuild", line = 1 } } },
  { name = "drop_index", body = { "db:exec 'DROP INDEX items_price'" }, expect = {} },
  { name = "replace_many", body = { "db:exec 'REPLACE INTO logs (id, message) SELECT id, message FROM logs'" },
    expect = { { rule = "unbatched-write", line = 1 } } },
}

return corpus.of(CASES, "q")
