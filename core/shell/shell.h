/* shell.h: core/shell, layer 2: shell text in and out.
 * Owns: the POSIX/bash lexer (lex.c), word rendering, shell quoting.
 * Uses: core/base and include/s2r only.
 *
 * The lexer splits a body into top-level statements, each a list of simple
 * commands, each a list of words, keeping byte ranges into the source so a
 * converter can drop or rewrite one statement and copy the rest verbatim.
 * It never expands anything: a word's value is the text with quotes
 * removed and expansions kept as written (the corpus "command_tokens" form).
 * Heredoc bodies, comments and compound commands (if/for/while/case,
 * functions, { }, ( )) are kept whole.
 */
#ifndef S2R_SHELL_H
#define S2R_SHELL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"

typedef enum sh_seg_type {
    SH_SEG_LIT = 0, /* literal: single quotes, escapes, plain text */
    SH_SEG_UNQ = 1, /* unquoted text with $, `, globs or ~: raw */
    SH_SEG_DQ = 2   /* double-quoted text with $ or `: raw inner text */
} sh_seg_type;

typedef struct sh_seg {
    sh_seg_type type;
    char *text; /* LIT: decoded value; UNQ: raw; DQ: raw inner */
} sh_seg;

typedef struct sh_word {
    size_t start, end; /* source byte range */
    int line;          /* 1-based line of the first byte */
    char *value;       /* quotes removed, nothing expanded */
    sh_seg *segs;
    size_t nsegs;
    bool literal;      /* no expansion or glob: value is the argv string */
} sh_word;

typedef struct sh_cmd {
    sh_word *words;    /* words, redirections excluded */
    size_t nwords;
    size_t start, end; /* whole simple command, redirections included */
    bool has_redir;
    bool has_heredoc;
    int line;
    size_t first_arg;  /* words before it are NAME=value (sh_cmd_first_arg) */
} sh_cmd;

typedef struct sh_stmt {
    size_t start, end; /* source range incl. heredoc bodies, no newline */
    int line, end_line;
    sh_cmd *cmds;      /* simple commands joined by | && || (top level) */
    size_t ncmds;
    bool compound;     /* if/for/while/case/function/{ }/( ): kept whole */
    bool background;   /* ended with & */
    bool pipeline;     /* contains | */
} sh_stmt;

typedef struct sh_body {
    const char *src;   /* borrowed */
    size_t len;
    int first_line;    /* line number of src[0] */
    int open_line;     /* the line of the word in which a quote, $(, ${
                          or ` opens and runs to the end of the text (bash
                          stops there: "unexpected EOF while looking for
                          matching"); 0 when every one closes */
    int heredoc_line;  /* the line of the first here-document the text
                          ends in before its delimiter line (bash warns
                          "delimited by end-of-file" and goes on); 0 when
                          every one ends */
    char *heredoc_close; /* the delimiter lines, each with its newline,
                            that would end those here-documents, in
                            order (in the arena); NULL when none */
    sh_stmt *stmts;
    size_t n;
    s2r_arena arena;   /* the statements, their commands, the commands'
                          words, every word's value, segments and their
                          text */
} sh_body;

/**
 * Lex @p len bytes of shell text. Line numbers start at @p first_line.
 * Returns 0, or -1 on out of memory. Unterminated quotes are tolerated
 * (the rest of the text becomes part of the word, and out->open_line says
 * where), as a converter must not refuse what bash would only fail on at
 * run time.
 */
int sh_lex(sh_body *out, const char *src, size_t len, int first_line);

/** The bytes of a shell name, [0-9A-Z_a-z], ASCII as bash reads them
 *  (bash(1) DEFINITIONS, "name"), whatever the locale: one look-up a
 *  byte (lex.c). */
extern const bool sh_name_bytes[256];

/** True for a byte of a shell name (sh_name_bytes). */
static inline bool sh_name_byte(char ch)
{
    return sh_name_bytes[(unsigned char)ch];
}
void sh_body_free(sh_body *b);

/** Render a word for a shell so it expands exactly as in the source, in a
 * canonical form where the facts value appears as a substring whenever
 * possible. malloc'd. */
char *sh_word_render(const sh_word *w);

/** The command word index after leading NAME=value assignments (read
 *  once by the lexer, as each word joined the command). */
size_t sh_cmd_first_arg(const sh_cmd *c);

/** True when @p w is NAME=value (valid shell name before '='). */
bool sh_word_is_assignment(const sh_word *w);

/**
 * Quote @p s for a POSIX shell (quote.c): single quotes, with ' written
 * as '\''. Words made only of [A-Za-z0-9_@%+=:,./-] are returned
 * unquoted. Returns malloc'd text, NULL on ENOMEM.
 */
char *s2r_shell_quote(const char *s);

/** Append @p s to @p b quoted for a POSIX shell, exactly as
 *  s2r_shell_quote() returns it (quote.c). */
void s2r_shell_put_quoted(s2r_buf *b, const char *s);

/** Append `bash -c SCRIPT` to @p argv (three strings), SCRIPT being the
 *  text of @p script, which this finishes and frees in every case
 *  (quote.c). @return S2R_OK; S2R_ENOMEM (also when @p script ran out of
 *  memory), after which @p argv may hold part of the three. */
int s2r_shell_bash_c(s2r_strv *argv, s2r_buf *script);

#endif
