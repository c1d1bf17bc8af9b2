/* Shared by the drivers: error objects, the NULL sentinel, handle checks. */
#ifndef LM_DRV_UTIL_H
#define LM_DRV_UTIL_H

#include <lauxlib.h>
#include <lua.h>

#define LM_ERROR_MT "luamig.Error"
#define LM_RUNNER_PREFIX "luamig.runner_prefix" /* registry key, set by the host */

/* [] -> []; creates the error metatable in the registry. Call once per state. */
void lm_util_init(lua_State *L);
/* [] -> []; protects the metatable of the value at idx (if any) with __metatable. */
void lm_protect_metatable(lua_State *L, int idx);

/* [err] -> [text]; __tostring of luamig's error objects (any table of their
 * fields): "where: driver code: message (detail) hint" with absent parts
 * left out ("where: " too when the message names it already). */
int lm_error_tostring(lua_State *L);

/* [] -> [null]; pushes luamig.null, the sentinel that binds as SQL NULL. */
void lm_push_null(lua_State *L);

/* True when the value at idx is nil or luamig.null. */
int lm_is_null(lua_State *L, int idx);

/* The one "user's line on the stack": [] -> [where] and 1, "file:line" of
 * the innermost Lua frame of chunk "@path" (path given) or, path NULL,
 * outside the runner's own modules (the user's migration line); [] and 0
 * when there is none. Lua reaches it as luamig.host.where(path?). */
int lm_where(lua_State *L, const char *path);

/* [] -> [where]; lm_where(L, NULL), or "" when there is none. */
void lm_push_where(lua_State *L);

/* [conn, on] -> [was]; conn:set_guarded for both drivers: the runner's
 * policy as data on the connection (luamig.Db:guard). While set, statements
 * that would end the transaction are refused, and one that ended it anyway
 * raises. Only the runner holds the driver handle. */
int lm_set_guarded(lua_State *L, int *guard);

/* The message when a migration's statement `what` ends the transaction the
 * runner guards (conn:set_guarded); `done` says what became of the
 * statements before it. */
#define LM_TX_ENDED "%s %s the migration's transaction (%s): a transactional migration cannot run BEGIN, " \
  "COMMIT or ROLLBACK; use db:autocommit(function(db) ... end) or transactional = false"

/* Raises a misuse error (a string) prefixed with the caller's file:line,
 * as luaL_error would if the caller were a Lua function. Never returns. */
int lm_misuse(lua_State *L, const char *fmt, ...);

/* Fields of a database error. NULL fields are left out of the object. */
typedef struct lm_db_error {
  const char *driver;  /* "sqlite", "pg" */
  const char *code;    /* "SQLITE_CONSTRAINT_UNIQUE", SQLSTATE "23505" */
  const char *message; /* the driver's message */
  const char *detail;  /* PostgreSQL DETAIL, if any */
  const char *hint;    /* PostgreSQL HINT, if any */
  const char *sql;     /* the statement that failed */
} lm_db_error;

/* [] -> [err]; builds the error table (all strings copied). The caller
 * releases its resources, then raises it with lua_error. */
void lm_push_db_error(lua_State *L, const lm_db_error *e);

/* A statement db:pipeline queued, as both drivers remember it: a table
 * { sql = text, where = "file:line" that queued it, number = its number,
 * params = { n = count, values... } }. */

/* [] -> []; fills the entry table at `entry` in place (its params table is
 * reused): the SQL at index sql, the n values from index first. */
void lm_pipeline_entry(lua_State *L, int entry, int sql, int first, int n, lua_Integer number);

/* [] -> []; names in the db error at err the statement of the entry at
 * `entry`: the message gets "(in the pipelined statement <sql>, parameters
 * (...))"; the fields where, sql and params (a copy) are set. */
void lm_pipeline_note(lua_State *L, int err, int entry);

/* [] -> []; defines the metatable `name`: __index is a table of `methods`
 * (when given; each has the metatable as upvalue 1, for lm_check_self), and
 * __gc and __close both call `close`, which must be idempotent. */
void lm_define_type(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close);

/* luaL_checkudata(L, idx, name) for a method of type `name` (lm_define_type):
 * its own objects are recognized by comparing their metatable with upvalue 1,
 * without the registry lookup (a per-row loop calls a method per row);
 * anything else, or a call from another function, goes to luaL_checkudata. */
void *lm_check_self(lua_State *L, int idx, const char *name);

/* [..., sql at idx, ...] -> unchanged; the SQL text at idx and its length.
 * (len may be NULL). Raises a misuse error when it holds a NUL byte, which both libraries
 * would take as the end of the text and silently skip what follows. */
const char *lm_check_sql(lua_State *L, int idx, size_t *len);

/* Raises the misuse error "statement takes N parameters, M given". */
void lm_check_param_count(lua_State *L, int expected, int given);

/* Raises a misuse error naming parameter `param` (1-based) unless the value
 * at idx has an SQL form: nil, luamig.null, a boolean, a number other than
 * NaN, or a string. */
void lm_check_bindable(lua_State *L, int idx, int param);

/* luaopen for "luamig.null": [] -> [null] */
int luaopen_luamig_null(lua_State *L);

#endif
