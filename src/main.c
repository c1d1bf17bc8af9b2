/* luamig: argv -> one protected call into luamig.cli -> exit code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "host.h"
#include "signals.h"

/* Leak checkers want every block freed at exit: AddressSanitizer builds, and
 * runs under valgrind where its header is installed (callgrind too: to
 * measure the exit without frees, build with -D'LEAK_CHECKED()=0'). */
#ifndef LEAK_CHECKED
#if defined(__SANITIZE_ADDRESS__)
#define LEAK_CHECKED() 1
#elif defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define LEAK_CHECKED() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef LEAK_CHECKED
#define LEAK_CHECKED() 0
#endif
#endif

/* Exit code for an error cli.main did not handle (a bug in luamig, or out
 * of memory): EX_SOFTWARE from sysexits.h, apart from the runner's own codes
 * (0-6, errors.EXIT in lua/luamig/util/errors.lua; LUAMIG_* in luamig.h). */
#define EXIT_INTERNAL_ERROR 70

/* [argc, argv as light userdata] -> [exit code]; everything runs in here. */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1), i;
  char **argv = lua_touserdata(L, 2);
  lm_host_setup(L, getenv("LUAMIG_LUA_DIR")); /* development: lua/ from disk */
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luamig.cli");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "main");
  lua_createtable(L, argc > 1 ? argc - 1 : 0, 0);
  for (i = 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i);
  }
  lua_call(L, 1, 1);
  return 1;
}

/* The allocator lua_close runs with at exit: it frees nothing, as the
 * process is about to give all its memory back at once (the frees were 6% of
 * `luamig current`), yet every finalizer still runs (connections close,
 * files flush, locks are released) as in a full close. */
static void *exit_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  return nsize == 0 ? NULL : realloc(ptr, nsize);
}

/* True when argv asks for tracebacks of internal errors. */
static int wants_debug(int argc, char **argv) {
  int i;
  for (i = 1; i < argc; i++)
    if (strcmp(argv[i], "--debug") == 0) return 1;
  return getenv("LUAMIG_DEBUG") != NULL;
}

int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  int status, code = EXIT_INTERNAL_ERROR;
  if (!L) {
    fputs("luamig: out of memory\n", stderr);
    return EXIT_INTERNAL_ERROR;
  }
  lm_signals_install(L);
  lua_pushcfunction(L, lm_host_traceback);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 1);
  if (status == LUA_OK) {
    code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
  } else {
    const char *msg = luaL_tolstring(L, -1, NULL);
    if (!wants_debug(argc, argv)) {
      const char *nl = strchr(msg, '\n'); /* first line only, no traceback */
      fprintf(stderr, "luamig: internal error: %.*s\n", nl ? (int)(nl - msg) : (int)strlen(msg), msg);
    } else {
      fprintf(stderr, "luamig: internal error: %s\n", msg);
    }
  }
  if (lm_signals_caught()) code = 128 + lm_signals_caught(); /* the shell's convention: 130 for Ctrl-C */
  if (!LEAK_CHECKED()) lua_setallocf(L, exit_alloc, NULL);
  lua_close(L);
  return code;
}
