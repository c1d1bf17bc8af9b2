/* The one SQL tokenizer (see sql_tokens.h), and the transaction-control
 * guard built on it.
 *
 * Two layers. lm_sql_next() is the lexer: whitespace, -- and slash-star
 * comments (nested in PostgreSQL), '...', E'...', "..." and $tag$...$tag$
 * are each one token, so nothing inside them is ever read as a word. The
 * statement loop in lm_sql_tx_control() classifies the first word(s) of each
 * statement, then skips to the `;` that ends it. As in psql, a `;` inside
 * parentheses, or inside a BEGIN ... END body of CREATE [OR REPLACE]
 * FUNCTION|PROCEDURE (SQL-standard bodies: BEGIN ATOMIC ...; END), does not end
 * the statement. With standard_conforming_strings off, a plain '...' would
 * take backslash escapes too; PostgreSQL's default is on. */
#include "sql_tokens.h"

#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "drv_util.h"

/* The statement loop's view of a token: significant ones only. */
typedef enum { TOK_END, TOK_WORD, TOK_SEMI, TOK_OPEN, TOK_CLOSE, TOK_OTHER } tok_kind;

typedef struct scan {
  lm_sql_lexer x;
  const char *word;      /* TOK_WORD: its text ... */
  size_t wlen;           /* ... and length */
} scan;

static int is_word_start(unsigned char ch) {
  return ch == '_' || ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int is_digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }

static int is_word_char(unsigned char ch) {
  return is_word_start(ch) || is_digit(ch) || ch == '$';
}

/* Skips a quoted run whose opening `q` was just read; a doubled q is part of
 * it; `backslash`: \x escapes a character too (E'...'). */
static void skip_quoted(lm_sql_lexer *s, char q, int backslash) {
  while (s->p < s->end) {
    char ch = *s->p++;
    if (backslash && ch == '\\' && s->p < s->end) s->p++;
    else if (ch == q && (s->p == s->end || *s->p != q)) return;
    else if (ch == q) s->p++; /* '' or "" */
  }
  s->open = 1;
}

/* Skips a slash-star comment whose opening was just read; `nest`: they nest
 * (PostgreSQL), else the first star-slash ends it (SQLite). */
static void skip_block_comment(lm_sql_lexer *s, int nest) {
  int depth = 1;
  while (s->p < s->end && depth > 0) {
    if (nest && s->p + 1 < s->end && s->p[0] == '/' && s->p[1] == '*') depth++, s->p += 2;
    else if (s->p + 1 < s->end && s->p[0] == '*' && s->p[1] == '/') depth--, s->p += 2;
    else s->p++;
  }
  if (depth > 0) s->p = s->end, s->open = 1;
}

/* At a `$`: if it opens a dollar quote ($$ or $tag$), skips to its closing
 * tag and returns 1; otherwise ($1, a lone $) returns 0 and moves nothing. */
static int skip_dollar_quote(lm_sql_lexer *s) {
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
  s->open = 1;
  return 1;
}

void lm_sql_lexer_init(lm_sql_lexer *x, const char *sql, size_t len, lm_sql_flavour flavour) {
  x->sql = x->p = sql;
  x->end = sql + len;
  x->flavour = flavour;
  x->open = 0;
}

/* The token kind of the text at s->p, which it consumes. */
static lm_tok_kind lex(lm_sql_lexer *s) {
  int pg = s->flavour == LM_SQL_POSTGRESQL;
  unsigned char ch = (unsigned char)*s->p;
  if (ch == '-' && s->p + 1 < s->end && s->p[1] == '-') {
    while (s->p < s->end && *s->p != '\n') s->p++;
    return LM_TOK_COMMENT;
  }
  if (ch == '/' && s->p + 1 < s->end && s->p[1] == '*') {
    s->p += 2;
    skip_block_comment(s, pg);
    return LM_TOK_COMMENT;
  }
  if (ch && strchr(" \t\r\n\f\v", ch)) {
    while (s->p < s->end && *s->p && strchr(" \t\r\n\f\v", *s->p)) s->p++;
    return LM_TOK_SPACE;
  }
  if (is_word_start(ch)) {
    const char *w = s->p;
    while (s->p < s->end && is_word_char((unsigned char)*s->p)) s->p++;
    if (pg && s->p - w == 1 && (*w == 'E' || *w == 'e') && s->p < s->end && *s->p == '\'') {
      s->p++; /* E'...': an escape string */
      skip_quoted(s, '\'', 1);
      return LM_TOK_STRING;
    }
    return LM_TOK_WORD;
  }
  s->p++;
  switch (ch) {
  case '\'': skip_quoted(s, '\'', 0); return LM_TOK_STRING;
  case '"': skip_quoted(s, '"', 0); return LM_TOK_NAME;
  case '`':
    if (pg) return LM_TOK_OTHER;
    skip_quoted(s, '`', 0);
    return LM_TOK_NAME;
  case '[':
    if (pg) return LM_TOK_OTHER;
    while (s->p < s->end && *s->p != ']') s->p++;
    if (s->p < s->end) s->p++;
    else s->open = 1;
    return LM_TOK_NAME;
  case '?': /* ?, ?NNN (SQLite) */
    if (!pg) while (s->p < s->end && is_digit((unsigned char)*s->p)) s->p++;
    return LM_TOK_PARAM;
  case ':': case '@': case '$':
    if (!pg) { /* SQLite's named parameters :name, @name, $name */
      if (s->p >= s->end || !is_word_char((unsigned char)*s->p)) return LM_TOK_OTHER;
      while (s->p < s->end && is_word_char((unsigned char)*s->p)) s->p++;
      return LM_TOK_NAMED;
    }
    if (ch != '$') return LM_TOK_OTHER;
    s->p--; /* a dollar quote, or a parameter $1 */
    if (skip_dollar_quote(s)) return LM_TOK_STRING;
    s->p++;
    if (s->p < s->end && is_digit((unsigned char)*s->p)) {
      while (s->p < s->end && is_digit((unsigned char)*s->p)) s->p++;
      return LM_TOK_PARAM;
    }
    return LM_TOK_OTHER;
  default: return LM_TOK_OTHER;
  }
}

