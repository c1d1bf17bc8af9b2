/* Error objects, the NULL sentinel and caller locations, shared by drivers. */
#include "drv_util.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static const char null_sentinel = 0; /* its address is luamig.null */

void lm_push_null(lua_State *L) { lua_pushlightuserdata(L, (void *)&null_sentinel); }

int lm_is_null(lua_State *L, int idx) {
  return lua_isnoneornil(L, idx) || lua_touserdata(L, idx) == (void *)&null_sentinel;
}

int luaopen_luamig_null(lua_State *L) {
  lm_push_null(L);
  return 1;
}

/* Appends " <field>" / ": <field>" parts that are present. */
static void add_field(lua_State *L, luaL_Buffer *b, int obj, const char *field, const char *before) {
  if (lua_getfield(L, obj, field) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
    const char *s = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (*s == '\0') return;
    luaL_addstring(b, before);
    luaL_addstring(b, s);
  } else {
    lua_pop(L, 1);
  }
}

/* True when err's message names its where already (a failed step's message
 * quotes the text of what failed, place included): it is not said twice. */
static int names_where(lua_State *L, int err) {
  const char *where, *message;
  int named;
  lua_getfield(L, err, "where");
  lua_getfield(L, err, "message");
  where = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
  message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  named = where && *where && message && strstr(message, where) != NULL;
  lua_pop(L, 2);
  return named;
}

/* [err] -> [text]; "where: driver code: message (detail) hint" with absent
 * parts left out ("where: " too when the message names it). The code is
 * shown with a driver only: the runner's own codes (e.g. "lock_timeout") are
 * for programs, the message is for people. */
int lm_error_tostring(lua_State *L) {
  luaL_Buffer b;
  size_t len;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_buffinit(L, &b);
  if (!names_where(L, 1)) add_field(L, &b, 1, "where", "");
  if (luaL_bufflen(&b) > 0) luaL_addstring(&b, ": ");
  len = luaL_bufflen(&b);
  add_field(L, &b, 1, "driver", "");
  if (luaL_bufflen(&b) > len) {
    add_field(L, &b, 1, "code", " ");
    luaL_addstring(&b, ": ");
  }
  add_field(L, &b, 1, "message", "");
  add_field(L, &b, 1, "detail", "\nDETAIL: ");
  add_field(L, &b, 1, "hint", "\nHINT: ");
  luaL_pushresult(&b);
  return 1;
}

/* [mt] -> [mt]; getmetatable() of its objects returns false, and
 * setmetatable() refuses them: user code cannot reach or swap the methods
 * the runner relies on. */
static void protect(lua_State *L) {
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
}

void lm_util_init(lua_State *L) {
  if (luaL_newmetatable(L, LM_ERROR_MT)) {
    lua_pushcfunction(L, lm_error_tostring);
    lua_setfield(L, -2, "__tostring");
    protect(L);
  }
  lua_pop(L, 1);
}

void lm_protect_metatable(lua_State *L, int idx) {
  if (lua_getmetatable(L, idx)) {
    protect(L);
    lua_pop(L, 1);
  }
}

/* True when a chunk's source belongs to the runner itself (or is C): for
 * locations only, never for policy (the guard is conn:set_guarded). */
static int is_runner_source(lua_State *L, const char *source) {
  int skip = 0;
  if (source[0] != '@') return 1;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LM_RUNNER_PREFIX) == LUA_TSTRING) {
    size_t n;
    const char *prefix = lua_tolstring(L, -1, &n);
    skip = strncmp(source, prefix, n) == 0;
  }
  lua_pop(L, 1);
  return skip;
}

int lm_set_guarded(lua_State *L, int *guard) {
  int was = *guard;
  luaL_checkany(L, 2);
  *guard = lua_toboolean(L, 2);
  lua_pushboolean(L, was);
  return 1;
}

int lm_where(lua_State *L, const char *path) {
  lua_Debug ar;
  int level;
  for (level = 1; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline <= 0) continue;
    if (path ? (ar.source[0] == '@' && strcmp(ar.source + 1, path) == 0) : !is_runner_source(L, ar.source)) {
      lua_pushfstring(L, "%s:%d", ar.source + 1, ar.currentline);
      return 1;
    }
  }
  return 0;
}

void lm_push_where(lua_State *L) {
  if (!lm_where(L, NULL)) lua_pushliteral(L, "");
}

static void set_string(lua_State *L, const char *field, const char *value) {
  if (!value) return;
  lua_pushstring(L, value);
  lua_setfield(L, -2, field);
}

void lm_push_db_error(lua_State *L, const lm_db_error *e) {
  lua_createtable(L, 0, 8);
  set_string(L, "kind", "db");
  set_string(L, "driver", e->driver);
  set_string(L, "code", e->code);
  set_string(L, "message", e->message ? e->message : "unknown error");
  set_string(L, "detail", e->detail);
  set_string(L, "hint", e->hint);
  set_string(L, "sql", e->sql);
  lm_push_where(L);
  lua_setfield(L, -2, "where");
  luaL_setmetatable(L, LM_ERROR_MT);
}

/* [] -> [text]; the value at idx as SQL would show it: 'text' (cut at 60
 * bytes), a number, true/false, NULL. */
static void push_param_text(lua_State *L, int idx) {
  size_t len;
  const char *s;
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
      s = lua_tolstring(L, idx, &len);
      lua_pushlstring(L, s, len > 60 ? 60 : len);
      luaL_gsub(L, lua_tostring(L, -1), "'", "''");
      lua_pushfstring(L, "'%s'%s", lua_tostring(L, -1), len > 60 ? "..." : "");
      lua_replace(L, -3);
      lua_pop(L, 1);
      return;
    case LUA_TNUMBER: case LUA_TBOOLEAN: luaL_tolstring(L, idx, NULL); return;
    default: lua_pushliteral(L, "NULL");
  }
}

