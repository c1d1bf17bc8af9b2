/* luamig.pg: the PostgreSQL driver over libpq (Conn, Stmt, Cursor).
 *
 * Same interface as luamig.sqlite. Parameters always go through the extended
 * protocol; `?` placeholders are rewritten to $n (pg_values.c).
 * rows() streams through a server-side cursor fetched in batches, so other
 * statements can run on the connection while a loop is open (the backfill
 * pattern) and client memory stays bounded; outside a transaction the cursor
 * is WITH HOLD (the server keeps the result until the loop ends). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "drv_util.h"
#include "pg_values.h"
#include "pq_load.h"

#define LM_PG_CONN "luamig.pg.Conn"
#define LM_PG_STMT "luamig.pg.Stmt"
#define LM_PG_CURSOR "luamig.pg.Cursor"
#define FETCH_BATCH 500

typedef struct lm_pg {
  PGconn *conn;      /* NULL once closed */
  unsigned next_id;  /* names prepared statements and cursors */
} lm_pg;

typedef struct lm_pgstmt {
  char name[32];     /* "" once closed */
  int nparams;
} lm_pgstmt;        /* uservalues: 1 Conn, 2 rewritten SQL */

typedef struct lm_pgcursor {
  char name[32];     /* open server cursor; "" once closed */
  int done;          /* no more batches to fetch */
  int pos;           /* next row in the current batch (1-based) */
} lm_pgcursor;      /* uservalues: 1 Conn, 2 current batch (array of rows) */

/* ---------------------------------------------------------------- errors */

/* [] -> [err]; the error of a failed result (or of the connection). */
static void push_result_error(lua_State *L, PGconn *conn, const PGresult *res, const char *sql) {
  const char *state = res ? lm_pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = res ? lm_pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  lm_db_error e = {"pg", state ? state : (lm_pq.PQstatus(conn) == CONNECTION_BAD ? "08006" : "XX000"),
                   msg ? msg : lm_pq.PQerrorMessage(conn),
                   res ? lm_pq.PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL,
                   res ? lm_pq.PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL, sql};
  char *trimmed = NULL;
  size_t n = strlen(e.message);
  if (n > 0 && e.message[n - 1] == '\n' && (trimmed = malloc(n))) {
    memcpy(trimmed, e.message, n - 1);
    trimmed[n - 1] = '\0';
    e.message = trimmed;
  }
  lm_push_db_error(L, &e);
  free(trimmed);
}

/* Raises for a result that did not succeed (the result is cleared). */
static void check_result(lua_State *L, PGconn *conn, PGresult *res, const char *sql) {
  ExecStatusType st = res ? lm_pq.PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return;
  push_result_error(L, conn, res, sql);
  lm_pq.PQclear(res);
  lua_error(L);
}

/* ---------------------------------------------------------------- handles */

static lm_pg *check_conn(lua_State *L, int idx) {
  lm_pg *c = luaL_checkudata(L, idx, LM_PG_CONN);
  if (!c->conn) lm_misuse(L, "connection is closed");
  return c;
}

/* The Stmt at idx, open, and its open Conn. */
static lm_pgstmt *check_stmt(lua_State *L, int idx, lm_pg **conn) {
  lm_pgstmt *s = luaL_checkudata(L, idx, LM_PG_STMT);
  if (!s->name[0]) lm_misuse(L, "statement is closed");
  lua_getiuservalue(L, idx, 1);
  *conn = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (!*conn || !(*conn)->conn) lm_misuse(L, "connection is closed");
  return s;
}

/* Runs a statement of our own (DEALLOCATE, CLOSE) when the connection can
 * take it; failures are ignored (the session ends them anyway). */
static void run_quietly(PGconn *conn, const char *sql) {
  PGTransactionStatusType ts = lm_pq.PQtransactionStatus(conn);
  if (ts == PQTRANS_IDLE || ts == PQTRANS_INTRANS) lm_pq.PQclear(lm_pq.PQexec(conn, sql));
}

