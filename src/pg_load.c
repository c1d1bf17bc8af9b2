/* libpq opened on first use (see pg_load.h). */
#include "pg_load.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

lm_pq_api lm_pq;

const char *lm_pq_load(void) {
  static int loaded;
  static char failure[512];
  const char *name = getenv("LUAMIG_LIBPQ"); /* another libpq, by path */
  void *lib;
  if (loaded) return NULL;
  if (failure[0]) return failure;
  if (!name || !*name) name = "libpq.so.5";
  lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(failure, sizeof failure,
             "PostgreSQL support needs libpq, which could not be loaded (%s); "
             "install it (Debian: apt-get install libpq5) or point LUAMIG_LIBPQ at it", dlerror());
    return failure;
  }
#define LM_PQ_RESOLVE(f)                                                                          \
  if (!(*(void **)&lm_pq.f = dlsym(lib, #f))) {                                                   \
    snprintf(failure, sizeof failure, "the libpq found lacks %s: it is too old for luamig", #f); \
    return failure;                                                                               \
  }
  LM_PQ_FUNCTIONS(LM_PQ_RESOLVE)
#undef LM_PQ_RESOLVE
  loaded = 1;
  return NULL;
}
