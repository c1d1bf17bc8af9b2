-- Ten teachers with reproducible names and emails.
requires = "3f1a9c0d2b7e"
tables = { "teachers" }

function seed(_, h)
  local rows = {}
  for i = 1, 10 do
    local name = h.fake.name()
    rows[i] = { name = name, email = h.fake.email(name, i) }
  end
  h.upsert("teachers", rows, { "email" })
end
