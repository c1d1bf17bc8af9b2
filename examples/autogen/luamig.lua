-- luamig configuration for the autogenerate example: the schema is declared
-- in schema.lua; the migrations are written by `luamig revision --autogenerate`.
--   LUAMIG_URL=postgresql://app@localhost/shop luamig upgrade head
return {
  url = "sqlite:///shop.db",
}
