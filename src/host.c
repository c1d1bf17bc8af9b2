/* Host: state setup, module preloading, and the luamig.host utility module. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua-cjson.h>
#include <lualib.h>
#include <lfs.h>

#include "drv_util.h"
#include "lm_modules.h"

#ifndef LUAMIG_VERSION
#define LUAMIG_VERSION "0.0.0"
#endif

int luaopen_luamig_sqlite(lua_State *L);
#ifdef LUAMIG_WITH_PG
int luaopen_luamig_pg(lua_State *L);
#endif

/* ---------------------------------------------------------------- luamig.host */

/* [fd] -> [boolean] */
static int host_isatty(lua_State *L) {
  lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
  return 1;
}

/* [] -> [ms]; monotonic clock in milliseconds (float). */
static int host_now_ms(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec * 1e3 + (lua_Number)ts.tv_nsec / 1e6);
  return 1;
}

/* [ms] -> [] */
static int host_sleep_ms(lua_State *L) {
  lua_Number ms = luaL_checknumber(L, 1);
  struct timespec ts;
  if (ms <= 0) return 0;
  ts.tv_sec = (time_t)(ms / 1e3);
  ts.tv_nsec = (long)((ms - (lua_Number)ts.tv_sec * 1e3) * 1e6);
  nanosleep(&ts, NULL);
  return 0;
}

/* [path] -> [size, mtime_ns] or [nil]; one stat(2), for the script cache. */
static int host_stat(lua_State *L) {
  struct stat st;
  if (stat(luaL_checkstring(L, 1), &st) != 0) return 0;
  lua_pushinteger(L, (lua_Integer)st.st_size);
  lua_pushinteger(L, (lua_Integer)st.st_mtim.tv_sec * 1000000000 + (lua_Integer)st.st_mtim.tv_nsec);
  return 2;
}

/* [s] -> [hex]; FNV-1a 64-bit: detects a changed migration file (not tampering). */
static int host_checksum(lua_State *L) {
  size_t len, i;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
  unsigned long long h = 0xcbf29ce484222325ULL;
  char hex[17];
  for (i = 0; i < len; i++) {
    h ^= s[i];
    h *= 0x100000001b3ULL;
  }
  snprintf(hex, sizeof hex, "%016llx", h);
  lua_pushstring(L, hex);
  return 1;
}

/* [n] -> [hex]; n random hex digits from /dev/urandom. */
static int host_random_hex(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1), i;
  unsigned char buf[64];
  luaL_Buffer b;
  int fd;
  ssize_t got;
  luaL_argcheck(L, n > 0 && n <= 128, 1, "between 1 and 128 digits");
  fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  got = fd >= 0 ? read(fd, buf, (size_t)(n + 1) / 2) : -1;
  if (fd >= 0) close(fd);
  if (got != (ssize_t)((n + 1) / 2)) return luaL_error(L, "cannot read /dev/urandom");
  luaL_buffinit(L, &b);
  for (i = 0; i < n; i++) luaL_addchar(&b, "0123456789abcdef"[(buf[i / 2] >> (i % 2 ? 0 : 4)) & 0xf]);
  luaL_pushresult(&b);
  return 1;
}

/* [] -> [pid] */
static int host_getpid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}

/* [path] -> [fd, holder] or [nil, error]; opens (creating) a lock file and
 * tries flock(LOCK_EX | LOCK_NB) once. Locked: fd (closing it releases the
 * lock); busy: [false, what the holder wrote in the file]. */
static int host_try_lock(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "cannot open the lock file %s: %s", path, strerror(errno));
    return 2;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
    lua_pushinteger(L, fd);
    return 1;
  }
  {
    char holder[256];
    ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
    close(fd);
    lua_pushboolean(L, 0);
    lua_pushlstring(L, holder, n > 0 ? (size_t)n : 0);
    return 2;
  }
}

/* [fd, text] -> []; records who holds the lock (for waiting runners). */
static int host_write_lock(lua_State *L) {
  int fd = (int)luaL_checkinteger(L, 1);
  size_t len;
  const char *text = luaL_checklstring(L, 2, &len);
  if (ftruncate(fd, 0) == 0 && pwrite(fd, text, len, 0) < 0) { /* best effort */ }
  return 0;
}

/* [fd] -> []; releases the lock. */
static int host_unlock(lua_State *L) {
  close((int)luaL_checkinteger(L, 1));
  return 0;
}

/* [] -> [module] */
static int luaopen_luamig_host(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"isatty", host_isatty}, {"now_ms", host_now_ms}, {"sleep_ms", host_sleep_ms},
    {"checksum", host_checksum}, {"random_hex", host_random_hex}, {"getpid", host_getpid}, {"stat", host_stat},
    {"try_lock", host_try_lock}, {"write_lock", host_write_lock}, {"unlock", host_unlock},
    {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_pushliteral(L, LUAMIG_VERSION);
  lua_setfield(L, -2, "version");
  lua_getfield(L, LUA_REGISTRYINDEX, LM_RUNNER_PREFIX);
  lua_setfield(L, -2, "runner_source_prefix");
#ifdef LUAMIG_WITH_PG
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  lua_setfield(L, -2, "with_pg");
  return 1;
}

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

void lm_host_setup(lua_State *L) {
  const char *dir = getenv("LUAMIG_LUA_DIR");
  size_t i;
  luaL_openlibs(L);
  lm_util_init(L);

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
    lua_pushfstring(L, "@%s/", dir);
  } else {
    /* No file system lookups: everything the runner needs is embedded. */
    lua_getglobal(L, "package");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
    lua_pushliteral(L, "@lua/");
  }
  lua_setfield(L, LUA_REGISTRYINDEX, LM_RUNNER_PREFIX);
}

int lm_host_traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg && lua_type(L, 1) == LUA_TSTRING) luaL_traceback(L, L, msg, 1);
  return 1;
}
