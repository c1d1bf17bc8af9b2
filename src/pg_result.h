/* luamig.pg's results, used by the driver (pg_driver.c) and the pipeline
 * (pg_pipeline.c): the box that owns a PGresult, error objects, and the one
 * loop that reads a command's results. */
#ifndef LUAMIG_PG_RESULT_H
#define LUAMIG_PG_RESULT_H

#include <lua.h>

#include "pg_load.h"

#define LM_PG_RESULT "luamig.pg.Result"

/* [] -> []; defines the box's metatable. Call once, from luaopen_luamig_pg. */
void lm_pg_result_type(lua_State *L);

/* [] -> [box]; a userdata that owns a PGresult (NULL until set), so that a
 * Lua error raised while a result is held cannot leak it: __gc clears it.
 * Push it before the libpq call that fills it, since pushing can raise. */
PGresult **lm_pg_push_box(lua_State *L);

/* Clears the result in the box (if any); the box stays usable. */
void lm_pg_release(PGresult **box);

/* [] -> [err]; the error of a failed result, or of the connection (res NULL). */
void lm_pg_push_result_error(lua_State *L, PGconn *conn, const PGresult *res, const char *sql);

/* Rows changed by a command result. */
lua_Integer lm_pg_changes(PGresult *res);

/* Ends a COPY the server started for a statement that has no data stream:
 * aborts COPY FROM STDIN, reads and drops COPY TO STDOUT's rows. */
void lm_pg_end_copy(PGconn *conn, ExecStatusType st);

/* What reading a command's results found. The boxes are the caller's (or
 * NULL: such results are cleared); a result moved into one is the caller's. */
typedef struct lm_pg_reading {
  PGresult **first;    /* the first row, in single-row mode */
  PGresult **failed;   /* the first failed result */
  lua_Integer changes; /* rows changed, summed */
  char tag[32];        /* the last command's tag */
  char ended[16];      /* the last COMMIT or ROLLBACK tag, "" when none */
  int copying;         /* a COPY was met (and ended) */
  int cancellable;     /* on Ctrl-C or SIGTERM, cancel what is in flight (a pipeline's queue) */
} lm_pg_reading;

/* Reads a command's results up to the end of them (or to a pipeline's sync
 * point: then returns 1, else 0), collecting into *r. Raises nothing. */
int lm_pg_read(PGconn *conn, lm_pg_reading *r);

/* Reads and clears what is left of a command's results, ending any COPY.
 * Returns true when a COPY was met. */
int lm_pg_drain(PGconn *conn);

/* Raises the error for a COPY run where no data stream was given. */
int lm_pg_refuse_copy(lua_State *L);

/* Raises for a result in *box that did not succeed (the result is cleared);
 * a COPY is ended first, leaving the connection usable. */
void lm_pg_check_result(lua_State *L, PGconn *conn, PGresult **box, const char *sql);

#endif
