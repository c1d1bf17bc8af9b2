--- The schema oracle of the CLI specs: normalized `pg_dump --schema-only`,
--- or SQLite's pragmas and SQL text, without luamig's own tables.
local sh = require "spec.support.sh"

local M = {}

-- The client binaries themselves (Debian's pg_wrapper is a Perl script).
function M.client(name)
  local f = io.popen("ls /usr/lib/postgresql/*/bin/" .. name .. " 2>/dev/null | sort -V | tail -1")
  local path = f:read("l")
  f:close()
  return path and path ~= "" and path or name
end
local PG_DUMP = M.client "pg_dump"

local function checked(cmd)
  local code, out, err = sh.run(cmd)
  assert(code == 0, cmd .. ": " .. err)
  return out
end

---The schema of a database without luamig's bookkeeping, normalized, by
---backend name: ORACLE[name](url) -> text.
M.SCHEMA = {
  postgresql = function(url)
    local out = checked(("%s --schema-only --no-owner --no-privileges -T 'luamig_*' %s"):format(PG_DUMP, sh.quote(url)))
    local lines = {}
    for line in out:gmatch("[^\n]+") do
      if not (line:match("^%-%-") or line:match("^SET ") or line:match("^SELECT pg_catalog.set_config")
        or line:match("^\\u?n?restrict ")) then
        lines[#lines + 1] = line
      end
    end
    return table.concat(lines, "\n")
  end,
  -- every table's pragmas (columns, keys, indexes, foreign keys, STRICT and
  -- WITHOUT ROWID) and the SQL text of indexes, views and triggers
  sqlite = function(url)
    local path = url:match("^sqlite:///(.+)$")
    local enums = checked(("sqlite3 %s %s"):format(sh.quote(path),
      sh.quote("SELECT count(*) FROM sqlite_master WHERE name = 'luamig_enums'"))) == "1\n"
    return checked(("sqlite3 %s %s"):format(sh.quote(path), sh.quote([[
SELECT 'table', l.name, l.strict, l.wr FROM pragma_table_list l
WHERE l.schema = 'main' AND l.name NOT LIKE 'sqlite_%' AND l.name NOT LIKE 'luamig_%' ORDER BY l.name;
SELECT 'column', m.name, c.cid, c.name, lower(c.type), c."notnull", c.dflt_value, c.pk, c.hidden
FROM sqlite_master m, pragma_table_xinfo(m.name) c
WHERE m.type = 'table' AND m.name NOT LIKE 'luamig_%' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, c.cid;
SELECT 'index', m.name, i.name, i."unique", i.origin, i.partial, group_concat(x.name) FROM sqlite_master m,
  pragma_index_list(m.name) i, pragma_index_info(i.name) x
WHERE m.type = 'table' AND m.name NOT LIKE 'luamig_%' GROUP BY 1, 2, 3 ORDER BY m.name, i.name;
SELECT 'fk', m.name, f.* FROM sqlite_master m, pragma_foreign_key_list(m.name) f
WHERE m.type = 'table' AND m.name NOT LIKE 'luamig_%' ORDER BY m.name, f.id, f.seq;
SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'view', 'trigger') AND sql IS NOT NULL
  AND tbl_name NOT LIKE 'luamig_%' ORDER BY type, name;]] ..
      (enums and "SELECT 'enum', name, vals FROM luamig_enums ORDER BY name;" or ""))))
  end,
}

return M