/* [stmt] -> []; idempotent: __gc, __close and close. */
static int stmt_close(lua_State *L) {
  lm_pgstmt *s = luaL_checkudata(L, 1, LM_PG_STMT);
  lm_pg *c;
  char sql[64];
  if (!s->name[0]) return 0;
  lua_getiuservalue(L, 1, 1);
  c = lua_touserdata(L, -1);
  if (c && c->conn) {
    snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
    run_quietly(c->conn, sql);
  }
  s->name[0] = '\0';
  return 0;
}

/* [conn] -> []; idempotent: __gc, __close and close. */
static int conn_close(lua_State *L) {
  lm_pg *c = luaL_checkudata(L, 1, LM_PG_CONN);
  if (c->conn) lm_pq.PQfinish(c->conn);
  c->conn = NULL;
  return 0;
}

/* ---------------------------------------------------------------- running */

/* Runs sql (already rewritten) with the n values at first; returns the
 * successful result (caller clears) or raises. */
static PGresult *run(lua_State *L, lm_pg *c, const char *sql, int first, int n, int expected) {
  int top = lua_gettop(L);
  lm_pg_params p;
  PGresult *res;
  if (n != expected)
    lm_misuse(L, "statement takes %d parameter%s, %d given", expected, expected == 1 ? "" : "s", n);
  lm_pg_build_params(L, first, n, &p);
  res = lm_pq.PQexecParams(c->conn, sql, n, p.types, p.values, p.lengths, p.formats, 0);
  lua_settop(L, top);
  check_result(L, c->conn, res, sql);
  return res;
}

/* Rows changed by a command result. */
static lua_Integer changes(PGresult *res) {
  const char *t = lm_pq.PQcmdTuples(res);
  return t && *t ? (lua_Integer)strtoll(t, NULL, 10) : 0;
}

/* [conn, sql, params...] -> [conn, sql, params..., sql'] ; rewrites sql. */
static const char *rewritten(lua_State *L, int *count) {
  size_t len;
  const char *sql = luaL_checklstring(L, 2, &len);
  lm_pg_rewrite_placeholders(L, sql, len, count);
  return lua_tostring(L, -1);
}

/* [conn, sql, params...] -> [changes]. Without params the script may hold
 * several statements (changes are summed); with params exactly one. */
static int conn_exec(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  int nparams = lua_gettop(L) - 2, count;
  lua_Integer total = 0;
  PGresult *res;
  if (nparams == 0) {
    const char *sql = luaL_checkstring(L, 2);
    if (!lm_pq.PQsendQuery(c->conn, sql)) {
      push_result_error(L, c->conn, NULL, sql);
      return lua_error(L);
    }
    /* Read every result; raise the first error after draining the rest. */
    PGresult *failed = NULL;
    while ((res = lm_pq.PQgetResult(c->conn)) != NULL) {
      ExecStatusType st = lm_pq.PQresultStatus(res);
      if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR) {
        if (!failed) failed = res; else lm_pq.PQclear(res);
        continue;
      }
      total += changes(res);
      lm_pq.PQclear(res);
    }
    if (failed) check_result(L, c->conn, failed, sql);
    lua_pushinteger(L, total);
    return 1;
  }
  const char *sql = rewritten(L, &count);
  res = run(L, c, sql, 3, nparams, count);
  lua_pushinteger(L, changes(res));
  lm_pq.PQclear(res);
  return 1;
}

/* Reads and clears what is left of a command's results. */
static void drain(PGconn *conn) {
  PGresult *res;
  while ((res = lm_pq.PQgetResult(conn)) != NULL) lm_pq.PQclear(res);
}

/* [conn, sql, next] -> [rows]; runs a `COPY ... FROM STDIN` statement and
 * sends the strings next() returns (COPY text format) until it returns nil.
 * An error in next() aborts the copy, then is re-raised. */
