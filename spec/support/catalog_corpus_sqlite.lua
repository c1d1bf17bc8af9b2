--- The SQLite catalog oracle's corpus: changes to the base schema
--- (spec/fixtures/catalog_base_sqlite.sql), one per object kind and
--- attribute; `same`, `says` as in catalog_corpus_pg.lua.
local function kv(body) return "DROP TABLE kv; CREATE TABLE kv " .. body end
local function gen(body) return "DROP TABLE gen; CREATE TABLE gen " .. body end
local function child(fk)
  return "DROP TABLE child; CREATE TABLE child (id INTEGER PRIMARY KEY, cid INTEGER REFERENCES customers (id) " .. fk .. ")"
end

return {
  -- tables
  { "CREATE TABLE t2 (x)", says = "table t2 still exists" },
  { "DROP TABLE kv", says = "table kv is missing" },
  { "ALTER TABLE auto_t RENAME TO auto2", says = "table auto2 still exists" },
  { "DROP TABLE strict_t; CREATE TABLE strict_t (id INTEGER PRIMARY KEY, n INT)",
    says = "table strict_t: strict true became false" },
  { kv "(k TEXT PRIMARY KEY, v TEXT)", says = "table kv: without rowid true became false" },
  { "CREATE VIRTUAL TABLE d2 USING fts5(x)", says = "virtual table d2 still exists" },
  { "DROP TABLE docs; CREATE VIRTUAL TABLE docs USING fts5(title)", says = "column docs.body is missing" },
  -- columns
  { "ALTER TABLE customers ADD COLUMN note TEXT", says = "column customers.note still exists" },
  { "ALTER TABLE customers DROP COLUMN spare", says = "column customers.spare is missing" },
  { "ALTER TABLE customers RENAME COLUMN spare TO extra", says = "column customers.extra still exists" },
  { "DROP TABLE strict_t; CREATE TABLE strict_t (id INTEGER PRIMARY KEY, n TEXT) STRICT",
    says = "column strict_t.n: type int became text" },
  { kv "(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID", says = "column kv.v: NULL became NOT NULL" },
  { kv "(k TEXT PRIMARY KEY, v TEXT DEFAULT 'a') WITHOUT ROWID", says = "column kv.v: default NULL became 'a'" },
  { kv "(k TEXT PRIMARY KEY, v TEXT COLLATE NOCASE) WITHOUT ROWID", says = "column kv.v: collation NULL became nocase" },
  { gen "(a INT, b INT GENERATED ALWAYS AS (a + 2) VIRTUAL)", says = "column gen.b: generated a %+ 1 became a %+ 2" },
  { gen "(a INT, b INT GENERATED ALWAYS AS (a + 1) STORED)", says = "column gen.b: stored false became true" },
  { gen "(a INT, b INT)", says = "column gen.b: generated a %+ 1 became NULL" },
  { "DROP TABLE auto_t; CREATE TABLE auto_t (id INTEGER PRIMARY KEY, x TEXT)",
    says = "column auto_t.id: autoincrement true became false" },
  -- keys and constraints
  { kv "(k TEXT, v TEXT, PRIMARY KEY (k, v)) WITHOUT ROWID", says = "table kv: primary key %(k%) became %(k, v%)" },
  { kv "(k TEXT PRIMARY KEY, v TEXT UNIQUE) WITHOUT ROWID", says = "unique constraint %(v%) on kv still exists" },
  { gen "(a INT CHECK (a > 0), b INT GENERATED ALWAYS AS (a + 1) VIRTUAL)", says = "check constraint %(a > 0%) on gen" },
  { "DROP TABLE customers; CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, code TEXT UNIQUE, " ..
    "spare TEXT DEFAULT 'x', CHECK (length(name) > 1))", says = "check constraint %(length%(name%) > 1%) on customers" },
  { child "ON DELETE SET NULL", says = "on delete CASCADE became SET NULL" },
  { child "ON DELETE CASCADE ON UPDATE CASCADE", says = "on update NO ACTION became CASCADE" },
  { child "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED", says = "deferrable false became true" },
  { "DROP TABLE child; CREATE TABLE child (id INTEGER PRIMARY KEY, cid INTEGER)", says = "foreign key .* on child is missing" },
  -- indexes
  { "CREATE INDEX ix_new ON kv (v)", says = "index ix_new still exists" },
  { "DROP INDEX ix_inv_day", says = "index ix_inv_day is missing" },
  { "DROP INDEX ix_inv_day; CREATE INDEX ix_inv_day ON invoices (day) WHERE day > '2020'",
    says = "index ix_inv_day: where day IS NOT NULL became day > '2020'" },
  { "DROP INDEX ux_name; CREATE INDEX ux_name ON customers (name)", says = "index ux_name: unique true became false" },
  { "DROP INDEX ix_cust_lower; CREATE INDEX ix_cust_lower ON customers (upper(code))",
    says = "index ix_cust_lower: columns %(lower%(code%)%) became %(upper%(code%)%)" },
  { "DROP INDEX ix_inv_day; CREATE INDEX ix_inv_day ON invoices (total) WHERE day IS NOT NULL",
    says = "index ix_inv_day: columns %(day%) became %(total%)" },
  -- views and triggers
  { "CREATE VIEW v2 AS SELECT 1 AS one", says = "view v2 still exists" },
  { "DROP VIEW open_invoices", says = "view open_invoices is missing" },
  { "DROP VIEW open_invoices; CREATE VIEW open_invoices AS SELECT id, total FROM invoices WHERE total > 1",
    says = "view open_invoices: definition" },
  { "CREATE TRIGGER trg2 AFTER DELETE ON invoices BEGIN SELECT 1; END", says = "trigger trg2 on invoices still exists" },
  { "DROP TRIGGER trg", says = "trigger trg on invoices is missing" },
  { "DROP TRIGGER trg; CREATE TRIGGER trg AFTER UPDATE ON invoices BEGIN SELECT 1; END",
    says = "trigger trg on invoices: definition" },
  -- no schema change
  { "INSERT INTO customers (name) VALUES ('ann'); INSERT INTO auto_t (x) VALUES ('a')", same = true },
  { "ANALYZE", same = true },
  { "CREATE TABLE tmp (x); DROP TABLE tmp", same = true },
  { "VACUUM", same = true },
}
