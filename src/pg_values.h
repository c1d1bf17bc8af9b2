/* luamig.pg's SQL text and values: `?` placeholders rewritten to $n, Lua
 * values bound as libpq parameters, result fields converted to Lua values
 * by column type (pg_driver.c runs the statements). */
#ifndef LUAMIG_PG_VALUES_H
#define LUAMIG_PG_VALUES_H

#include <lua.h>

#include "pg_load.h"

typedef struct lm_pg_params {
  int n;
  const char **values;
  int *lengths, *formats;
  Oid *types;
} lm_pg_params;

/* [] -> [sql']; sql with each `?` outside literals, quoted names, comments
 * and dollar-quoted bodies replaced by $1, $2, ...; *count = parameters. */
void lm_pg_rewrite_placeholders(lua_State *L, const char *sql, size_t len, int *count);

/* [...] -> [..., block, texts...]; the n Lua values from index first as
 * libpq parameters (the pushed values keep the texts alive for the call). */
void lm_pg_build_params(lua_State *L, int first, int n, lm_pg_params *p);

/* [] -> [value]; field (row, col) of res converted by its column's type. */
void lm_pg_push_value(lua_State *L, const PGresult *res, int row, int col);

/* [] -> [rows]; every row of res as a table keyed by column name. */
void lm_pg_push_rows(lua_State *L, const PGresult *res);

/* [] -> [row]; row r of res as a table keyed by column name. */
void lm_pg_push_row(lua_State *L, const PGresult *res, int r);

#endif
