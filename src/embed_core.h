/* A private Lua state running luamig.cli.api, for libluamig (lib_c.c) and
 * the Lua module (lib_lua.c): the same code the command runs. */
#ifndef LM_EMBED_CORE_H
#define LM_EMBED_CORE_H

#include <lua.h>

#if defined(__GNUC__)
#define LM_EXPORT __attribute__((visibility("default")))
#else
#define LM_EXPORT
#endif

/* A new state with the host set up and luamig.cli.api loaded (its table in
 * the registry: lm_embed_api). NULL and *msg (static text or a copy the
 * caller frees with free) on failure. No signal handlers. */
lua_State *lm_embed_new(char **msg);

/* [] -> [api table] */
void lm_embed_api(lua_State *L);

/* lua_pcall with the traceback handler under the function; returns status. */
int lm_embed_pcall(lua_State *L, int nargs, int nresults);

/* A malloc'ed copy of s (NULL when out of memory). */
char *lm_embed_strdup(const char *s);

#endif
