/* render.c: writing a lexed word back for a shell (sh_word_render, see
 * shell.h): the same expansion as in the source, with a literal's bytes
 * standing verbatim in the text. */
#include "shell.h"
#include "safe_char.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_char(s2r_buf *b, char c)
{
    s2r_buf_putn(b, &c, 1);
}

/* characters that never need quoting: letters, digits and _@%+=:,./-
 * (a table for ASCII; above it, what the locale calls alphanumeric) */
static bool safe_char(unsigned char c)
{
    return c < 128 ? sh_safe_ascii(c) : isalnum(c) != 0;
}

/* characters that are literal inside double quotes */
static bool dq_safe(const char *t)
{
    for (; *t; t++)
        if (*t == '"' || *t == '\\' || *t == '$' || *t == '`' || *t == '!')
            return false;
    return true;
}

/* @p t bare when every byte is safe, else in single quotes with each '
 * written as '\'' (a run at a time) */
static void put_squoted(s2r_buf *b, const char *t)
{
    const char *p = t;
    while (safe_char((unsigned char)*p)) /* stops at the NUL */
        p++;
    if (*p == '\0' && p != t) {
        s2r_buf_putn(b, t, (size_t)(p - t));
        return;
    }
    put_char(b, '\'');
    const char *run = t;
    for (const char *q; (q = strchr(p, '\'')) != NULL; run = p = q + 1) {
        s2r_buf_putn(b, run, (size_t)(q - run));
        s2r_buf_putn(b, "'\\''", 4);
    }
    s2r_buf_putn(b, run, strlen(run));
    put_char(b, '\'');
}

/* "$(cat <<'DELIM' ... DELIM)": @p t as the body of a here-document in a
 * command substitution; quoted: taken as is; unquoted: expanded like
 * double quotes. @p t must not end with a newline (the substitution drops
 * trailing newlines). */
static void put_heredoc(s2r_buf *b, const char *t, bool quoted)
{
    size_t n = strlen(t);
    char delim[32];
    for (unsigned k = 0;; k++) {
        snprintf(delim, sizeof(delim), k ? "S2R_ARG_%u" : "S2R_ARG", k);
        size_t dl = strlen(delim);
        bool clash = false;
        for (const char *p = t; p && *p;) {
            const char *nl = strchr(p, '\n');
            size_t ll = nl ? (size_t)(nl - p) : strlen(p);
            if (ll == dl && !memcmp(p, delim, dl))
                clash = true;
            p = nl ? nl + 1 : NULL;
        }
        if (!clash)
            break;
    }
    s2r_buf_putn(b, "\"$(cat <<", 9);
    if (quoted)
        put_char(b, '\'');
    s2r_buf_putn(b, delim, strlen(delim));
    if (quoted)
        put_char(b, '\'');
    put_char(b, '\n');
    s2r_buf_putn(b, t, n);
    put_char(b, '\n');
    s2r_buf_putn(b, delim, strlen(delim));
    s2r_buf_putn(b, "\n)\"", 3);
}

/* A literal word, written so that its exact bytes also stand verbatim in
 * the script text (readers and reviewers see the argument as the program
 * gets it): single quotes; double quotes when it holds a single quote and
 * nothing double quotes would expand; else a quoted here-document in a
 * command substitution (bash: its body is taken as is; only trailing
 * newlines would be lost, so those words fall back to '\'' quoting). */
static void put_literal(s2r_buf *b, const char *t)
{
    if (!strchr(t, '\'')) {
        put_squoted(b, t);
        return;
    }
    size_t n = strlen(t);
    if (!strpbrk(t, "\"$`\\!")) {
        put_char(b, '"');
        s2r_buf_putn(b, t, n);
        put_char(b, '"');
        return;
    }
    if (n == 0 || t[n - 1] == '\n') {
        put_squoted(b, t);
        return;
    }
    put_heredoc(b, t, true);
}

char *sh_word_render(const sh_word *w)
{
    s2r_buf b = {0};
    if (w->literal) {
        put_literal(&b, w->value ? w->value : "");
        return s2r_buf_finish(&b);
    }
    /* fold literal pieces that mean the same inside double quotes into the
     * neighbouring double-quoted piece: --ip="$node" -> "--ip=$node" */
    size_t i = 0;
    while (i < w->nsegs) {
        const sh_seg *g = &w->segs[i];
        if (g->type == SH_SEG_UNQ) {
            s2r_buf_putn(&b, g->text, strlen(g->text));
            i++;
            continue;
        }
        /* a run of DQ and dq-safe LIT pieces containing at least one DQ */
        size_t j = i;
        bool has_dq = false;
        while (j < w->nsegs &&
               (w->segs[j].type == SH_SEG_DQ ||
                (w->segs[j].type == SH_SEG_LIT && dq_safe(w->segs[j].text)))) {
            if (w->segs[j].type == SH_SEG_DQ)
                has_dq = true;
            j++;
        }
        if (has_dq) {
            s2r_buf in = {0};
            for (size_t k = i; k < j; k++)
                s2r_buf_putn(&in, w->segs[k].text, strlen(w->segs[k].text));
            const char *t = in.p ? in.p : "";
            if (strstr(t, "\\\"") && in.len && t[in.len - 1] != '\n') {
                /* "..\"$x\".." as an unquoted here-document, which expands
                 * like double quotes but takes " as it is: the word's value
                 * then stands verbatim in the text */
                s2r_buf doc = {0};
                for (const char *p = t; *p; p++) {
                    if (p[0] == '\\' && p[1] == '"')
                        continue;
                    put_char(&doc, *p);
                }
                put_heredoc(&b, doc.p ? doc.p : "", false);
                free(doc.p);
            } else {
                put_char(&b, '"');
                s2r_buf_putn(&b, t, in.len);
                put_char(&b, '"');
            }
            free(in.p);
            i = j;
            continue;
        }
        put_squoted(&b, g->text);
        i++;
    }
    return s2r_buf_finish(&b);
}
