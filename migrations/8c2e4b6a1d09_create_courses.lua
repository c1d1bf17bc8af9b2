-- Create courses, each taught by a teacher
revision      = "8c2e4b6a1d09"
down_revision = "3f1a9c0d2b7e"

function upgrade(db)
  db:exec [[
    CREATE TABLE courses (
      id         INTEGER PRIMARY KEY,
      title      TEXT NOT NULL,
      teacher_id INTEGER NOT NULL REFERENCES teachers (id)
    );
    CREATE INDEX courses_teacher_idx ON courses (teacher_id);
  ]]
end

function downgrade(db)
  db:exec [[DROP TABLE courses]]
end
