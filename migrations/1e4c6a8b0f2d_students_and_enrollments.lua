-- Students and enrollments: a many-to-many between students and courses
revision      = "1e4c6a8b0f2d"
down_revision = "b5d7e9f1a3c2"

function upgrade(db)
  db:exec [[
    CREATE TABLE students (
      id    INTEGER PRIMARY KEY,
      name  TEXT NOT NULL,
      email TEXT NOT NULL UNIQUE
    );
    CREATE TABLE enrollments (
      student_id  INTEGER NOT NULL REFERENCES students (id) ON DELETE CASCADE,
      course_id   INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      enrolled_on TEXT NOT NULL,
      PRIMARY KEY (student_id, course_id)
    );
    CREATE INDEX enrollments_course_idx ON enrollments (course_id);
  ]]
end

function downgrade(db)
  db:exec [[
    DROP TABLE enrollments;
    DROP TABLE students;
  ]]
end