static int conn_copy_from(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  const char *sql = luaL_checkstring(L, 2);
  PGresult *res;
  lua_Integer rows;
  luaL_checktype(L, 3, LUA_TFUNCTION);
  res = lm_pq.PQexec(c->conn, sql);
  if (lm_pq.PQresultStatus(res) != PGRES_COPY_IN) {
    check_result(L, c->conn, res, sql); /* raises for a failed statement */
    lm_pq.PQclear(res);
    drain(c->conn);
    return lm_misuse(L, "copy_from needs a COPY ... FROM STDIN statement");
  }
  lm_pq.PQclear(res);
  for (;;) {
    size_t len;
    const char *chunk;
    lua_pushvalue(L, 3);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
      lm_pq.PQputCopyEnd(c->conn, "luamig: the row source failed");
      drain(c->conn);
      return lua_error(L);
    }
    if (lua_isnil(L, -1)) break;
    chunk = lua_tolstring(L, -1, &len);
    if (!chunk) {
      lm_pq.PQputCopyEnd(c->conn, "luamig: the row source returned a non-string");
      drain(c->conn);
      return lm_misuse(L, "copy_from: next() must return strings (or nil at the end)");
    }
    if (lm_pq.PQputCopyData(c->conn, chunk, (int)len) != 1) {
      push_result_error(L, c->conn, NULL, sql);
      return lua_error(L);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (lm_pq.PQputCopyEnd(c->conn, NULL) != 1) {
    push_result_error(L, c->conn, NULL, sql);
    return lua_error(L);
  }
  res = lm_pq.PQgetResult(c->conn);
  if (lm_pq.PQresultStatus(res) != PGRES_COMMAND_OK) drain(c->conn); /* leave the connection usable */
  check_result(L, c->conn, res, sql);
  rows = changes(res);
  lm_pq.PQclear(res);
  drain(c->conn);
  lua_pushinteger(L, rows);
  return 1;
}

/* [conn, sql, params...] -> [rows] */
static int conn_query(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  int count;
  const char *sql = rewritten(L, &count);
  PGresult *res = run(L, c, sql, 3, lua_gettop(L) - 3, count);
  lm_pg_push_rows(L, res);
  lm_pq.PQclear(res);
  return 1;
}

/* [conn, sql, params...] -> [value]; first column of the first row, or nil. */
static int conn_scalar(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  int count;
  const char *sql = rewritten(L, &count);
  PGresult *res = run(L, c, sql, 3, lua_gettop(L) - 3, count);
  if (lm_pq.PQntuples(res) > 0 && lm_pq.PQnfields(res) > 0 && !lm_pq.PQgetisnull(res, 0, 0)) lm_pg_push_value(L, res, 0, 0);
  else lua_pushnil(L);
  lm_pq.PQclear(res);
  return 1;
}

/* ---------------------------------------------------------------- cursors */

/* upvalue 1: the Cursor. [] -> [row] or [nil] at the end. */
static int cursor_next(lua_State *L) {
  lm_pgcursor *k = lua_touserdata(L, lua_upvalueindex(1));
  lm_pg *c;
  for (;;) {
    lua_getiuservalue(L, lua_upvalueindex(1), 2);
    if (lua_rawgeti(L, -1, k->pos) != LUA_TNIL) {
      k->pos++;
      return 1;
    }
    lua_pop(L, 2);
    if (k->done) return 0;
    lua_getiuservalue(L, lua_upvalueindex(1), 1);
    c = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!c->conn) return lm_misuse(L, "connection is closed");
    {
      char sql[64];
      PGresult *res;
      snprintf(sql, sizeof sql, "FETCH %d FROM %s", FETCH_BATCH, k->name);
      res = lm_pq.PQexec(c->conn, sql);
      check_result(L, c->conn, res, sql);
      if (lm_pq.PQntuples(res) < FETCH_BATCH) k->done = 1;
      lm_pg_push_rows(L, res);
      lm_pq.PQclear(res);
      if (k->done) { /* the last batch: free the server cursor now */
        snprintf(sql, sizeof sql, "CLOSE %s", k->name);
        k->name[0] = '\0';
        res = lm_pq.PQexec(c->conn, sql);
        check_result(L, c->conn, res, sql);
        lm_pq.PQclear(res);
      }
    }
    lua_setiuservalue(L, lua_upvalueindex(1), 2);
    k->pos = 1;
  }
}

