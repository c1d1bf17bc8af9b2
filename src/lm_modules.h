/* Lua modules embedded at build time (generated into build/lm_modules.c). */
#ifndef LM_MODULES_H
#define LM_MODULES_H

#include <stddef.h>

typedef struct lm_module {
  const char *name;      /* module name for require, e.g. "luamig.graph" */
  const char *chunkname; /* "@lua/luamig/graph.lua", so tracebacks name the file */
  const unsigned char *src; /* unstripped bytecode */
  size_t len;
} lm_module;

extern const lm_module lm_modules[];
extern const size_t lm_module_count;

#endif
