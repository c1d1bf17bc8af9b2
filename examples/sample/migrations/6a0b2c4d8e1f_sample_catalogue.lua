-- Load a small sample catalogue (data, not schema)
revision      = "6a0b2c4d8e1f"
down_revision = "1e4c6a8b0f2d"

local teachers = {
  { "Ada Lovelace", "ada@example.org" },
  { "Alan Turing", "alan@example.org" },
}
local courses = {
  { "Analytical Engines", "ada@example.org", { "Cards and looms", "The mill", "Notes G" } },
  { "Computability", "alan@example.org", { "Machines", "The halting problem" } },
}
local students = {
  { "Grace Hopper", "grace@example.org", { "Analytical Engines", "Computability" } },
  { "Edsger Dijkstra", "edsger@example.org", { "Computability" } },
}

function upgrade(db)
  local add_teacher = db:prepare "INSERT INTO teachers (name, email) VALUES (?, ?)"
  for _, t in ipairs(teachers) do add_teacher:exec(t[1], t[2]) end

  local add_course = db:prepare [[
    INSERT INTO courses (title, teacher_id) SELECT ?, id FROM teachers WHERE email = ?]]
  local add_lesson = db:prepare [[
    INSERT INTO lessons (course_id, position, title) SELECT id, ?, ? FROM courses WHERE title = ?]]
  for _, c in ipairs(courses) do
    add_course:exec(c[1], c[2])
    for position, title in ipairs(c[3]) do add_lesson:exec(position, title, c[1]) end
  end

  local add_student = db:prepare "INSERT INTO students (name, email) VALUES (?, ?)"
  local enroll = db:prepare [[
    INSERT INTO enrollments (student_id, course_id, enrolled_on)
    SELECT s.id, c.id, '2026-09-01' FROM students s, courses c WHERE s.email = ? AND c.title = ?]]
  for _, s in ipairs(students) do
    add_student:exec(s[1], s[2])
    for _, title in ipairs(s[3]) do enroll:exec(s[2], title) end
  end
end

-- Remove exactly the rows upgrade added (other data, e.g. seeds, stays).
function downgrade(db)
  for _, s in ipairs(students) do
    db:exec("DELETE FROM enrollments WHERE student_id IN (SELECT id FROM students WHERE email = ?)", s[2])
    db:exec("DELETE FROM students WHERE email = ?", s[2])
  end
  for _, c in ipairs(courses) do
    db:exec("DELETE FROM enrollments WHERE course_id IN (SELECT id FROM courses WHERE title = ?)", c[1])
    db:exec("DELETE FROM lessons WHERE course_id IN (SELECT id FROM courses WHERE title = ?)", c[1])
    db:exec("DELETE FROM courses WHERE title = ?", c[1])
  end
  for _, t in ipairs(teachers) do
    db:exec("DELETE FROM courses WHERE teacher_id IN (SELECT id FROM teachers WHERE email = ?)", t[2])
    db:exec("DELETE FROM teachers WHERE email = ?", t[2])
  end
end
