/* shell_lex.c: lexer for batch-script bodies, per the POSIX shell grammar
 * (XCU 2.3 token recognition, 2.2 quoting, 2.7.4 here-documents) and bash's
 * $'...' quoting. See shell_lex.h. */
#include "shell.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growable byte buffer ---- */
typedef struct buf {
    char *p;
    size_t n, cap;
    bool oom;
} buf;

static void buf_putn(buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_putc(buf *b, char c)
{
    buf_putn(b, &c, 1);
}

static char *buf_take(buf *b)
{
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    if (!b->p)
        return strdup("");
    char *p = b->p;
    memset(b, 0, sizeof(*b));
    return p;
}

/* ---- skipping quoted and expansion constructs ---- */

static size_t skip_dollar(const char *s, size_t len, size_t i);
static size_t skip_backtick(const char *s, size_t len, size_t i);

/* i at the opening '; returns index after the closing ' (or len) */
static size_t skip_squote(const char *s, size_t len, size_t i)
{
    const char *q = memchr(s + i + 1, '\'', len - i - 1);
    return q ? (size_t)(q - s) + 1 : len;
}

/* i at the opening "; returns index after the closing " (or len) */
static size_t skip_dquote(const char *s, size_t len, size_t i)
{
    i++;
    while (i < len && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < len)
            i += 2;
        else if (s[i] == '$')
            i = skip_dollar(s, len, i);
        else if (s[i] == '`')
            i = skip_backtick(s, len, i);
        else
            i++;
    }
    return i < len ? i + 1 : len;
}

static size_t skip_backtick(const char *s, size_t len, size_t i)
{
    i++;
    while (i < len && s[i] != '`')
        i += (s[i] == '\\' && i + 1 < len) ? 2 : 1;
    return i < len ? i + 1 : len;
}

/* s[i] is an opening bracket; find the matching closer, skipping quotes */
static size_t skip_group(const char *s, size_t len, size_t i, char open,
                         char close)
{
    int depth = 0;
    while (i < len) {
        char c = s[i];
        if (c == '\\' && i + 1 < len) {
            i += 2;
            continue;
        }
        if (c == '\'' && open != '{') {
            i = skip_squote(s, len, i);
            continue;
        }
        if (c == '\'' && open == '{') {
            i = skip_squote(s, len, i);
            continue;
        }
        if (c == '"') {
            i = skip_dquote(s, len, i);
            continue;
        }
        if (c == '`') {
            i = skip_backtick(s, len, i);
            continue;
        }
        if (c == '$' && i + 1 < len && (s[i + 1] == '(' || s[i + 1] == '{')) {
            if (i > 0 || open != c) {
                i = skip_dollar(s, len, i);
                continue;
            }
        }
        if (c == open)
            depth++;
        else if (c == close && --depth == 0)
            return i + 1;
        i++;
    }
    return len;
}

/* s[i] == '$': index after the expansion */
static size_t skip_dollar(const char *s, size_t len, size_t i)
{
    if (i + 1 >= len)
        return i + 1;
    char c = s[i + 1];
    if (c == '(')
        return skip_group(s, len, i + 1, '(', ')');
    if (c == '{')
        return skip_group(s, len, i + 1, '{', '}');
    if (c == '\'') /* $'...' handled by the word scanner; here skip it */
        return skip_squote(s, len, i + 1);
    if (isalpha((unsigned char)c) || c == '_') {
        size_t j = i + 1;
        while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_'))
            j++;
        return j;
    }
    if (isdigit((unsigned char)c) || strchr("@*#?$!-", c))
        return i + 2;
    return i + 1; /* a lone $ */
}

/* ---- lexer state ---- */

typedef struct heredoc {
    char *delim;
    bool strip_tabs;
} heredoc;

typedef struct lexer {
    const char *s;
    size_t len, p;
    int first_line;
    size_t line_off; /* cache for line_of() */
    int line_at;
    heredoc pend[8];
    int npend;
    bool oom;
    buf scratch; /* reused for decoded text inside scan_word */
} lexer;

static int line_of(lexer *L, size_t off)
{
    if (off < L->line_off) {
        L->line_off = 0;
        L->line_at = L->first_line;
    }
    for (size_t i = L->line_off; i < off && i < L->len; i++)
        if (L->s[i] == '\n')
            L->line_at++;
    L->line_off = off;
    return L->line_at;
}

static bool is_meta(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' ||
           c == '|' || c == '<' || c == '>' || c == '(' || c == ')';
}