/* [cursor] -> []; closes the server cursor a loop left early. */
static int cursor_close(lua_State *L) {
  lm_pgcursor *k = luaL_checkudata(L, 1, LM_PG_CURSOR);
  lm_pg *c;
  if (!k->name[0]) return 0; /* no server cursor left open */
  k->done = 1;
  lua_getiuservalue(L, 1, 1);
  c = lua_touserdata(L, -1);
  if (c && c->conn) {
    char sql[64];
    snprintf(sql, sizeof sql, "CLOSE %s", k->name);
    run_quietly(c->conn, sql);
  }
  k->name[0] = '\0';
  return 0;
}

/* [conn at conn_idx, ..., params] -> [iter, nil, nil, cursor]; streams the
 * query sql (rewritten, count placeholders) over the n values at first. */
static int push_rows_loop(lua_State *L, int conn_idx, lm_pg *c, const char *sql, int first, int n, int count) {
  lm_pgcursor *k = lua_newuserdatauv(L, sizeof *k, 2);
  int kidx = lua_gettop(L);
  PGresult *res;
  k->name[0] = '\0';
  k->done = 1;
  k->pos = 1;
  luaL_setmetatable(L, LM_PG_CURSOR);
  lua_pushvalue(L, conn_idx);
  lua_setiuservalue(L, kidx, 1);
  snprintf(k->name, sizeof k->name, "luamig_cur_%u", ++c->next_id);
  lua_pushfstring(L, "DECLARE %s NO SCROLL CURSOR%s FOR %s", k->name,
                  lm_pq.PQtransactionStatus(c->conn) == PQTRANS_INTRANS ? "" : " WITH HOLD", sql);
  res = run(L, c, lua_tostring(L, -1), first, n, count);
  lm_pq.PQclear(res);
  lua_pop(L, 1);
  k->done = 0;
  lua_newtable(L);
  lua_setiuservalue(L, kidx, 2);
  lua_pushvalue(L, kidx);
  lua_pushcclosure(L, cursor_next, 1);
  lua_pushnil(L);
  lua_pushnil(L);
  lua_pushvalue(L, kidx);
  return 4;
}

/* [conn, sql, params...] -> [iter, nil, nil, cursor] */
static int conn_rows(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  int nparams = lua_gettop(L) - 2, count;
  const char *sql = rewritten(L, &count);
  return push_rows_loop(L, 1, c, sql, 3, nparams, count);
}

/* ---------------------------------------------------------------- Stmt */

/* [conn, sql] -> [stmt]; a named server-side prepared statement. */
static int conn_prepare(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  int count;
  lm_pgstmt *s = lua_newuserdatauv(L, sizeof *s, 2);
  PGresult *res;
  s->name[0] = '\0'; /* closed until prepared */
  s->nparams = 0;
  luaL_setmetatable(L, LM_PG_STMT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  lm_pg_rewrite_placeholders(L, luaL_checkstring(L, 2), lua_rawlen(L, 2), &count);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, -3, 2);
  snprintf(s->name, sizeof s->name, "luamig_stmt_%u", ++c->next_id);
  res = lm_pq.PQprepare(c->conn, s->name, lua_tostring(L, -1), 0, NULL);
  if (!res || lm_pq.PQresultStatus(res) != PGRES_COMMAND_OK) s->name[0] = '\0';
  check_result(L, c->conn, res, lua_tostring(L, -1));
  lm_pq.PQclear(res);
  res = lm_pq.PQdescribePrepared(c->conn, s->name);
  check_result(L, c->conn, res, lua_tostring(L, -1));
  s->nparams = lm_pq.PQnparams(res);
  lm_pq.PQclear(res);
  lua_pop(L, 1);
  return 1;
}

