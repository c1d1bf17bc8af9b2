-- Backfill people.full_name in batches: resumable, with progress
revision = "b0f1a2c3d402"
down_revision = "b0f1a2c3d401"
transactional = false -- each batch commits with a checkpoint; a killed run resumes

function upgrade()
  luamig.backfill {
    table = "people",
    columns = { "first_name", "last_name" },
    where = "last_name IS NOT NULL",
    batch_size = 2000,
    set = function(row)
      return { full_name = row.first_name .. " " .. row.last_name }
    end,
  }
end

function downgrade(db)
  db:exec "UPDATE people SET full_name = NULL"
end
