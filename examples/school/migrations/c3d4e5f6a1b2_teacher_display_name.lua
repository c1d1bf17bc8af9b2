-- Add teachers.display_name ("Last, First") and backfill it
-- The backfill only touches rows that need it, so a rerun is safe.
revision      = "c3d4e5f6a1b2"
down_revision = "b2c3d4e5f6a1"

function upgrade(db)
  if not db:has_column("teachers", "display_name") then
    db:exec [[ALTER TABLE teachers ADD COLUMN display_name TEXT]]
  end
  local set = db:prepare "UPDATE teachers SET display_name = ? WHERE id = ?"
  for row in db:rows "SELECT id, name FROM teachers WHERE display_name IS NULL" do
    local last = row.name:match("(%S+)$")
    set:exec(last .. ", " .. row.name:sub(1, #row.name - #last - 1), row.id)
  end
end

function downgrade(db)
  db:exec [[ALTER TABLE teachers DROP COLUMN display_name]]
end
