/* The private state behind libluamig and the Lua module. */
#include "embed_core.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "host.h"

#define API_KEY "luamig.embed.api"

char *lm_embed_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *c = malloc(n);
  if (c) memcpy(c, s, n);
  return c;
}

static int setup(lua_State *L) {
  lm_host_setup(L, NULL); /* embedded code only, whatever LUAMIG_LUA_DIR says */
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luamig.cli.api");
  lua_call(L, 1, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, API_KEY);
  return 0;
}

int lm_embed_pcall(lua_State *L, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs, status;
  lua_pushcfunction(L, lm_host_traceback);
  lua_insert(L, base);
  status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  return status;
}

lua_State *lm_embed_new(char **msg) {
  lua_State *L = luaL_newstate();
  *msg = NULL;
  if (!L) return NULL;
  lua_pushcfunction(L, setup);
  if (lm_embed_pcall(L, 0, 0) != LUA_OK) {
    const char *m = lua_tostring(L, -1);
    *msg = lm_embed_strdup(m ? m : "luamig: could not set up its Lua state");
    lua_close(L);
    return NULL;
  }
  return L;
}

void lm_embed_api(lua_State *L) { lua_getfield(L, LUA_REGISTRYINDEX, API_KEY); }
