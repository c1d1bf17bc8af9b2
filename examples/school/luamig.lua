-- luamig configuration for the school example. Every setting is optional.
return {
  -- $LUAMIG_URL, $DATABASE_URL or --url override this, e.g.
  --   LUAMIG_URL=postgresql://app@localhost/school luamig upgrade head
  url = "sqlite:///school.db",
  migrations = "migrations",
  transaction = "per-migration",
}