static bool unq_special(char c)
{
    return c == '$' || c == '`' || c == '*' || c == '?' || c == '[' ||
           c == '{' || c == '}';
}

/* push a segment, merging with the previous one of the same type */
static void seg_push(sh_word *w, sh_seg_type t, const char *text, size_t n,
                     bool *oom)
{
    if (n == 0)
        return;
    if (w->nsegs && w->segs[w->nsegs - 1].type == t) {
        sh_seg *g = &w->segs[w->nsegs - 1];
        size_t old = strlen(g->text);
        char *np = realloc(g->text, old + n + 1);
        if (!np) {
            *oom = true;
            return;
        }
        memcpy(np + old, text, n);
        np[old + n] = '\0';
        g->text = np;
        return;
    }
    sh_seg *ns = realloc(w->segs, (w->nsegs + 1) * sizeof(*ns));
    if (!ns) {
        *oom = true;
        return;
    }
    w->segs = ns;
    char *t2 = malloc(n + 1);
    if (!t2) {
        *oom = true;
        return;
    }
    memcpy(t2, text, n);
    t2[n] = '\0';
    ns[w->nsegs].type = t;
    ns[w->nsegs].text = t2;
    w->nsegs++;
}

/* Scan one word starting at L->p. */
static void scan_word(lexer *L, sh_word *w)
{
    const char *s = L->s;
    size_t len = L->len, i = L->p;
    buf val = {0};
    memset(w, 0, sizeof(*w));
    w->start = i;
    w->line = line_of(L, i);
    bool at_start = true;
    for (;;) {
        if (i < len && s[i] == '(' && val.n > 0 && val.p[val.n - 1] == '=' &&
            w->nsegs == 1 && w->segs[0].type == SH_SEG_LIT) {
            /* bash array assignment NAME=(a b c): one word, kept raw */
            size_t e = skip_group(s, len, i, '(', ')');
            buf_putn(&val, s + i, e - i);
            seg_push(w, SH_SEG_UNQ, s + i, e - i, &L->oom);
            i = e;
            continue;
        }
        if (!(i < len && !is_meta(s[i])))
            break;
        char c = s[i];
        if (c == '\'') {
            size_t e = skip_squote(s, len, i);
            size_t inner_end = (e > i + 1 && s[e - 1] == '\'') ? e - 1 : e;
            buf_putn(&val, s + i + 1, inner_end - i - 1);
            seg_push(w, SH_SEG_LIT, s + i + 1, inner_end - i - 1, &L->oom);
            i = e;
        } else if (c == '$' && i + 1 < len && s[i + 1] == '\'') {
            /* bash ANSI-C quoting: keep the raw form, not expanded here */
            size_t e = skip_squote(s, len, i + 1);
            buf_putn(&val, s + i, e - i);
            seg_push(w, SH_SEG_UNQ, s + i, e - i, &L->oom);
            i = e;
        } else if (c == '"') {
            size_t e = skip_dquote(s, len, i);
            size_t inner_end = (e > i + 1 && s[e - 1] == '"') ? e - 1 : e;
            bool expands = false;
            buf dec = L->scratch;
            dec.n = 0;
            for (size_t k = i + 1; k < inner_end; k++) {
                if (s[k] == '\\' && k + 1 < inner_end &&
                    strchr("$`\"\\\n", s[k + 1])) {
                    if (s[k + 1] != '\n')
                        buf_putc(&dec, s[k + 1]);
                    k++;
                    continue;
                }
                if (s[k] == '$' || s[k] == '`')
                    expands = true;
                buf_putc(&dec, s[k]);
            }
            if (dec.oom)
                L->oom = true;
            buf_putn(&val, dec.p ? dec.p : "", dec.n);
            if (expands)
                seg_push(w, SH_SEG_DQ, s + i + 1, inner_end - i - 1, &L->oom);
            else
                seg_push(w, SH_SEG_LIT, dec.p ? dec.p : "", dec.n, &L->oom);
            L->scratch = dec;
            i = e;
        } else {
            /* an unquoted run: up to a quote or the end of the word; a
             * literal prefix (NAME= of an assignment) stays a LIT piece */
            size_t r = i, unq_from = i;
            bool special = at_start && c == '~';
            buf dec = L->scratch;
            dec.n = 0;
            while (r < len && !is_meta(s[r]) && s[r] != '\'' && s[r] != '"' &&
                   !(s[r] == '$' && r + 1 < len && s[r + 1] == '\'')) {
                bool sp = s[r] == '$' || s[r] == '`' || unq_special(s[r]);
                if (sp && !special) {
                    /* flush the literal prefix */
                    buf_putn(&val, dec.p ? dec.p : "", dec.n);
                    seg_push(w, SH_SEG_LIT, dec.p ? dec.p : "", dec.n, &L->oom);
                    dec.n = 0;
                    special = true;
                    unq_from = r;
                }
                if (s[r] == '\\' && r + 1 < len) {
                    if (s[r + 1] != '\n')
                        buf_putc(&dec, s[r + 1]);
                    r += 2;
                    continue;
                }
                if (s[r] == '$') {
                    size_t e = skip_dollar(s, len, r);
                    buf_putn(&dec, s + r, e - r);
                    r = e;
                    continue;
                }
                if (s[r] == '`') {
                    size_t e = skip_backtick(s, len, r);
                    buf_putn(&dec, s + r, e - r);
                    r = e;
                    continue;
                }
                buf_putc(&dec, s[r]);
                r++;
            }
            buf_putn(&val, dec.p ? dec.p : "", dec.n);
            if (special)
                seg_push(w, SH_SEG_UNQ, s + unq_from, r - unq_from, &L->oom);
            else
                seg_push(w, SH_SEG_LIT, dec.p ? dec.p : "", dec.n, &L->oom);
            if (dec.oom)
                L->oom = true;
            L->scratch = dec;
            i = r;
        }
        at_start = false;
    }
    w->end = i;
    w->value = buf_take(&val);
    if (!w->value)
        L->oom = true;
    w->literal = true;
    for (size_t k = 0; k < w->nsegs; k++)
        if (w->segs[k].type != SH_SEG_LIT)
            w->literal = false;
    L->p = i;
}

