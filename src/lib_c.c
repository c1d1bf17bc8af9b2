/* libluamig: the C API of include/luamig.h over luamig.cli.api. */
#include "luamig.h"

#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "embed_core.h"

struct luamig {
  lua_State *L;
  int project; /* registry reference of the luamig.Project */
};

static void set_err(char **err, const char *msg) {
  if (err) *err = lm_embed_strdup(msg ? msg : "luamig: unknown error");
}

/* Call api[fn](project, ...) (nargs values pushed after the project) under
 * pcall, expecting (code, json?, error?). Sets *json and *err; returns the code. */
static int call_api(luamig *p, const char *fn, int nargs, char **json, char **err) {
  lua_State *L = p->L;
  int code, status;
  lm_embed_api(L);
  lua_getfield(L, -1, fn);
  lua_remove(L, -2);
  lua_rawgeti(L, LUA_REGISTRYINDEX, p->project);
  lua_rotate(L, -(nargs + 2), 2);
  status = lm_embed_pcall(L, nargs + 1, 3);
  if (status != LUA_OK) {
    set_err(err, lua_tostring(L, -1));
    lua_settop(L, 0);
    return LUAMIG_INTERNAL;
  }
  code = lua_isinteger(L, -3) ? (int)lua_tointeger(L, -3) : LUAMIG_OK;
  if (json && lua_isstring(L, -2)) *json = lm_embed_strdup(lua_tostring(L, -2));
  if (lua_isstring(L, -1)) set_err(err, lua_tostring(L, -1));
  lua_settop(L, 0);
  return code;
}

/* NULL handle or target: a usage error naming the function, never a crash. */
static int bad_args(const luamig *p, const char *target, int needs_target, const char *fn, char **err) {
  char msg[96];
  const char *what = !p ? "the luamig handle is NULL" : (needs_target && !target) ? "the target is NULL" : NULL;
  if (!what) return 0;
  snprintf(msg, sizeof msg, "%s: %s", fn, what);
  set_err(err, msg);
  return 1;
}

LM_EXPORT luamig *luamig_open(const char *config_path, const char *url, char **err) {
  char *msg;
  luamig *p;
  lua_State *L;
  if (err) *err = NULL;
  L = lm_embed_new(&msg);
  if (!L) {
    if (err) *err = msg ? msg : lm_embed_strdup("luamig: out of memory");
    else free(msg);
    return NULL;
  }
  lm_embed_api(L);
  lua_getfield(L, -1, "open_c");
  lua_remove(L, -2);
  if (config_path) lua_pushstring(L, config_path); else lua_pushnil(L);
  if (url) lua_pushstring(L, url); else lua_pushnil(L);
  if (lm_embed_pcall(L, 2, 2) != LUA_OK || lua_isnil(L, -2)) {
    set_err(err, lua_tostring(L, -1));
    lua_close(L);
    return NULL;
  }
  p = malloc(sizeof *p);
  if (!p) {
    set_err(err, "luamig: out of memory");
    lua_close(L);
    return NULL;
  }
  lua_pop(L, 1);
  p->L = L;
  p->project = luaL_ref(L, LUA_REGISTRYINDEX);
  return p;
}

LM_EXPORT int luamig_wait_for_db(luamig *p, double seconds, char **err) {
  if (err) *err = NULL;
  if (bad_args(p, NULL, 0, "luamig_wait_for_db", err)) return LUAMIG_USAGE;
  lua_pushliteral(p->L, "set_wait_for_db");
  lua_pushnumber(p->L, seconds);
  return call_api(p, "call_json", 2, NULL, err);
}

static int migrate(luamig *p, const char *method, const char *fn, const char *target, char **err) {
  if (err) *err = NULL;
  if (bad_args(p, target, 1, fn, err)) return LUAMIG_USAGE;
  lua_pushstring(p->L, method);
  lua_pushstring(p->L, target);
  return call_api(p, "call_json", 2, NULL, err);
}

LM_EXPORT int luamig_upgrade(luamig *p, const char *target, char **err) { return migrate(p, "upgrade", "luamig_upgrade", target, err); }

LM_EXPORT int luamig_downgrade(luamig *p, const char *target, char **err) {
  return migrate(p, "downgrade", "luamig_downgrade", target, err);
}

LM_EXPORT int luamig_check(luamig *p, char **err) {
  if (err) *err = NULL;
  if (bad_args(p, NULL, 0, "luamig_check", err)) return LUAMIG_USAGE;
  lua_pushliteral(p->L, "check");
  return call_api(p, "call_json", 1, NULL, err);
}

LM_EXPORT int luamig_status_json(luamig *p, char **json, char **err) {
  if (err) *err = NULL;
  if (json) *json = NULL;
  if (bad_args(p, NULL, 0, "luamig_status_json", err)) return LUAMIG_USAGE;
  if (!json) {
    set_err(err, "the json argument is NULL");
    return LUAMIG_USAGE;
  }
  lua_pushliteral(p->L, "status");
  return call_api(p, "call_json", 1, json, err);
}

LM_EXPORT void luamig_close(luamig *p) {
  if (!p) return;
  lua_close(p->L);
  free(p);
}

LM_EXPORT void luamig_free(void *s) { free(s); }

LM_EXPORT const char *luamig_version(void) { return LUAMIG_VERSION_STRING; }
