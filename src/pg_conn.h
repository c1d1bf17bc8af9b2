/* luamig.pg internals shared by pg_driver.c (Conn, Stmt, Cursor) and
 * pg_pipeline.c (db:pipeline's sends and sync points); both read results
 * through pg_result.c. */
#ifndef LUAMIG_PG_CONN_H
#define LUAMIG_PG_CONN_H

#include <lua.h>

#include "pg_load.h"

#define LM_PG_CONN "luamig.pg.Conn"
#define LM_PG_STMT "luamig.pg.Stmt"
#define LM_PG_DEFERRED 16 /* statements of our own put off while a pipeline runs */

/* A pipeline's state. Results come back in order: each statement's, then
 * one PIPELINE_SYNC per sync point, so counting them is enough. */
typedef struct lm_pgpipe {
  lua_Integer sent;    /* statements sent since the connection opened (their numbers) */
  lua_Integer read;    /* of those, whose results were read */
  lua_Integer changes; /* rows changed since the last db:pipeline_sync() */
  int open;            /* sent since the last sync point */
  int unread;          /* sync points whose results are not read yet */
  int in_tx;           /* the pipeline began inside a transaction */
  lua_Integer ended_at; /* under the guard: the first statement read that ended one (COMMIT...) */
  char ended[16];      /* its command tag */
  int ring_ref;        /* registry ref of the ring of statements in flight */
  lua_Integer ring_values; /* parameters the ring took since it was made */
  int ndeferred;
  char deferred[LM_PG_DEFERRED][64]; /* DEALLOCATE / CLOSE, run once the pipeline ends */
} lm_pgpipe;

typedef struct lm_pg {
  PGconn *conn;      /* NULL once closed */
  unsigned next_id;  /* names prepared statements and cursors */
  lua_State *L;      /* the thread of the current call, for notices; NULL outside calls */
  int notice_ref;    /* registry ref of the on_notice function, or LUA_NOREF */
  int guard;         /* the runner's step transaction must stay open */
  int in_notice;     /* inside the on_notice handler: the connection is busy */
  lm_pgpipe pipe;
} lm_pg;

typedef struct lm_pgstmt {
  char name[32];     /* "" once closed */
  int nparams;
} lm_pgstmt;        /* uservalues: 1 Conn, 2 rewritten SQL */

/* pg_pipeline.c (the driver calls the pipeline, never the reverse) */

/* Every method's prologue: raises "connection is closed" unless c is open;
 * records the calling thread (for notices); with `settle`, first reads what
 * a pipeline left in flight (lm_pg_settle). Returns c. */
lm_pg *lm_pg_enter(lua_State *L, lm_pg *c, int settle);

/* Collects every result still in flight and leaves pipeline mode; raises
 * the first failure. Every other call on the connection runs this first. */
void lm_pg_settle(lua_State *L, lm_pg *c);

/* Runs sql (DEALLOCATE, CLOSE) now, or once the pipeline ends when one
 * runs; failures are ignored. Safe from __gc. */
void lm_pg_run_quietly(lm_pg *c, const char *sql);

/* [] -> []; adds conn:pipeline_send and conn:pipeline_sync to the table on top. */
void lm_pg_pipeline_methods(lua_State *L);

#endif