static void word_free(sh_word *w)
{
    free(w->value);
    for (size_t k = 0; k < w->nsegs; k++)
        free(w->segs[k].text);
    free(w->segs);
}

static void cmd_free(sh_cmd *c)
{
    for (size_t i = 0; i < c->nwords; i++)
        word_free(&c->words[i]);
    free(c->words);
}

void sh_body_free(sh_body *b)
{
    for (size_t i = 0; i < b->n; i++) {
        for (size_t j = 0; j < b->stmts[i].ncmds; j++)
            cmd_free(&b->stmts[i].cmds[j]);
        free(b->stmts[i].cmds);
    }
    free(b->stmts);
    memset(b, 0, sizeof(*b));
}

/* read pending here-documents starting at L->p (just after a newline) */
static void read_heredocs(lexer *L)
{
    for (int h = 0; h < L->npend; h++) {
        heredoc *hd = &L->pend[h];
        size_t dl = strlen(hd->delim);
        while (L->p < L->len) {
            size_t ls = L->p;
            const char *nl = memchr(L->s + ls, '\n', L->len - ls);
            size_t le = nl ? (size_t)(nl - L->s) : L->len;
            size_t t = ls;
            if (hd->strip_tabs)
                while (t < le && L->s[t] == '\t')
                    t++;
            L->p = nl ? le + 1 : le;
            if (le - t == dl && memcmp(L->s + t, hd->delim, dl) == 0)
                break;
        }
        free(hd->delim);
    }
    L->npend = 0;
}

static const char *const kw_open[] = {"if", "case", "for", "while", "until",
                                      "select", "{", NULL};
static const char *const kw_close[] = {"fi", "esac", "done", "}", NULL};
static const char *const kw_other[] = {"then", "else", "elif", "do", "in",
                                       "!", "function", "[[", NULL};

static bool in_list(const char *w, const char *const *l)
{
    for (size_t i = 0; l[i]; i++)
        if (strcmp(w, l[i]) == 0)
            return true;
    return false;
}

typedef struct stmt_builder {
    sh_stmt st;
    bool open;
    sh_cmd cur;
    bool cur_open;
} stmt_builder;

static void cmd_add_word(lexer *L, stmt_builder *sb, sh_word *w)
{
    if (!sb->cur_open) {
        memset(&sb->cur, 0, sizeof(sb->cur));
        sb->cur.start = w->start;
        sb->cur.line = w->line;
        sb->cur_open = true;
    }
    sh_word *nw = realloc(sb->cur.words, (sb->cur.nwords + 1) * sizeof(*nw));
    if (!nw) {
        L->oom = true;
        word_free(w);
        return;
    }
    sb->cur.words = nw;
    nw[sb->cur.nwords++] = *w;
    sb->cur.end = w->end;
}

