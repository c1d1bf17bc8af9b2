-- Generate an N-revision project for luamig and the same graph for Alembic
-- (bench/graph.sh): "linear" (one chain) or "branchy" (every 20th revision
-- starts a branch from an older one, and branches are merged back, so a few
-- heads stay open). Usage: lua5.4 bench/gen_graph.lua N SHAPE OUT_DIR
local n, shape, out = tonumber(arg[1]), arg[2], arg[3]
assert(n and (shape == "linear" or shape == "branchy") and out, "usage: gen_graph.lua N linear|branchy OUT_DIR")
math.randomseed(42)
os.execute(("rm -rf '%s' && mkdir -p '%s/migrations' '%s/alembic/versions'"):format(out, out, out))

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

write(out .. "/alembic/env.py", [[
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
]])
write(out .. "/alembic.ini", "[alembic]\nscript_location = alembic\nsqlalchemy.url = sqlite:///alembic.db\n")

local heads, ids = {}, {}
for i = 1, n do
  local id = ("%012x"):format(0xa00000000000 + i)
  local down = {}
  if i > 1 then
    if shape == "branchy" and i % 20 == 0 then
      down = { ids[math.random(math.max(1, i - 200), i - 1)] } -- a new branch from an older revision
    elseif shape == "branchy" and i % 20 == 10 and #heads > 1 then
      down = { table.remove(heads, 1), table.remove(heads, 1) } -- merge two open heads
    else
      down = { table.remove(heads) }
    end
  end
  for k = #heads, 1, -1 do
    for _, d in ipairs(down) do
      if heads[k] == d then table.remove(heads, k) end
    end
  end
  heads[#heads + 1] = id
  ids[i] = id
  local lua_down = #down == 0 and "nil" or #down == 1 and ("%q"):format(down[1])
      or ("{ %q, %q }"):format(down[1], down[2])
  write(("%s/migrations/%06d_%s.lua"):format(out, i, id), ([[
-- step %d
revision = %q
down_revision = %s

function upgrade(db)
  db:exec "CREATE TABLE t%d (id INTEGER PRIMARY KEY)"
end

function downgrade(db)
  db:exec "DROP TABLE t%d"
end
]]):format(i, id, lua_down, i, i))
  local py_down = #down == 0 and "None" or #down == 1 and ("%q"):format(down[1])
      or ("(%q, %q)"):format(down[1], down[2])
  write(("%s/alembic/versions/%06d_%s.py"):format(out, i, id), ([[
"""step %d"""
from alembic import op

revision = %q
down_revision = %s
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TABLE t%d (id INTEGER PRIMARY KEY)")


def downgrade():
    op.execute("DROP TABLE t%d")
]]):format(i, id, py_down, i, i))
end
