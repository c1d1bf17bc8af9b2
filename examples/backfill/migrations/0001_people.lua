-- People, loaded in bulk (ROWS of them, default 200000)
revision = "b0f1a2c3d401"

function upgrade(db)
  db:exec "CREATE TABLE people (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, full_name TEXT)"
  local rows, i = tonumber(os.getenv("ROWS") or "200000"), 0
  local firsts = { "Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald" }
  local lasts = { "Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth" }
  -- a streaming row source: COPY on PostgreSQL, multi-row INSERTs on SQLite
  db:copy_in("people", { "id", "first_name", "last_name" }, function()
    i = i + 1
    if i > rows then return nil end
    return { id = i, first_name = firsts[i % #firsts + 1], last_name = i % 50 == 0 and luamig.null or lasts[i % #lasts + 1] }
  end)
end

function downgrade(db)
  db:exec "DROP TABLE people"
end
