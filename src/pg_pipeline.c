/* luamig.pg's pipeline (libpq pipeline mode) behind db:pipeline and the
 * backfill writer: conn:pipeline_send(stmt or sql, params...) sends a
 * statement without waiting for its result; its results are read at sync
 * points, every PIPELINE_DEPTH statements, at conn:pipeline_sync(), and
 * before any other call on the connection (lm_pg_settle), so the pipeline
 * is invisible to code that does not use it.
 *
 * Each sent statement is remembered in a ring (c->pipe.ring_ref) of entries
 * {sql, where, number, params} (lm_pipeline_entry), reused in place, so that
 * the first failure names its SQL, parameters and the Lua line that queued it.
 *
 * Inside a transaction a sync point reads the results of the segment before
 * it (the server runs segment k while Lua builds k+1): at most two segments
 * are in flight. An error aborts the transaction, so what follows it fails
 * too and only the first failure is raised. Outside a transaction each
 * segment is its own implicit transaction (the protocol commits at Sync):
 * there a sync point waits for its own segment, so nothing is sent after a
 * failed segment, which is rolled back whole; segments before it are
 * committed. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "drv_util.h"
#include "pg_conn.h"
#include "pg_result.h"
#include "pg_values.h"
#include "sql_tokens.h"

#define PIPELINE_DEPTH 1000                /* statements per sync point */
#define RING_SIZE (2 * PIPELINE_DEPTH + 2) /* > what can be in flight */
#define RING_VALUES 8000                   /* parameters kept before a fresh ring */

/* Runs the statements of our own put off while the pipeline ran. */
static void run_deferred(lm_pg *c) {
  int i, n = c->pipe.ndeferred;
  c->pipe.ndeferred = 0;
  for (i = 0; i < n; i++) lm_pg_run_quietly(c, c->pipe.deferred[i]);
}

void lm_pg_run_quietly(lm_pg *c, const char *sql) {
  PGTransactionStatusType ts;
  c->L = NULL; /* may run from __gc, in any thread: notices are dropped */
  if (lm_pq.PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF) {
    /* PQexec is refused in pipeline mode; past the limit the session ends them */
    if (c->pipe.ndeferred < LM_PG_DEFERRED)
      snprintf(c->pipe.deferred[c->pipe.ndeferred++], sizeof c->pipe.deferred[0], "%s", sql);
    return;
  }
  ts = lm_pq.PQtransactionStatus(c->conn);
  if (ts == PQTRANS_IDLE || ts == PQTRANS_INTRANS) lm_pq.PQclear(lm_pq.PQexec(c->conn, sql));
}

/* Reads the results up to the next PIPELINE_SYNC, one statement's at a
 * time: keeps the first failure in *r->failed (and its number in
 * *failed_at), counts changed rows, notes a COMMIT or ROLLBACK under the
 * guard. Raises nothing: the caller decides once the stream is in step again. */
static void read_segment(lm_pg *c, lm_pg_reading *r, lua_Integer *failed_at) {
  for (;;) {
    int had_failed = *r->failed != NULL, synced;
    r->ended[0] = '\0';
    synced = lm_pg_read(c->conn, r);
    c->pipe.changes += r->changes;
    r->changes = 0;
    if (!had_failed && *r->failed) *failed_at = c->pipe.read + 1;
    if (r->ended[0] && c->guard && c->pipe.in_tx && !c->pipe.ended_at) {
      c->pipe.ended_at = c->pipe.read + 1; /* checked once all is read (a savepoint's ROLLBACK ends nothing) */
      snprintf(c->pipe.ended, sizeof c->pipe.ended, "%s", r->ended);
    }
    if (synced) {
      c->pipe.unread--;
      return;
    }
    if (lm_pq.PQstatus(c->conn) == CONNECTION_BAD || c->pipe.read >= c->pipe.sent) {
      c->pipe.unread = 0; /* the stream ended early: nothing more will come */
      c->pipe.read = c->pipe.sent;
      return;
    }
    c->pipe.read++; /* one statement's results end */
  }
}

/* [] -> [ring, entry]; true when the ring's entry for statement number
 * `at` (lm_pipeline_entry) is still that statement's. */
static int push_entry(lua_State *L, lm_pg *c, lua_Integer at) {
  int ok = 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->pipe.ring_ref);
  if (lua_rawgeti(L, -1, at % RING_SIZE + 1) == LUA_TTABLE) {
    ok = lua_getfield(L, -1, "number") == LUA_TNUMBER && lua_tointeger(L, -1) == at;
    lua_pop(L, 1);
  }
  return ok;
}

