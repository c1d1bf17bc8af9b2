/* Transaction control in PostgreSQL SQL text, found before it is sent.
 *
 * Two layers. next_token() is the lexer: it skips whitespace, -- and nested
 * slash-star comments, and consumes '...', E'...', "..." and $tag$...$tag$ as one
 * opaque token, so nothing inside them is ever read as a word. The
 * statement loop in lm_sql_tx_control() classifies the first word(s) of each
 * statement, then skips to the `;` that ends it. As in psql, a `;` inside
 * parentheses, or inside a BEGIN ... END body of CREATE [OR REPLACE]
 * FUNCTION|PROCEDURE (SQL-standard bodies: BEGIN ATOMIC ...; END), does not end
 * the statement. Unterminated quotes or comments run to the end of the text
 * (the server rejects them). With standard_conforming_strings off, a plain
 * '...' would take backslash escapes too; PostgreSQL's default is on. */
#include "sql_scan.h"

#include <string.h>
#include <strings.h>

#include "drv_util.h"

typedef enum { TOK_END, TOK_WORD, TOK_SEMI, TOK_OPEN, TOK_CLOSE, TOK_OTHER } tok_kind;

typedef struct scan {
  const char *p, *end;   /* the unread text */
  const char *word;      /* TOK_WORD: its text ... */
  size_t wlen;           /* ... and length */
} scan;

