/* luamig.sqlite: the SQLite3 driver (Conn, Stmt, Cursor).
 *
 * Conn wraps a sqlite3 handle; Stmt a prepared statement that keeps its Conn
 * alive through a user value; Cursor resets a reusable Stmt when a rows()
 * loop ends early. Policy (transactions, introspection) lives in Lua. */
#include <limits.h>
#include <string.h>

#include <sqlite3.h>

#include "drivers.h"
#include "drv_util.h"

#define LM_SQLITE_CONN "luamig.sqlite.Conn"
#define LM_SQLITE_STMT "luamig.sqlite.Stmt"
#define LM_SQLITE_CURSOR "luamig.sqlite.Cursor"

typedef struct lm_conn {
  sqlite3 *db;         /* NULL once closed */
  lua_Integer sent;    /* statements db:pipeline ran (their numbers) */
  lua_Integer changes; /* rows they changed since the last pipeline_sync */
  int guard;           /* the runner's step transaction must stay open */
  int deny;            /* refuse BEGIN/COMMIT/ROLLBACK in the statement being prepared */
  char denied[16];     /* the one refused ("COMMIT"), for the message */
} lm_conn;

typedef struct lm_stmt {
  sqlite3_stmt *stmt; /* NULL once closed */
  lm_conn *conn;      /* its Conn, which its user value keeps alive */
  int temporary;      /* made by conn:rows(); finalized when the loop ends */
} lm_stmt;

/* ---------------------------------------------------------------- errors */

/* Symbolic name for a result code; the extended name when we know it. */
static const char *code_name(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE: return "SQLITE_CONSTRAINT_UNIQUE";
    case SQLITE_CONSTRAINT_PRIMARYKEY: return "SQLITE_CONSTRAINT_PRIMARYKEY";
    case SQLITE_CONSTRAINT_NOTNULL: return "SQLITE_CONSTRAINT_NOTNULL";
    case SQLITE_CONSTRAINT_FOREIGNKEY: return "SQLITE_CONSTRAINT_FOREIGNKEY";
    case SQLITE_CONSTRAINT_CHECK: return "SQLITE_CONSTRAINT_CHECK";
    case SQLITE_BUSY_SNAPSHOT: return "SQLITE_BUSY_SNAPSHOT";
    case SQLITE_READONLY_DBMOVED: return "SQLITE_READONLY_DBMOVED";
    default: break;
  }
  switch (rc & 0xff) {
    case SQLITE_ERROR: return "SQLITE_ERROR";
    case SQLITE_INTERNAL: return "SQLITE_INTERNAL";
    case SQLITE_PERM: return "SQLITE_PERM";
    case SQLITE_ABORT: return "SQLITE_ABORT";
    case SQLITE_BUSY: return "SQLITE_BUSY";
    case SQLITE_LOCKED: return "SQLITE_LOCKED";
    case SQLITE_NOMEM: return "SQLITE_NOMEM";
    case SQLITE_READONLY: return "SQLITE_READONLY";
    case SQLITE_INTERRUPT: return "SQLITE_INTERRUPT";
    case SQLITE_IOERR: return "SQLITE_IOERR";
    case SQLITE_CORRUPT: return "SQLITE_CORRUPT";
    case SQLITE_FULL: return "SQLITE_FULL";
    case SQLITE_CANTOPEN: return "SQLITE_CANTOPEN";
    case SQLITE_CONSTRAINT: return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH: return "SQLITE_MISMATCH";
    case SQLITE_MISUSE: return "SQLITE_MISUSE";
    case SQLITE_RANGE: return "SQLITE_RANGE";
    case SQLITE_NOTADB: return "SQLITE_NOTADB";
    default: return "SQLITE_ERROR";
  }
}

/* [] -> [err]; the connection's current error, for the given statement text. */
static void push_error(lua_State *L, sqlite3 *db, int rc, const char *sql) {
  lm_db_error e = {"sqlite", code_name(rc), db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), NULL, NULL, sql};
  lm_push_db_error(L, &e);
}

