/* libpq, opened on first use: the PostgreSQL driver calls libpq through this
 * table, filled by lm_pq_load() with dlopen/dlsym, so that a run on SQLite
 * does not pay for loading libpq and its dependencies at start-up. */
#ifndef LUAMIG_PQ_LOAD_H
#define LUAMIG_PQ_LOAD_H

#include <libpq-fe.h>

/* Every libpq function the driver calls. */
#define LM_PQ_FUNCTIONS(X)                                                                       \
  X(PQclear) X(PQcmdStatus) X(PQcmdTuples) X(PQconnectdbParams) X(PQconninfoFree) X(PQconninfoParse) X(PQdb)    \
  X(PQdescribePrepared) X(PQerrorMessage) X(PQexec) X(PQexecParams) X(PQexecPrepared)            \
  X(PQfinish) X(PQfname) X(PQfreemem) X(PQftype) X(PQgetisnull) X(PQgetlength) X(PQgetResult)    \
  X(PQgetvalue) X(PQhost) X(PQlibVersion) X(PQnfields) X(PQnparams) X(PQntuples) X(PQport)       \
  X(PQprepare) X(PQresultErrorField) X(PQresultStatus) X(PQsendQuery) X(PQserverVersion)         \
  X(PQsetNoticeReceiver) X(PQstatus) X(PQtransactionStatus) X(PQunescapeBytea) X(PQputCopyData)           \
  X(PQputCopyEnd) X(PQgetCopyData) X(PQsendQueryParams) X(PQsendQueryPrepared) X(PQsetSingleRowMode)   \
  X(PQenterPipelineMode) X(PQexitPipelineMode) X(PQpipelineStatus) X(PQpipelineSync)                  \
  X(PQisBusy) X(PQconsumeInput) X(PQsocket) X(PQgetCancel) X(PQcancel) X(PQfreeCancel)

typedef struct lm_pq_api {
#define LM_PQ_FIELD(f) __typeof__(f) *f;
  LM_PQ_FUNCTIONS(LM_PQ_FIELD)
#undef LM_PQ_FIELD
} lm_pq_api;

extern lm_pq_api lm_pq;

/* Open libpq once. Returns NULL when ready, else a message saying what is missing. */
const char *lm_pq_load(void);

#endif
