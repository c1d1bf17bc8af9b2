/* luamig.host: what the runner needs from the system (clock, terminal,
 * file status, checksums, random names) and the migration lock. */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "drv_util.h"
#include "host.h"
#include "signals.h"
#include "sql_tokens.h"

#ifndef LUAMIG_VERSION
#define LUAMIG_VERSION "0.0.0"
#endif

#define LM_LOCK "luamig.host.Lock"

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

/* [path?] -> [where] or [nil]; the user's line on the stack (lm_where): the
 * innermost line of file `path`, or outside the runner's own code. */
static int host_where(lua_State *L) {
  if (!lm_where(L, luaL_optstring(L, 1, NULL))) lua_pushnil(L);
  return 1;
}

/* [] -> [name] or [nil]; the signal that interrupted the run (src/signals.c). */
static int host_interrupted(lua_State *L) {
  int sig = lm_signals_caught();
  if (!sig) return 0;
  lua_pushstring(L, sig == SIGTERM ? "SIGTERM" : "SIGINT");
  return 1;
}

/* [path] -> [size, mtime_ns] or [nil]; one stat(2), for the script cache. */
static int host_stat(lua_State *L) {
  struct stat st;
  if (stat(luaL_checkstring(L, 1), &st) != 0) return 0;
  lua_pushinteger(L, (lua_Integer)st.st_size);
  lua_pushinteger(L, (lua_Integer)st.st_mtim.tv_sec * 1000000000 + (lua_Integer)st.st_mtim.tv_nsec);
  return 2;
}

/* [dir] -> [names] sorted by bytes (strcmp: Lua's order in the C locale),
 * without "." and ".."; or [nil, message]. For the script cache's listing of
 * thousands of migration files: one call rather than lfs.dir and table.sort. */