/* ---------------------------------------------------------------- handles */

static lm_conn *check_conn(lua_State *L, int idx) {
  lm_conn *c = lm_check_self(L, idx, LM_SQLITE_CONN);
  if (!c->db) lm_misuse(L, "connection is closed");
  return c;
}

/* The Stmt at idx, open, whose Conn is open too. */
static lm_stmt *check_stmt(lua_State *L, int idx) {
  lm_stmt *s = lm_check_self(L, idx, LM_SQLITE_STMT);
  if (!s->stmt) lm_misuse(L, "statement is closed");
  if (!s->conn->db) lm_misuse(L, "connection is closed");
  return s;
}

static void stmt_release(lm_stmt *s) {
  if (s->stmt) sqlite3_finalize(s->stmt);
  s->stmt = NULL;
}

/* [stmt] -> []; idempotent: __gc, __close and close. */
static int stmt_close(lua_State *L) {
  stmt_release(luaL_checkudata(L, 1, LM_SQLITE_STMT));
  return 0;
}

/* [conn] -> []; idempotent: __gc, __close and close. Open statements keep
 * the handle alive as a zombie until they are finalized (sqlite3_close_v2). */
static int conn_close(lua_State *L) {
  lm_conn *c = luaL_checkudata(L, 1, LM_SQLITE_CONN);
  if (c->db) sqlite3_close_v2(c->db);
  c->db = NULL;
  return 0;
}

/* [conn(at conn_idx)] -> [stmt]; prepares one statement of sql. On return
 * *tail points past it. The Stmt holds NULL if sql had only whitespace or
 * comments. Raises a db error on failure. */
static lm_stmt *push_prepared(lua_State *L, int conn_idx, lm_conn *c, const char *sql, int len, const char **tail) {
  int rc;
  lm_stmt *s = lua_newuserdatauv(L, sizeof *s, 1);
  s->stmt = NULL; /* closed until prepared */
  s->conn = c;
  s->temporary = 0;
  luaL_setmetatable(L, LM_SQLITE_STMT);
  lua_pushvalue(L, conn_idx); /* keep the Conn alive */
  lua_setiuservalue(L, -2, 1);
  c->deny = c->guard;
  c->denied[0] = '\0';
  rc = sqlite3_prepare_v2(c->db, sql, len, &s->stmt, tail);
  c->deny = 0;
  if (rc != SQLITE_OK && c->denied[0]) {
    lm_misuse(L, LM_TX_ENDED, c->denied, "would end", "so it was refused");
  } else if (rc != SQLITE_OK) {
    push_error(L, c->db, rc, sql);
    lua_error(L);
  }
  return s;
}

/* ---------------------------------------------------------------- values */

/* Binds the n stack values from index first to stmt by position, replacing
 * every earlier binding (n must be the statement's count). Raises on a count
 * mismatch or a value that has no SQL form before binding any, and clears
 * the bindings if SQLite refuses one. `copy` makes SQLite copy strings
 * (needed when the statement outlives the call, as rows() does). */
static void bind_params(lua_State *L, sqlite3 *db, sqlite3_stmt *stmt, int first, int n, int copy) {
  int i, rc = SQLITE_OK;
  int expected = sqlite3_bind_parameter_count(stmt);
  lm_check_param_count(L, expected, n);
  for (i = 1; i <= n; i++) lm_check_bindable(L, first + i - 1, i);
  for (i = 1; i <= n && rc == SQLITE_OK; i++) {
    int idx = first + i - 1;
    switch (lua_type(L, idx)) {
      case LUA_TNIL: rc = sqlite3_bind_null(stmt, i); break;
      case LUA_TBOOLEAN: rc = sqlite3_bind_int(stmt, i, lua_toboolean(L, idx)); break;
      case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
          rc = sqlite3_bind_int64(stmt, i, (sqlite3_int64)lua_tointeger(L, idx));
        else
          rc = sqlite3_bind_double(stmt, i, lua_tonumber(L, idx));
        break;
      case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        rc = sqlite3_bind_text64(stmt, i, s, len, copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8);
        break;
      }
      default: rc = sqlite3_bind_null(stmt, i); break; /* luamig.null */
    }
  }
  if (rc != SQLITE_OK) {
    sqlite3_clear_bindings(stmt);
    push_error(L, db, rc, sqlite3_sql(stmt));
    lua_error(L);
  }
}

