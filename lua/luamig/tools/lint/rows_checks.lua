--- The CHECKs in `lint --rows`' rows (luamig.tools.lint.rows): the columns
--- that CHECKs link are chosen together, by the database itself, per row:
--- the row's own values where they meet the table's CHECKs on them, else
--- the first combination that does, changing as few columns as it can, each
--- to NULL if it may be, its default, its value of row g (for a column left
--- to its default), of row g + k*n (past the rows filled: still distinct;
--- k from 1 to the columns linked less one, so a < b < c fills) or, outside
--- a unique key, of row 1. A foreign key column keeps its parent's key.
--- Where none meets, the row keeps its own values and the server names the
--- CHECK. The server alone judges a CHECK naming a column it fills
--- (identity, generated, serial) or whose default the dialect cannot spell,
--- and CHECKs linking more than MAX columns (the combinations grow as
--- candidates^columns).
local M = {}

M.MAX = 3

-- The groups of columns the checks of table `t` link (each {columns (in table order), checks}), but for
-- checks the server alone judges.
local function groups(t, by_name, own)
  local found = {}
  for _, k in ipairs(t.checks or {}) do
    local ok = #k.columns > 0
    for _, col in ipairs(k.columns) do
      local c = by_name[col]
      ok = ok and c ~= nil and not c.auto and own(c) ~= nil
    end
    if ok then
      local g = { set = {}, checks = { k } }
      for _, col in ipairs(k.columns) do g.set[col] = true end
      local kept = {}
      for _, other in ipairs(found) do
        local shared = false
        for col in pairs(other.set) do shared = shared or g.set[col] ~= nil end
        if shared then
          for col in pairs(other.set) do g.set[col] = true end
          for _, x in ipairs(other.checks) do g.checks[#g.checks + 1] = x end
        else
          kept[#kept + 1] = other
        end
      end
      kept[#kept + 1] = g
      found = kept
    end
  end
  local out = {}
  for _, g in ipairs(found) do
    local cols = {}
    for _, c in ipairs(t.columns) do
      if g.set[c.name] then cols[#cols + 1] = c end
    end
    if #cols <= M.MAX then out[#out + 1] = { columns = cols, checks = g.checks } end
  end
  return out
end

---Replace, in `chosen` (column name -> {sql, distinct}, "null" or nil: left to
---its default), the value of each column that CHECKs of table `t` name by the
---expression that picks, per row, the values meeting them (see above).
---@param db luamig.Db
---@param t luamig.FillTable
---@param chosen table<string, table|string>
---@param n integer   the rows filled
---@param fixed table<string, boolean>  the columns that keep their value (foreign keys)
---@param in_key table<string, boolean> the columns in a unique key
function M.apply(db, t, chosen, n, fixed, in_key)
  local by_name = {}
  for _, c in ipairs(t.columns) do by_name[c.name] = c end
  local function own(c)
    local v = chosen[c.name]
    if type(v) == "table" then return v.sql end
    if v == "null" then return c.null_sql or "NULL" end
    return c.default_sql
  end
  for _, g in ipairs(groups(t, by_name, own)) do
    local from, changed, order, broken = {}, {}, {}, {}
    for i, c in ipairs(g.columns) do
      local q, mine = db:quote_ident(c.name), own(c)
      local cands, seen = { mine }, { [mine] = true }
      local function add(sql) if sql and not seen[sql] then cands[#cands + 1], seen[sql] = sql, true end end
      if not fixed[c.name] then
        if c.nullable then add(c.null_sql or "NULL") end
        add(c.default_sql)
        if c.value then
          add(c.value)
          for j = 1, math.max(1, #g.columns - 1) do
            add(("(SELECT %s FROM (SELECT g + %d AS g) AS later)"):format(c.value, j * n))
          end
          if not in_key[c.name] then add(("(SELECT %s FROM (SELECT 1 AS g) AS row1)"):format(c.value)) end
        end
      end
      local rows = {}
      for k, sql in ipairs(cands) do rows[k] = ("SELECT %d AS luamig_k%d, %s AS %s"):format(k - 1, i, sql, q) end
      from[i] = ("(%s) AS luamig_x%d"):format(table.concat(rows, " UNION ALL "), i)
      changed[i] = ("CASE WHEN luamig_k%d > 0 THEN 1 ELSE 0 END"):format(i)
      order[i] = "luamig_k" .. i
    end
    for i, k in ipairs(g.checks) do broken[i] = "NOT (" .. k.sql .. ")" end
    -- (NULL is no breach: a CHECK that is not false holds)
    local pick = ("FROM %s ORDER BY CASE WHEN %s THEN 1 ELSE 0 END, %s, %s LIMIT 1)"):format(
      table.concat(from, " CROSS JOIN "), table.concat(broken, " OR "), table.concat(changed, " + "),
      table.concat(order, ", "))
    for _, c in ipairs(g.columns) do
      if not fixed[c.name] then
        local v = chosen[c.name]
        chosen[c.name] = { sql = ("(SELECT %s %s"):format(db:quote_ident(c.name), pick),
          distinct = type(v) == "table" and v.distinct or nil }
      end
    end
  end
end

return M
