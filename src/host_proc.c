/* luamig.host's processes, for fleet runs: each target runs in a child
 * forked from the runner. A child dies with its parent (even a kill -9 of
 * the parent): PR_SET_PDEATHSIG sends it SIGTERM, which interrupts it like
 * Ctrl-C (its step is rolled back). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <lauxlib.h>
#include <lua.h>

#include "host.h"
#include "signals.h"

/* [fn, ...] -> [pid]; runs fn(...) in a child process, which ends when fn
 * returns or raises (exit code 0, or 1): no error of the child can unwind
 * into the parent's Lua frames it shares. Fleet runs give each target its
 * own process (a copy-on-write Lua state, its own connections and locks).
 * The child takes interrupts again (the parent defers them while it waits). */
static int host_fork(lua_State *L) {
  pid_t parent = getpid(), pid;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  fflush(NULL);
  pid = fork();
  if (pid < 0) return luaL_error(L, "fork failed: %s", strerror(errno));
  if (pid == 0) {
    int status;
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    if (getppid() != parent) _exit(128 + SIGTERM); /* the parent died before prctl */
    lm_signals_defer(0);
    lm_signals_fleet_child();
    status = lua_pcall(L, lua_gettop(L) - 1, 0, 0);
    fflush(NULL);
    _exit(status == LUA_OK ? 0 : 1);
  }
  lua_pushinteger(L, (lua_Integer)pid);
  return 1;
}

/* [block] -> [pid, exit code] or [nil]; a finished child (exit code 128+N for
 * signal N); nil when none has finished (block false), none is left, or a
 * signal was caught meanwhile (host.interrupted() says which). */
static int host_wait(lua_State *L) {
  int st = 0;
  pid_t pid;
  do {
    pid = waitpid(-1, &st, lua_toboolean(L, 1) ? 0 : WNOHANG);
  } while (pid < 0 && errno == EINTR && !lm_signals_caught());
  if (pid <= 0) return 0;
  lua_pushinteger(L, (lua_Integer)pid);
  lua_pushinteger(L, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0));
  return 2;
}

/* [pid, "SIGINT"|"SIGTERM"] -> []; passes an interrupt on to a child. */
static int host_kill(lua_State *L) {
  static const char *const names[] = {"SIGINT", "SIGTERM", NULL};
  static const int sigs[] = {SIGINT, SIGTERM};
  pid_t pid = (pid_t)luaL_checkinteger(L, 1);
  int sig = sigs[luaL_checkoption(L, 2, NULL, names)];
  luaL_argcheck(L, pid > 0, 1, "a process id");
  kill(pid, sig);
  return 0;
}

/* [] -> [pid] */
static int host_getppid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getppid());
  return 1;
}

/* [dir, prefix] -> [path]; a new directory dir/prefixXXXXXX that only this
 * user can enter (mkdtemp: mode 0700). */
static int host_private_dir(lua_State *L) {
  const char *path = lua_pushfstring(L, "%s/%sXXXXXX", luaL_checkstring(L, 1), luaL_checkstring(L, 2));
  char *buf = malloc(strlen(path) + 1);
  if (!buf) return luaL_error(L, "out of memory");
  strcpy(buf, path);
  if (!mkdtemp(buf)) {
    int err = errno;
    free(buf);
    return luaL_error(L, "cannot create a directory %s: %s", path, strerror(err));
  }
  lua_pushstring(L, buf);
  free(buf);
  return 1;
}

/* [on] -> []; while on, a signal only sets host.interrupted() (a fleet
 * parent polls it between children) instead of raising in Lua code. */
static int host_defer_interrupts(lua_State *L) {
  lm_signals_defer(lua_toboolean(L, 1));
  return 0;
}

void lm_host_proc_register(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"fork", host_fork}, {"wait", host_wait}, {"kill", host_kill},
    {"getppid", host_getppid}, {"private_dir", host_private_dir}, {"defer_interrupts", host_defer_interrupts},
    {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