/* [] -> [value]; column i of the current row (nil for NULL). */
static void push_column(lua_State *L, sqlite3_stmt *stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_NULL: lua_pushnil(L); break;
    case SQLITE_INTEGER: lua_pushinteger(L, (lua_Integer)sqlite3_column_int64(stmt, i)); break;
    case SQLITE_FLOAT: lua_pushnumber(L, sqlite3_column_double(stmt, i)); break;
    case SQLITE_BLOB: {
      const void *p = sqlite3_column_blob(stmt, i);
      lua_pushlstring(L, p ? p : "", (size_t)sqlite3_column_bytes(stmt, i));
      break;
    }
    default:
      lua_pushlstring(L, (const char *)sqlite3_column_text(stmt, i), (size_t)sqlite3_column_bytes(stmt, i));
  }
}

/* [] -> [names]; stmt's column names as Lua strings, by position: made once
 * per statement run, not per row. */
static void push_names(lua_State *L, sqlite3_stmt *stmt) {
  int i, n = sqlite3_column_count(stmt);
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, sqlite3_column_name(stmt, i));
    lua_rawseti(L, -2, i + 1);
  }
}

/* [] -> [row]; the current row keyed by column name (from the names table at
 * index `names`, push_names), NULL columns absent. */
static void push_row(lua_State *L, sqlite3_stmt *stmt, int names) {
  int i, n = sqlite3_column_count(stmt);
  lua_createtable(L, 0, n);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, names, i + 1);
    push_column(L, stmt, i);
    lua_rawset(L, -3);
  }
}

/* Fails with the statement's error after resetting it (the statement itself
 * stays usable). */
static int raise_step_error(lua_State *L, sqlite3 *db, sqlite3_stmt *stmt, int rc) {
  push_error(L, db, rc, sqlite3_sql(stmt));
  sqlite3_reset(stmt);
  return lua_error(L);
}

/* Steps to completion, discarding rows; returns rows changed. Raises on error. */
static sqlite3_int64 run_to_done(lua_State *L, sqlite3 *db, sqlite3_stmt *stmt) {
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {}
  if (rc != SQLITE_DONE) raise_step_error(L, db, stmt, rc);
  sqlite3_reset(stmt);
  return sqlite3_stmt_readonly(stmt) ? 0 : sqlite3_changes64(db);
}

/* [] -> [rows]; all rows of stmt (already bound). */
static void push_all_rows(lua_State *L, sqlite3 *db, sqlite3_stmt *stmt) {
  int rc, names;
  lua_Integer n = 0;
  push_names(L, stmt);
  names = lua_gettop(L);
  lua_newtable(L);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    push_row(L, stmt, names);
    lua_rawseti(L, -2, ++n);
  }
  if (rc != SQLITE_DONE) raise_step_error(L, db, stmt, rc);
  sqlite3_reset(stmt);
  lua_remove(L, names);
}

/* ---------------------------------------------------------------- iteration */

/* upvalue 1: the Stmt, 2: its column names (push_names). [] -> [row] or
 * [nil] when done; a temporary Stmt is finalized at the end, a reusable one
 * reset. */
