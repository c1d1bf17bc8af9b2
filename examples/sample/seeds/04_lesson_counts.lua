-- Keep courses.lesson_count (added by the backfill migration) right for the seeded lessons.
requires = "d2f4a6c8e0b1"

function seed(db)
  db:exec "UPDATE courses SET lesson_count = (SELECT count(*) FROM lessons WHERE lessons.course_id = courses.id)"
end
