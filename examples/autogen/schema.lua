-- The declared schema of the shop example. Change it, then
-- `luamig revision --autogenerate -m "what changed"` writes the migration.
schema.enum("order_status", { "new", "paid", "shipped" })

schema.table("customers", {
  { "id", "integer", primary_key = true },
  { "email", "string(200)", nullable = false },
  { "name", "text", nullable = false },
}, { constraints = { { type = "unique", name = "uq_customers_email", columns = { "email" } } } })

schema.table("orders", {
  { "id", "integer", primary_key = true },
  { "customer_id", "integer", nullable = false },
  { "status", "order_status", nullable = false, server_default = "'new'" },
  { "total", "numeric(12,2)", nullable = false, default = 0 },
}, { constraints = {
  { type = "foreign_key", name = "fk_orders_customer", columns = { "customer_id" }, references = "customers",
    ref_columns = { "id" }, on_delete = "CASCADE" },
  { type = "check", name = "ck_orders_total", condition = "total >= 0" },
} })

schema.index("ix_orders_customer", "orders", { "customer_id" })
schema.index("ix_orders_unpaid", "orders", { "customer_id" }, { where = "status = 'new'" })
schema.view("unpaid_orders", "SELECT id, customer_id, total FROM orders WHERE status = 'new'")
