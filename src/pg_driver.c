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

#include "drivers.h"
#include "drv_util.h"
#include "pg_conn.h"
#include "pg_result.h"
#include "pg_values.h"
#include "sql_tokens.h"

#define LM_PG_CURSOR "luamig.pg.Cursor"
#define FETCH_BATCH 500

typedef struct lm_pgcursor {
  char name[32];     /* open server cursor; "" once closed */
  int done;          /* no more batches to fetch */
  int pos;           /* next row in the current batch (1-based) */
} lm_pgcursor;      /* uservalues: 1 Conn, 2 current batch (array of rows) */

/* ---------------------------------------------------------------- handles */

/* The open Conn at idx, ready for a call (lm_pg_enter). */
static lm_pg *check_conn(lua_State *L, int idx) {
  return lm_pg_enter(L, luaL_checkudata(L, idx, LM_PG_CONN), 1);
}

/* The Stmt at idx, open, and its open Conn. */
static lm_pgstmt *check_stmt(lua_State *L, int idx, lm_pg **conn) {
  lm_pgstmt *s = luaL_checkudata(L, idx, LM_PG_STMT);
  if (!s->name[0]) lm_misuse(L, "statement is closed");
  lua_getiuservalue(L, idx, 1);
  *conn = lua_touserdata(L, -1);
  lua_pop(L, 1);
  lm_pg_enter(L, *conn, 1);
  return s;
}

/* Raises when a migration's statement (`tag`: its command tag) ended the
 * transaction the runner guards; `before`: the state before it ran. The
 * server has run it: the message says what became of the step's work. */
static void check_guard(lua_State *L, lm_pg *c, PGTransactionStatusType before, const char *tag) {
  int committed;
  if (!c->guard || (before != PQTRANS_INTRANS && before != PQTRANS_INERROR)) return;
  if (lm_pq.PQtransactionStatus(c->conn) != PQTRANS_IDLE) return;
  committed = tag && (strcmp(tag, "COMMIT") == 0 || strcmp(tag, "END") == 0);
  lm_misuse(L, LM_TX_ENDED, tag && *tag ? tag : "a statement", "ended",
            committed ? "what ran before it was committed" : "what ran before it was rolled back");
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
    lm_pg_run_quietly(c, sql);
  }
  s->name[0] = '\0';
  return 0;
}

/* [conn] -> []; idempotent: __gc, __close and close. */
static int conn_close(lua_State *L) {
  lm_pg *c = luaL_checkudata(L, 1, LM_PG_CONN);
  c->L = NULL;
  if (c->conn) lm_pq.PQfinish(c->conn);
  c->conn = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, c->notice_ref);
  c->notice_ref = LUA_NOREF;
  luaL_unref(L, LUA_REGISTRYINDEX, c->pipe.ring_ref);
  c->pipe.ring_ref = LUA_NOREF;
  return 0;
}

/* ---------------------------------------------------------------- running */

/* [] -> [box]; runs sql (already rewritten) with the n values at first.
 * Returns the box holding the successful result, or raises. */
static PGresult **run(lua_State *L, lm_pg *c, const char *sql, int first, int n, int expected) {
  lm_pg_params p;
  PGresult **box;
  int top;
  PGTransactionStatusType before = lm_pq.PQtransactionStatus(c->conn);
  lm_refuse_tx_control(L, c->guard, sql);
  lm_check_param_count(L, expected, n);
  box = lm_pg_push_box(L);
  top = lua_gettop(L);
  lm_pg_build_params(L, first, n, &p);
  *box = lm_pq.PQexecParams(c->conn, sql, n, p.types, p.values, p.lengths, p.formats, 0);
  lua_settop(L, top);
  lm_pg_check_result(L, c->conn, box, sql);
  check_guard(L, c, before, lm_pq.PQcmdStatus(*box));
  return box;
}

/* [conn, sql, params...] -> [conn, sql, params..., sql'] ; rewrites sql. */
static const char *rewritten(lua_State *L, int *count) {
  size_t len;
  const char *sql = lm_check_sql(L, 2, &len);
  lm_pg_rewrite_placeholders(L, sql, len, count);
  return lua_tostring(L, -1);
}

