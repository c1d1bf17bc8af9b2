/* luamig.pg's results (see pg_result.h). */
#include "pg_result.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "drv_util.h"
#include "signals.h"

PGresult **lm_pg_push_box(lua_State *L) {
  PGresult **box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  luaL_setmetatable(L, LM_PG_RESULT);
  return box;
}

void lm_pg_release(PGresult **box) {
  if (*box) lm_pq.PQclear(*box);
  *box = NULL;
}

/* [box] -> []; idempotent: __gc and __close. */
static int box_gc(lua_State *L) {
  lm_pg_release(luaL_checkudata(L, 1, LM_PG_RESULT));
  return 0;
}

void lm_pg_result_type(lua_State *L) {
  lm_define_type(L, LM_PG_RESULT, NULL, box_gc);
}

void lm_pg_push_result_error(lua_State *L, PGconn *conn, const PGresult *res, const char *sql) {
  const char *state = res ? lm_pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = res ? lm_pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  lm_db_error e = {"pg", state ? state : (lm_pq.PQstatus(conn) == CONNECTION_BAD ? "08006" : "XX000"),
                   msg ? msg : lm_pq.PQerrorMessage(conn),
                   res ? lm_pq.PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL,
                   res ? lm_pq.PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL, sql};
  size_t n = strlen(e.message);
  /* the message without libpq's trailing newline, held on the stack (not
   * malloc'ed: building the error can raise out of memory) */
  e.message = lua_pushlstring(L, e.message, n > 0 && e.message[n - 1] == '\n' ? n - 1 : n);
  lm_push_db_error(L, &e);
  lua_remove(L, -2);
}

lua_Integer lm_pg_changes(PGresult *res) {
  const char *t = lm_pq.PQcmdTuples(res);
  return t && *t ? (lua_Integer)strtoll(t, NULL, 10) : 0;
}

static int is_copy(ExecStatusType st) { return st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH; }

void lm_pg_end_copy(PGconn *conn, ExecStatusType st) {
  char *row;
  if (st == PGRES_COPY_IN) {
    lm_pq.PQputCopyEnd(conn, "luamig: COPY FROM STDIN needs db:copy_in");
    return;
  }
  while (lm_pq.PQgetCopyData(conn, &row, 0) > 0) lm_pq.PQfreemem(row);
}

/* Waits until a result can be read without blocking. On Ctrl-C or SIGTERM
 * what is in flight is cancelled once (PQcancel): the running statement
 * fails with 57014 and the server skips a pipeline's rest up to the sync
 * point, instead of the run waiting for every queued statement. */
static void wait_for_result(PGconn *conn) {
  int cancelled = 0;
  while (lm_pq.PQisBusy(conn)) {
    struct pollfd p;
    p.fd = lm_pq.PQsocket(conn);
    p.events = POLLIN;
    p.revents = 0;
    if (p.fd < 0) return;
    if (!cancelled && lm_signals_caught()) {
      PGcancel *cancel = lm_pq.PQgetCancel(conn);
      char err[256];
      if (cancel) {
        lm_pq.PQcancel(cancel, err, sizeof err);
        lm_pq.PQfreeCancel(cancel);
      }
      cancelled = 1;
    }
    if (poll(&p, 1, 100) > 0 && !lm_pq.PQconsumeInput(conn)) return; /* PQgetResult reports it */
  }
}

int lm_pg_read(PGconn *conn, lm_pg_reading *r) {
  PGresult *res;
  for (;;) {
    if (r->cancellable) wait_for_result(conn);
    if ((res = lm_pq.PQgetResult(conn)) == NULL) break;
    ExecStatusType st = lm_pq.PQresultStatus(res);
    if (st == PGRES_PIPELINE_SYNC) {
      lm_pq.PQclear(res);
      return 1;
    }
    if (st == PGRES_SINGLE_TUPLE && r->first && !*r->first) {
      *r->first = res;
      continue;
    }
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      const char *tag = lm_pq.PQcmdStatus(res);
      r->changes += lm_pg_changes(res);
      snprintf(r->tag, sizeof r->tag, "%s", tag);
      if (strcmp(tag, "COMMIT") == 0 || strcmp(tag, "ROLLBACK") == 0) snprintf(r->ended, sizeof r->ended, "%s", tag);
    } else if (is_copy(st)) {
      lm_pg_end_copy(conn, st); /* in a pipeline, COPY IN then fails on the server: that is the error */
      r->copying = 1;
    } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_EMPTY_QUERY && st != PGRES_PIPELINE_ABORTED && r->failed &&
               !*r->failed) {
      *r->failed = res;
      continue;
    }
    lm_pq.PQclear(res);
  }
  return 0;
}

int lm_pg_drain(PGconn *conn) {
  lm_pg_reading r = {NULL, NULL, 0, "", "", 0, 0};
  lm_pg_read(conn, &r);
  return r.copying;
}

int lm_pg_refuse_copy(lua_State *L) {
  return lm_misuse(L, "COPY FROM STDIN / TO STDOUT needs a data stream: load rows with "
                      "db:copy_in(table, columns, rows), read them with db:query");
}

void lm_pg_check_result(lua_State *L, PGconn *conn, PGresult **box, const char *sql) {
  ExecStatusType st = *box ? lm_pq.PQresultStatus(*box) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return;
  if (is_copy(st)) {
    lm_pg_release(box);
    lm_pg_end_copy(conn, st);
    lm_pg_drain(conn);
    lm_pg_refuse_copy(L);
  }
  lm_pg_push_result_error(L, conn, *box, sql);
  lm_pg_release(box);
  lua_error(L);
}
