-- Create teachers
revision      = "3f1a9c0d2b7e"
down_revision = nil

function upgrade(db)
  db:exec [[
    CREATE TABLE teachers (
      id    INTEGER PRIMARY KEY,
      name  TEXT NOT NULL,
      email TEXT NOT NULL UNIQUE
    );
  ]]
end

function downgrade(db)
  db:exec [[DROP TABLE teachers]]
end
