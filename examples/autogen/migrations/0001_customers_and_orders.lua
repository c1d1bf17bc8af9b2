-- customers and orders
-- Created by luamig revision --autogenerate
revision      = "0001"
down_revision = nil
branch_labels = nil
depends_on    = nil
transactional = true

function upgrade(db)
  op.create_enum("order_status", { "new", "paid", "shipped" })
  op.create_table("customers", {
    { "id", "integer", primary_key = true },
    { "email", "varchar(200)", nullable = false },
    { "name", "text", nullable = false },
  }, { constraints = {
    { type = "unique", name = "uq_customers_email", columns = { "email" } },
  } })
  op.create_table("orders", {
    { "id", "integer", primary_key = true },
    { "customer_id", "integer", nullable = false },
    { "status", "order_status", nullable = false, server_default = "'new'" },
    { "total", "numeric(12,2)", nullable = false, server_default = "0" },
  }, { constraints = {
    { type = "check", name = "ck_orders_total", condition = "total >= 0" },
    { type = "foreign_key", name = "fk_orders_customer", columns = { "customer_id" }, references = "customers", ref_columns = { "id" }, on_delete = "CASCADE" },
  } })
  op.create_index("ix_orders_customer", "orders", { "customer_id" })
  op.create_index("ix_orders_unpaid", "orders", { "customer_id" }, { where = "status = 'new'" })
  op.execute("CREATE VIEW \"unpaid_orders\" AS SELECT id, customer_id, total FROM orders WHERE status = 'new'")
end

function downgrade(db)
  op.execute("DROP VIEW \"unpaid_orders\"")
  -- WARNING: destructive: drops table orders and its rows
  op.drop_table("orders")
  -- WARNING: destructive: drops table customers and its rows
  op.drop_table("customers")
  -- WARNING: destructive: drops enum order_status
  op.drop_enum("order_status")
end
