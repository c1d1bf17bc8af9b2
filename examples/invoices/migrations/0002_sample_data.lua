-- Sample customers and invoices (data, not schema)
revision = "0a1b2c3d4e02"
down_revision = "0a1b2c3d4e01"

function upgrade(db)
  op.bulk_insert("customers", {
    { id = 1, name = "Ada Lovelace", email = "ada@example.org" },
    { id = 2, name = "Alan Turing", email = "alan@example.org" },
  })
  op.bulk_insert("invoices", {
    { customer_id = 1, number = "2026-001", total = "120.50", status = "paid" },
    { customer_id = 1, number = "2026-002", total = "80.00", status = "sent" },
    { customer_id = 2, number = "2026-003", total = "42.00", status = "draft" },
  })
  if db.dialect == "postgresql" then -- ids were given explicitly: move the identity past them
    db:exec "SELECT setval(pg_get_serial_sequence('customers', 'id'), 2)"
  end
end

function downgrade(db)
  db:exec "DELETE FROM invoices"
  db:exec "DELETE FROM customers"
end