void lm_pipeline_entry(lua_State *L, int entry, int sql, int first, int n, lua_Integer number) {
  int i;
  entry = lua_absindex(L, entry);
  sql = lua_absindex(L, sql);
  first = lua_absindex(L, first);
  lua_pushvalue(L, sql);
  lua_setfield(L, entry, "sql");
  lm_push_where(L);
  lua_setfield(L, entry, "where");
  lua_pushinteger(L, number);
  lua_setfield(L, entry, "number");
  if (lua_getfield(L, entry, "params") != LUA_TTABLE) { /* reused in place */
    lua_pop(L, 1);
    lua_createtable(L, n, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, entry, "params");
  }
  for (i = 1; i <= n; i++) {
    lua_pushvalue(L, first + i - 1);
    lua_rawseti(L, -2, i);
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  lua_pop(L, 1);
}

void lm_pipeline_note(lua_State *L, int err, int entry) {
  luaL_Buffer b;
  lua_Integer i, n;
  size_t len;
  const char *sql;
  err = lua_absindex(L, err);
  entry = lua_absindex(L, entry);
  if (!lua_istable(L, err)) return;
  lua_getfield(L, entry, "sql");
  sql = lua_tolstring(L, -1, &len);
  if (!sql) sql = "", len = 0;
  lua_getfield(L, entry, "params");
  lua_getfield(L, -1, "n");
  n = lua_tointeger(L, -1);
  lua_pop(L, 1);
  lua_createtable(L, (int)n, 1); /* err.params: a copy, the entry is reused */
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, i);
    lua_rawseti(L, -2, i);
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  lua_setfield(L, err, "params");
  luaL_buffinit(L, &b);
  lua_getfield(L, err, "message");
  luaL_addvalue(&b);
  luaL_addstring(&b, " (in the pipelined statement ");
  luaL_addlstring(&b, sql, len > 200 ? 200 : len);
  if (len > 200) luaL_addstring(&b, "...");
  if (n) luaL_addstring(&b, ", parameters (");
  for (i = 1; i <= n && i <= 12; i++) { /* a batch's thousands of values: the first few */
    lua_getfield(L, entry, "params");
    lua_rawgeti(L, -1, i);
    push_param_text(L, -1);
    lua_replace(L, -3);
    lua_pop(L, 1);
    luaL_addvalue(&b);
    if (i < n) luaL_addstring(&b, i < 12 ? ", " : ", ...");
  }
  luaL_addstring(&b, n ? "))" : ")");
  luaL_pushresult(&b);
  lua_setfield(L, err, "message");
  lua_pushvalue(L, -2); /* the SQL */
  lua_setfield(L, err, "sql");
  if (lua_getfield(L, entry, "where") == LUA_TSTRING && lua_rawlen(L, -1) > 0) lua_setfield(L, err, "where");
  else lua_pop(L, 1);
  lua_pop(L, 2); /* params, sql */
}

int lm_misuse(lua_State *L, const char *fmt, ...) {
  va_list ap;
  lm_push_where(L);
  if (lua_rawlen(L, -1) > 0) lua_pushliteral(L, ": ");
  else lua_pushliteral(L, "");
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 3);
  return lua_error(L);
}

/* [_, key] -> [key', method]; the next method after `key` (upvalue: the
 * method table, which stays out of reach). */
static int next_method(lua_State *L) {
  lua_settop(L, 2);
  return lua_next(L, lua_upvalueindex(1)) ? 2 : 0;
}

/* [obj] -> [iterator, nil, nil]; `pairs(obj)` lists its methods. */
static int pairs_methods(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushcclosure(L, next_method, 1);
  lua_pushnil(L);
  lua_pushnil(L);
  return 3;
}

void lm_define_type(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close) {
  luaL_newmetatable(L, name);
  protect(L);
  if (methods) {
    lua_newtable(L);
    lua_pushvalue(L, -2); /* each method's upvalue 1: the metatable (lm_check_self) */
    luaL_setfuncs(L, methods, 1);
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, pairs_methods, 1);
    lua_setfield(L, -3, "__pairs");
    lua_setfield(L, -2, "__index");
  }
  lua_pushcfunction(L, close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}

void *lm_check_self(lua_State *L, int idx, const char *name) {
  void *p = lua_touserdata(L, idx);
  if (p && lua_getmetatable(L, idx)) {
    int same = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
    if (same) return p;
  }
  return luaL_checkudata(L, idx, name);
}

const char *lm_check_sql(lua_State *L, int idx, size_t *len) {
  size_t n;
  const char *sql = luaL_checklstring(L, idx, &n);
  const char *nul = memchr(sql, '\0', n);
  if (len) *len = n;
  if (nul) lm_misuse(L, "SQL text holds a NUL byte (at byte %d): remove it", (int)(nul - sql) + 1);
  return sql;
}

void lm_check_param_count(lua_State *L, int expected, int given) {
  if (given != expected)
    lm_misuse(L, "statement takes %d parameter%s, %d given", expected, expected == 1 ? "" : "s", given);
}

void lm_check_bindable(lua_State *L, int idx, int param) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL: case LUA_TBOOLEAN: case LUA_TSTRING: return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx) || !isnan(lua_tonumber(L, idx))) return;
      lm_misuse(L, "parameter %d: cannot bind NaN", param);
      return;
    default:
      if (lm_is_null(L, idx)) return;
      lm_misuse(L, "parameter %d: cannot bind a %s", param, luaL_typename(L, idx));
  }
}