static int rows_next(lua_State *L) {
  lm_stmt *s = lua_touserdata(L, lua_upvalueindex(1));
  lm_conn *c = s->conn;
  int rc;
  if (!s->stmt) return 0; /* closed: the loop is over */
  if (!c->db) return lm_misuse(L, "connection is closed");
  rc = sqlite3_step(s->stmt);
  if (rc == SQLITE_ROW) {
    push_row(L, s->stmt, lua_upvalueindex(2));
    return 1;
  }
  if (rc != SQLITE_DONE) {
    push_error(L, c->db, rc, sqlite3_sql(s->stmt));
    if (s->temporary) stmt_release(s); else sqlite3_reset(s->stmt);
    return lua_error(L);
  }
  if (s->temporary) stmt_release(s); else sqlite3_reset(s->stmt);
  return 0;
}

/* [cursor] -> []; resets the reusable Stmt a rows() loop left early. */
static int cursor_close(lua_State *L) {
  lm_stmt *s;
  lua_getiuservalue(L, 1, 1);
  s = luaL_testudata(L, -1, LM_SQLITE_STMT);
  if (s && s->stmt) sqlite3_reset(s->stmt);
  return 0;
}

/* [stmt at idx] -> [iter, nil, nil, closer]; closer is the Stmt itself when
 * temporary (its __close finalizes) or a Cursor that resets it. */
static int push_rows_loop(lua_State *L, int idx, lm_stmt *s) {
  lua_pushvalue(L, idx);
  push_names(L, s->stmt);
  lua_pushcclosure(L, rows_next, 2);
  lua_pushnil(L);
  lua_pushnil(L);
  if (s->temporary) {
    lua_pushvalue(L, idx);
  } else {
    lua_newuserdatauv(L, 0, 1);
    luaL_setmetatable(L, LM_SQLITE_CURSOR);
    lua_pushvalue(L, idx);
    lua_setiuservalue(L, -2, 1);
  }
  return 4;
}

/* ---------------------------------------------------------------- Conn */

/* [conn, sql, params...] -> [changes]; without params sql may hold several
 * statements; with params it must hold exactly one. */
static int conn_exec(lua_State *L) {
  lm_conn *c = check_conn(L, 1);
  size_t len;
  const char *sql = lm_check_sql(L, 2, &len), *tail = sql, *end = sql + len;
  int nparams = lua_gettop(L) - 2;
  sqlite3_int64 changes = 0;
  while (tail < end) {
    const char *start = tail;
    int top = lua_gettop(L);
    lm_stmt *s = push_prepared(L, 1, c, start, (int)(end - start), &tail);
    if (!s->stmt) break; /* only whitespace or comments left */
    if (nparams == 0 && sqlite3_bind_parameter_count(s->stmt) > 0) {
      int expected = sqlite3_bind_parameter_count(s->stmt);
      stmt_release(s);
      lm_check_param_count(L, expected, 0);
    }
    if (nparams > 0) {
      if (strspn(tail, " \t\r\n;") != (size_t)(end - tail)) {
        stmt_release(s);
        return lm_misuse(L, "exec with parameters takes a single statement");
      }
      bind_params(L, c->db, s->stmt, 3, nparams, 0);
    }
    changes += run_to_done(L, c->db, s->stmt);
    stmt_release(s);
    lua_settop(L, top);
  }
  lua_pushinteger(L, (lua_Integer)changes);
  return 1;
}

/* Prepares a temporary Stmt for sql and binds the params after it.
 * [conn, sql, params...] -> [conn, sql, params..., stmt] */
static lm_stmt *prepare_bound(lua_State *L, lm_conn *c, int copy) {
  size_t len;
  const char *sql = lm_check_sql(L, 2, &len), *tail;
  int nparams = lua_gettop(L) - 2;
  lm_stmt *s = push_prepared(L, 1, c, sql, (int)len, &tail);
  s->temporary = 1;
  if (!s->stmt) lm_misuse(L, "no SQL statement given");
  if (strspn(tail, " \t\r\n;") != strlen(tail)) lm_misuse(L, "expected a single SQL statement");
  bind_params(L, c->db, s->stmt, 3, nparams, copy);
  return s;
}

