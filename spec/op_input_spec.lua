-- What `op` refuses, through the luamig command on both drivers: unknown keys
-- in column specs, option tables and constraint specs, unknown op names (each
-- with a did-you-mean), types neither portable nor known to the database, and
-- positional rows in op.bulk_insert without a column list. Each failure names
-- the migration's line, exits non-zero and leaves the database unchanged; the
-- types a user may rightly write, and `type = { raw = ... }`, still work.
local sh = require "spec.support.sh"

local m = sh.migration

-- The project, at revision aaaa00000001 (table `base`).
local function project(b)
  local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil,
    'op.create_table("base", { { "id", "integer", primary_key = true }, { "name", "text" } })') })
  p:ok("upgrade")
  return p
end

-- Run migration 2 with `body` as its upgrade (its first line is the file's
-- line 6); it must fail with `message` at line `line`, leave the tables as
-- they were, and keep the database at revision 1.
local function refused(p, body, line, message)
  local tables = p:tables():gsub(" luamig_version_history", "") -- (made by the first failure)
  p:write("migrations/2.lua", m("bbbb00000002", "aaaa00000001", body))
  local code, _, err = p:luamig("upgrade")
  assert.are_not.equal(0, code, err)
  local where = "migrations/2%.lua:" .. line .. ": "
  assert.is_truthy(err:find(where .. message:gsub("[%(%)%.%%%+%-%*%?%[%]%^%$]", "%%%0"), 1), "stderr: " .. err)
  assert.are.equal(tables, (p:tables():gsub(" luamig_version_history", "")))
  assert.matches("aaaa00000001", p:ok("current"))
  p:remove("migrations/2.lua")
end

