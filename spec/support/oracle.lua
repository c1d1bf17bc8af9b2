--- What the catalog oracle specs share: a change applied and snapshotted on
--- one connection, and the verdict on one change of a corpus.
local connect = require "luamig.db.connect"
local introspect = require "luamig.schema.introspect"

local M = {}

---Run `sql` (if any) on the database at `url`, then snapshot it on the same
---connection (closed either way).
---@param url string
---@param sql string?
---@return table snapshot
function M.change_and_snapshot(url, sql)
  local db = connect.open(url, { version_table = "luamig_version", foreign_keys = false })
  local ok, s = pcall(function()
    if sql then db:exec(sql) end
    return introspect.snapshot(db)
  end)
  db:close()
  if not ok then error(s, 0) end
  return s
end

---Judge change `c` of a corpus: luamig's diff between snapshots `before`
---and `after` must be empty exactly when the oracle's texts are equal (and
---then `c.same` must be set), and match `c.says` otherwise. Returns a line
---saying what is wrong, or nil.
---@return string?
function M.verdict(c, before, after, before_oracle, after_oracle)
  local lines = introspect.diff(before, after)
  local same = before_oracle == after_oracle
  local text = table.concat(lines, "\n")
  if same ~= (#lines == 0) or same ~= (c.same == true) then
    return ("%s: the oracle says %s, luamig says: %s"):format(c[1], same and "unchanged" or "changed",
      #lines == 0 and "nothing" or text)
  elseif c.says and not text:find(c.says) then
    return ("%s: expected a line matching %q, got:\n  %s"):format(c[1], c.says, text)
  end
end

return M
