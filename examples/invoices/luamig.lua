-- luamig configuration for the invoices example (schema built with `op` only).
-- The same migrations run on SQLite (the default below) and PostgreSQL:
--   LUAMIG_URL=postgresql://app@localhost/invoices luamig upgrade head
return {
  url = "sqlite:///invoices.db",
}
