/* Host: the Lua state luamig runs in, its libraries and preloaded modules. */
#include "host.h"

#include <string.h>

#include <lauxlib.h>
#include <lua-cjson.h>
#include <lualib.h>
#include <lfs.h>

#include "drivers.h"
#include "drv_util.h"
#include "lm_modules.h"

/* ---------------------------------------------------------------- loading */

/* [name, index] -> [module]; loader for an embedded module (upvalue: index). */
static int load_embedded(lua_State *L) {
  const lm_module *m = &lm_modules[lua_tointeger(L, lua_upvalueindex(1))];
  if (luaL_loadbufferx(L, (const char *)m->src, m->len, m->chunkname, "b") != LUA_OK) return lua_error(L);
  lua_pushstring(L, m->name);
  lua_call(L, 1, 1);
  return 1;
}

static void preload(lua_State *L, const char *name, lua_CFunction fn) {
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, fn);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

void lm_host_setup(lua_State *L, const char *dir) {
  size_t i;
  luaL_openlibs(L);
  lm_util_init(L);
  /* Strings' and files' methods are the runner's too: out of user code's reach. */
  lua_pushliteral(L, "");
  lm_protect_metatable(L, -1);
  lua_pop(L, 1);
  luaL_getmetatable(L, LUA_FILEHANDLE);
  lua_pushliteral(L, "__metatable");
  lua_pushboolean(L, 0);
  lua_rawset(L, -3);
  lua_pop(L, 1);

  preload(L, "lfs", luaopen_lfs);
  preload(L, "cjson", luaopen_cjson);
  preload(L, "luamig.null", luaopen_luamig_null);
  preload(L, "luamig.sqlite", luaopen_luamig_sqlite);
#ifdef LUAMIG_WITH_PG
  preload(L, "luamig.pg", luaopen_luamig_pg);
#endif
  preload(L, "luamig.host", luaopen_luamig_host);

  /* Embedded Lua modules go in package.preload; in development mode
   * (LUAMIG_LUA_DIR) the runner's modules come from disk instead. */
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (i = 0; i < lm_module_count; i++) {
    if (dir && *dir && strncmp(lm_modules[i].name, "luamig.", 7) == 0) continue;
    lua_pushinteger(L, (lua_Integer)i);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, lm_modules[i].name);
  }
  lua_pop(L, 1);

  if (dir && *dir) {
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", dir, dir);
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
    lua_pushfstring(L, "@%s/luamig/", dir);
  } else {
    /* No file system lookups: everything the runner needs is embedded. */
    lua_getglobal(L, "package");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
    lua_pushliteral(L, "@lua/luamig/");
  }
  lua_setfield(L, LUA_REGISTRYINDEX, LM_RUNNER_PREFIX);
}

int lm_host_traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg && lua_type(L, 1) == LUA_TSTRING) luaL_traceback(L, L, msg, 1);
  return 1;
}
