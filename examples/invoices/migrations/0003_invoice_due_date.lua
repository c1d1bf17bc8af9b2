-- Invoices get a due date and a "void" status; total loses its default
revision = "0a1b2c3d4e03"
down_revision = "0a1b2c3d4e02"
transactional = false -- ALTER TYPE ... ADD VALUE on PostgreSQL before 12

function upgrade(db)
  op.add_enum_value("invoice_status", "void", { after = "paid", if_not_exists = true })
  op.batch_alter_table("invoices", function(t)
    t:add_column({ "due_on", "date" })
    t:alter_column("total", { server_default = false })
  end)
  db:exec "UPDATE invoices SET due_on = '2026-12-31'"
end

function downgrade(_)
  op.batch_alter_table("invoices", function(t)
    t:drop_column("due_on")
    t:alter_column("total", { server_default = "0" })
  end)
  op.execute("UPDATE invoices SET status = 'sent' WHERE status = 'void'")
  op.drop_enum_value("invoice_status", "void")
end
