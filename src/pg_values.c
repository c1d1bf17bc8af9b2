/* luamig.pg's SQL text and values (see pg_values.h). */
#include "pg_values.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "drv_util.h"
#include "sql_tokens.h"

/* Type OIDs (pg_type.h is not part of libpq-dev's public headers). */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23,
       OID_FLOAT4 = 700, OID_FLOAT8 = 701 };

/* ---------------------------------------------------------------- SQL text */

/* [] -> [sql']; copies sql with each `?` token (outside literals, quoted
 * names, comments and dollar-quoted bodies: sql_tokens.c) replaced by $1,
 * $2, ... Sets *count to the number of parameters. SQL already using $n is
 * left alone (count is then the highest n). */
void lm_pg_rewrite_placeholders(lua_State *L, const char *sql, size_t len, int *count) {
  lm_sql_lexer x;
  lm_token t;
  luaL_Buffer b;
  int n = 0, max_dollar = 0;
  luaL_buffinit(L, &b);
  lm_sql_lexer_init(&x, sql, len, LM_SQL_POSTGRESQL);
  while (lm_sql_next(&x, &t) != LM_TOK_END) {
    if (t.kind == LM_TOK_PARAM && sql[t.start] == '$') {
      long k = strtol(sql + t.start + 1, NULL, 10);
      if (k > max_dollar) max_dollar = k > INT_MAX ? INT_MAX : (int)k;
    } else if (t.kind == LM_TOK_PARAM && !max_dollar) {
      char num[16];
      snprintf(num, sizeof num, "$%d", ++n);
      luaL_addstring(&b, num);
      continue;
    }
    luaL_addlstring(&b, sql + t.start, t.len);
  }
  luaL_pushresult(&b);
  if (max_dollar > 0 && n > 0) { /* mixed: keep the text as written */
    lua_pop(L, 1);
    lua_pushlstring(L, sql, len);
  }
  *count = max_dollar > 0 ? max_dollar : n;
}

/* ---------------------------------------------------------------- values */

/* True if s[0..len) is valid UTF-8 without NUL bytes (then it goes as text,
 * which libpq cannot send otherwise: text parameters end at a NUL). */
static int is_text(const unsigned char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char c = s[i];
    size_t k = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
    if (c == 0 || k == 9 || i + k >= len + (k == 0)) return 0;
    for (size_t j = 1; j <= k; j++)
      if ((s[i + j] & 0xC0) != 0x80) return 0;
    i += k + 1;
  }
  return 1;
}

/* [...] -> [..., arrays, texts...]; converts the n values from index first.
 * Text forms are pushed on the stack, which keeps them alive for the call.
 * Strings that are not NUL-free UTF-8 go in binary format with their type
 * left to the server (0): the column's receive function decides, so bytea
 * takes the bytes as they are and text rejects the invalid encoding. */
void lm_pg_build_params(lua_State *L, int first, int n, lm_pg_params *p) {
  int i;
  char *block = lua_newuserdatauv(L, (size_t)n * (sizeof(char *) + 2 * sizeof(int) + sizeof(Oid)) + 1, 0);
  p->n = n;
  p->values = (const char **)(void *)block;
  p->lengths = (int *)(void *)(block + (size_t)n * sizeof(char *));
  p->formats = p->lengths + n;
  p->types = (Oid *)(void *)(p->formats + n);
  luaL_checkstack(L, n, "too many parameters");
  for (i = 0; i < n; i++) {
    int idx = first + i;
    size_t len = 0;
    lm_check_bindable(L, idx, i + 1);
    p->lengths[i] = 0;
    p->formats[i] = 0;
    p->types[i] = 0;
    switch (lua_type(L, idx)) {
      case LUA_TNIL: p->values[i] = NULL; continue;
      case LUA_TBOOLEAN: p->values[i] = lua_toboolean(L, idx) ? "t" : "f"; p->types[i] = OID_BOOL; continue;
      case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
          p->values[i] = lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, idx));
        } else {
          char num[64];
          snprintf(num, sizeof num, "%.17g", (double)lua_tonumber(L, idx));
          p->values[i] = lua_pushstring(L, num);
        }
        continue;
      case LUA_TSTRING: {
        const char *s = lua_tolstring(L, idx, &len);
        p->values[i] = s;
        if (!is_text((const unsigned char *)s, len)) {
          if (len > INT_MAX) lm_misuse(L, "parameter %d: a string over 2 GB cannot be sent", i + 1);
          p->formats[i] = 1;
          p->lengths[i] = (int)len;
        }
        continue;
      }
      default: p->values[i] = NULL; continue; /* luamig.null */
    }
  }
}

/* [] -> [value]; field (row, col) of res converted by column type. */
void lm_pg_push_value(lua_State *L, const PGresult *res, int row, int col) {
  const char *v = lm_pq.PQgetvalue(res, row, col);
  switch (lm_pq.PQftype(res, col)) {
    case OID_BOOL: lua_pushboolean(L, v[0] == 't'); break;
    case OID_INT2: case OID_INT4: case OID_INT8: lua_pushinteger(L, (lua_Integer)strtoll(v, NULL, 10)); break;
    case OID_FLOAT4: case OID_FLOAT8: lua_pushnumber(L, strtod(v, NULL)); break;
    case OID_BYTEA: {
      /* The Lua buffer first: once libpq's copy exists, nothing may raise
       * before it is freed. The decoded bytes are never longer than v. */
      size_t n = 0, len = (size_t)lm_pq.PQgetlength(res, row, col);
      luaL_Buffer b;
      char *out = luaL_buffinitsize(L, &b, len);
      unsigned char *bytes = lm_pq.PQunescapeBytea((const unsigned char *)v, &n);
      if (!bytes) luaL_error(L, "out of memory decoding bytea");
      memcpy(out, bytes, n <= len ? n : len);
      lm_pq.PQfreemem(bytes);
      luaL_pushresultsize(&b, n <= len ? n : len);
      break;
    }
    default: lua_pushlstring(L, v, (size_t)lm_pq.PQgetlength(res, row, col));
  }
}

/* [] -> [rows]; every row of res (which the caller still owns: pg_result.c's
 * box keeps it, which __gc clears, as these conversions can raise). */
void lm_pg_push_rows(lua_State *L, const PGresult *res) {
  int r, nrows = lm_pq.PQntuples(res);
  lua_createtable(L, nrows, 0);
  for (r = 0; r < nrows; r++) {
    lm_pg_push_row(L, res, r);
    lua_rawseti(L, -2, r + 1);
  }
}

/* [] -> [row]; row r of res as a table keyed by column name. */
void lm_pg_push_row(lua_State *L, const PGresult *res, int r) {
  int c, ncols = lm_pq.PQnfields(res);
  lua_createtable(L, 0, ncols);
  for (c = 0; c < ncols; c++) {
    if (lm_pq.PQgetisnull(res, r, c)) continue;
    lm_pg_push_value(L, res, r, c);
    lua_setfield(L, -2, lm_pq.PQfname(res, c));
  }
}