/* [conn, sql, params...] -> [rows] */
static int conn_query(lua_State *L) {
  lm_conn *c = check_conn(L, 1);
  lm_stmt *s = prepare_bound(L, c, 0);
  push_all_rows(L, c->db, s->stmt);
  stmt_release(s);
  return 1;
}

/* [conn, sql, params...] -> [value]; first column of the first row, or nil. */
static int conn_scalar(lua_State *L) {
  lm_conn *c = check_conn(L, 1);
  lm_stmt *s = prepare_bound(L, c, 0);
  int rc = sqlite3_step(s->stmt);
  if (rc == SQLITE_ROW && sqlite3_column_count(s->stmt) > 0) {
    push_column(L, s->stmt, 0);
  } else {
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) raise_step_error(L, c->db, s->stmt, rc);
    lua_pushnil(L);
  }
  stmt_release(s);
  return 1;
}

/* [conn, sql, params...] -> [iter, nil, nil, closer]; streams rows. */
static int conn_rows(lua_State *L) {
  lm_conn *c = check_conn(L, 1);
  lm_stmt *s = prepare_bound(L, c, 1);
  return push_rows_loop(L, lua_gettop(L), s);
}

/* [conn, sql] -> [stmt] */
static int conn_prepare(lua_State *L) {
  lm_conn *c = check_conn(L, 1);
  size_t len;
  const char *sql = lm_check_sql(L, 2, &len), *tail;
  lm_stmt *s = push_prepared(L, 1, c, sql, (int)len, &tail);
  if (!s->stmt) return lm_misuse(L, "no SQL statement given");
  if (strspn(tail, " \t\r\n;") != strlen(tail)) {
    stmt_release(s);
    return lm_misuse(L, "prepare takes a single SQL statement");
  }
  return 1;
}

/* The authorizer: while a migration's statement is prepared under the
 * guard, transaction control is refused, so nothing commits half-way. */
static int authorize(void *arg, int action, const char *what, const char *a2, const char *a3, const char *a4) {
  lm_conn *c = arg;
  (void)a2, (void)a3, (void)a4;
  if (!c->deny || action != SQLITE_TRANSACTION) return SQLITE_OK;
  strncpy(c->denied, what ? what : "BEGIN", sizeof c->denied - 1);
  c->denied[sizeof c->denied - 1] = '\0';
  return SQLITE_DENY;
}

/* [conn, on] -> [was]; the transaction guard (lm_set_guarded). */
static int conn_set_guarded(lua_State *L) {
  lm_conn *c = check_conn(L, 1);
  return lm_set_guarded(L, &c->guard);
}

/* [conn] -> [boolean]; true inside BEGIN ... COMMIT. */
static int conn_in_transaction(lua_State *L) {
  lm_conn *c = check_conn(L, 1);
  lua_pushboolean(L, !sqlite3_get_autocommit(c->db));
  return 1;
}

/* [conn] -> [integer]; rowid of the last successful INSERT. */
static int conn_last_insert_id(lua_State *L) {
  lm_conn *c = check_conn(L, 1);
  lua_pushinteger(L, (lua_Integer)sqlite3_last_insert_rowid(c->db));
  return 1;
}

/* [conn] -> [boolean] */
static int conn_is_closed(lua_State *L) {
  lm_conn *c = luaL_checkudata(L, 1, LM_SQLITE_CONN);
  lua_pushboolean(L, c->db == NULL);
  return 1;
}

/* ---------------------------------------------------------------- Stmt */

/* [stmt, params...] -> [changes] */
static int stmt_exec(lua_State *L) {
  lm_stmt *s = check_stmt(L, 1);
  sqlite3 *db = sqlite3_db_handle(s->stmt);
  sqlite3_reset(s->stmt);
  bind_params(L, db, s->stmt, 2, lua_gettop(L) - 1, 0);
  lua_pushinteger(L, (lua_Integer)run_to_done(L, db, s->stmt));
  sqlite3_clear_bindings(s->stmt);
  return 1;
}