/* [stmt, params...] -> [stmt, params..., sql]; runs the prepared statement. */
static PGresult *run_prepared(lua_State *L, lm_pgstmt *s, lm_pg *c) {
  int n = lua_gettop(L) - 1, top = lua_gettop(L);
  lm_pg_params p;
  PGresult *res;
  if (n != s->nparams)
    lm_misuse(L, "statement takes %d parameter%s, %d given", s->nparams, s->nparams == 1 ? "" : "s", n);
  lm_pg_build_params(L, 2, n, &p);
  res = lm_pq.PQexecPrepared(c->conn, s->name, n, p.values, p.lengths, p.formats, 0);
  lua_settop(L, top);
  lua_getiuservalue(L, 1, 2);
  check_result(L, c->conn, res, lua_tostring(L, -1));
  lua_pop(L, 1);
  return res;
}

/* [stmt, params...] -> [changes] */
static int stmt_exec(lua_State *L) {
  lm_pg *c;
  lm_pgstmt *s = check_stmt(L, 1, &c);
  PGresult *res = run_prepared(L, s, c);
  lua_pushinteger(L, changes(res));
  lm_pq.PQclear(res);
  return 1;
}

/* [stmt, params...] -> [rows] */
static int stmt_query(lua_State *L) {
  lm_pg *c;
  lm_pgstmt *s = check_stmt(L, 1, &c);
  PGresult *res = run_prepared(L, s, c);
  lm_pg_push_rows(L, res);
  lm_pq.PQclear(res);
  return 1;
}

/* [stmt, params...] -> [iter, nil, nil, cursor]; a cursor over the statement's SQL. */
static int stmt_rows(lua_State *L) {
  lm_pg *c;
  lm_pgstmt *s = check_stmt(L, 1, &c);
  int n = lua_gettop(L) - 1;
  lua_getiuservalue(L, 1, 1);
  lua_getiuservalue(L, 1, 2);
  return push_rows_loop(L, n + 2, c, lua_tostring(L, -1), 2, n, s->nparams);
}

/* [stmt] -> [sql] */
static int stmt_sql(lua_State *L) {
  lm_pg *c;
  check_stmt(L, 1, &c);
  lua_getiuservalue(L, 1, 2);
  return 1;
}

/* ---------------------------------------------------------------- Conn misc */

/* [conn] -> [boolean]; true inside BEGIN ... COMMIT (also when failed). */
static int conn_in_transaction(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  PGTransactionStatusType ts = lm_pq.PQtransactionStatus(c->conn);
  lua_pushboolean(L, ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR);
  return 1;
}

/* [conn] -> [boolean] */
static int conn_is_closed(lua_State *L) {
  lua_pushboolean(L, ((lm_pg *)luaL_checkudata(L, 1, LM_PG_CONN))->conn == NULL);
  return 1;
}

/* [conn] -> [integer]; the server version, e.g. 150004. */
static int conn_server_version(lua_State *L) {
  lua_pushinteger(L, lm_pq.PQserverVersion(check_conn(L, 1)->conn));
  return 1;
}

/* Notices (e.g. "relation already exists, skipping") are not errors; the
 * runner does not print them. */
