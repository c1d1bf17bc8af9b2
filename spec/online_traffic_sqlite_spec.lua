-- Zero downtime under live traffic (issue 26), SQLite: the ops that apply
-- there (rename_column, alter_column's type change, add_column NOT NULL
-- with a backfill). Two application processes (sqlite3 with a busy
-- timeout, fed by a shell loop: the old one writes and reads through the
-- old column names, the new one through the new names) run through
-- expand -> both apps -> old app stops -> contract. Asserts behaviour only.
local sh = require "spec.support.sh"

local sqlite = sh.backends()[1]
local ROWS = 2000

local TABLE = ([[
-- orders, as the old application knows them
revision = "orders0001"
function upgrade(db)
  db:exec "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_name TEXT NOT NULL, price_cents INTEGER NOT NULL)"
  db:exec("WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < %d) " ..
    "INSERT INTO orders (customer_name, price_cents) SELECT 'c-' || n, n FROM g")
end
]]):format(ROWS)

-- An application: a shell loop feeding one sqlite3 process (busy timeout
-- 10 s, errors on stderr, no -bail: a failed statement is counted, not
-- fatal) until the file `stop` exists; `count` holds the INSERTs it issued.
local APP = [[
dir=$1; db=$2; rows=$3; i=0
{ echo ".timeout 10000"; echo "PRAGMA journal_mode = WAL;" # (readers never wait for a writer)
  while [ ! -e "$dir/stop" ]; do
    i=$((i + 1)); n=$((RANDOM * 32768 + RANDOM + 1)); id=$((RANDOM %% rows + 1))
    %s
    echo "$i" >"$dir/count"
    sleep 0.005 # (an application's pace, not a wait: no starving luamig of the write lock)
  done
} | sqlite3 "$db" >/dev/null 2>"$dir/err"
echo $? >"$dir/rc"
]]
local OLD = [[echo "INSERT INTO orders (customer_name, price_cents) VALUES ('old-$n', $n);"
    echo "UPDATE orders SET customer_name = 'oldu-$n', price_cents = $n WHERE id = $id;"
    echo "SELECT customer_name, price_cents FROM orders WHERE id = $id;"]]
local NEW = [[echo "INSERT INTO orders (buyer, price, note) VALUES ('new-$n', $n / 100.0, 'new');"
    echo "UPDATE orders SET buyer = 'newu-$n', price = $n / 100.0 WHERE id = $id;"
    echo "SELECT buyer, price, note FROM orders WHERE id = $id;"]]

describe("zero downtime under live traffic (SQLite)", function()
  it("both applications keep working through expand and contract, no write lost or mistranslated", function()
    local p = sh.project_on(sqlite, {
      ["1.lua"] = TABLE,
      ["2.lua"] = sh.slurp(sh.source_dir .. "/bench/online/002_online.lua.in"):gsub("BATCH_SIZE", "100")
        :gsub("SLEEP_MS", "0"),
    })
    p:write("luamig.lua", "return { still_written = 1 }\n")
    p:ok("upgrade orders0001")
    local db = p.dir .. "/luamig.db"
    local function q(sql)
      local code, out, err = sh.run(("sqlite3 -cmd '.timeout 10000' %s %s"):format(sh.quote(db), sh.quote(sql)))
      assert(code == 0, err)
      return out
    end
    local function count(where) return tonumber(q("SELECT count(*) FROM orders WHERE " .. where)) end
    local apps = {}
    local function start(name, body)
      local dir = p.dir .. "/" .. name
      os.execute("mkdir -p " .. sh.quote(dir))
      sh.write(dir .. "/app.sh", APP:format(body))
      os.execute(("(bash %s %s %s %d) >/dev/null 2>&1 &"):format(sh.quote(dir .. "/app.sh"), sh.quote(dir), sh.quote(db),
        ROWS))
      apps[name] = dir
      return dir
    end
    -- stop app `name`: the INSERTs it issued and its failed statements
    local function stop(name)
      local dir = apps[name]
      sh.write(dir .. "/stop", "")
      assert.truthy(sh.poll(function() return sh.first_line(dir .. "/rc", "n") end, 30), name .. " app did not stop")
      apps[name] = nil
      return sh.first_line(dir .. "/count", "n") or 0, sh.slurp(dir .. "/err")
    end
    finally(function() -- whatever happened, no app outlives the test
      for _, dir in pairs(apps) do sh.write(dir .. "/stop", "") end
    end)

    -- the old application alone, then expand under its traffic
    start("old", OLD)
    assert.truthy(sh.poll(function() return count("customer_name LIKE 'old-%'") >= 20 end, 20), "the old app does not write")
    p:ok("upgrade head")
    assert.are.equal("expanded", p:json("current").revisions[1].phase)

    -- the new application starts; both run side by side
    start("new", NEW)
    local before = count("buyer LIKE 'old%'")
    assert.truthy(sh.poll(function() return count("note = 'new'") >= 20 and count("buyer LIKE 'old%'") >= before + 20 end,
      20), "the apps do not both write")

    -- the old application stops; contract goes through (polled: still_written = 1 s)
    local old_n, old_err = stop("old")
    local last = ""
    assert.truthy(sh.poll(function()
      local code, out, err = p:luamig("contract")
      last = out .. err
      return code == 0
    end, 20), "contract never went through; the last try said:\n" .. last)
    assert.are.equal("complete", p:json("current").revisions[1].phase)
    local after = count("note = 'new'")
    assert.truthy(sh.poll(function() return count("note = 'new'") >= after + 20 end, 20), "the new app stopped writing")
    local new_n, new_err = stop("new")

    -- zero failed statements in either application
    assert.are.equal("", old_err)
    assert.are.equal("", new_err)
    -- no lost write (one row per INSERT) and none mistranslated
    assert.are.equal(ROWS + old_n + new_n, count("1"))
    assert.are.equal("", q("SELECT * FROM orders WHERE NOT (CAST(round(price * 100) AS INTEGER) = " ..
      "CAST(substr(buyer, instr(buyer, '-') + 1) AS INTEGER) AND (note = 'order ' || id OR note = 'new'))"))
    assert.are.equal("id buyer price note\n", q("SELECT group_concat(name, ' ') FROM pragma_table_info('orders')"))
  end)
end)