/* [stmt, params...] -> [rows] */
static int stmt_query(lua_State *L) {
  lm_stmt *s = check_stmt(L, 1);
  sqlite3 *db = sqlite3_db_handle(s->stmt);
  sqlite3_reset(s->stmt);
  bind_params(L, db, s->stmt, 2, lua_gettop(L) - 1, 0);
  push_all_rows(L, db, s->stmt);
  sqlite3_clear_bindings(s->stmt);
  return 1;
}

/* [stmt, params...] -> [iter, nil, nil, cursor] */
static int stmt_rows(lua_State *L) {
  lm_stmt *s = check_stmt(L, 1);
  sqlite3_reset(s->stmt);
  bind_params(L, sqlite3_db_handle(s->stmt), s->stmt, 2, lua_gettop(L) - 1, 1);
  return push_rows_loop(L, 1, s);
}

/* [stmt] -> [sql] */
static int stmt_sql(lua_State *L) {
  lm_stmt *s = check_stmt(L, 1);
  lua_pushstring(L, sqlite3_sql(s->stmt));
  return 1;
}

/* ---------------------------------------------------------------- pipeline */

/* [conn, stmt or sql, params...] -> [number]; db:pipeline's send on SQLite:
 * the statement runs at once (an in-process call has no round trip to
 * save). A failure names the statement and its parameters as on PostgreSQL. */
static int conn_pipeline_send(lua_State *L) {
  lm_conn *c = check_conn(L, 1);
  int n = lua_gettop(L) - 2;
  lm_stmt *s = luaL_testudata(L, 2, LM_SQLITE_STMT);
  if (!s && lua_type(L, 2) != LUA_TSTRING)
    return lm_misuse(L, "pipeline: exec takes a statement (db:prepare) or SQL text, got a %s", luaL_typename(L, 2));
  if (s && s->stmt && sqlite3_db_handle(s->stmt) != c->db)
    return lm_misuse(L, "pipeline: the statement was prepared on another connection");
  int i, first = s ? 2 : 1; /* stmt:exec(params) or conn:exec(sql, params) */
  lua_pushcfunction(L, s ? stmt_exec : conn_exec);
  for (i = first; i <= n + 2; i++) lua_pushvalue(L, i);
  if (lua_pcall(L, n + 3 - first, 1, 0) != LUA_OK) {
    if (lua_istable(L, -1)) {
      lua_pushstring(L, s ? (s->stmt ? sqlite3_sql(s->stmt) : "") : lua_tostring(L, 2));
      lua_newtable(L);
      lm_pipeline_entry(L, -1, -2, 3, n, c->sent + 1);
      lm_pipeline_note(L, -3, -1);
      lua_pop(L, 2);
    }
    return lua_error(L);
  }
  c->changes += lua_tointeger(L, -1);
  lua_pushinteger(L, ++c->sent);
  return 1;
}

/* [conn] -> [changes]; the rows db:pipeline's statements changed since the last call. */
static int conn_pipeline_sync(lua_State *L) {
  lm_conn *c = check_conn(L, 1);
  lua_pushinteger(L, c->changes);
  c->changes = 0;
  return 1;
}

/* ---------------------------------------------------------------- module */

/* [path, opts?] -> [conn]. opts: busy_timeout_ms (30000), foreign_keys (true),
 * create (true; false: a missing file is an error, not a new empty database),
 * readonly (false; true: opened read-only, nothing created). */