static void cmd_close(lexer *L, stmt_builder *sb)
{
    if (!sb->cur_open)
        return;
    sh_cmd *nc = realloc(sb->st.cmds, (sb->st.ncmds + 1) * sizeof(*nc));
    if (!nc) {
        L->oom = true;
        cmd_free(&sb->cur);
    } else {
        sb->st.cmds = nc;
        nc[sb->st.ncmds++] = sb->cur;
    }
    sb->cur_open = false;
}

static void stmt_touch(lexer *L, stmt_builder *sb, size_t start, size_t end)
{
    if (!sb->open) {
        memset(&sb->st, 0, sizeof(sb->st));
        sb->st.start = start;
        sb->st.line = line_of(L, start);
        sb->open = true;
    }
    if (end > sb->st.end)
        sb->st.end = end;
}

static void stmt_close(lexer *L, stmt_builder *sb, sh_body *b)
{
    cmd_close(L, sb);
    if (!sb->open)
        return;
    sb->st.end_line = line_of(L, sb->st.end ? sb->st.end - 1 : 0);
    sh_stmt *ns = realloc(b->stmts, (b->n + 1) * sizeof(*ns));
    if (!ns) {
        L->oom = true;
    } else {
        b->stmts = ns;
        ns[b->n++] = sb->st;
    }
    sb->open = false;
}