/* [err] -> [err]; names the statement number `at` from the ring, if still there. */
static void note_statement(lua_State *L, lm_pg *c, lua_Integer at) {
  int err = lua_gettop(L);
  if (push_entry(L, c, at)) lm_pipeline_note(L, err, -1);
  lua_settop(L, err);
}

/* Raises when statement `at`, a migration's COMMIT or ROLLBACK (`tag`)
 * queued under the guard, ended the runner's step transaction: as
 * check_guard in pg_driver.c, naming the line that queued it. What the pipeline
 * sent after it ran outside the transaction (committed at its sync point). */
static void raise_tx_ended(lua_State *L, lm_pg *c, lua_Integer at, const char *tag) {
  const char *where = "", *sql = "?";
  if (push_entry(L, c, at) && lua_getfield(L, -1, "where") == LUA_TSTRING &&
      lua_getfield(L, -2, "sql") == LUA_TSTRING) {
    where = lua_tostring(L, -2);
    sql = lua_tostring(L, -1);
  }
  lua_pushfstring(L, "%s%s" LM_TX_ENDED " (in the pipelined statement %s)", where, *where ? ": " : "", tag, "ended",
                  strcmp(tag, "COMMIT") == 0 ? "what ran before it was committed, what was queued after it ran outside it"
                                             : "what ran before it was rolled back, what was queued after it ran outside it",
                  sql);
  lua_error(L);
}

/* Replaces the ring once nothing is in flight: its entries keep the values
 * of statements long done alive (a backfill's thousands per statement). */
static void new_ring(lua_State *L, lm_pg *c) {
  lua_newtable(L);
  lua_rawseti(L, LUA_REGISTRYINDEX, c->pipe.ring_ref);
  c->pipe.ring_values = 0;
}

/* Sends a sync point, then reads segments until `keep` remain unread (all
 * of them after a failure, which is then raised). */
static void sync_point(lua_State *L, lm_pg *c, int keep) {
  PGresult **failed = lm_pg_push_box(L);
  lm_pg_reading r = {NULL, failed, 0, "", "", 0, 1}; /* Ctrl-C cancels what is queued */
  lua_Integer failed_at = 0;
  if (c->pipe.open > 0) {
    if (!lm_pq.PQpipelineSync(c->conn)) {
      lm_pg_push_result_error(L, c->conn, NULL, NULL);
      lua_error(L);
    }
    c->pipe.open = 0;
    c->pipe.unread++;
  }
  while (c->pipe.unread > (*failed || c->pipe.ended_at ? 0 : keep)) read_segment(c, &r, &failed_at);
  if (c->pipe.unread == 0 && (keep == 0 || *failed || c->pipe.ended_at)) {
    lm_pq.PQexitPipelineMode(c->conn);
    run_deferred(c);
    if (!*failed && c->pipe.ring_values > RING_VALUES) new_ring(L, c);
  }
  if (!*failed && lm_pq.PQstatus(c->conn) == CONNECTION_BAD) { /* lost without a result saying so */
    lm_pg_push_result_error(L, c->conn, NULL, NULL);
    lua_error(L);
  }
  if (c->pipe.ended_at) {
    lua_Integer at = c->pipe.ended_at;
    char tag[sizeof c->pipe.ended];
    memcpy(tag, c->pipe.ended, sizeof tag);
    c->pipe.ended_at = 0;
    if (lm_pq.PQtransactionStatus(c->conn) == PQTRANS_IDLE && (!*failed || at < failed_at)) {
      lm_pg_release(failed);
      raise_tx_ended(L, c, at, tag);
    }
  }
  if (*failed) {
    lm_pg_push_result_error(L, c->conn, *failed, NULL);
    lm_pg_release(failed);
    note_statement(L, c, failed_at);
    lua_error(L);
  }
  lua_pop(L, 1);
}

void lm_pg_settle(lua_State *L, lm_pg *c) {
  /* libpq is inside a call on this connection: a query would wait forever */
  if (c->in_notice) lm_misuse(L, "a notice handler cannot use the connection whose notice it handles");
  if (lm_pq.PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF) sync_point(L, c, 0);
}

lm_pg *lm_pg_enter(lua_State *L, lm_pg *c, int settle) {
  if (!c || !c->conn) lm_misuse(L, "connection is closed");
  c->L = L;
  if (settle) lm_pg_settle(L, c);
  return c;
}

/* [conn, target, params..., sql'] -> same; the ring entry for the
 * statement about to be sent, number c->pipe.sent + 1, filled in place. */