static int sqlite_open(lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  lua_Integer timeout = 30000;
  int foreign_keys = 1, create = 1, readonly = 0, rc;
  lm_conn *c;
  /* SQLite would stop at the NUL: "" is a throwaway temporary database */
  if (strlen(path) != len) return luaL_argerror(L, 1, "path contains a NUL byte");
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    if (lua_getfield(L, 2, "busy_timeout_ms") != LUA_TNIL) {
      timeout = luaL_checkinteger(L, -1);
      luaL_argcheck(L, timeout >= 0 && timeout <= INT_MAX, 2, "busy_timeout_ms out of range");
    }
    if (lua_getfield(L, 2, "foreign_keys") != LUA_TNIL) foreign_keys = lua_toboolean(L, -1);
    if (lua_getfield(L, 2, "create") != LUA_TNIL) create = lua_toboolean(L, -1);
    if (lua_getfield(L, 2, "readonly") != LUA_TNIL) readonly = lua_toboolean(L, -1);
    lua_pop(L, 4);
  }
  c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c); /* closed until opened; nothing sent */
  luaL_setmetatable(L, LM_SQLITE_CONN);
  /* NOMUTEX: a connection belongs to one Lua state, used by one thread at a
   * time, so SQLite need not lock around every call (11% of a per-row loop). */
  rc = sqlite3_open_v2(path, &c->db,
                       (readonly ? SQLITE_OPEN_READONLY
                                 : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)) |
                           SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                       NULL);
  if (rc == SQLITE_OK) rc = sqlite3_extended_result_codes(c->db, 1);
  if (rc == SQLITE_OK) rc = sqlite3_busy_timeout(c->db, (int)timeout);
  if (rc == SQLITE_OK) rc = sqlite3_set_authorizer(c->db, authorize, c);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(c->db, foreign_keys ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
  /* Opening is lazy: read the schema now so a non-database file fails here. */
  if (rc == SQLITE_OK) rc = sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    const char *msg = c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
    lm_db_error e = {"sqlite", code_name(rc), NULL, NULL, NULL, NULL};
    lua_pushfstring(L, "cannot open database \"%s\": %s", path, msg);
    e.message = lua_tostring(L, -1);
    lm_push_db_error(L, &e);
    sqlite3_close_v2(c->db);
    c->db = NULL;
    return lua_error(L);
  }
  return 1;
}

static const luaL_Reg conn_methods[] = {
  {"exec", conn_exec},
  {"query", conn_query},
  {"rows", conn_rows},
  {"scalar", conn_scalar},
  {"prepare", conn_prepare},
  {"in_transaction", conn_in_transaction},
  {"set_guarded", conn_set_guarded},
  {"last_insert_id", conn_last_insert_id},
  {"pipeline_send", conn_pipeline_send},
  {"pipeline_sync", conn_pipeline_sync},
  {"is_closed", conn_is_closed},
  {"close", conn_close},
  {NULL, NULL}};

static const luaL_Reg stmt_methods[] = {
  {"exec", stmt_exec},
  {"query", stmt_query},
  {"rows", stmt_rows},
  {"sql", stmt_sql},
  {"close", stmt_close},
  {NULL, NULL}};

/* [] -> [module]; module.Conn is the Conn method table, which Lua extends. */
int luaopen_luamig_sqlite(lua_State *L) {
  lm_define_type(L, LM_SQLITE_CONN, conn_methods, conn_close);
  lm_define_type(L, LM_SQLITE_STMT, stmt_methods, stmt_close);
  lm_define_type(L, LM_SQLITE_CURSOR, NULL, cursor_close);
  luaL_getmetatable(L, LM_SQLITE_CONN);
  lua_getfield(L, -1, "__index");
  lua_pushliteral(L, "sqlite");
  lua_setfield(L, -2, "dialect");
  lua_pushliteral(L, "sqlite");
  lua_setfield(L, -2, "driver");
  lua_remove(L, -2);
  lua_newtable(L);
  lua_insert(L, -2);
  lua_setfield(L, -2, "Conn");
  lua_pushcfunction(L, sqlite_open);
  lua_setfield(L, -2, "open");
  lua_pushstring(L, sqlite3_libversion());
  lua_setfield(L, -2, "version");
  return 1;
}
