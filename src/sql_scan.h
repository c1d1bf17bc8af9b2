/* A lexical scan of PostgreSQL SQL text for transaction control, so the PostgreSQL driver can refuse a
 * migration's COMMIT before sending it (SQLite's authorizer does the same in drv_sqlite.c). */
#ifndef LM_SQL_SCAN_H
#define LM_SQL_SCAN_H

#include <stddef.h>

#include <lua.h>

/* The name ("COMMIT", "START TRANSACTION", "ROLLBACK PREPARED", ...) of the
 * first statement in sql[0..len) that begins, ends or prepares a transaction,
 * or NULL when there is none. Only statement starts count: quotes, comments
 * and function bodies are skipped; SAVEPOINT, RELEASE and ROLLBACK TO are not
 * transaction control. */
const char *lm_sql_tx_control(const char *sql, size_t len);

/* True when sql[0..len) is a COPY ... FROM STDIN or TO STDOUT statement
 * (one that needs a data stream, which a pipeline cannot give). */
int lm_sql_copy_stream(const char *sql, size_t len);

/* Raises the misuse error the SQLite authorizer path raises (LM_TX_ENDED,
 * "would end ... so it was refused") when `guard` is armed, the caller is not
 * the runner, and sql (NUL-terminated) holds transaction control. */
void lm_refuse_tx_control(lua_State *L, int guard, const char *sql);

#endif
