--- Batch sizes and statement parameter limits, named once.
local M = {}

---Rows a backfill reads and writes per batch unless its spec says otherwise.
M.BACKFILL_BATCH_ROWS = 1000

---Rows in one multi-row INSERT (db_methods.insert_rows).
M.INSERT_ROWS = 500

---Parameters in one multi-row INSERT: SQLite's SQLITE_MAX_VARIABLE_NUMBER is
---32,766, PostgreSQL's protocol limit 65,535.
M.INSERT_PARAMS = 30000

return M