static void remember(lua_State *L, lm_pg *c, int n) {
  lua_Integer at = c->pipe.sent + 1;
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->pipe.ring_ref);
  if (lua_rawgeti(L, -1, at % RING_SIZE + 1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, at % RING_SIZE + 1);
  }
  /* the SQL: strings only, so the ring keeps no handle alive */
  lm_pipeline_entry(L, -1, 3 + n, 3, n, at);
  c->pipe.ring_values += n;
  lua_pop(L, 2);
}

/* [conn, stmt or sql, params...] -> [number]; sends the statement (a Stmt
 * of this connection, or SQL text with `?` placeholders) and returns its
 * number. Results are read at sync points; the first failure is raised at
 * one, naming its statement. */
static int conn_pipeline_send(lua_State *L) {
  lm_pg *c = lm_pg_enter(L, luaL_checkudata(L, 1, LM_PG_CONN), 0);
  int n = lua_gettop(L) - 2, count, ok;
  lm_pgstmt *s = NULL;
  const char *sql, *what;
  lm_pg_params p;
  if (c->in_notice) return lm_misuse(L, "a notice handler cannot use the connection whose notice it handles");
  if (lua_type(L, 2) == LUA_TSTRING) {
    size_t len;
    sql = lm_check_sql(L, 2, &len);
    lm_pg_rewrite_placeholders(L, sql, len, &count);
    sql = lua_tostring(L, -1); /* [conn, sql, params..., sql'] */
  } else {
    s = luaL_testudata(L, 2, LM_PG_STMT);
    if (!s) return lm_misuse(L, "pipeline: exec takes a statement (db:prepare) or SQL text, got a %s",
                             luaL_typename(L, 2));
    if (!s->name[0]) return lm_misuse(L, "statement is closed");
    lua_getiuservalue(L, 2, 1);
    if (!lua_rawequal(L, -1, 1)) return lm_misuse(L, "pipeline: the statement was prepared on another connection");
    lua_pop(L, 1);
    lua_getiuservalue(L, 2, 2); /* [conn, stmt, params..., sql'] */
    count = s->nparams;
    sql = NULL;
  }
  lm_check_param_count(L, count, n);
  /* as lm_refuse_tx_control, whoever calls: p:exec is the runner's own Lua
   * on behalf of a migration, and the runner queues no transaction control */
  if (c->guard && (what = lm_sql_tx_control(lua_tostring(L, 3 + n), lua_rawlen(L, 3 + n))))
    return lm_misuse(L, LM_TX_ENDED, what, "would end", "so it was refused");
  /* refused before anything is sent, as the connection could not end it in pipeline mode */
  if (lm_sql_copy_stream(lua_tostring(L, 3 + n), lua_rawlen(L, 3 + n)))
    return lm_misuse(L, "p:exec cannot run COPY FROM STDIN / TO STDOUT (a pipeline has no data stream): load "
                        "rows with db:copy_in(table, columns, rows), read them with db:query");
  remember(L, c, n);
  lm_pg_build_params(L, 3, n, &p);
  if (lm_pq.PQpipelineStatus(c->conn) == PQ_PIPELINE_OFF) {
    c->pipe.in_tx = lm_pq.PQtransactionStatus(c->conn) == PQTRANS_INTRANS;
    if (!lm_pq.PQenterPipelineMode(c->conn)) {
      lm_pg_push_result_error(L, c->conn, NULL, lua_tostring(L, 3 + n));
      return lua_error(L);
    }
  }
  ok = s ? lm_pq.PQsendQueryPrepared(c->conn, s->name, n, p.values, p.lengths, p.formats, 0)
         : lm_pq.PQsendQueryParams(c->conn, sql, n, p.types, p.values, p.lengths, p.formats, 0);
  if (!ok) {
    lm_pg_push_result_error(L, c->conn, NULL, lua_tostring(L, 3 + n));
    return lua_error(L);
  }
  c->pipe.sent++;
  if (++c->pipe.open >= PIPELINE_DEPTH) sync_point(L, c, c->pipe.in_tx ? 1 : 0);
  lua_pushinteger(L, c->pipe.sent);
  return 1;
}

/* [conn] -> [changes]; reads every result in flight (raising the first
 * failure) and returns the rows changed since the last call. */
static int conn_pipeline_sync(lua_State *L) {
  lm_pg *c = lm_pg_enter(L, luaL_checkudata(L, 1, LM_PG_CONN), 1);
  lua_Integer changes;
  changes = c->pipe.changes;
  c->pipe.changes = 0;
  lua_pushinteger(L, changes);
  return 1;
}

void lm_pg_pipeline_methods(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"pipeline_send", conn_pipeline_send}, {"pipeline_sync", conn_pipeline_sync}, {NULL, NULL}};
  luaL_setfuncs(L, methods, 0);
}
