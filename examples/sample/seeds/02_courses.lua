-- Twenty courses, each taught by one of the seeded teachers, with 2-6 lessons.
requires = "b5d7e9f1a3c2"
tables = { "courses", "lessons" }

function seed(db, h)
  local teachers = db:query("SELECT id FROM teachers ORDER BY email")
  for i = 1, 20 do
    local title = ("%s %d"):format(h.fake.words(2):gsub("^%l", string.upper), i)
    local teacher = teachers[h.fake.int(1, #teachers)].id
    -- courses have no natural key: find the seeded one by title, else insert it
    local id = db:scalar("SELECT id FROM courses WHERE title = ?", title)
    if not id then
      db:exec("INSERT INTO courses (title, teacher_id) VALUES (?, ?)", title, teacher)
      id = db:scalar("SELECT id FROM courses WHERE title = ?", title)
    end
    local lessons = {}
    for pos = 1, h.fake.int(2, 6) do
      lessons[pos] = { course_id = id, position = pos, title = h.fake.sentence(4) }
    end
    h.upsert("lessons", lessons, { "course_id", "position" })
  end
end
