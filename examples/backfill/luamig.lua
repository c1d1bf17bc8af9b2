-- The backfill example: `luamig upgrade` on SQLite (below) or PostgreSQL:
--   LUAMIG_URL=postgresql://app@localhost/people luamig upgrade
return { url = "sqlite:///people.db" }
