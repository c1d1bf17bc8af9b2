-- Customers and their invoices
revision = "0a1b2c3d4e01"
down_revision = nil

function change(op)
  op.create_enum("invoice_status", { "draft", "sent", "paid" })
  op.create_table("customers", {
    { "id", "integer", primary_key = true, autoincrement = true },
    { "name", "string(120)", nullable = false },
    { "email", "string(255)", unique = true },
  })
  op.create_table("invoices", {
    { "id", "integer", primary_key = true, autoincrement = true },
    { "customer_id", "integer", nullable = false, references = "customers.id", on_delete = "CASCADE" },
    { "number", "string(32)", nullable = false, unique = true },
    { "total", "numeric(12,2)", nullable = false, default = 0, check = "total >= 0" },
    { "status", "invoice_status", nullable = false, server_default = "'draft'" },
    { "issued_at", "timestamp", server_default = "CURRENT_TIMESTAMP" },
  })
  op.create_index("ix_invoices_customer", "invoices", { "customer_id" })
end