/* [conn, sql] -> [conn, sql, box, changes]; runs a script of one or more
 * statements (changes are summed). Every result is read; the first error is
 * raised after that, so the connection stays usable. */
static int exec_script(lua_State *L, lm_pg *c, const char *sql) {
  lm_pg_reading r = {NULL, lm_pg_push_box(L), 0, "", "", 0, 0};
  PGTransactionStatusType before = lm_pq.PQtransactionStatus(c->conn);
  lm_refuse_tx_control(L, c->guard, sql);
  if (!lm_pq.PQsendQuery(c->conn, sql)) {
    lm_pg_push_result_error(L, c->conn, NULL, sql);
    return lua_error(L);
  }
  lm_pg_read(c->conn, &r);
  if (r.copying) {
    lm_pg_release(r.failed);
    return lm_pg_refuse_copy(L);
  }
  if (*r.failed) lm_pg_check_result(L, c->conn, r.failed, sql);
  check_guard(L, c, before, r.ended);
  lua_pushinteger(L, r.changes);
  return 1;
}

/* [conn, sql, params...] -> [changes]. Without params the script may hold
 * several statements; with params exactly one. */
static int conn_exec(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  int nparams = lua_gettop(L) - 2, count;
  PGresult **res;
  const char *sql;
  if (nparams == 0) return exec_script(L, c, lm_check_sql(L, 2, NULL));
  sql = rewritten(L, &count);
  res = run(L, c, sql, 3, nparams, count);
  lua_pushinteger(L, lm_pg_changes(*res));
  lm_pg_release(res);
  return 1;
}

/* [conn, sql, next] -> [rows]; runs a `COPY ... FROM STDIN` statement and
 * sends the strings next() returns (COPY text format) until it returns nil.
 * An error in next() aborts the copy, then is re-raised. */
