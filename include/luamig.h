/* luamig.h: run luamig migrations from a C or C++ application (libluamig.so).
 *
 * A handle owns its own Lua state, with the same embedded code as the luamig
 * command: upgrade, downgrade, check and status here do what the commands do.
 * Use a handle from one thread at a time (different handles may be used from
 * different threads). The library installs no signal handlers and prints
 * nothing on stdout.
 *
 * Errors: a function that fails returns the luamig command's exit code (or
 * NULL from luamig_open) and, when err is not NULL, sets *err to a message
 * the caller frees with luamig_free (*err is set to NULL on success). */
#ifndef LUAMIG_H
#define LUAMIG_H

#ifdef __cplusplus
extern "C" {
#endif

#define LUAMIG_VERSION_MAJOR 0
#define LUAMIG_VERSION_MINOR 1
#define LUAMIG_VERSION_PATCH 0
#define LUAMIG_VERSION_STRING "0.1.0"
/* LUAMIG_VERSION_NUMBER: 10000 * major + 100 * minor + patch */
#define LUAMIG_VERSION_NUMBER (LUAMIG_VERSION_MAJOR * 10000 + LUAMIG_VERSION_MINOR * 100 + LUAMIG_VERSION_PATCH)

/* Exit codes (as the luamig command's, README "Exit codes"). */
#define LUAMIG_OK 0
#define LUAMIG_FAILURE 1          /* a migration or the database failed */
#define LUAMIG_USAGE 2            /* bad arguments, config or migration files */
#define LUAMIG_NOT_AT_HEAD 3      /* luamig_check: pending migrations */
#define LUAMIG_LOCK_TIMEOUT 6     /* the migration lock was not free within lock_timeout */
#define LUAMIG_INTERNAL 70        /* a bug in luamig, or out of memory */

typedef struct luamig luamig;

/* Read the project's config (config_path NULL: ./luamig.lua when it exists);
 * url NULL: the config's url, LUAMIG_URL or DATABASE_URL. Connects nothing. */
luamig *luamig_open(const char *config_path, const char *url, char **err);
/* Retry the first connection of each later call for up to `seconds`
 * (luamig --wait-for-db). 0 on success. */
int luamig_wait_for_db(luamig *p, double seconds, char **err);
int luamig_upgrade(luamig *p, const char *target, char **err);   /* 0, or the CLI's exit code */
int luamig_downgrade(luamig *p, const char *target, char **err);
/* `luamig check --heads-only`: 0 at head, 3 not at head (version table only, no lock). */
int luamig_check(luamig *p, char **err);
/* The `luamig status --json` document in *json (caller frees with luamig_free). */
int luamig_status_json(luamig *p, char **json, char **err);
void luamig_close(luamig *p);   /* NULL is harmless */
void luamig_free(void *s);
const char *luamig_version(void);

#ifdef __cplusplus
}
#endif

#endif
