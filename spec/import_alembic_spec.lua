-- `luamig import alembic` end to end with Debian's python3-alembic: a real
-- Alembic project builds a schema and rows; luamig adopts the database
-- (a baseline at Alembic's head id, stamped there, alembic_version left
-- alone); then the autogenerate loop and the drill go on. And every bad
-- input says which and changes nothing.
local sh = require "spec.support.sh"

local PYTHON = "/usr/bin/python3"

local function client(name)
  local f = io.popen("ls /usr/lib/postgresql/*/bin/" .. name .. " 2>/dev/null | sort -V | tail -1")
  local path = f:read("l")
  f:close()
  return path and path ~= "" and path or name
end
local PG_DUMP = client "pg_dump"

local function checked(cmd)
  local code, out, err = sh.run(cmd)
  assert(code == 0, cmd .. ": " .. out .. err)
  return out
end

local ENV_PY = [[
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
]]

local FIRST = [[
"""customers and orders"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "1a2b3c4d5e6f"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    status = postgresql.ENUM("new", "paid", "shipped", name="order_status")
    op.create_table(
        "customers",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("prefs", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'")),
    )
    op.create_index("ix_customers_email", "customers", ["email"], unique=True)
    op.create_table(
        "orders",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("customer_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", status, nullable=False, server_default="new"),
        sa.Column("total", sa.Numeric(12, 2), nullable=False, server_default="0"),
    )
    op.create_index("ix_orders_customer", "orders", ["customer_id"])


def downgrade():
    op.drop_table("orders")
    op.drop_table("customers")
    op.execute("DROP TYPE order_status")
]]

local SECOND = [[
"""order lines and rows"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = "9f8e7d6c5b4a"
down_revision: str = "1a2b3c4d5e6f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("orders.id", ondelete="CASCADE", onupdate="CASCADE"), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
    )
    op.create_index("ix_order_lines_sku", "order_lines", ["sku"])
    op.execute("INSERT INTO customers (email) VALUES ('ada@example.com'), ('bob@example.com')")
    op.execute("INSERT INTO orders (customer_id, status, total) SELECT id, 'paid', 12.5 FROM customers")
    op.execute("INSERT INTO order_lines (order_id, sku) SELECT id, 'sku-' || total FROM orders")


def downgrade():
    op.drop_table("order_lines")
]]

-- An Alembic project on database `url`, upgraded to head.
local function alembic_project(url)
  local dir = sh.tmpdir()
  checked("mkdir -p " .. sh.quote(dir .. "/alembic/versions"))
  sh.write(dir .. "/alembic.ini", ("[alembic]\nscript_location = alembic\nsqlalchemy.url = %s\n")
    :format(url:gsub("^postgresql://", "postgresql+psycopg2://")))
  sh.write(dir .. "/alembic/env.py", ENV_PY)
  sh.write(dir .. "/alembic/versions/1a2b3c4d5e6f_customers.py", FIRST)
  sh.write(dir .. "/alembic/versions/9f8e7d6c5b4a_lines.py", SECOND)
  checked(("cd %s && %s -m alembic -c alembic.ini upgrade head"):format(sh.quote(dir), PYTHON))
  return dir
end

local function schema_of(url)
  local out = checked(("%s --schema-only --no-owner --no-privileges -T 'luamig_*' %s"):format(PG_DUMP, sh.quote(url)))
  return (out:gsub("\\u?n?restrict [^\n]*", ""))
end