static void ignore_notice(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

/* [] -> [text]; msg with every "quoted" part replaced by "***": libpq quotes
 * the offending text of a bad connection string, which may be a password. */
static void push_scrubbed(lua_State *L, const char *msg) {
  luaL_Buffer b;
  const char *p = msg, *end = msg + strlen(msg);
  luaL_buffinit(L, &b);
  while (end > p && (end[-1] == '\n' || end[-1] == ' ')) end--;
  while (p < end) {
    const char *q = memchr(p, '"', (size_t)(end - p)), *close;
    if (!q || !(close = memchr(q + 1, '"', (size_t)(end - q - 1)))) {
      luaL_addlstring(&b, p, (size_t)(end - p));
      break;
    }
    luaL_addlstring(&b, p, (size_t)(q - p));
    luaL_addstring(&b, "\"***\"");
    p = close + 1;
  }
  luaL_pushresult(&b);
}

/* [conninfo] -> [conn]; conninfo is a postgresql:// URL or key=value string.
 * Failures raise a db error naming host, port and database, never the password. */
static int pg_connect(lua_State *L) {
  const char *conninfo = luaL_checkstring(L, 1);
  lm_pg *c = lua_newuserdatauv(L, sizeof *c, 0);
  char *err = NULL;
  PQconninfoOption *opts;
  c->conn = NULL; /* closed until connected */
  c->next_id = 0;
  luaL_setmetatable(L, LM_PG_CONN);
  opts = lm_pq.PQconninfoParse(conninfo, &err);
  if (!opts) {
    lm_db_error e = {"pg", "08001", NULL, NULL, NULL, NULL};
    push_scrubbed(L, err ? err : "out of memory");
    lm_pq.PQfreemem(err);
    lua_pushfstring(L, "invalid PostgreSQL connection string: %s", lua_tostring(L, -1));
    e.message = lua_tostring(L, -1);
    lm_push_db_error(L, &e);
    return lua_error(L);
  }
  lm_pq.PQconninfoFree(opts);
  {
    /* application_name=luamig unless the URL or PGAPPNAME names another. */
    const char *const keys[] = {"dbname", "fallback_application_name", NULL};
    const char *const vals[] = {conninfo, "luamig", NULL};
    c->conn = lm_pq.PQconnectdbParams(keys, vals, 1);
  }
  if (!c->conn) return luaL_error(L, "out of memory connecting to PostgreSQL");
  if (lm_pq.PQstatus(c->conn) != CONNECTION_OK) {
    lm_db_error e = {"pg", "08001", NULL, NULL, NULL, NULL};
    const char *msg = lm_pq.PQerrorMessage(c->conn), *nl;
    /* libpq's first line names the server; keep the reason after it. */
    const char *reason = strstr(msg, "failed: ");
    reason = reason ? reason + 8 : msg;
    nl = strchr(reason, '\n');
    lua_pushlstring(L, reason, nl ? (size_t)(nl - reason) : strlen(reason));
    lua_pushfstring(L, "cannot connect to PostgreSQL at %s:%s, database \"%s\": %s", lm_pq.PQhost(c->conn),
                    lm_pq.PQport(c->conn), lm_pq.PQdb(c->conn), lua_tostring(L, -1));
    e.message = lua_tostring(L, -1);
    lm_push_db_error(L, &e);
    lm_pq.PQfinish(c->conn);
    c->conn = NULL;
    return lua_error(L);
  }
  lm_pq.PQsetNoticeProcessor(c->conn, ignore_notice, NULL);
  lm_pq.PQclear(lm_pq.PQexec(c->conn, "SET client_min_messages = warning"));
  return 1;
}

/* ---------------------------------------------------------------- module */

static const luaL_Reg conn_methods[] = {
  {"exec", conn_exec},
  {"copy_from", conn_copy_from},
  {"query", conn_query},
  {"rows", conn_rows},
  {"scalar", conn_scalar},
  {"prepare", conn_prepare},
  {"in_transaction", conn_in_transaction},
  {"server_version", conn_server_version},
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

static void define_type(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close) {
  luaL_newmetatable(L, name);
  if (methods) {
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_pushcfunction(L, close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}

/* [] -> [module]; module.Conn is the Conn method table, which Lua extends. */
int luaopen_luamig_pg(lua_State *L) {
  const char *missing = lm_pq_load();
  if (missing) return luaL_error(L, "%s", missing);
  define_type(L, LM_PG_CONN, conn_methods, conn_close);
  define_type(L, LM_PG_STMT, stmt_methods, stmt_close);
  define_type(L, LM_PG_CURSOR, NULL, cursor_close);
  lua_newtable(L);
  luaL_getmetatable(L, LM_PG_CONN);
  lua_getfield(L, -1, "__index");
  lua_pushliteral(L, "postgresql");
  lua_setfield(L, -2, "dialect");
  lua_pushliteral(L, "pg");
  lua_setfield(L, -2, "driver");
  lua_setfield(L, -3, "Conn");
  lua_pop(L, 1);
  lua_pushcfunction(L, pg_connect);
  lua_setfield(L, -2, "connect");
  lua_pushinteger(L, lm_pq.PQlibVersion());
  lua_setfield(L, -2, "libpq_version");
  return 1;
}