static int conn_copy_from(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  const char *sql = lm_check_sql(L, 2, NULL);
  PGresult **res;
  lua_Integer rows;
  luaL_checktype(L, 3, LUA_TFUNCTION);
  lm_refuse_tx_control(L, c->guard, sql);
  res = lm_pg_push_box(L);
  *res = lm_pq.PQexec(c->conn, sql);
  if (lm_pq.PQresultStatus(*res) != PGRES_COPY_IN) {
    lm_pg_check_result(L, c->conn, res, sql); /* raises for a failed statement or another COPY */
    lm_pg_release(res);
    lm_pg_drain(c->conn);
    return lm_misuse(L, "copy_from needs a COPY ... FROM STDIN statement");
  }
  lm_pg_release(res);
  for (;;) {
    size_t len;
    const char *chunk;
    lua_pushvalue(L, 3);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
      lm_pq.PQputCopyEnd(c->conn, "luamig: the row source failed");
      lm_pg_drain(c->conn);
      return lua_error(L);
    }
    if (lua_isnil(L, -1)) break;
    chunk = lua_tolstring(L, -1, &len);
    if (!chunk) {
      lm_pq.PQputCopyEnd(c->conn, "luamig: the row source returned a non-string");
      lm_pg_drain(c->conn);
      return lm_misuse(L, "copy_from: next() must return strings (or nil at the end)");
    }
    if (lm_pq.PQputCopyData(c->conn, chunk, (int)len) != 1) {
      lm_pg_push_result_error(L, c->conn, NULL, sql);
      return lua_error(L);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (lm_pq.PQputCopyEnd(c->conn, NULL) != 1) {
    lm_pg_push_result_error(L, c->conn, NULL, sql);
    return lua_error(L);
  }
  *res = lm_pq.PQgetResult(c->conn);
  if (lm_pq.PQresultStatus(*res) != PGRES_COMMAND_OK) lm_pg_drain(c->conn); /* leave the connection usable */
  lm_pg_check_result(L, c->conn, res, sql);
  rows = lm_pg_changes(*res);
  lm_pg_release(res);
  lm_pg_drain(c->conn);
  lua_pushinteger(L, rows);
  return 1;
}

/* [conn, sql, params...] -> [rows] */
static int conn_query(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  int count;
  const char *sql = rewritten(L, &count);
  PGresult **res = run(L, c, sql, 3, lua_gettop(L) - 3, count);
  lm_pg_push_rows(L, *res);
  lm_pg_release(res);
  return 1;
}

/* [conn, sql, params...] -> [conn, sql, params..., sql', box]; runs the query
 * in single-row mode: the box holds its first row's result (NULL when it has
 * none); the rest is read and dropped as it comes, so memory stays bounded
 * and no cursor is needed (one round trip). Raises the first failure. */
static PGresult **run_first(lua_State *L, lm_pg *c) {
  int n = lua_gettop(L) - 2, count, top;
  const char *sql = rewritten(L, &count);
  PGresult **first = lm_pg_push_box(L);
  lm_pg_reading r = {first, lm_pg_push_box(L), 0, "", "", 0, 0};
  lm_pg_params p;
  PGTransactionStatusType before = lm_pq.PQtransactionStatus(c->conn);
  lm_refuse_tx_control(L, c->guard, sql);
  lm_check_param_count(L, count, n);
  top = lua_gettop(L);
  lm_pg_build_params(L, 3, n, &p);
  if (!lm_pq.PQsendQueryParams(c->conn, sql, n, p.types, p.values, p.lengths, p.formats, 0)) {
    lm_pg_push_result_error(L, c->conn, NULL, sql);
    lua_error(L);
  }
  lua_settop(L, top);
  lm_pq.PQsetSingleRowMode(c->conn);
  lm_pg_read(c->conn, &r);
  if (r.copying) lm_pg_refuse_copy(L);
  if (*r.failed) lm_pg_check_result(L, c->conn, r.failed, sql);
  check_guard(L, c, before, r.tag);
  lua_pop(L, 1);
  return first;
}

/* [conn, sql, params...] -> [row]; the first row, or nil. */
static int conn_first(lua_State *L) {
  PGresult **res = run_first(L, check_conn(L, 1));
  if (*res) {
    lm_pg_push_row(L, *res, 0);
    lm_pg_release(res);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

/* [conn, sql, params...] -> [value]; first column of the first row, or nil. */
static int conn_scalar(lua_State *L) {
  PGresult **res = run_first(L, check_conn(L, 1));
  if (*res && lm_pq.PQnfields(*res) > 0 && !lm_pq.PQgetisnull(*res, 0, 0))
    lm_pg_push_value(L, *res, 0, 0);
  else
    lua_pushnil(L);
  lm_pg_release(res);
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
    c = lm_pg_enter(L, lua_touserdata(L, -1), 1);
    lua_pop(L, 1);
    {
      char sql[64];
      PGresult **res = lm_pg_push_box(L);
      snprintf(sql, sizeof sql, "FETCH %d FROM %s", FETCH_BATCH, k->name);
      *res = lm_pq.PQexec(c->conn, sql);
      lm_pg_check_result(L, c->conn, res, sql);
      if (lm_pq.PQntuples(*res) < FETCH_BATCH) k->done = 1;
      lm_pg_push_rows(L, *res);
      lm_pg_release(res);
      if (k->done) { /* the last batch: free the server cursor now */
        snprintf(sql, sizeof sql, "CLOSE %s", k->name);
        k->name[0] = '\0';
        *res = lm_pq.PQexec(c->conn, sql);
        lm_pg_check_result(L, c->conn, res, sql);
        lm_pg_release(res);
      }
      lua_remove(L, -2); /* the box */
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
    lm_pg_run_quietly(c, sql);
  }
  k->name[0] = '\0';
  return 0;
}

/* [conn at conn_idx, ..., params] -> [iter, nil, nil, cursor]; streams the
 * query sql (rewritten, count placeholders) over the n values at first. */
static int push_rows_loop(lua_State *L, int conn_idx, lm_pg *c, const char *sql, int first, int n, int count) {
  lm_pgcursor *k = lua_newuserdatauv(L, sizeof *k, 2);
  int kidx = lua_gettop(L);
  lm_refuse_tx_control(L, c->guard, sql); /* before it is wrapped in a DECLARE */
  k->name[0] = '\0';
  k->done = 1;
  k->pos = 1;
  luaL_setmetatable(L, LM_PG_CURSOR);
  lua_pushvalue(L, conn_idx);
  lua_setiuservalue(L, kidx, 1);
  snprintf(k->name, sizeof k->name, "luamig_cur_%u", ++c->next_id);
  lua_pushfstring(L, "DECLARE %s NO SCROLL CURSOR%s FOR %s", k->name,
                  lm_pq.PQtransactionStatus(c->conn) == PQTRANS_INTRANS ? "" : " WITH HOLD", sql);
  lm_pg_release(run(L, c, lua_tostring(L, -1), first, n, count));
  lua_pop(L, 2); /* the box and the DECLARE */
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
  PGresult **res;
  s->name[0] = '\0'; /* closed until prepared */
  s->nparams = 0;
  luaL_setmetatable(L, LM_PG_STMT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  lm_pg_rewrite_placeholders(L, lm_check_sql(L, 2, NULL), lua_rawlen(L, 2), &count);
  lm_refuse_tx_control(L, c->guard, lua_tostring(L, -1));
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, -3, 2);
  snprintf(s->name, sizeof s->name, "luamig_stmt_%u", ++c->next_id);
  res = lm_pg_push_box(L);
  *res = lm_pq.PQprepare(c->conn, s->name, lua_tostring(L, -2), 0, NULL);
  if (!*res || lm_pq.PQresultStatus(*res) != PGRES_COMMAND_OK) s->name[0] = '\0';
  lm_pg_check_result(L, c->conn, res, lua_tostring(L, -2));
  lm_pg_release(res);
  *res = lm_pq.PQdescribePrepared(c->conn, s->name);
  lm_pg_check_result(L, c->conn, res, lua_tostring(L, -2));
  s->nparams = lm_pq.PQnparams(*res);
  lm_pg_release(res);
  lua_pop(L, 2);
  return 1;
}

/* [stmt, params...] -> [stmt, params..., box]; runs the prepared statement. */
static PGresult **run_prepared(lua_State *L, lm_pgstmt *s, lm_pg *c) {
  int n = lua_gettop(L) - 1, top;
  lm_pg_params p;
  PGresult **res;
  PGTransactionStatusType before = lm_pq.PQtransactionStatus(c->conn);
  lua_getiuservalue(L, 1, 2); /* its SQL: it may have been prepared before the guard was armed */
  lm_refuse_tx_control(L, c->guard, lua_tostring(L, -1));
  lua_pop(L, 1);
  lm_check_param_count(L, s->nparams, n);
  res = lm_pg_push_box(L);
  top = lua_gettop(L);
  lm_pg_build_params(L, 2, n, &p);
  *res = lm_pq.PQexecPrepared(c->conn, s->name, n, p.values, p.lengths, p.formats, 0);
  lua_settop(L, top);
  lua_getiuservalue(L, 1, 2);
  lm_pg_check_result(L, c->conn, res, lua_tostring(L, -1));
  lua_pop(L, 1);
  check_guard(L, c, before, lm_pq.PQcmdStatus(*res));
  return res;
}

/* [stmt, params...] -> [changes] */
static int stmt_exec(lua_State *L) {
  lm_pg *c;
  lm_pgstmt *s = check_stmt(L, 1, &c);
  PGresult **res = run_prepared(L, s, c);
  lua_pushinteger(L, lm_pg_changes(*res));
  lm_pg_release(res);
  return 1;
}

/* [stmt, params...] -> [rows] */
static int stmt_query(lua_State *L) {
  lm_pg *c;
  lm_pgstmt *s = check_stmt(L, 1, &c);
  PGresult **res = run_prepared(L, s, c);
  lm_pg_push_rows(L, *res);
  lm_pg_release(res);
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

/* [conn, on] -> [was]; the transaction guard (lm_set_guarded). */
static int conn_set_guarded(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  return lm_set_guarded(L, &c->guard);
}

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

/* [res, conn] -> []; calls the on_notice function with severity and message. */
static int deliver_notice(lua_State *L) {
  const PGresult *res = lua_touserdata(L, 1);
  lm_pg *c = lua_touserdata(L, 2);
  const char *severity = lm_pq.PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char *message = lm_pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  if (!severity) severity = lm_pq.PQresultErrorField(res, PG_DIAG_SEVERITY);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->notice_ref);
  lua_pushstring(L, severity ? severity : "NOTICE");
  lua_pushstring(L, message ? message : "");
  lua_call(L, 2, 0);
  return 0;
}

/* libpq's notice receiver: notices (WARNING, NOTICE, ...) arrive during
 * libpq calls made from a method, whose thread is c->L. Lua runs protected:
 * an error must not unwind through libpq; a failing handler is reported on
 * stderr and the statement goes on. */
static void receive_notice(void *arg, const PGresult *res) {
  lm_pg *c = arg;
  lua_State *L = c->L;
  int rc;
  if (!L || c->notice_ref == LUA_NOREF || c->in_notice || !lua_checkstack(L, 4)) return;
  lua_pushcfunction(L, deliver_notice);
  lua_pushlightuserdata(L, (void *)res);
  lua_pushlightuserdata(L, c);
  c->in_notice = 1; /* the handler may not call the connection back (lm_pg_settle refuses) */
  rc = lua_pcall(L, 2, 0, 0);
  c->in_notice = 0;
  if (rc != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "luamig: the PostgreSQL notice handler failed: %s\n", msg ? msg : "(not a string)");
    lua_pop(L, 1);
  }
}

/* [conn, fn or nil] -> []; fn(severity, message) receives the server's
 * notices from then on (severity as sent: "WARNING", "NOTICE", ...). */
static int conn_on_notice(lua_State *L) {
  lm_pg *c = check_conn(L, 1);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  luaL_unref(L, LUA_REGISTRYINDEX, c->notice_ref);
  c->notice_ref = lua_isnil(L, 2) ? LUA_NOREF : luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

/* [conninfo] -> [conn]; conninfo is a postgresql:// URL or key=value string.
 * Failures raise a db error naming host, port and database, never the password. */
static int pg_connect(lua_State *L) {
  const char *conninfo = luaL_checkstring(L, 1);
  lm_pg *c = lua_newuserdatauv(L, sizeof *c, 0);
  char *err = NULL;
  PQconninfoOption *opts;
  memset(c, 0, sizeof *c);
  c->conn = NULL; /* closed until connected */
  c->notice_ref = LUA_NOREF;
  c->pipe.ring_ref = LUA_NOREF;
  luaL_setmetatable(L, LM_PG_CONN);
  lua_newtable(L);
  c->pipe.ring_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  opts = lm_pq.PQconninfoParse(conninfo, &err);
  if (!opts) {
    lm_db_error e = {"pg", "08001", NULL, NULL, NULL, NULL};
    char reason[512]; /* copied out: libpq's message is freed before anything can raise */
    size_t n;
    snprintf(reason, sizeof reason, "%s", err ? err : "out of memory");
    n = strlen(reason);
    while (n > 0 && (reason[n - 1] == '\n' || reason[n - 1] == ' ')) reason[--n] = '\0';
    lm_pq.PQfreemem(err);
    /* libpq may quote part of the string, a password too: connect.open scrubs it */
    lua_pushfstring(L, "invalid PostgreSQL connection string: %s", reason);
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
  lm_pq.PQsetNoticeReceiver(c->conn, receive_notice, c);
  return 1;
}

#define LM_PG_CONNINFO "luamig.pg.Conninfo"

/* [box] -> []; frees the parsed options a conninfo box holds (idempotent). */
static int conninfo_gc(lua_State *L) {
  PQconninfoOption **box = luaL_checkudata(L, 1, LM_PG_CONNINFO);
  if (*box) lm_pq.PQconninfoFree(*box);
  *box = NULL;
  return 0;
}

/* [conninfo] -> [{{keyword, value}, ...}]; libpq's own reading of a
 * postgresql:// URL or key=value string (PQconninfoParse): the options it
 * sets, in libpq's order, query-string options included. No environment or
 * defaults are read, nothing is connected. A string libpq cannot read raises
 * a db error like connect's (its text may quote the password: callers scrub). */
static int pg_conninfo_parse(lua_State *L) {
  const char *conninfo = luaL_checkstring(L, 1);
  char *err = NULL;
  PQconninfoOption **box, *o;
  lua_Integer n = 0;
  box = lua_newuserdatauv(L, sizeof *box, 0); /* owns the options until the end, errors included */
  *box = NULL;
  luaL_setmetatable(L, LM_PG_CONNINFO);
  *box = lm_pq.PQconninfoParse(conninfo, &err);
  if (!*box) {
    lm_db_error e = {"pg", "08001", NULL, NULL, NULL, NULL};
    char reason[512]; /* copied out: libpq's message is freed before anything can raise */
    size_t len;
    snprintf(reason, sizeof reason, "%s", err ? err : "out of memory");
    len = strlen(reason);
    while (len > 0 && (reason[len - 1] == '\n' || reason[len - 1] == ' ')) reason[--len] = '\0';
    lm_pq.PQfreemem(err);
    lua_pushfstring(L, "invalid PostgreSQL connection string: %s", reason);
    e.message = lua_tostring(L, -1);
    lm_push_db_error(L, &e);
    return lua_error(L);
  }
  lua_newtable(L);
  for (o = *box; o->keyword; o++) {
    if (!o->val) continue;
    lua_createtable(L, 2, 0);
    lua_pushstring(L, o->keyword);
    lua_rawseti(L, -2, 1);
    lua_pushstring(L, o->val);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, ++n);
  }
  lm_pq.PQconninfoFree(*box);
  *box = NULL;
  return 1;
}

/* ---------------------------------------------------------------- module */

static const luaL_Reg conn_methods[] = {
  {"exec", conn_exec},
  {"copy_from", conn_copy_from},
  {"on_notice", conn_on_notice},
  {"query", conn_query},
  {"rows", conn_rows},
  {"scalar", conn_scalar},
  {"first", conn_first},
  {"prepare", conn_prepare},
  {"in_transaction", conn_in_transaction},
  {"set_guarded", conn_set_guarded},
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

/* [] -> [module]; module.Conn is the Conn method table, which Lua extends. */
int luaopen_luamig_pg(lua_State *L) {
  const char *missing = lm_pq_load();
  if (missing) return luaL_error(L, "%s", missing);
  lm_define_type(L, LM_PG_CONN, conn_methods, conn_close);
  lm_define_type(L, LM_PG_STMT, stmt_methods, stmt_close);
  lm_define_type(L, LM_PG_CURSOR, NULL, cursor_close);
  lm_pg_result_type(L);
  lm_define_type(L, LM_PG_CONNINFO, NULL, conninfo_gc);
  lua_newtable(L);
  luaL_getmetatable(L, LM_PG_CONN);
  lua_getfield(L, -1, "__index");
  lm_pg_pipeline_methods(L);
  lua_pushliteral(L, "postgresql");
  lua_setfield(L, -2, "dialect");
  lua_pushliteral(L, "pg");
  lua_setfield(L, -2, "driver");
  lua_setfield(L, -3, "Conn");
  lua_pop(L, 1);
  lua_pushcfunction(L, pg_connect);
  lua_setfield(L, -2, "connect");
  lua_pushcfunction(L, pg_conninfo_parse);
  lua_setfield(L, -2, "conninfo_parse");
  lua_pushinteger(L, lm_pq.PQlibVersion());
  lua_setfield(L, -2, "libpq_version");
  return 1;
}