int sh_lex(sh_body *out, const char *src, size_t len, int first_line)
{
    memset(out, 0, sizeof(*out));
    out->src = src;
    out->len = len;
    out->first_line = first_line;
    lexer L = {.s = src, .len = len, .first_line = first_line,
               .line_at = first_line};
    stmt_builder sb = {0};
    int kw_depth = 0, paren_depth = 0;
    bool cmd_pos = true, continuation = false;

    while (L.p < len && !L.oom) {
        char c = src[L.p];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            L.p++;
            continue;
        }
        if (c == '\\' && L.p + 1 < len && src[L.p + 1] == '\n') {
            L.p += 2;
            continue;
        }
        if (c == '#') {
            const char *nl = memchr(src + L.p, '\n', len - L.p);
            L.p = nl ? (size_t)(nl - src) : len;
            continue;
        }
        if (c == '\n') {
            L.p++;
            if (L.npend) {
                read_heredocs(&L);
                if (sb.open)
                    sb.st.end = L.p > 0 && src[L.p - 1] == '\n' ? L.p - 1 : L.p;
            }
            if (kw_depth > 0 || paren_depth > 0 || continuation) {
                cmd_close(&L, &sb);
                cmd_pos = true;
                continue;
            }
            stmt_close(&L, &sb, out);
            cmd_pos = true;
            continue;
        }
        if (c == ';') {
            size_t n = (L.p + 1 < len && src[L.p + 1] == ';') ? 2 : 1;
            stmt_touch(&L, &sb, L.p, L.p + n);
            L.p += n;
            cmd_close(&L, &sb);
            cmd_pos = true;
            continuation = false;
            if (kw_depth == 0 && paren_depth == 0) {
                if (sb.open)
                    sb.st.end = L.p - n; /* the ; is a separator */
                stmt_close(&L, &sb, out);
            }
            continue;
        }
        if (c == '&' && !(L.p + 1 < len && src[L.p + 1] == '>')) {
            if (L.p + 1 < len && src[L.p + 1] == '&') {
                stmt_touch(&L, &sb, L.p, L.p + 2);
                L.p += 2;
                cmd_close(&L, &sb);
                cmd_pos = continuation = true;
                continue;
            }
            stmt_touch(&L, &sb, L.p, L.p + 1);
            L.p++;
            cmd_close(&L, &sb);
            cmd_pos = true;
            continuation = false;
            if (kw_depth == 0 && paren_depth == 0) {
                sb.st.background = true;
                stmt_close(&L, &sb, out);
            }
            continue;
        }
        if (c == '|') {
            size_t n = 1;
            if (L.p + 1 < len && (src[L.p + 1] == '|' || src[L.p + 1] == '&'))
                n = 2;
            stmt_touch(&L, &sb, L.p, L.p + n);
            if (n == 1 || src[L.p + 1] == '&')
                sb.st.pipeline = true;
            L.p += n;
            cmd_close(&L, &sb);
            cmd_pos = continuation = true;
            continue;
        }
        if (c == '(') {
            stmt_touch(&L, &sb, L.p, L.p + 1);
            if (sb.cur_open && sb.cur.nwords == 1) {
                /* name() function definition */
                size_t q = L.p + 1;
                while (q < len && (src[q] == ' ' || src[q] == '\t'))
                    q++;
                if (q < len && src[q] == ')') {
                    sb.st.compound = true;
                    L.p = q + 1;
                    stmt_touch(&L, &sb, L.p - 1, L.p);
                    cmd_pos = true;
                    continue;
                }
            }
            if (sb.st.ncmds == 0 && !sb.cur_open)
                sb.st.compound = true;
            paren_depth++;
            L.p++;
            cmd_pos = true;
            continue;
        }
        if (c == ')') {
            stmt_touch(&L, &sb, L.p, L.p + 1);
            if (paren_depth > 0)
                paren_depth--;
            L.p++;
            cmd_close(&L, &sb);
            cmd_pos = true;
            continue;
        }
        /* redirection: [n]< > >> << <<- <<< <& >& <> >| &> &>> */
        size_t q = L.p;
        while (q < len && isdigit((unsigned char)src[q]))
            q++;
        if (q < len && (src[q] == '<' || src[q] == '>' ||
                        (q == L.p && src[q] == '&' && q + 1 < len &&
                         src[q + 1] == '>'))) {
            size_t op = q;
            bool heredoc_op = false, strip = false;
            if (src[q] == '&')
                q++;
            if (src[q] == '<' && q + 1 < len && src[q + 1] == '<') {
                if (q + 2 < len && src[q + 2] == '<') {
                    q += 3; /* here-string */
                } else {
                    heredoc_op = true;
                    q += 2;
                    if (q < len && src[q] == '-') {
                        strip = true;
                        q++;
                    }
                }
            } else {
                q++;
                if (q < len && (src[q] == '>' || src[q] == '&' ||
                                src[q] == '|'))
                    q++;
            }
            (void)op;
            stmt_touch(&L, &sb, L.p, q);
            if (!sb.cur_open) {
                memset(&sb.cur, 0, sizeof(sb.cur));
                sb.cur.start = L.p;
                sb.cur.line = line_of(&L, L.p);
                sb.cur_open = true;
            }
            sb.cur.has_redir = true;
            L.p = q;
            while (L.p < len && (src[L.p] == ' ' || src[L.p] == '\t'))
                L.p++;
            if (L.p < len && !is_meta(src[L.p])) {
                sh_word target;
                scan_word(&L, &target);
                stmt_touch(&L, &sb, target.start, target.end);
                sb.cur.end = target.end;
                if (heredoc_op && L.npend < 8) {
                    L.pend[L.npend].delim = strdup(target.value ? target.value : "");
                    L.pend[L.npend].strip_tabs = strip;
                    L.npend++;
                    sb.cur.has_heredoc = true;
                }
                word_free(&target);
            }
            continue;
        }
        /* a word */
        sh_word w;
        scan_word(&L, &w);
        if (w.end == w.start) { /* cannot happen, but never loop forever */
            word_free(&w);
            L.p++;
            continue;
        }
        stmt_touch(&L, &sb, w.start, w.end);
        continuation = false;
        if (cmd_pos && w.value && w.literal) {
            if (in_list(w.value, kw_open)) {
                if (!sb.cur_open && sb.st.ncmds == 0)
                    sb.st.compound = true;
                kw_depth++;
                cmd_close(&L, &sb);
                word_free(&w);
                cmd_pos = true;
                continue;
            }
            if (in_list(w.value, kw_close)) {
                if (kw_depth > 0)
                    kw_depth--;
                cmd_close(&L, &sb);
                word_free(&w);
                cmd_pos = false;
                continue;
            }
            if (in_list(w.value, kw_other)) {
                if (strcmp(w.value, "function") == 0 && !sb.cur_open &&
                    sb.st.ncmds == 0)
                    sb.st.compound = true;
                cmd_close(&L, &sb);
                word_free(&w);
                cmd_pos = true;
                continue;
            }
        }
        bool assign = sh_word_is_assignment(&w);
        cmd_add_word(&L, &sb, &w);
        cmd_pos = assign && cmd_pos;
    }
    if (L.npend)
        read_heredocs(&L);
    stmt_close(&L, &sb, out);
    free(L.scratch.p);
    if (L.oom) {
        sh_body_free(out);
        return -1;
    }
    return 0;
}

