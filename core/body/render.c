/* render.c: the bash body the pod runs: statements kept verbatim (with
 * their edits), dropped and lifted ones removed with the rest of their
 * line, the main command rewritten in place. See analysis.h. */
#include "analysis.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int cmp_edit(const void *x, const void *y)
{
    const body_edit *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

void s2r_body__add_edit(ctx *c, analysis *a, size_t start, size_t end,
                        const char *repl)
{
    char *r = repl ? strdup(repl) : NULL;
    if ((repl && !r) ||
        s2r_grow((void **)&a->edits, a->nedits, sizeof(*a->edits))) {
        free(r);
        c->oom = true;
        return;
    }
    /* kept in order of start: placed from the end (most edits come in
     * order), not sorted again */
    size_t k = a->nedits;
    body_edit e = {start, end, r};
    while (k > 0 && cmp_edit(&a->edits[k - 1], &e) > 0) {
        a->edits[k] = a->edits[k - 1];
        k--;
    }
    a->edits[k] = e;
    a->nedits++;
}

bool s2r_body__edited(const analysis *a, size_t from, size_t to)
{
    for (size_t e = 0; e < a->nedits; e++)
        if (a->edits[e].start < to && a->edits[e].end > from)
            return true;
    return false;
}

/* copy src[from, to) without the deleted ranges. The calls of one
 * rendering come in source order (@p from never goes back), so *@p next,
 * the first edit that may still reach past @p from, only moves forward:
 * the whole body costs one walk over the edits, not one per statement. */
static void copy_edited(s2r_buf *t, const analysis *a, size_t *next,
                        size_t from, size_t to)
{
    const char *src = a->body.src;
    while (*next < a->nedits && a->edits[*next].end <= from)
        (*next)++;
    for (size_t k = *next; k < a->nedits && from < to; k++) {
        const body_edit *e = &a->edits[k];
        if (e->start >= to)
            break; /* edits are kept in order of start */
        if (e->end <= from)
            continue;
        if (e->start > from)
            s2r_buf_putn(t, src + from, e->start - from);
        if (e->repl)
            s2r_buf_puts(t, e->repl);
        from = e->end;
    }
    if (from < to)
        s2r_buf_putn(t, src + from, to - from);
}

/* render statements of @p a into @p t, the main one rewritten */
void s2r_body__render(ctx *c, analysis *a, s2r_buf *t, bool top)
{
    const sh_body *b = &a->body;
    size_t prev = 0, next = 0;
    for (size_t i = 0; i < b->n; i++) {
        const sh_stmt *st = &b->stmts[i];
        if (a->kind[i] == ST_DROP || a->kind[i] == ST_LIFTED) {
            s2r_buf_putn(t, b->src + prev, st->start - prev);
            /* skip the statement and the rest of its line */
            size_t e = st->end;
            while (e < b->len && (b->src[e] == ' ' || b->src[e] == '\t' ||
                                  b->src[e] == ';'))
                e++;
            if (e < b->len && b->src[e] == '\n')
                e++;
            prev = e;
            continue;
        }
        if (a->kind[i] != ST_MAIN) {
            copy_edited(t, a, &next, prev, st->end);
            prev = st->end;
            continue;
        }
        const sh_cmd *cm = &st->cmds[a->main_cmd];
        size_t ws = cm->words[0].start, we = cm->words[cm->nwords - 1].end;
        copy_edited(t, a, &next, prev, a->drop_prefix ? st->start : ws);
        if (a->inner && a->inner->main != (size_t)-1 &&
            a->mode != MM_STANDIN) {
            /* prefix assignments, then the string's commands in place */
            for (size_t k = 0; k < a->u->prefix_end; k++) {
                char *r = sh_word_render(&cm->words[k]);
                if (r) {
                    s2r_buf_puts(t, r);
                    s2r_buf_putn(t, " ", 1);
                }
                free(r);
            }
            s2r_buf inner = {0};
            s2r_body__render(c, a->inner, &inner, false);
            if (inner.oom)
                t->oom = true;
            if (inner.p)
                s2r_buf_puts(t, inner.p);
            free(inner.p);
        } else {
            s2r_body__ow_render(t, &a->ow);
        }
        copy_edited(t, a, &next, we, st->end);
        prev = st->end;
    }
    s2r_buf_putn(t, b->src + prev, b->len - prev);
    (void)top;
}

bool s2r_body__is_set(const sh_stmt *st)
{
    if (st->compound || st->ncmds != 1 || st->cmds[0].has_redir)
        return false;
    const sh_word *w = s2r_body__cmd_word(&st->cmds[0]);
    return w && w->value && !strcmp(w->value, "set");
}

/* the only thing left is one simple literal command */
bool s2r_body__reduces_to_argv(const analysis *a)
{
    if (a->main == (size_t)-1 || a->inner || a->nedits ||
        a->mode == MM_STANDIN)
        return false;
    /* VAR=x prefixes, exec and time need a shell */
    if (a->u->prefix_end > 0 || a->u->kw_to > a->u->kw_from)
        return false;
    const sh_body *b = &a->body;
    for (size_t i = 0; i < b->n; i++) {
        if (i == a->main || a->kind[i] == ST_DROP || a->kind[i] == ST_LIFTED)
            continue;
        const sh_stmt *st = &b->stmts[i];
        /* `set -e` etc. mean nothing for a single command */
        if (s2r_body__is_set(st))
            continue;
        return false;
    }
    const sh_stmt *ms = &b->stmts[a->main];
    if (ms->compound)
        return false;
    size_t left = ms->ncmds - (a->drop_prefix ? a->main_cmd : 0);
    if (left != 1 || ms->background || ms->cmds[a->main_cmd].has_redir ||
        ms->pipeline)
        return false;
    for (size_t i = 0; i < a->ow.n; i++)
        if (!s2r_body__ow_literal(&a->ow.v[i]))
            return false;
    return a->ow.n > 0;
}

/* trim blank lines at both ends and squeeze runs of blank lines */
char *s2r_body__tidy(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 2);
    if (!out)
        return NULL;
    size_t o = 0;
    int blank_run = 0;
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        /* blank: the line's first byte that is not a space is its end */
        size_t i = 0;
        while (i < ll && isspace((unsigned char)p[i]))
            i++;
        bool blank = i == ll;
        if (blank) {
            if (o > 0)
                blank_run++;
        } else {
            if (blank_run && o > 0)
                out[o++] = '\n';
            blank_run = 0;
            memcpy(out + o, p, ll);
            o += ll;
            out[o++] = '\n';
        }
        p += ll + (nl ? 1 : 0);
    }
    out[o] = '\0';
    return out;
}
