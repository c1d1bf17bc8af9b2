-- Fifty students, each enrolled in one to four courses.
requires = "1e4c6a8b0f2d"
tables = { "students", "enrollments" }

function seed(db, h)
  local students = {}
  for i = 1, 50 do
    local name = h.fake.name()
    students[i] = { name = name, email = h.fake.email(name, 100 + i) }
  end
  h.upsert("students", students, { "email" })
  local courses = db:query("SELECT id FROM courses ORDER BY title")
  local enrollments = {}
  for _, s in ipairs(students) do
    local student = h.ref("students", { email = s.email })
    local taken = {}
    for _ = 1, h.fake.int(1, 4) do
      local course = courses[h.fake.int(1, #courses)].id
      if not taken[course] then
        taken[course] = true
        enrollments[#enrollments + 1] = { student_id = student, course_id = course,
          enrolled_on = h.fake.date("2026-01-01", "2026-09-30") }
      end
    end
  end
  h.upsert("enrollments", enrollments, { "student_id", "course_id" })
end