lm_tok_kind lm_sql_next(lm_sql_lexer *x, lm_token *t) {
  t->start = (size_t)(x->p - x->sql);
  x->open = 0;
  t->kind = x->p < x->end ? lex(x) : LM_TOK_END;
  t->len = (size_t)(x->p - x->sql) - t->start;
  return t->kind;
}

/* ---------------------------------------------------------------- statements */

/* Reads the next significant token (whitespace and comments skipped). */
static tok_kind next_token(scan *s) {
  lm_token t;
  for (;;) {
    switch (lm_sql_next(&s->x, &t)) {
    case LM_TOK_END: return TOK_END;
    case LM_TOK_SPACE: case LM_TOK_COMMENT: continue;
    case LM_TOK_WORD:
      s->word = s->x.sql + t.start;
      s->wlen = t.len;
      return TOK_WORD;
    case LM_TOK_OTHER:
      switch (s->x.sql[t.start]) {
      case ';': return TOK_SEMI;
      case '(': return TOK_OPEN;
      case ')': return TOK_CLOSE;
      default: return TOK_OTHER;
      }
    default: return TOK_OTHER;
    }
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
  scan s = {{NULL, NULL, NULL, LM_SQL_POSTGRESQL, 0}, NULL, 0};
  tok_kind k;
  lm_sql_lexer_init(&s.x, sql, len, LM_SQL_POSTGRESQL);
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
  scan s = {{NULL, NULL, NULL, LM_SQL_POSTGRESQL, 0}, NULL, 0};
  tok_kind k;
  lm_sql_lexer_init(&s.x, sql, len, LM_SQL_POSTGRESQL);
  if (!is(&s, next_token(&s), "COPY")) return 0;
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

/* ---------------------------------------------------------------- Lua */

static const char *const kind_names[] = {"end", "space", "comment", "word", "name", "string", "param", "named", "other"};

/* upvalues: sql, flavour, offset. [] -> [kind, first, last, open] or [] at
 * the end; open: true for a quote or comment the text does not close. */
static int tokens_next(lua_State *L) {
  size_t len;
  const char *sql = lua_tolstring(L, lua_upvalueindex(1), &len);
  size_t at = (size_t)lua_tointeger(L, lua_upvalueindex(3));
  lm_sql_lexer x;
  lm_token t;
  lm_sql_lexer_init(&x, sql, len, (lm_sql_flavour)lua_tointeger(L, lua_upvalueindex(2)));
  x.p = sql + at;
  if (lm_sql_next(&x, &t) == LM_TOK_END) return 0;
  lua_pushinteger(L, (lua_Integer)(t.start + t.len));
  lua_replace(L, lua_upvalueindex(3));
  lua_pushstring(L, kind_names[t.kind]);
  lua_pushinteger(L, (lua_Integer)t.start + 1);
  lua_pushinteger(L, (lua_Integer)(t.start + t.len));
  lua_pushboolean(L, x.open);
  return 4;
}

int lm_sql_tokens_lua(lua_State *L) {
  static const char *const flavours[] = {"postgresql", "sqlite", NULL};
  size_t len;
  lua_Integer init;
  luaL_checklstring(L, 1, &len);
  init = luaL_optinteger(L, 3, 1);
  luaL_argcheck(L, init >= 1 && (size_t)init <= len + 1, 3, "out of the text");
  lua_pushvalue(L, 1);
  lua_pushinteger(L, luaL_checkoption(L, 2, NULL, flavours) == 0 ? LM_SQL_POSTGRESQL : LM_SQL_SQLITE);
  lua_pushinteger(L, init - 1);
  lua_pushcclosure(L, tokens_next, 3);
  return 1;
}
