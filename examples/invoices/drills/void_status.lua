-- A scripted drill: `luamig drill drills/void_status.lua` runs this against a
-- scratch database (never the configured one).
drill.step("the schema round-trips across 0003", function()
  drill.upgrade("0a1b2c3d4e02")
  local before = drill.snapshot()
  drill.upgrade("head")
  drill.downgrade("-1")
  drill.assert_same(before, drill.snapshot(), "downgrade of 0003")
end)

drill.step("a voided invoice comes back as sent", function()
  drill.upgrade("head")
  drill.db:exec("UPDATE invoices SET status = 'void' WHERE number = ?", "2026-002")
  drill.downgrade("0a1b2c3d4e02")
  assert(drill.db:scalar("SELECT status FROM invoices WHERE number = ?", "2026-002") == "sent")
end)
