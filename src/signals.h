/* SIGINT/SIGTERM turned into a Lua error (src/signals.c). */
#ifndef LM_SIGNALS_H
#define LM_SIGNALS_H

#include <lua.h>

/* Handle SIGINT and SIGTERM by interrupting the Lua code running on L. */
void lm_signals_install(lua_State *L);

/* The signal caught (SIGINT, SIGTERM), or 0. */
int lm_signals_caught(void);

/* While on, a signal is only noted (lm_signals_caught), not raised in Lua. */
void lm_signals_defer(int on);

/* This process is a fleet job: the first signal after the one it caught is
 * taken as the other copy of the same Ctrl-C (the terminal's and the
 * parent's), not as a second one; a third exits at once. */
void lm_signals_fleet_child(void);

/* [] -> []; raises "interrupted" once a signal was caught (at every call). */
int lm_signals_check(lua_State *L);

/* [thread] -> [thread]; the coroutine raises "interrupted" within a few
 * thousand instructions of a signal, and at every later chance. */
int lm_signals_watch(lua_State *L);

#endif
