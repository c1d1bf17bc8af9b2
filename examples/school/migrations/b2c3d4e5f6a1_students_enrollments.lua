-- Students and enrollments (many-to-many with courses)
revision      = "b2c3d4e5f6a1"
down_revision = "a1b2c3d4e5f6"

function upgrade(db)
  db:exec [[
    CREATE TABLE students (
      id   INTEGER PRIMARY KEY,
      name TEXT NOT NULL
    );
    CREATE TABLE enrollments (
      student_id INTEGER NOT NULL REFERENCES students (id) ON DELETE CASCADE,
      course_id  INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      PRIMARY KEY (student_id, course_id)
    );
  ]]
end

function downgrade(db)
  db:exec [[
    DROP TABLE enrollments;
    DROP TABLE students;
  ]]
end