static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int host_list_dir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  DIR *d = opendir(path);
  struct dirent *e;
  char **names = NULL, **grown;
  size_t n = 0, cap = 0, i;
  int failed = 0;
  if (!d) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  while (!failed && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 256;
      grown = realloc(names, cap * sizeof *names);
      if (!grown) { failed = 1; break; }
      names = grown;
    }
    names[n] = strdup(e->d_name);
    if (!names[n]) failed = 1; else n++;
  }
  closedir(d);
  if (!failed && n > 0) qsort(names, n, sizeof *names, cmp_names); /* (names is NULL when n is 0) */
  if (!failed) {
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
      lua_pushstring(L, names[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  }
  for (i = 0; i < n; i++) free(names[i]);
  free(names);
  if (failed) return luaL_error(L, "not enough memory listing %s", path);
  return 1;
}

/* [prefix, names] -> [listing, latest_mtime_ns] or [nil]: one stat(2) per
 * prefix..name; the listing is "name/size/mtime_ns\n" per file (a name holds
 * no "/"), so two listings are equal exactly when the same files have the
 * same sizes and dates. nil when a file cannot be stat'ed. */
static int host_stat_list(lua_State *L) {
  size_t plen, len;
  const char *prefix = luaL_checklstring(L, 1, &plen);
  lua_Integer n, i, latest = 0;
  luaL_Buffer out;
  char path[4096];
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 2);
  if (plen >= sizeof path) return 0;
  memcpy(path, prefix, plen);
  luaL_buffinit(L, &out);
  for (i = 1; i <= n; i++) {
    struct stat st;
    const char *name;
    lua_Integer mtime;
    char nums[64];
    lua_rawgeti(L, 2, i);
    name = lua_tolstring(L, -1, &len);
    if (!name || plen + len >= sizeof path) return 0;
    memcpy(path + plen, name, len + 1);
    if (stat(path, &st) != 0) return 0;
    mtime = (lua_Integer)st.st_mtim.tv_sec * 1000000000 + (lua_Integer)st.st_mtim.tv_nsec;
    if (mtime > latest) latest = mtime;
    lua_pop(L, 1); /* (the name stays alive in the table) */
    luaL_addlstring(&out, name, len);
    snprintf(nums, sizeof nums, "/%lld/%lld\n", (long long)st.st_size, (long long)mtime);
    luaL_addstring(&out, nums);
  }
  luaL_pushresult(&out);
  lua_pushinteger(L, latest);
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

/* [pid] -> [boolean]; whether a process with this id runs on this host
 * (one we may not signal runs too: only ESRCH says it is gone). */
static int host_pid_alive(lua_State *L) {
  lua_Integer pid = luaL_checkinteger(L, 1);
  luaL_argcheck(L, pid > 0 && pid == (lua_Integer)(pid_t)pid, 1, "not a process id");
  lua_pushboolean(L, kill((pid_t)pid, 0) == 0 || errno != ESRCH);
  return 1;
}

/* [] -> [name]; this host's name ("" when the system gives none). */
static int host_hostname(lua_State *L) {
  char name[256];
  if (gethostname(name, sizeof name) != 0) name[0] = '\0';
  name[sizeof name - 1] = '\0';
  lua_pushstring(L, name);
  return 1;
}

/* ---------------------------------------------------------------- Lock */

/* The migration lock is an OFD lock (owned by an open file, not a process)
 * on one byte of the database file itself, so every path to the file (a
 * hard link, a symlink, ../x.db) takes the same lock. The byte lies far past
 * the range SQLite locks (around 1 GiB) and past the end of any real
 * database. Who holds it is written to <path>-luamig.lock for runners that
 * wait.
 *
 * The descriptors on database files are kept open until exit, one per file:
 * closing any descriptor of a file drops every POSIX lock the process holds
 * on it, SQLite's own included. Unlocking is F_UNLCK instead. */
#define LOCK_OFFSET ((off_t)1 << 62)

typedef struct lock_file {
  dev_t dev;
  ino_t ino;
  int fd;
  int held; /* by a Lock of this process */
} lock_file;

/* Process-wide (two luamig states in one process, libluamig handles or Lua
 * module projects, must exclude each other too), guarded by lock_mutex for
 * handles used from different threads; freed when the library is unloaded. */
static lock_file *lock_files;
static size_t lock_file_count;
static pthread_mutex_t lock_mutex = PTHREAD_MUTEX_INITIALIZER;

__attribute__((destructor)) static void free_lock_files(void) {
  size_t i;
  for (i = 0; i < lock_file_count; i++) close(lock_files[i].fd);
  free(lock_files);
  lock_files = NULL;
  lock_file_count = 0;
}

typedef struct lm_lock {
  ptrdiff_t file; /* index in lock_files (which may move); -1 once unlocked */
  int note;       /* <path>-luamig.lock, or -1 */
} lm_lock;

/* Sets (F_WRLCK) or clears (F_UNLCK) the lock byte. Returns 0 or an errno. */
static int lock_byte(int fd, short type) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = LOCK_OFFSET;
  fl.l_len = 1;
  return fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : errno;
}

/* The index in lock_files of the file at path (opened on first use), or
 * -1 with errno set. */
static ptrdiff_t lock_file_of(const char *path) {
  struct stat st;
  lock_file *grown;
  size_t i;
  int fd;
  if (stat(path, &st) != 0) return -1;
  for (i = 0; i < lock_file_count; i++)
    if (lock_files[i].dev == st.st_dev && lock_files[i].ino == st.st_ino) return (ptrdiff_t)i;
  /* Grow first: a descriptor once opened is never closed. */
  grown = realloc(lock_files, (lock_file_count + 1) * sizeof *grown);
  if (!grown) return errno = ENOMEM, -1;
  lock_files = grown;
  if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) return -1;
  lock_files[lock_file_count] = (lock_file){st.st_dev, st.st_ino, fd, 0};
  return (ptrdiff_t)lock_file_count++;
}

