-- Add courses.lesson_count and backfill it from lessons
revision      = "d2f4a6c8e0b1"
down_revision = "6a0b2c4d8e1f"

function upgrade(db)
  db:exec [[ALTER TABLE courses ADD COLUMN lesson_count INTEGER NOT NULL DEFAULT 0]]
  local set = db:prepare "UPDATE courses SET lesson_count = ? WHERE id = ?"
  for row in db:rows [[
      SELECT c.id, count(l.id) AS n FROM courses c LEFT JOIN lessons l ON l.course_id = c.id GROUP BY c.id]] do
    set:exec(row.n, row.id)
  end
end

function downgrade(db)
  db:exec [[ALTER TABLE courses DROP COLUMN lesson_count]]
end
