--- Run a SQL file on a connection, statement by statement (op.execute_file):
--- plain pg_dump output included. pg_dump's `\restrict KEY` and
--- `\unrestrict KEY` are skipped, any other psql meta-command is refused
--- with its file:line, and `COPY ... FROM stdin` loads the data lines after
--- it (up to `\.`) through the driver's COPY (db:copy_from; PostgreSQL).
local errors = require "luamig.util.errors"
local split = require "luamig.util.sql_split"

local M = {}

-- The psql meta-commands a file may hold: pg_dump 15.14+ wraps its output in these.
local SKIPPED = { restrict = true, unrestrict = true }

local function readable(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

---The file `name` names: absolute, or relative to the migration file's
---folder, else to the project's; nil and where it looked when there is none.
---@param name string
---@param migration string?  the migration file's path
---@param project string?    the project's folder (the config file's)
---@return string? path
---@return string? looked  e.g. "migrations/ or the project"
function M.resolve(name, migration, project)
  if name:sub(1, 1) == "/" then return readable(name) and name or nil, "/" end
  local here = migration and migration:match("^(.*)/[^/]*$") or "."
  local candidates = { here .. "/" .. name }
  if project and project ~= here then candidates[2] = project .. "/" .. name end
  for _, p in ipairs(candidates) do
    if readable(p) then return (p:gsub("^%./", "")) end
  end
  return nil, (here == "." and "the project's folder" or here .. "/") .. (candidates[2] and " or the project" or "")
end

-- The error `e` a statement raised at `where` (file:line of the SQL file):
-- it names that line, not luamig's.
local function at(where, e)
  if errors.is(e) or (type(e) == "table" and e.message) then
    e.where = where
    return e
  end
  return errors.new("migration", tostring(e), { where = where })
end

---Run the SQL file at `path` on `db` (see the module's description).
---Raises a "migration" error naming path:line for a meta-command, a COPY
---without the driver's COPY or a text it cannot split, before any statement
---runs; and a statement's own error with its path:line.
---@param db luamig.Db
---@param path string
---@return integer statements  how many ran
function M.run(db, path)
  local f, err = io.open(path, "rb")
  if not f then errors.raise("migration", ("op.execute_file: %s"):format(err)) end
  local text = f:read("a")
  f:close()
  local pieces, line, problem = split.split(text)
  if not pieces then errors.raise("migration", problem, { where = path .. ":" .. line }) end
  for _, p in ipairs(pieces) do -- refuse what cannot run before anything runs
    local where = path .. ":" .. p.line
    local name = p.kind == "meta" and (p.text:match("^\\([%a_]*)") or "")
    if name and not SKIPPED[name] then
      errors.raise("migration", ("psql meta-command \\%s is not SQL: op.execute_file runs SQL statements and " ..
        "skips only pg_dump's \\restrict and \\unrestrict; remove it from the file"):format(name), { where = where })
    end
    if p.kind == "copy" and not db.copy_from then
      errors.raise("migration", "COPY ... FROM stdin needs a live PostgreSQL connection (not SQLite, not --sql): " ..
        "load the rows with INSERT statements or op.bulk_insert", { where = where })
    end
  end
  local count = 0
  for _, p in ipairs(pieces) do
    local ok, e = true, nil
    if p.kind == "copy" then
      local data = p.data
      ok, e = pcall(db.copy_from, db, p.text, function()
        local chunk = data
        data = nil
        return chunk ~= "" and chunk or nil
      end)
    elseif p.kind == "sql" then
      ok, e = pcall(db.exec, db, p.text)
    end
    if not ok then error(at(path .. ":" .. p.line, e), 0) end
    if p.kind ~= "meta" then count = count + 1 end
  end
  return count
end

return M
