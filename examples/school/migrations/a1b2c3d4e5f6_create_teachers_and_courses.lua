-- Create teachers and the courses they teach
revision      = "a1b2c3d4e5f6"
down_revision = nil

function upgrade(db)
  db:exec [[
    CREATE TABLE teachers (
      id    INTEGER PRIMARY KEY,
      name  TEXT NOT NULL,
      email TEXT NOT NULL UNIQUE
    );
    CREATE TABLE courses (
      id         INTEGER PRIMARY KEY,
      title      TEXT NOT NULL,
      teacher_id INTEGER NOT NULL REFERENCES teachers (id)
    );
  ]]
  local add = db:prepare "INSERT INTO teachers (name, email) VALUES (?, ?)"
  add:exec("Ada Lovelace", "ada@example.org")
  add:exec("Alan Turing", "alan@example.org")
  db:exec([[INSERT INTO courses (title, teacher_id)
            SELECT 'Computability', id FROM teachers WHERE email = ?]], "alan@example.org")
end

function downgrade(db)
  db:exec [[
    DROP TABLE courses;
    DROP TABLE teachers;
  ]]
end
