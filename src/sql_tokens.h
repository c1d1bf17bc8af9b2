/* The one SQL tokenizer: tokens with byte offsets, for PostgreSQL and SQLite
 * text. Quotes, comments, E-strings, dollar quotes and quoted identifiers
 * are each one token, so nothing inside them is read twice or differently.
 * It serves the transaction-control guard and the `?`-to-`$n` rewrite
 * (PostgreSQL driver), and Lua through luamig.host.sql_tokens: the SQLite
 * table-SQL reader and the offline `--sql` rendering. */
#ifndef LM_SQL_TOKENS_H
#define LM_SQL_TOKENS_H

#include <stddef.h>

#include <lua.h>

/* Whose lexical rules: PostgreSQL (E'..', $tag$..$tag$, nested comments,
 * $n parameters) or SQLite (`..` and [..] identifiers, ?NNN and named parameters). */
typedef enum { LM_SQL_POSTGRESQL, LM_SQL_SQLITE } lm_sql_flavour;

typedef enum {
  LM_TOK_END,     /* no more text */
  LM_TOK_SPACE,   /* a run of whitespace */
  LM_TOK_COMMENT, /* -- to the end of the line (not the newline), or a block comment */
  LM_TOK_WORD,    /* a keyword or an unquoted name */
  LM_TOK_NAME,    /* a quoted identifier: "..", and `..` or [..] in SQLite */
  LM_TOK_STRING,  /* '..', E'..', $tag$..$tag$ */
  LM_TOK_PARAM,   /* ?, and $n (PostgreSQL) or ?NNN (SQLite) */
  LM_TOK_NAMED,   /* SQLite's named parameters :name, @name, $name */
  LM_TOK_OTHER    /* one other byte: punctuation, an operator, a digit */
} lm_tok_kind;

typedef struct lm_sql_lexer {
  const char *sql, *p, *end; /* the text, the unread part, its end */
  lm_sql_flavour flavour;
  int open;                  /* the last token is a quote or comment the text does not close */
} lm_sql_lexer;

typedef struct lm_token {
  lm_tok_kind kind;
  size_t start, len; /* byte offset into the text, and length */
} lm_token;

void lm_sql_lexer_init(lm_sql_lexer *x, const char *sql, size_t len, lm_sql_flavour flavour);

/* Reads the next token into *t; returns its kind. Unterminated quotes or
 * comments run to the end of the text (the server rejects them). */
lm_tok_kind lm_sql_next(lm_sql_lexer *x, lm_token *t);

/* The name ("COMMIT", "START TRANSACTION", "ROLLBACK PREPARED", ...) of the
 * first statement in PostgreSQL text sql[0..len) that begins, ends or
 * prepares a transaction, or NULL when there is none. Only statement starts
 * count: BEGIN ATOMIC ... END bodies are part of their statement; SAVEPOINT,
 * RELEASE and ROLLBACK TO are not transaction control. */
const char *lm_sql_tx_control(const char *sql, size_t len);

/* True when sql[0..len) is a COPY ... FROM STDIN or TO STDOUT statement
 * (one that needs a data stream, which a pipeline cannot give). */
int lm_sql_copy_stream(const char *sql, size_t len);

/* Raises the misuse error the SQLite authorizer path raises (LM_TX_ENDED,
 * "would end ... so it was refused") when `guard` (the connection's flag,
 * set by the runner) is armed and sql (NUL-terminated) holds transaction control. */
void lm_refuse_tx_control(lua_State *L, int guard, const char *sql);

/* [sql, flavour, init?] -> [iterator]; luamig.host.sql_tokens: each call of
 * the iterator returns kind ("space", "comment", "word", "name", "string",
 * "param", "named", "other"), first, last (1-based, inclusive) and open (true
 * for an unterminated quote or comment), then nil at the end. flavour:
 * "postgresql" or "sqlite"; init: where to start (default 1). */
int lm_sql_tokens_lua(lua_State *L);

#endif