/* [holder] ; what the holder wrote in the note at note_path ("" if none). */
static void push_holder(lua_State *L, const char *note_path) {
  char holder[256];
  int note = open(note_path, O_RDONLY | O_CLOEXEC);
  ssize_t n = note >= 0 ? pread(note, holder, sizeof holder - 1, 0) : -1;
  if (note >= 0) close(note);
  lua_pushlstring(L, holder, n > 0 ? (size_t)n : 0);
}

/* [path] -> [lock] | [nil, holder] | [nil, nil, error]; tries once to take
 * the migration lock of the existing file at path. Busy: what the holder
 * wrote with lock:write ("" when nothing). */
static int host_try_lock(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  const char *note_path = lua_pushfstring(L, "%s-luamig.lock", path);
  lm_lock *k = lua_newuserdatauv(L, sizeof *k, 0);
  ptrdiff_t f;
  int err;
  k->file = -1;
  k->note = -1;
  luaL_setmetatable(L, LM_LOCK);
  pthread_mutex_lock(&lock_mutex);
  f = lock_file_of(path);
  err = f < 0 ? errno : lock_files[f].held ? EAGAIN : lock_byte(lock_files[f].fd, F_WRLCK);
  if (err == 0) lock_files[f].held = 1;
  pthread_mutex_unlock(&lock_mutex);
  if (err == 0) {
    k->file = f;
    k->note = open(note_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644); /* optional: -1 is fine */
    return 1;
  }
  lua_pushnil(L);
  if (err == EAGAIN || err == EACCES) {
    push_holder(L, note_path);
    return 2;
  }
  lua_pushnil(L);
  lua_pushfstring(L, "cannot take the migration lock on %s: %s", path, strerror(err));
  return 3;
}

/* [lock, text] -> []; records who holds the lock (best effort). */
static int lock_write(lua_State *L) {
  lm_lock *k = luaL_checkudata(L, 1, LM_LOCK);
  size_t len;
  const char *text = luaL_checklstring(L, 2, &len);
  if (k->file < 0) return luaL_error(L, "the migration lock is already released");
  if (k->note >= 0 && ftruncate(k->note, 0) == 0 && pwrite(k->note, text, len, 0) < 0) { /* best effort */ }
  return 0;
}

/* [lock] -> []; releases the lock; idempotent: unlock, __gc and __close.
 * The note is emptied first, while the lock still keeps others out. */
static int lock_unlock(lua_State *L) {
  lm_lock *k = luaL_checkudata(L, 1, LM_LOCK);
  if (k->note >= 0) {
    if (ftruncate(k->note, 0) != 0) { /* best effort */ }
    close(k->note);
  }
  if (k->file >= 0) {
    pthread_mutex_lock(&lock_mutex);
    lock_byte(lock_files[k->file].fd, F_UNLCK);
    lock_files[k->file].held = 0;
    pthread_mutex_unlock(&lock_mutex);
  }
  k->file = -1;
  k->note = -1;
  return 0;
}

/* [] -> [module] */
int luaopen_luamig_host(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"isatty", host_isatty}, {"now_ms", host_now_ms}, {"sleep_ms", host_sleep_ms},
    {"checksum", host_checksum}, {"random_hex", host_random_hex}, {"getpid", host_getpid}, {"stat", host_stat},
    {"list_dir", host_list_dir}, {"stat_list", host_stat_list},
    {"pid_alive", host_pid_alive}, {"hostname", host_hostname},
    {"try_lock", host_try_lock}, {"interrupted", host_interrupted}, {"where", host_where},
    {"sql_tokens", lm_sql_tokens_lua}, {"check_interrupt", lm_signals_check}, {"watch_coroutine", lm_signals_watch},
    {NULL, NULL}};
  static const luaL_Reg lock_methods[] = {{"write", lock_write}, {"unlock", lock_unlock}, {NULL, NULL}};
  lm_define_type(L, LM_LOCK, lock_methods, lock_unlock);
  luaL_newlib(L, fns);
  lm_host_proc_register(L); /* fork, wait, ... (host_proc.c) */
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

