--- The enum types SQLite's enum ops (luamig.dialect.sqlite.enums) keep in
--- the luamig_enums table, read back: what the types and the catalog need
--- without the ops (which rewrite tables).
local M = {}

M.TABLE = "luamig_enums"

---The stored "a\nb" form as a list.
---@param text string
---@return string[]
function M.split(text)
  local out = {}
  for v in (text .. "\n"):gmatch("(.-)\n") do out[#out + 1] = v end
  return out
end

---The values of enum `name`, or nil. Offline (`--sql`), the recorder keeps
---the enums created so far in db.offline_enums.
---@return string[]?
function M.values(db, name)
  if db.offline_enums then return db.offline_enums[name] end
  if not db:has_table(M.TABLE) then return nil end
  local text = db:scalar("SELECT vals FROM " .. M.TABLE .. " WHERE name = ?", name)
  if not text then return nil end
  return M.split(text)
end

return M
