/* The database drivers' module entry points, for host.c's preload table. */
#ifndef LM_DRIVERS_H
#define LM_DRIVERS_H

#include <lua.h>

/* luamig.sqlite (drv_sqlite.c): [] -> [module] */
int luaopen_luamig_sqlite(lua_State *L);

#ifdef LUAMIG_WITH_PG
/* luamig.pg (pg_driver.c): [] -> [module]; raises when libpq cannot be opened. */
int luaopen_luamig_pg(lua_State *L);
#endif

#endif
