/* The Lua module `luamig` (luamig.so for a plain Lua 5.4): luamig.open{...}
 * gives a project whose methods run luamig.cli.api in a private Lua state
 * and return plain data tables. Nothing of luamig touches the host's state:
 * no globals, no package.path, no signal handlers; results and errors are
 * copied across as data. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "drv_util.h"
#include "embed_core.h"

/* require "luamig" */
LM_EXPORT int luaopen_luamig(lua_State *H);

#define PROJECT_MT "luamig.Project"
#define ERROR_MT "luamig.Error (module)"
#define MAX_DEPTH 64

typedef struct project {
  lua_State *P;   /* the private state; NULL once closed */
  int ref;        /* registry reference of the luamig.Project in P */
  lua_State *H;   /* the host thread of the call in progress (for on_step) */
} project;

/* Push onto `to` a copy of the value at `idx` of `from`: nil, booleans,
 * numbers, strings and tables of those (functions, userdata: nil). */
static void copy_value(lua_State *from, int idx, lua_State *to, int depth) {
  luaL_checkstack(to, 3, "luamig: result too deep");
  idx = lua_absindex(from, idx);
  switch (lua_type(from, idx)) {
  case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); break;
  case LUA_TNUMBER:
    if (lua_isinteger(from, idx)) lua_pushinteger(to, lua_tointeger(from, idx));
    else lua_pushnumber(to, lua_tonumber(from, idx));
    break;
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(from, idx, &n);
    lua_pushlstring(to, s, n);
    break;
  }
  case LUA_TTABLE:
    if (depth >= MAX_DEPTH) { lua_pushnil(to); break; }
    lua_newtable(to);
    luaL_checkstack(from, 3, "luamig: result too deep");
    lua_pushnil(from);
    while (lua_next(from, idx)) {
      copy_value(from, -2, to, depth + 1);
      copy_value(from, -1, to, depth + 1);
      if (lua_isnil(to, -2) || lua_isnil(to, -1)) lua_pop(to, 2);
      else lua_rawset(to, -3);
      lua_pop(from, 1);
    }
    break;
  default: lua_pushnil(to); break;
  }
}

/* In P: on_step(step) -> the host's function (registry ref upvalue 2 of the
 * host state in upvalue 1's project), called protected; its error is raised
 * in P as text (a Lua error cannot cross states). */
static int bridge_on_step(lua_State *P) {
  project *pr = lua_touserdata(P, lua_upvalueindex(1));
  lua_State *H = pr->H;
  int top = lua_gettop(H);
  lua_rawgeti(H, LUA_REGISTRYINDEX, (int)lua_tointeger(P, lua_upvalueindex(2)));
  copy_value(P, 1, H, 0);
  if (lua_pcall(H, 1, 0, 0) != LUA_OK) {
    lua_pushfstring(P, "on_step: %s", luaL_tolstring(H, -1, NULL));
    lua_settop(H, top);
    return lua_error(P);
  }
  lua_settop(H, top);
  return 0;
}

/* The error object from P (a table) as a table in H with a __tostring. */
static void push_error(lua_State *P, int idx, lua_State *H) {
  if (lua_type(P, idx) == LUA_TTABLE) {
    copy_value(P, idx, H, 0);
    lua_pushnil(H);
    lua_setfield(H, -2, "traceback");
  } else {
    lua_newtable(H);
    lua_pushliteral(H, "internal");
    lua_setfield(H, -2, "kind");
    lua_pushstring(H, lua_isstring(P, idx) ? lua_tostring(P, idx) : "luamig: unknown error");
    lua_setfield(H, -2, "message");
  }
  luaL_setmetatable(H, ERROR_MT);
}

static project *check_open(lua_State *H) {
  project *pr = luaL_checkudata(H, 1, PROJECT_MT);
  if (!pr->P) luaL_error(H, "luamig: this project is closed (project:close() was called)");
  if (pr->H) luaL_error(H, "luamig: this project is busy (a method called from its own on_step)");
  return pr;
}

/* project:METHOD(args...) -> result, code | nil, error. The arguments are
 * copied into P; a function field on_step of an options table is bridged. */
