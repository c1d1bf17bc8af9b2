/* SIGINT and SIGTERM: the first one sets a Lua hook that raises an
 * "interrupted" error at the next Lua instruction, so the runner's failure
 * path rolls back, records and reports as for any error; a second one exits
 * at once. lua_sethook is the one Lua call that is safe in a handler. */
#include "signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "drv_util.h"

static lua_State *volatile hooked;
static volatile sig_atomic_t caught; /* the first signal's number, 0 before */

/* The hook: raises "FILE:LINE: interrupted (...)", naming the user's line
 * that was running (not the runner's). */
static void raise_interrupted(lua_State *L, lua_Debug *ar) {
  const char *where;
  (void)ar;
  lua_sethook(L, NULL, 0, 0); /* once: the clean-up after it must run */
  lm_push_where(L);
  where = lua_tostring(L, -1);
  lua_pushfstring(L, "%s%sinterrupted (%s)", where, *where ? ": " : "",
                  caught == SIGTERM ? "SIGTERM" : "SIGINT, Ctrl-C");
  lua_error(L);
}

static void on_signal(int sig) {
  if (caught) {
    static const char msg[] = "\nluamig: interrupted again: exiting at once\n";
    if (write(2, msg, sizeof msg - 1) < 0) {}
    _exit(128 + caught);
  }
  caught = sig;
  if (hooked) lua_sethook(hooked, raise_interrupted, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

void lm_signals_install(lua_State *L) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  hooked = L;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int lm_signals_caught(void) { return (int)caught; }