static int is_word_start(unsigned char ch) {
  return ch == '_' || ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int is_word_char(unsigned char ch) {
  return is_word_start(ch) || (ch >= '0' && ch <= '9') || ch == '$';
}

/* Skips a quoted run whose opening `q` was just read; a doubled q is part of
 * it; `backslash`: \x escapes a character too (E'...'). */
static void skip_quoted(scan *s, char q, int backslash) {
  while (s->p < s->end) {
    char ch = *s->p++;
    if (backslash && ch == '\\' && s->p < s->end) s->p++;
    else if (ch == q && (s->p == s->end || *s->p != q)) return;
    else if (ch == q) s->p++; /* '' or "" */
  }
}

/* Skips a slash-star comment whose opening was just read (they nest in PostgreSQL). */
static void skip_block_comment(scan *s) {
  int depth = 1;
  while (s->p < s->end && depth > 0) {
    if (s->p + 1 < s->end && s->p[0] == '/' && s->p[1] == '*') depth++, s->p += 2;
    else if (s->p + 1 < s->end && s->p[0] == '*' && s->p[1] == '/') depth--, s->p += 2;
    else s->p++;
  }
  if (depth > 0) s->p = s->end;
}

/* At a `$`: if it opens a dollar quote ($$ or $tag$), skips to its closing
 * tag and returns 1; otherwise ($1, a lone $) returns 0 and moves nothing. */
static int skip_dollar_quote(scan *s) {
  const char *t = s->p + 1, *close;
  size_t tlen;
  if (t < s->end && *t != '$' && !(is_word_start((unsigned char)*t))) return 0;
  while (t < s->end && *t != '$' && is_word_char((unsigned char)*t)) t++;
  if (t >= s->end || *t != '$') return 0;
  tlen = (size_t)(t - s->p) + 1; /* the whole tag, both dollars */
  for (close = t + 1; close + tlen <= s->end; close++) {
    if (memcmp(close, s->p, tlen) == 0) {
      s->p = close + tlen;
      return 1;
    }
  }
  s->p = s->end;
  return 1;
}

/* Reads the next token, skipping whitespace and comments. */
static tok_kind next_token(scan *s) {
  for (;;) {
    unsigned char ch;
    if (s->p >= s->end) return TOK_END;
    ch = (unsigned char)*s->p;
    if (ch == '-' && s->p + 1 < s->end && s->p[1] == '-') {
      while (s->p < s->end && *s->p != '\n') s->p++;
    } else if (ch == '/' && s->p + 1 < s->end && s->p[1] == '*') {
      s->p += 2;
      skip_block_comment(s);
    } else if (ch && strchr(" \t\r\n\f\v", ch)) {
      s->p++;
    } else {
      break;
    }
  }
  if (is_word_start((unsigned char)*s->p)) {
    s->word = s->p;
    while (s->p < s->end && is_word_char((unsigned char)*s->p)) s->p++;
    s->wlen = (size_t)(s->p - s->word);
    if (s->wlen == 1 && (*s->word == 'E' || *s->word == 'e') && s->p < s->end && *s->p == '\'') {
      s->p++; /* E'...': an escape string */
      skip_quoted(s, '\'', 1);
      return TOK_OTHER;
    }
    return TOK_WORD;
  }
  switch (*s->p++) {
  case ';': return TOK_SEMI;
  case '(': return TOK_OPEN;
  case ')': return TOK_CLOSE;
  case '\'': skip_quoted(s, '\'', 0); return TOK_OTHER;
  case '"': skip_quoted(s, '"', 0); return TOK_OTHER;
  case '$': /* a dollar quote, or a parameter $1 */
    s->p--;
    if (!skip_dollar_quote(s)) s->p++;
    return TOK_OTHER;
  default: return TOK_OTHER;
  }
}

/* True when the current token is the word `w` (case-insensitive). */
static int is(const scan *s, tok_kind k, const char *w) {
  return k == TOK_WORD && s->wlen == strlen(w) && strncasecmp(s->word, w, s->wlen) == 0;
}

/* Reads the next token: is it the word w? */
static int next_is(scan *s, const char *w) {
  return is(s, next_token(s), w);
}

/* Classifies a statement whose first token `k` was just read; may read on. */
static const char *classify(scan *s, tok_kind k) {
  if (is(s, k, "BEGIN")) return "BEGIN";
  if (is(s, k, "END")) return "END";
  if (is(s, k, "ABORT")) return "ABORT";
  if (is(s, k, "START")) return next_is(s, "TRANSACTION") ? "START TRANSACTION" : NULL;
  if (is(s, k, "PREPARE")) return next_is(s, "TRANSACTION") ? "PREPARE TRANSACTION" : NULL;
  if (is(s, k, "COMMIT")) return next_is(s, "PREPARED") ? "COMMIT PREPARED" : "COMMIT";
  if (is(s, k, "ROLLBACK")) { /* ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] x only goes back to a savepoint */
    k = next_token(s);
    if (is(s, k, "PREPARED")) return "ROLLBACK PREPARED";
    if (is(s, k, "WORK") || is(s, k, "TRANSACTION")) k = next_token(s);
    return is(s, k, "TO") ? NULL : "ROLLBACK";
  }
  return NULL;
}

/* Whether a statement is CREATE [OR REPLACE] FUNCTION|PROCEDURE, decided
 * word by word: R_START before its first word, R_NO once it cannot be. */
enum { R_NO, R_START, R_CREATE, R_OR, R_REPLACE, R_ROUTINE };

static int routine_step(const scan *s, int state) {
  int routine = is(s, TOK_WORD, "FUNCTION") || is(s, TOK_WORD, "PROCEDURE");
  switch (state) {
  case R_START: return is(s, TOK_WORD, "CREATE") ? R_CREATE : R_NO;
  case R_CREATE: return routine ? R_ROUTINE : is(s, TOK_WORD, "OR") ? R_OR : R_NO;
  case R_OR: return is(s, TOK_WORD, "REPLACE") ? R_REPLACE : R_NO;
  case R_REPLACE: return routine ? R_ROUTINE : R_NO;
  default: return state;
  }
}

/* Skips the rest of a statement (its first token `k` was read) up to and
 * including the `;` that ends it. A routine's BEGIN ... END body (CASE ...
 * END inside it nests too) holds `;`s of its own. */
static void skip_statement(scan *s, tok_kind k) {
  int parens = 0, blocks = 0, routine = k == TOK_WORD ? R_START : R_NO;
  for (; k != TOK_END; k = next_token(s)) {
    if (k == TOK_OPEN) parens++;
    else if (k == TOK_CLOSE && parens > 0) parens--;
    else if (k == TOK_SEMI && parens == 0 && blocks == 0) return;
    else if (k == TOK_WORD && routine != R_ROUTINE) routine = routine_step(s, routine);
    else if (k == TOK_WORD && is(s, k, "BEGIN")) blocks++;
    else if (k == TOK_WORD && blocks > 0 && is(s, k, "CASE")) blocks++;
    else if (k == TOK_WORD && blocks > 0 && is(s, k, "END")) blocks--;
  }
}

const char *lm_sql_tx_control(const char *sql, size_t len) {
  scan s = {sql, sql + len, NULL, 0};
  tok_kind k;
  while ((k = next_token(&s)) != TOK_END) {
    const char *what;
    if (k == TOK_SEMI) continue; /* an empty statement */
    what = classify(&s, k);
    if (what) return what;
    skip_statement(&s, k);
  }
  return NULL;
}

int lm_sql_copy_stream(const char *sql, size_t len) {
  scan s = {sql, sql + len, NULL, 0};
  tok_kind k = next_token(&s);
  if (!is(&s, k, "COPY")) return 0;
  while ((k = next_token(&s)) != TOK_END && k != TOK_SEMI)
    if (is(&s, k, "STDIN") || is(&s, k, "STDOUT")) return 1;
  return 0;
}

void lm_refuse_tx_control(lua_State *L, int guard, const char *sql) {
  const char *what;
  if (!guard) return;
  what = lm_sql_tx_control(sql, strlen(sql));
  if (what) lm_misuse(L, LM_TX_ENDED, what, "would end", "so it was refused");
}
