/* SIGINT and SIGTERM: the first one sets a Lua hook that raises an
 * "interrupted" error at the next Lua instruction, so the runner's failure
 * path rolls back, records and reports as for any error; a second one exits
 * at once. lua_sethook is the one Lua call that is safe in a handler.
 *
 * The interrupt stays raised: user code cannot swallow it. The sandbox's
 * pcall, xpcall and coroutine.resume raise it again on return
 * (lm_signals_check), and every coroutine user code creates carries a hook
 * that raises it every few thousand instructions once it is caught
 * (lm_signals_watch): the main thread's hook cannot reach a coroutine. */
#include "signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "drv_util.h"

static lua_State *volatile hooked;
static volatile sig_atomic_t caught; /* the first signal's number, 0 before */
static volatile sig_atomic_t deferred; /* note the signal only (lm_signals_defer) */
static volatile sig_atomic_t fleet_child; /* a fleet job (lm_signals_fleet_child) */
static volatile sig_atomic_t echoes; /* copies of the first Ctrl-C still expected (fleet job) */

/* The hook: raises "FILE:LINE: interrupted (...)", naming the user's line
 * that was running (not the runner's). */
static int push_interrupted(lua_State *L) {
  const char *where;
  lm_push_where(L);
  where = lua_tostring(L, -1);
  lua_pushfstring(L, "%s%sinterrupted (%s)", where, *where ? ": " : "",
                  caught == SIGTERM ? "SIGTERM" : "SIGINT, Ctrl-C");
  return lua_error(L);
}

/* The main thread's hook: raises once (the runner's clean-up after it must run). */
static void raise_interrupted(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  push_interrupted(L);
}

/* A user coroutine's hook: raises whenever it runs after the signal. */
static void watch_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (caught) push_interrupted(L);
}

static void on_signal(int sig, siginfo_t *info, void *context) {
  (void)context;
  if (caught) {
    /* a fleet parent passing on the Ctrl-C this child already got from the terminal */
    if (info && info->si_code == SI_USER && info->si_pid == getppid()) return;
    /* a fleet job gets one Ctrl-C twice, from the terminal and from its
     * parent, in either order: the one that comes second is not a second Ctrl-C */
    if (echoes > 0) {
      echoes = 0;
      return;
    }
    static const char msg[] = "\nluamig: interrupted again: exiting at once\n";
    if (write(2, msg, sizeof msg - 1) < 0) {}
    _exit(128 + caught);
  }
  caught = sig;
  if (fleet_child) echoes = 1;
  if (hooked && !deferred) lua_sethook(hooked, raise_interrupted, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

void lm_signals_install(lua_State *L) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  hooked = L;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int lm_signals_caught(void) { return (int)caught; }

void lm_signals_defer(int on) { deferred = on; }

void lm_signals_fleet_child(void) { fleet_child = 1; }

int lm_signals_check(lua_State *L) {
  if (caught) push_interrupted(L);
  return 0;
}

/* Often enough to stop at once, rare enough to cost nothing. */
#define WATCH_EVERY 1000

int lm_signals_watch(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co != NULL, 1, "coroutine");
  lua_sethook(co, watch_hook, LUA_MASKCOUNT, WATCH_EVERY);
  lua_settop(L, 1);
  return 1;
}
