/* The Lua state luamig runs in: libraries, drivers, embedded modules. */
#ifndef LM_HOST_H
#define LM_HOST_H

#include <lua.h>

/* [] -> []; opens the standard libraries, registers every C module and the
 * embedded Lua modules in package.preload (or, when lua_dir is a directory
 * name, lets its luamig/ on disk take precedence: the CLI's LUAMIG_LUA_DIR,
 * for development; the library and the Lua module pass NULL, so a host's
 * environment cannot swap their code). Raises on failure. */
void lm_host_setup(lua_State *L, const char *lua_dir);

/* Message handler for lua_pcall: [err] -> [err, with a traceback appended
 * when err is a string]. Non-string error objects pass through unchanged. */
int lm_host_traceback(lua_State *L);

/* luaopen for "luamig.host" (host_lib.c): [] -> [module] */
int luaopen_luamig_host(lua_State *L);

/* [module] -> [module]; adds the fleet's process functions (host_proc.c). */
void lm_host_proc_register(lua_State *L);

#endif
