-- Create lessons of a course
revision      = "b5d7e9f1a3c2"
down_revision = "8c2e4b6a1d09"

function upgrade(db)
  db:exec [[
    CREATE TABLE lessons (
      id        INTEGER PRIMARY KEY,
      course_id INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      position  INTEGER NOT NULL,
      title     TEXT NOT NULL,
      UNIQUE (course_id, position)
    );
  ]]
end

function downgrade(db)
  db:exec [[DROP TABLE lessons]]
end