describe("luamig import alembic", function()
  local pg = sh.backends()[2]
  if not pg then return end

  it("adopts an Alembic-managed database: same id, same schema, same rows; autogenerate and drill go on", function()
    local why = sh.missing(sh.run(PYTHON .. " -c 'import alembic, sqlalchemy, psycopg2'") == 0,
      "Debian's python3-alembic, python3-sqlalchemy and python3-psycopg2 (.ci/deps.sh)")
    if why then pending(why) return end
    local p = sh.project_on(pg)
    local adir = alembic_project(p.url)
    local before = schema_of(p.url)
    local rows = p:sql("SELECT (SELECT count(*) FROM customers) || ' ' || (SELECT count(*) FROM orders) || ' ' || " ..
      "(SELECT count(*) FROM order_lines)")
    assert.are.equal("2 2 2\n", rows)

    local out = p:ok("import alembic --versions " .. sh.quote(adir .. "/alembic/versions"))
    assert.matches("as revision 9f8e7d6c5b4a (Alembic's head)", out, 1, true)
    local files = checked("ls " .. sh.quote(p.dir .. "/migrations"))
    assert.are.equal("9f8e7d6c5b4a_baseline_from_alembic.lua\n", files)
    local text = sh.slurp(p.dir .. "/migrations/9f8e7d6c5b4a_baseline_from_alembic.lua")
    assert.matches('revision      = "9f8e7d6c5b4a"\ndown_revision = nil', text, 1, true)
    assert.is_nil(text:find("alembic_version", 1, true), "Alembic's bookkeeping is not part of the schema")

    assert.matches("^9f8e7d6c5b4a", p:ok("current"))
    assert.are.equal(0, (p:luamig("check")))
    assert.are.equal(before, schema_of(p.url), "pg_dump unchanged")
    assert.are.equal(rows, p:sql("SELECT (SELECT count(*) FROM customers) || ' ' || (SELECT count(*) FROM orders) || " ..
      "' ' || (SELECT count(*) FROM order_lines)"), "the rows are all there")
    assert.are.equal("9f8e7d6c5b4a\n", p:sql("SELECT version_num FROM alembic_version"), "alembic_version untouched")
    assert.matches("9f8e7d6c5b4a", checked(("cd %s && %s -m alembic -c alembic.ini current"):format(sh.quote(adir),
      PYTHON)))

    -- the declared schema, then one change through the autogenerate loop
    p:ok("dump --declared -o schema.lua")
    assert.are.equal(0, (p:luamig("check")), "right after dump --declared, check exits 0")
    local decl = sh.slurp(p.dir .. "/schema.lua")
    local changed, n = decl:gsub('(schema.table%("customers", {\n)', '%1  { "nickname", "text" },\n')
    assert.are.equal(1, n, decl)
    sh.write(p.dir .. "/schema.lua", changed)
    assert.are.equal(5, (p:luamig("check")), "the declared schema now differs")
    p:ok("revision --autogenerate -m nickname")
    p:ok("upgrade head")
    assert.are.equal("1\n", p:sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' " ..
      "AND column_name = 'nickname'"))
    assert.are.equal(0, (p:luamig("check")))
    p:ok("drill")
  end)

  describe("says which and changes nothing", function()
    local function refused(p, args, pattern)
      local code, out, err = p:luamig(args)
      assert.are_not.equal(0, code, out)
      assert.matches(pattern, err, 1, true)
      assert.are.equal("", checked("ls " .. sh.quote(p.dir .. "/migrations")), "no file written")
      assert.are.equal("0\n", p:sql("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'luamig_version%'"),
        "not stamped")
    end

    it("without alembic_version, with an empty one, with several heads", function()
      local p = sh.project_on(pg)
      p:sql "CREATE TABLE t (x int)"
      refused(p, "import alembic", "the database has no alembic_version table")
      p:sql "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY)"
      refused(p, "import alembic", "alembic_version is empty")
      p:sql "INSERT INTO alembic_version VALUES ('aaa111'), ('bbb222')"
      refused(p, "import alembic", "alembic_version holds several heads (aaa111, bbb222)")
    end)

    it("when the versions folder's head is not the database's stamp, or there are several", function()
      local why = sh.missing(sh.run(PYTHON .. " -c 'import alembic, sqlalchemy, psycopg2'") == 0,
        "Debian's python3-alembic, python3-sqlalchemy and python3-psycopg2 (.ci/deps.sh)")
      if why then pending(why) return end
      local p = sh.project_on(pg)
      local adir = alembic_project(p.url)
      local versions = adir .. "/alembic/versions"
      sh.write(versions .. "/ccc333_more.py", 'revision = "ccc333"\ndown_revision = "9f8e7d6c5b4a"\n')
      refused(p, "import alembic --versions " .. sh.quote(versions),
        "the database is at Alembic revision 9f8e7d6c5b4a but " .. versions .. "'s head is ccc333")
      sh.write(versions .. "/ddd444_other.py", "revision = 'ddd444'\ndown_revision = ('9f8e7d6c5b4a',)\n")
      refused(p, "import alembic --versions " .. sh.quote(versions), "several Alembic heads (ccc333, ddd444)")
    end)
  end)
end)