static int call_method(lua_State *H, const char *method) {
  project *pr = check_open(H);
  lua_State *P = pr->P;
  int n = lua_gettop(H), i, on_step_ref = LUA_NOREF, status;
  lm_embed_api(P);
  lua_getfield(P, -1, "call");
  lua_remove(P, -2);
  lua_rawgeti(P, LUA_REGISTRYINDEX, pr->ref);
  lua_pushstring(P, method);
  for (i = 2; i <= n; i++) {
    copy_value(H, i, P, 0);
    if (lua_istable(H, i) && lua_getfield(H, i, "on_step") == LUA_TFUNCTION && lua_istable(P, -1)) {
      on_step_ref = luaL_ref(H, LUA_REGISTRYINDEX);
      lua_pushlightuserdata(P, pr);
      lua_pushinteger(P, on_step_ref);
      lua_pushcclosure(P, bridge_on_step, 2);
      lua_setfield(P, -2, "on_step");
    } else if (lua_istable(H, i)) {
      lua_pop(H, 1);
    }
  }
  pr->H = H;
  status = lm_embed_pcall(P, n + 1, 3);
  pr->H = NULL;
  if (on_step_ref != LUA_NOREF) luaL_unref(H, LUA_REGISTRYINDEX, on_step_ref);
  if (status != LUA_OK) {
    lua_pushnil(H);
    push_error(P, -1, H);
    lua_settop(P, 0);
    return 2;
  }
  if (lua_toboolean(P, -3)) { /* ok, result, code */
    copy_value(P, -2, H, 0);
    copy_value(P, -1, H, 0);
  } else { /* false, error */
    lua_pushnil(H);
    push_error(P, -2, H);
  }
  lua_settop(P, 0);
  return 2;
}

static int p_status(lua_State *H) { return call_method(H, "status"); }
static int p_upgrade(lua_State *H) { return call_method(H, "upgrade"); }
static int p_downgrade(lua_State *H) { return call_method(H, "downgrade"); }
static int p_check(lua_State *H) { return call_method(H, "check"); }

static int p_close(lua_State *H) {
  project *pr = luaL_checkudata(H, 1, PROJECT_MT);
  if (pr->H) return luaL_error(H, "luamig: this project is busy (closed from its own on_step)");
  if (pr->P) {
    lua_close(pr->P);
    pr->P = NULL;
  }
  return 0;
}

static int p_tostring(lua_State *H) {
  project *pr = luaL_checkudata(H, 1, PROJECT_MT);
  lua_pushfstring(H, "luamig project (%s)", pr->P ? "open" : "closed");
  return 1;
}

/* luamig.open{ config =, url =, wait_for_db =, verbose = } -> project | nil, error */
static int m_open(lua_State *H) {
  char *msg;
  project *pr;
  lua_State *P;
  if (!lua_isnoneornil(H, 1)) luaL_checktype(H, 1, LUA_TTABLE);
  pr = lua_newuserdatauv(H, sizeof *pr, 0);
  pr->P = NULL;
  pr->ref = LUA_NOREF;
  pr->H = NULL;
  luaL_setmetatable(H, PROJECT_MT);
  P = lm_embed_new(&msg);
  if (!P) {
    lua_pushnil(H);
    lua_newtable(H);
    lua_pushliteral(H, "internal");
    lua_setfield(H, -2, "kind");
    lua_pushstring(H, msg ? msg : "luamig: out of memory");
    lua_setfield(H, -2, "message");
    free(msg);
    luaL_setmetatable(H, ERROR_MT);
    return 2;
  }
  pr->P = P;
  lm_embed_api(P);
  lua_getfield(P, -1, "call_open");
  lua_remove(P, -2);
  if (lua_istable(H, 1)) copy_value(H, 1, P, 0); else lua_pushnil(P);
  if (lm_embed_pcall(P, 1, 2) != LUA_OK || !lua_toboolean(P, -2)) {
    lua_pushnil(H);
    push_error(P, -1, H);
    lua_close(P);
    pr->P = NULL;
    return 2;
  }
  lua_remove(P, -2); /* true */
  lua_getfield(P, -1, "project");
  pr->ref = luaL_ref(P, LUA_REGISTRYINDEX);
  lua_settop(P, 0);
  return 1; /* the userdata */
}

static int m_version(lua_State *H) {
  lua_pushliteral(H, LUAMIG_VERSION);
  return 1;
}

LM_EXPORT int luaopen_luamig(lua_State *H) {
  static const luaL_Reg methods[] = {
    { "status", p_status }, { "upgrade", p_upgrade }, { "downgrade", p_downgrade }, { "check", p_check },
    { "close", p_close }, { NULL, NULL } };
  static const luaL_Reg funcs[] = { { "open", m_open }, { NULL, NULL } };
  if (luaL_newmetatable(H, PROJECT_MT)) {
    luaL_newlib(H, methods);
    lua_setfield(H, -2, "__index");
    lua_pushcfunction(H, p_close);
    lua_setfield(H, -2, "__gc");
    lua_pushcfunction(H, p_close);
    lua_setfield(H, -2, "__close");
    lua_pushcfunction(H, p_tostring);
    lua_setfield(H, -2, "__tostring");
    lua_pushliteral(H, "luamig.Project");
    lua_setfield(H, -2, "__name");
  }
  lua_pop(H, 1);
  if (luaL_newmetatable(H, ERROR_MT)) {
    lua_pushcfunction(H, lm_error_tostring); /* the text the CLI prints */
    lua_setfield(H, -2, "__tostring");
  }
  lua_pop(H, 1);
  luaL_newlib(H, funcs);
  m_version(H);
  lua_setfield(H, -2, "version");
  return 1;
}