for _, b in ipairs(sh.backends()) do
  describe("op input on " .. b.name, function()
    it("refuses unknown column keys, option keys and constraint keys with a did-you-mean", function()
      local p = project(b)
      refused(p, 'op.create_table("people", {\n  { "id", "integer" },\n  { "bio", "text", nulable = false } })', 6,
        'op.create_table: column "bio": unknown key "nulable" (did you mean "nullable"?)')
      refused(p, 'op.add_column("base", { "x", "text", "extra" })', 6,
        'op.add_column: column "x": unknown key [3] (a column is { name, type, key = value ... })')
      refused(p, 'op.create_index("ix", "base", { "name" }, { uniqe = true })', 6,
        'op.create_index: unknown option "uniqe" (did you mean "unique"?)')
      refused(p, 'op.alter_column("base", "name", { nulable = false })', 6,
        'op.alter_column: unknown option "nulable" (did you mean "nullable"?)')
      refused(p, 'op.create_table("t2", { { "id", "integer" } },\n' ..
        '  { constraints = { { type = "unique", column = { "id" } } } })', 6,
        'op.create_table: constraint 1 (unique): unknown key "column" (did you mean "columns"?)')
      refused(p, 'op.drop_table("base", { if_exist = true })', 6,
        'op.drop_table: unknown option "if_exist" (did you mean "if_exists"?)')
      refused(p, 'op.create_enum("mood", { "ok", "sad" }, { if_not_exist = true })', 6,
        'op.create_enum: unknown option "if_not_exist" (did you mean "if_not_exists"?)')
      refused(p, 'op.create_enum("mood", { "ok", "sad" }, "yes")', 6,
        'op.create_enum: options must be a table (got a string)')
      refused(p, 'op.batch_alter_table("base", function(t)\n  t:add_column({ "x", "text", defualt = "a" })\nend)', 7,
        'batch.add_column: column "x": unknown key "defualt" (did you mean "default"?)')
    end)

    it("refuses an unknown op name or batch method with a did-you-mean", function()
      local p = project(b)
      refused(p, 'op.create_table("t2", { { "id", "integer" } })\nop.add_colum("base", { "x", "text" })', 7,
        "op.add_colum does not exist (did you mean op.add_column?)")
      refused(p, 'op.batch_alter_table("base", function(t)\n  t:drop_colum("name")\nend)', 7,
        "batch.drop_colum does not exist (did you mean batch.drop_column?)")
    end)

    it("change(): a mistyped op is named as such, up and down", function()
      local p = project(b)
      p:write("migrations/2.lua", "revision = 'bbbb00000002'\ndown_revision = 'aaaa00000001'\n" ..
        "function change(op)\n  op.create_tabel('t2', { { 'id', 'integer' } })\nend\n")
      local code, _, err = p:luamig("upgrade")
      assert.are_not.equal(0, code)
      assert.matches("migrations/2%.lua:4: op%.create_tabel does not exist %(did you mean op%.create_table%?%)", err)
      p:ok("stamp bbbb00000002")
      code, _, err = p:luamig("downgrade aaaa00000001")
      assert.are_not.equal(0, code)
      assert.matches("migrations/2%.lua:4: change%(%): op%.create_tabel does not exist " ..
        "%(did you mean op%.create_table%?%)", err)
    end)

    it("refuses a type neither portable nor known to the database", function()
      local p = project(b)
      refused(p, 'op.create_table("people", { { "bio", "txet", nullable = false } })', 6,
        'op.create_table: column "bio": unknown type "txet" (did you mean "text"?)')
      refused(p, 'op.alter_column("base", "name", { type = "strnig(20)" })', 6,
        'op.alter_column: unknown type "strnig(20)" (did you mean "string"?)')
      refused(p, 'op.add_column("base", { "x", type = { raw = 5 } })', 6,
        'op.add_column: column "x": type = { raw = ... } needs the SQL type as a string')
    end)

    it("accepts portable types, the database's own, enums, and type = { raw = ... } unchecked", function()
      local p = project(b)
      local pg = b.name == "postgresql"
      local body = ([[
%s
op.create_enum("mood", { "ok", "sad" })
op.create_table("kinds", {
  { "a", "string(20)" }, { "b", "numeric(10,2)" }, { "c", "timestamptz" }, { "d", "mood" },
  %s
})
op.alter_column("kinds", "a", { type = "text" })]]):format(
        pg and 'op.execute("CREATE DOMAIN posint AS integer CHECK (VALUE > 0)")' or "", pg and [[
{ "e", "varchar(20)" }, { "f", "text[]" }, { "g", "integer[][]" }, { "h", "timestamp(3) with time zone" },
  { "i", "double precision" }, { "j", "public.mood" }, { "k", "posint" }, { "l", "int4range" },
  { "m", type = { raw = 'character varying(5) COLLATE "C"' } },]] or [[
{ "e", "VARCHAR(20)" }, { "f", "NVARCHAR(100)" }, { "g", "unsigned big int" }, { "h", "decimal(10,5)" },
  { "i", "DOUBLE PRECISION" }, { "j", "clob" }, { "k", "datetime" }, { "l", "int8" },
  { "m", type = { raw = "txet" } },]])
      p:write("migrations/2.lua", m("bbbb00000002", "aaaa00000001", body))
      p:ok("upgrade")
      if pg then
        assert.are.equal("character varying\n", p:sql(
          "SELECT data_type FROM information_schema.columns WHERE table_name = 'kinds' AND column_name = 'm'"))
      else
        assert.matches('"m" txet', p:sql("SELECT sql FROM sqlite_master WHERE name = 'kinds'"))
      end
      -- an enum made by an earlier migration is known too
      p:write("migrations/3.lua", m("cccc00000003", "bbbb00000002", 'op.add_column("base", { "feel", "mood" })'))
      p:ok("upgrade")
    end)

    it("op.create_enum with if_not_exists leaves an existing enum as it is", function()
      local p = project(b)
      p:write("migrations/2.lua", m("bbbb00000002", "aaaa00000001", 'op.create_enum("mood", { "ok", "sad" })'))
      p:write("migrations/3.lua", m("cccc00000003", "bbbb00000002",
        'op.create_enum("mood", { "other" }, { if_not_exists = true })\n' ..
        'op.create_enum("feel", { "a", "b" }, { if_not_exists = true })\n' ..
        'op.add_column("base", { "m", "mood" })\nop.add_column("base", { "f", "feel" })'))
      p:ok("upgrade")
      p:sql("INSERT INTO base (id, m, f) VALUES (1, 'sad', 'b')")
      assert.has_error(function() p:sql("INSERT INTO base (id, m) VALUES (2, 'other')") end)
      p:write("migrations/4.lua", m("dddd00000004", "cccc00000003", 'op.create_enum("mood", { "x" })'))
      local code, _, err = p:luamig("upgrade")
      assert.are.equal(1, code)
      assert.matches("migrations/4%.lua:6: ", err) -- without if_not_exists, an existing enum is an error
    end)

    it("op.bulk_insert: positional rows need opts.columns; a row mixing both is refused, naming it", function()
      local p = project(b)
      refused(p, 'op.bulk_insert("base", { { 1, "a" }, { 2, "b" } })', 6,
        "op.bulk_insert: row 1 gives values by position; name its columns in opts.columns " ..
        '(op.bulk_insert(table, rows, { columns = { ... } })) or key it by column name')
      refused(p, 'op.bulk_insert("base", { { 1, "a" }, { 2, name = "b" } }, { columns = { "id", "name" } })', 6,
        "op.bulk_insert: row 2 mixes positional values and named columns; give one or the other")
      refused(p, 'op.bulk_insert("base", { { id = 1 } }, { colums = { "id" } })', 6,
        'op.bulk_insert: unknown option "colums" (did you mean "columns"?)')
      p:write("migrations/2.lua", m("bbbb00000002", "aaaa00000001",
        'op.bulk_insert("base", { { 1, "a" }, { 2 } }, { columns = { "id", "name" } })\n' ..
        'op.bulk_insert("base", { { id = 3, name = "c" } })'))
      p:ok("upgrade")
      assert.are.equal("1|a\n2|\n3|c\n", p:sql("SELECT id, name FROM base ORDER BY id"))
    end)

    it("upgrade --sql refuses an unknown key too, without a database", function()
      local p = sh.project_on(b, { ["1.lua"] = m("aaaa00000001", nil,
        'op.create_table("t", { { "id", "integer", primary_kye = true } })') })
      local code, _, err = p:luamig("upgrade --sql")
      assert.are_not.equal(0, code)
      assert.matches('migrations/1%.lua:6: op%.create_table: column "id": unknown key "primary_kye" ' ..
        '%(did you mean "primary_key"%?%)', err)
    end)
  end)
end