bool sh_word_is_assignment(const sh_word *w)
{
    if (!w->nsegs || w->segs[0].type != SH_SEG_LIT)
        return false;
    const char *v = w->segs[0].text;
    const char *eq = strchr(v, '=');
    if (!eq || eq == v)
        return false;
    if (!(isalpha((unsigned char)v[0]) || v[0] == '_'))
        return false;
    for (const char *p = v; p < eq; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return eq[-1] == '+' && p == eq - 1;
    /* the name must come from the raw source unquoted: a quoted 'A=b' is
     * not an assignment, but the lexer keeps quoting only via segments,
     * and a LIT first segment from quotes is rare enough at command
     * position to accept */
    return true;
}

size_t sh_cmd_first_arg(const sh_cmd *c)
{
    size_t i = 0;
    while (i < c->nwords && sh_word_is_assignment(&c->words[i]))
        i++;
    return i;
}

/* characters that never need quoting */
static bool safe_char(unsigned char c)
{
    return isalnum(c) || strchr("_@%+=:,./-", c) != NULL;
}

/* characters that are literal inside double quotes */
static bool dq_safe(const char *t)
{
    for (; *t; t++)
        if (*t == '"' || *t == '\\' || *t == '$' || *t == '`' || *t == '!')
            return false;
    return true;
}

static void put_squoted(buf *b, const char *t)
{
    bool plain = *t != '\0';
    for (const char *p = t; *p; p++)
        if (!safe_char((unsigned char)*p))
            plain = false;
    if (plain) {
        buf_putn(b, t, strlen(t));
        return;
    }
    buf_putc(b, '\'');
    for (const char *p = t; *p; p++) {
        if (*p == '\'')
            buf_putn(b, "'\\''", 4);
        else
            buf_putc(b, *p);
    }
    buf_putc(b, '\'');
}

/* "$(cat <<'DELIM' ... DELIM)": @p t as the body of a here-document in a
 * command substitution; quoted: taken as is; unquoted: expanded like
 * double quotes. @p t must not end with a newline (the substitution drops
 * trailing newlines). */
static void put_heredoc(buf *b, const char *t, bool quoted)
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
    buf_putn(b, "\"$(cat <<", 9);
    if (quoted)
        buf_putc(b, '\'');
    buf_putn(b, delim, strlen(delim));
    if (quoted)
        buf_putc(b, '\'');
    buf_putc(b, '\n');
    buf_putn(b, t, n);
    buf_putc(b, '\n');
    buf_putn(b, delim, strlen(delim));
    buf_putn(b, "\n)\"", 3);
}

/* A literal word, written so that its exact bytes also stand verbatim in
 * the script text (readers and reviewers see the argument as the program
 * gets it): single quotes; double quotes when it holds a single quote and
 * nothing double quotes would expand; else a quoted here-document in a
 * command substitution (bash: its body is taken as is; only trailing
 * newlines would be lost, so those words fall back to '\'' quoting). */
static void put_literal(buf *b, const char *t)
{
    if (!strchr(t, '\'')) {
        put_squoted(b, t);
        return;
    }
    size_t n = strlen(t);
    if (!strpbrk(t, "\"$`\\!")) {
        buf_putc(b, '"');
        buf_putn(b, t, n);
        buf_putc(b, '"');
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
    buf b = {0};
    if (w->literal) {
        put_literal(&b, w->value ? w->value : "");
        return buf_take(&b);
    }
    /* fold literal pieces that mean the same inside double quotes into the
     * neighbouring double-quoted piece: --ip="$node" -> "--ip=$node" */
    size_t i = 0;
    while (i < w->nsegs) {
        const sh_seg *g = &w->segs[i];
        if (g->type == SH_SEG_UNQ) {
            buf_putn(&b, g->text, strlen(g->text));
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
            buf in = {0};
            for (size_t k = i; k < j; k++)
                buf_putn(&in, w->segs[k].text, strlen(w->segs[k].text));
            const char *t = in.p ? in.p : "";
            if (strstr(t, "\\\"") && in.n && t[in.n - 1] != '\n') {
                /* "..\"$x\".." as an unquoted here-document, which expands
                 * like double quotes but takes " as it is: the word's value
                 * then stands verbatim in the text */
                buf doc = {0};
                for (const char *p = t; *p; p++) {
                    if (p[0] == '\\' && p[1] == '"')
                        continue;
                    buf_putc(&doc, *p);
                }
                put_heredoc(&b, doc.p ? doc.p : "", false);
                free(doc.p);
            } else {
                buf_putc(&b, '"');
                buf_putn(&b, t, in.n);
                buf_putc(&b, '"');
            }
            free(in.p);
            i = j;
            continue;
        }
        put_squoted(&b, g->text);
        i++;
    }
    return buf_take(&b);
}
