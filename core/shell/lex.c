/* lex.c: lexer for batch-script bodies, per the POSIX shell grammar
 * (XCU 2.3 token recognition, 2.2 quoting, 2.7.4 here-documents) and bash's
 * $'...' quoting. See shell.h. */
#include "shell.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* see shell.h */
const bool sh_name_bytes[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
    ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['_'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,
    ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,
    ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1,
    ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* ---- skipping quoted and expansion constructs ---- */

/* Each skip below returns the index after the construct that opens at
 * s[i], or len when the text ends before it closes; then it sets *open
 * (when @p open is not NULL). */

/* i at the opening ' */
static size_t skip_squote(const char *s, size_t len, size_t i, bool *open)
{
    const char *q = memchr(s + i + 1, '\'', len - i - 1);
    if (q)
        return (size_t)(q - s) + 1;
    if (open)
        *open = true;
    return len;
}

/* i at the opening ` */
static size_t skip_backtick(const char *s, size_t len, size_t i, bool *open)
{
    i++;
    while (i < len && s[i] != '`')
        i += (s[i] == '\\' && i + 1 < len) ? 2 : 1;
    if (i < len)
        return i + 1;
    if (open)
        *open = true;
    return len;
}

/* s[i] == '$' not followed by '(' or '{': index after $name, $1, $@, $'..'
 * or a lone $ */
static size_t skip_simple_dollar(const char *s, size_t len, size_t i,
                                 bool *open)
{
    if (i + 1 >= len)
        return i + 1;
    char c = s[i + 1];
    if (c == '\'') /* $'...' handled by the word scanner; here skip it */
        return skip_squote(s, len, i + 1, open);
    if (isalpha((unsigned char)c) || c == '_') {
        size_t j = i + 1;
        while (j < len && sh_name_byte(s[j]))
            j++;
        return j;
    }
    if (isdigit((unsigned char)c) || strchr("@*#?$!-", c))
        return i + 2;
    return i + 1; /* a lone $ */
}

/* The constructs that nest: a double-quoted string, and a group opened by
 * ( or { (plain, or after $). Each open bracket or quote is one entry of a
 * stack, so nesting is bounded by memory, not by the C stack: a line of
 * 100,000 "$(" is read like any other. */
typedef enum { NEST_DQ, NEST_PAREN, NEST_BRACE } nest_kind;

typedef struct {
    unsigned char room[128];
    unsigned char *v; /* room, or malloc'd once it outgrows it */
    size_t n, cap;
} nest_stack;

static bool nest_push(nest_stack *st, nest_kind k)
{
    if (st->n == st->cap) {
        size_t cap = st->cap * 2;
        unsigned char *v = st->v == st->room ? malloc(cap)
                                              : realloc(st->v, cap);
        if (!v)
            return false;
        if (st->v == st->room)
            memcpy(v, st->room, st->n);
        st->v = v;
        st->cap = cap;
    }
    st->v[st->n++] = (unsigned char)k;
    return true;
}

/* The bytes the skip must look at, one table lookup each: in double
 * quotes (DQ) " \\ $ `; in a bracketed group (GROUP) those, ' and the
 * brackets. Every other byte is passed over as it is. */
enum { K_DQ = 1, K_GROUP = 2 };
static const unsigned char k_skip[256] = {
    ['"'] = K_DQ | K_GROUP, ['\\'] = K_DQ | K_GROUP, ['$'] = K_DQ | K_GROUP,
    ['`'] = K_DQ | K_GROUP, ['\''] = K_GROUP, ['('] = K_GROUP, [')'] = K_GROUP,
    ['{'] = K_GROUP, ['}'] = K_GROUP};

/* One step inside the innermost construct @p top at s[i]: returns the
 * next index, pushing or popping @p st as a construct opens or closes. */
static size_t nest_step(const char *s, size_t len, size_t i, nest_stack *st,
                        bool *oom)
{
    nest_kind top = (nest_kind)st->v[st->n - 1];
    char c = s[i];
    if (!(k_skip[(unsigned char)c] & (top == NEST_DQ ? K_DQ : K_GROUP)))
        return i + 1;
    if (c == '\\')
        return i + 1 < len ? i + 2 : i + 1;
    if (c == '`')
        return skip_backtick(s, len, i, NULL);
    if (c == '$') {
        char n = i + 1 < len ? s[i + 1] : 0;
        if (n != '(' && n != '{')
            return top == NEST_DQ ? skip_simple_dollar(s, len, i, NULL)
                                  : i + 1;
        *oom = !nest_push(st, n == '(' ? NEST_PAREN : NEST_BRACE);
        return i + 2;
    }
    if (c == '"') {
        if (top == NEST_DQ)
            st->n--;
        else
            *oom = !nest_push(st, NEST_DQ);
        return i + 1;
    }
    if (c == '\'')
        return skip_squote(s, len, i, NULL);
    if ((c == '(' && top == NEST_PAREN) || (c == '{' && top == NEST_BRACE))
        *oom = !nest_push(st, top);
    else if ((c == ')' && top == NEST_PAREN) ||
             (c == '}' && top == NEST_BRACE))
        st->n--;
    return i + 1;
}

/* s[i] opens a construct of kind @p k ('"', '(' or '{'); an inner one left
 * open leaves this one open too. Past any real script, memory for the
 * nesting may run out: the rest of the text is then skipped too. */
static size_t skip_nested(const char *s, size_t len, size_t i, nest_kind k,
                          bool *open)
{
    nest_stack st; /* room left unset: only v[0, n) is read */
    st.v = st.room;
    st.n = 1;
    st.cap = sizeof(st.room);
    st.v[0] = (unsigned char)k;
    bool oom = false;
    i++;
    while (i < len && st.n && !oom) {
        /* plain bytes of the innermost construct in one run */
        unsigned char mask = st.v[st.n - 1] == NEST_DQ ? K_DQ : K_GROUP;
        while (i < len && !(k_skip[(unsigned char)s[i]] & mask))
            i++;
        if (i < len)
            i = nest_step(s, len, i, &st, &oom);
    }
    if (st.v != st.room)
        free(st.v);
    if (!st.n)
        return i;
    if (open)
        *open = true;
    return len;
}

/* i at the opening " */
static size_t skip_dquote(const char *s, size_t len, size_t i, bool *open)
{
    return skip_nested(s, len, i, NEST_DQ, open);
}

/* s[i] is an opening ( or {: to the matching closer, skipping quotes and
 * expansions */
static size_t skip_group(const char *s, size_t len, size_t i, bool *open)
{
    return skip_nested(s, len, i, s[i] == '(' ? NEST_PAREN : NEST_BRACE,
                       open);
}

/* s[i] == '$': the expansion */
static size_t skip_dollar(const char *s, size_t len, size_t i, bool *open)
{
    if (i + 1 < len && (s[i + 1] == '(' || s[i + 1] == '{'))
        return skip_group(s, len, i + 1, open);
    return skip_simple_dollar(s, len, i, open);
}

/* ---- lexer state ---- */

typedef struct heredoc {
    char *delim;
    bool strip_tabs;
    int line; /* of the operator's word */
} heredoc;

/* The statement and the simple command being built. */
typedef struct stmt_builder {
    sh_stmt st;
    bool open;
    sh_cmd cur;
    bool cur_open;
} stmt_builder;

/* A segment of the word being scanned: its text is
 * segtext[off..off+len). */
typedef struct seg_span {
    sh_seg_type type;
    size_t off, len;
} seg_span;

/* Bytes of the word being scanned: @c cap bytes at @c p, first the
 * lexer's own TEXT_ROOM, then the lexer's arena, doubling. Not
 * NUL-terminated. */
enum { TEXT_ROOM = 256, SEG_ROOM = 16, SEG_POOL = 32 };
typedef struct text_buf {
    char *p;
    size_t len, cap;
} text_buf;

typedef struct lexer {
    const char *s;
    size_t len, p;
    int line;        /* line of s[p]: first_line + the newlines before p */
    heredoc pend[8];
    int npend;
    bool oom;
    bool open;        /* a word's quote or expansion ran to the text's end */
    text_buf scratch; /* reused for decoded text inside scan_word */
    /* the word being scanned, copied into the body's arena at its end */
    text_buf val;     /* its value so far */
    text_buf segtext; /* its segments' texts, back to back */
    seg_span *segs;
    size_t nsegs, segcap;
    /* a plain word's value is its bytes in a copy of the source in the
     * body's arena (made at the first word, NUL-terminated), a NUL
     * written over the byte after it; its one segment comes from a pool
     * of SEG_POOL carved from the arena */
    char *copy;
    sh_seg *seg_pool;
    size_t seg_left;
    /* the words, commands and statements of the whole body, in order
     * (a command's words and a statement's commands follow each other),
     * copied into one block of the body's arena at the end; each starts
     * in room on sh_lex's stack */
    sh_word *words;
    size_t nwords, wordcap;
    sh_cmd *cmds;
    size_t ncmds, cmdcap;
    sh_stmt *stmts;
    size_t stmtcap;
    s2r_arena grown; /* the scratch arrays and texts once they outgrow
                        their room: freed whole at the end */
    /* statement structure (sh_lex) */
    sh_body *out;
    stmt_builder sb;
    int kw_depth, paren_depth; /* open compound keywords, ( */
    bool cmd_pos;              /* the next word is in command position */
    bool continuation;         /* after | && ||: the statement goes on */
} lexer;

/* The newlines in s[from..to). */
static int newlines(const char *s, size_t from, size_t to)
{
    int n = 0;
    const char *p = s + from, *e = s + to;
    while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

/* The line of byte @p off, counted from the line of L->p (statement
 * ends, a few bytes back). */
static int line_of(const lexer *L, size_t off)
{
    if (off > L->len)
        off = L->len;
    if (off < L->p)
        return L->line - newlines(L->s, off, L->p);
    return L->line + newlines(L->s, L->p, off);
}

/* Make room for element @p n of the scratch array *@p v (capacity *@p cap
 * elements of @p size bytes), which starts in room of the lexer's own and
 * moves, doubling, into @p grown, the lexer's arena, once that is full
 * (the arena's blocks are kept for the next lex: a long body grew them
 * on the heap each time); false when memory runs out. */
static inline bool room_for(s2r_arena *grown, void **v, size_t *cap,
                            size_t n, size_t size)
{
    void *nv;
    if (n < *cap)
        return true;
    if (!(nv = s2r_arena_grow(grown, *v, n, cap, size, 0)))
        return false;
    *v = nv;
    return true;
}

/* Append @p n bytes at @p s to @p b (L->oom when memory runs out). */
static void text_put(lexer *L, text_buf *b, const char *s, size_t n)
{
    if (n > b->cap - b->len) {
        size_t c = b->cap;
        while (c - b->len < n) {
            if (c > SIZE_MAX / 2) {
                L->oom = true;
                return;
            }
            c *= 2;
        }
        char *np = s2r_arena_alloc(&L->grown, c);
        if (!np) {
            L->oom = true;
            return;
        }
        memcpy(np, b->p, b->len);
        b->p = np;
        b->cap = c;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* Character classes of the scan, one table lookup each:
 * META ends an unquoted word (blank, newline, ; & | < > ( )),
 * UNQ is special unquoted ($ ` * ? [ { }), QUOTE starts a quoting or
 * expansion (' " \\ $ `); END is NUL, which ends the lexer's copy of
 * the source. */
enum { C_META = 1, C_UNQ = 2, C_QUOTE = 4, C_END = 8 };
enum { C_STOP = C_META | C_UNQ | C_QUOTE }; /* what ends a plain run */
static const unsigned char k_class[256] = {
    ['\0'] = C_END, /* plain, but may end a NUL-terminated copy */
    [' '] = C_META, ['\t'] = C_META, ['\n'] = C_META, [';'] = C_META,
    ['&'] = C_META, ['|'] = C_META, ['<'] = C_META, ['>'] = C_META,
    ['('] = C_META, [')'] = C_META,
    ['$'] = C_UNQ | C_QUOTE, ['`'] = C_UNQ | C_QUOTE, ['*'] = C_UNQ,
    ['?'] = C_UNQ, ['['] = C_UNQ, ['{'] = C_UNQ, ['}'] = C_UNQ,
    ['\''] = C_QUOTE, ['"'] = C_QUOTE, ['\\'] = C_QUOTE};

static bool is_meta(char c)
{
    return k_class[(unsigned char)c] & C_META;
}

/* push a segment of the word being scanned, merging with the previous
 * one of the same type */
static void seg_push(lexer *L, sh_seg_type t, const char *text, size_t n)
{
    if (n == 0)
        return;
    if (L->nsegs && L->segs[L->nsegs - 1].type == t) {
        L->segs[L->nsegs - 1].len += n;
        text_put(L, &L->segtext, text, n);
        return;
    }
    if (!room_for(&L->grown, (void **)&L->segs, &L->segcap, L->nsegs,
                  sizeof(*L->segs))) {
        L->oom = true;
        return;
    }
    L->segs[L->nsegs++] = (seg_span){t, L->segtext.len, n};
    text_put(L, &L->segtext, text, n);
}

static void put_char(lexer *L, text_buf *b, char c)
{
    text_put(L, b, &c, 1);
}

/* Where the scan of one word is (its value and segments so far are the
 * lexer's). */
typedef struct word_scan {
    size_t i; /* next source byte */
} word_scan;

/* 'text': a literal piece. */
static void scan_squoted(lexer *L, word_scan *ws)
{
    const char *s = L->s;
    size_t i = ws->i, e = skip_squote(s, L->len, i, &L->open);
    size_t inner_end = (e > i + 1 && s[e - 1] == '\'') ? e - 1 : e;
    text_put(L, &L->val, s + i + 1, inner_end - i - 1);
    seg_push(L, SH_SEG_LIT, s + i + 1, inner_end - i - 1);
    ws->i = e;
}

/* "text": literal unless it holds $ or `, then kept raw (DQ). */
static void scan_dquoted(lexer *L, word_scan *ws)
{
    const char *s = L->s;
    size_t i = ws->i, e = skip_dquote(s, L->len, i, &L->open);
    size_t inner_end = (e > i + 1 && s[e - 1] == '"') ? e - 1 : e;
    size_t n = inner_end - i - 1;
    if (!memchr(s + i + 1, '\\', n)) {
        /* no escape: the text is as written, appended from the source */
        bool raw = memchr(s + i + 1, '$', n) || memchr(s + i + 1, '`', n);
        text_put(L, &L->val, s + i + 1, n);
        seg_push(L, raw ? SH_SEG_DQ : SH_SEG_LIT, s + i + 1, n);
        ws->i = e;
        return;
    }
    bool expands = false;
    text_buf dec = L->scratch;
    dec.len = 0;
    for (size_t k = i + 1; k < inner_end;) {
        if (s[k] == '\\' && k + 1 < inner_end &&
            strchr("$`\"\\\n", s[k + 1])) {
            if (s[k + 1] != '\n')
                put_char(L, &dec, s[k + 1]);
            k += 2;
            continue;
        }
        /* up to the next backslash the text is as written: one append */
        size_t run = k + 1;
        while (run < inner_end && s[run] != '\\')
            run++;
        for (size_t c = k; c < run && !expands; c++)
            expands = s[c] == '$' || s[c] == '`';
        text_put(L, &dec, s + k, run - k);
        k = run;
    }
    text_put(L, &L->val, dec.p, dec.len);
    if (expands)
        seg_push(L, SH_SEG_DQ, s + i + 1, inner_end - i - 1);
    else
        seg_push(L, SH_SEG_LIT, dec.p, dec.len);
    L->scratch = dec;
    ws->i = e;
}

/* A character an unquoted run takes as it is: no word end, quote,
 * backslash or expansion, and no glob before the first expansion or glob
 * (@p special), where the literal prefix ends. */
static bool plain_char(char c, bool special)
{
    return !(k_class[(unsigned char)c] &
             (C_META | C_QUOTE | (special ? 0 : C_UNQ)));
}

/* An unquoted run: up to a quote or the end of the word; a literal
 * prefix (NAME= of an assignment) stays a LIT piece, the rest from the
 * first expansion or glob on is kept raw (UNQ). */
static void scan_unquoted(lexer *L, word_scan *ws, bool at_start)
{
    const char *s = L->s;
    size_t len = L->len, r = ws->i, unq_from = ws->i;
    bool special = at_start && s[r] == '~';
    text_buf dec = L->scratch;
    dec.len = 0;
    while (r < len && !is_meta(s[r]) && s[r] != '\'' && s[r] != '"' &&
           !(s[r] == '$' && r + 1 < len && s[r + 1] == '\'')) {
        bool sp = k_class[(unsigned char)s[r]] & C_UNQ;
        if (sp && !special) {
            /* flush the literal prefix */
            text_put(L, &L->val, dec.p, dec.len);
            seg_push(L, SH_SEG_LIT, dec.p, dec.len);
            dec.len = 0;
            special = true;
            unq_from = r;
        }
        if (s[r] == '\\' && r + 1 < len) {
            if (s[r + 1] != '\n')
                put_char(L, &dec, s[r + 1]);
            r += 2;
            continue;
        }
        size_t e;
        if (s[r] == '$')
            e = skip_dollar(s, len, r, &L->open);
        else if (s[r] == '`')
            e = skip_backtick(s, len, r, &L->open);
        else /* a run of plain characters: one append, not one each */
            for (e = r + 1; e < len && plain_char(s[e], special); e++)
                ;
        text_put(L, &dec, s + r, e - r);
        r = e;
    }
    text_put(L, &L->val, dec.p, dec.len);
    if (special)
        seg_push(L, SH_SEG_UNQ, s + unq_from, r - unq_from);
    else
        seg_push(L, SH_SEG_LIT, dec.p, dec.len);
    L->scratch = dec;
    ws->i = r;
}

/* A piece kept raw as an UNQ segment: bash's $'...' (ANSI-C quoting, not
 * expanded here) or the (list) of an array assignment NAME=(a b c). */
static void scan_raw(lexer *L, word_scan *ws, size_t end)
{
    text_put(L, &L->val, L->s + ws->i, end - ws->i);
    seg_push(L, SH_SEG_UNQ, L->s + ws->i, end - ws->i);
    ws->i = end;
}

/* The scanned value and segments into @p w, in one block of the body's
 * arena: the segments, the value, then each segment's text (a lone
 * segment whose text is the value shares it). */
static void word_keep(lexer *L, sh_word *w)
{
    if (L->oom)
        return;
    size_t vlen = L->val.len, n = L->nsegs;
    bool shared = n == 1 && L->segs[0].len == vlen &&
                  memcmp(L->segtext.p, L->val.p, vlen) == 0;
    size_t size = n * sizeof(sh_seg) + vlen + 1;
    for (size_t k = 0; k < n && !shared; k++)
        size += L->segs[k].len + 1;
    char *m = s2r_arena_alloc(&L->out->arena, size);
    if (!m) {
        L->oom = true;
        return;
    }
    sh_seg *segs = n ? (sh_seg *)(void *)m : NULL;
    char *t = m + n * sizeof(sh_seg);
    if (vlen)
        memcpy(t, L->val.p, vlen);
    t[vlen] = '\0';
    w->value = t;
    t += vlen + 1;
    w->literal = true;
    for (size_t k = 0; k < n; k++) {
        const seg_span *g = &L->segs[k];
        segs[k].type = g->type;
        if (shared) {
            segs[k].text = w->value;
        } else {
            memcpy(t, L->segtext.p + g->off, g->len);
            t[g->len] = '\0';
            segs[k].text = t;
            t += g->len + 1;
        }
        if (g->type != SH_SEG_LIT)
            w->literal = false;
    }
    w->segs = segs;
    w->nsegs = n;
}

/* The common word, made of plain characters only (no quote, escape,
 * expansion, glob, leading ~ or NAME=( ), scanned in one pass: its value,
 * also the text of its one LIT segment, is its bytes in the lexer's copy
 * of the source. False (no byte scanned) for any other word. */
static bool scan_plain_word(lexer *L, sh_word *w)
{
    const char *s = L->s;
    size_t len = L->len, i = L->p, e = i;
    if (s[i] == '~')
        return false;
    if (!L->copy) {
        L->copy = s2r_arena_alloc(&L->out->arena, len + 1);
        if (!L->copy) {
            L->oom = true;
            return false;
        }
        memcpy(L->copy, s, len);
        L->copy[len] = '\0';
    }
    /* the copy's bytes from i on are the source's, and its NUL at len
     * stops the scan there: a NUL before is the source's, plain */
    const char *c = L->copy;
    for (;;) {
        while (!(k_class[(unsigned char)c[e]] & (C_STOP | C_END)))
            e++;
        if (e < len && c[e] == '\0')
            e++;
        else
            break;
    }
    if (e == i ||
        (e < len && (!is_meta(s[e]) || (s[e] == '(' && s[e - 1] == '='))))
        return false;
    memset(w, 0, sizeof(*w));
    w->start = i;
    w->end = e;
    w->line = L->line;
    L->p = e;
    if (!L->seg_left) {
        L->seg_pool =
            s2r_arena_alloc(&L->out->arena, SEG_POOL * sizeof(sh_seg));
        if (!L->seg_pool) {
            L->oom = true;
            return true;
        }
        L->seg_left = SEG_POOL;
    }
    sh_seg *seg = L->seg_pool++;
    L->seg_left--;
    /* the byte after the word is a blank, an operator or the end: no
     * other plain word's */
    char *t = L->copy + i;
    t[e - i] = '\0';
    *seg = (sh_seg){SH_SEG_LIT, t};
    w->value = t;
    w->segs = seg;
    w->nsegs = 1;
    w->literal = true;
    return true;
}

/* Scan one word starting at L->p. */
static void scan_word(lexer *L, sh_word *w)
{
    if (scan_plain_word(L, w))
        return;
    const char *s = L->s;
    size_t len = L->len;
    word_scan ws = {.i = L->p};
    memset(w, 0, sizeof(*w));
    L->val.len = L->segtext.len = L->nsegs = 0;
    w->start = ws.i;
    w->line = L->line;
    bool at_start = true;
    for (;;) {
        size_t i = ws.i;
        if (i < len && s[i] == '(' && L->val.len > 0 &&
            L->val.p[L->val.len - 1] == '=' && L->nsegs == 1 &&
            L->segs[0].type == SH_SEG_LIT) {
            /* bash array assignment NAME=(a b c): one word, kept raw */
            scan_raw(L, &ws, skip_group(s, len, i, &L->open));
            continue;
        }
        if (!(i < len && !is_meta(s[i])))
            break;
        if (s[i] == '\'')
            scan_squoted(L, &ws);
        else if (s[i] == '$' && i + 1 < len && s[i + 1] == '\'')
            scan_raw(L, &ws, skip_squote(s, len, i + 1, &L->open));
        else if (s[i] == '"')
            scan_dquoted(L, &ws);
        else
            scan_unquoted(L, &ws, at_start);
        at_start = false;
    }
    w->end = ws.i;
    if (L->open && !L->out->open_line)
        L->out->open_line = w->line;
    word_keep(L, w);
    L->line += newlines(s, w->start, w->end);
    L->p = ws.i;
}

/* The statements, their commands and the commands' words into one block
 * of the body's arena, in that order, each list pointing at its part
 * (NULL for an empty one). */
static void body_keep(lexer *L, sh_body *b)
{
    size_t ss = b->n * sizeof(sh_stmt), cs = L->ncmds * sizeof(sh_cmd),
           ws = L->nwords * sizeof(sh_word);
    if (!b->n)
        return; /* every command is in a statement */
    char *m = s2r_arena_alloc(&b->arena, ss + cs + ws);
    if (!m) {
        L->oom = true;
        return;
    }
    sh_stmt *stmts = (sh_stmt *)(void *)m;
    sh_cmd *cmds = (sh_cmd *)(void *)(m + ss);
    sh_word *words = (sh_word *)(void *)(m + ss + cs);
    memcpy(stmts, L->stmts, ss);
    if (cs)
        memcpy(cmds, L->cmds, cs);
    if (ws)
        memcpy(words, L->words, ws);
    size_t c = 0, w = 0;
    for (size_t k = 0; k < b->n; k++) {
        stmts[k].cmds = stmts[k].ncmds ? cmds + c : NULL;
        c += stmts[k].ncmds;
    }
    for (size_t k = 0; k < L->ncmds; k++) {
        cmds[k].words = cmds[k].nwords ? words + w : NULL;
        w += cmds[k].nwords;
    }
    b->stmts = b->n ? stmts : NULL;
}

void sh_body_free(sh_body *b)
{
    s2r_arena_free(&b->arena);
    memset(b, 0, sizeof(*b));
}

/* A here-document the text ends in: the first one's line, and its
 * delimiter line after those of the others before (out->heredoc_close). */
static void heredoc_left_open(lexer *L, const heredoc *hd)
{
    sh_body *b = L->out;
    size_t had = b->heredoc_close ? strlen(b->heredoc_close) : 0,
           dl = strlen(hd->delim);
    char *t = s2r_arena_alloc(&b->arena, had + dl + 2);
    if (!t) {
        L->oom = true;
        return;
    }
    if (had)
        memcpy(t, b->heredoc_close, had);
    memcpy(t + had, hd->delim, dl);
    memcpy(t + had + dl, "\n", 2);
    if (!b->heredoc_line)
        b->heredoc_line = hd->line;
    b->heredoc_close = t;
}

/* read pending here-documents starting at L->p (just after a newline) */
static void read_heredocs(lexer *L)
{
    for (int h = 0; h < L->npend; h++) {
        heredoc *hd = &L->pend[h];
        size_t dl = strlen(hd->delim);
        bool closed = false;
        while (L->p < L->len && !closed) {
            size_t ls = L->p;
            const char *nl = memchr(L->s + ls, '\n', L->len - ls);
            size_t le = nl ? (size_t)(nl - L->s) : L->len;
            size_t t = ls;
            if (hd->strip_tabs)
                while (t < le && L->s[t] == '\t')
                    t++;
            L->p = nl ? le + 1 : le;
            L->line += nl != NULL;
            closed = le - t == dl && memcmp(L->s + t, hd->delim, dl) == 0;
        }
        if (!closed)
            heredoc_left_open(L, hd);
        free(hd->delim);
    }
    L->npend = 0;
}

/* The reserved words the statement structure needs, by what they do to
 * it: open or close a compound command, or neither (a function keyword
 * also makes its statement compound). */
typedef enum kw_kind {
    KW_NONE,
    KW_OPEN,
    KW_CLOSE,
    KW_FUNCTION,
    KW_OTHER
} kw_kind;

static bool is_word(const char *w, const char *kw)
{
    while (*kw && *w == *kw) {
        w++;
        kw++;
    }
    return *w == *kw;
}

/* Which reserved word @p w is, told by its first byte and at most three
 * comparisons after it: most words of a script are none. */
static kw_kind keyword_of(const char *w)
{
    switch (w[0]) {
    case '!':
        return w[1] ? KW_NONE : KW_OTHER;
    case '{':
        return w[1] ? KW_NONE : KW_OPEN;
    case '}':
        return w[1] ? KW_NONE : KW_CLOSE;
    case '[':
        return is_word(w, "[[") ? KW_OTHER : KW_NONE;
    case 'c':
        return is_word(w, "case") ? KW_OPEN : KW_NONE;
    case 'd':
        return is_word(w, "do")     ? KW_OTHER
               : is_word(w, "done") ? KW_CLOSE
                                    : KW_NONE;
    case 'e':
        return is_word(w, "elif") || is_word(w, "else") ? KW_OTHER
               : is_word(w, "esac")                     ? KW_CLOSE
                                                        : KW_NONE;
    case 'f':
        return is_word(w, "fi")         ? KW_CLOSE
               : is_word(w, "for")      ? KW_OPEN
               : is_word(w, "function") ? KW_FUNCTION
                                        : KW_NONE;
    case 'i':
        return is_word(w, "if")   ? KW_OPEN
               : is_word(w, "in") ? KW_OTHER
                                  : KW_NONE;
    case 's':
        return is_word(w, "select") ? KW_OPEN : KW_NONE;
    case 't':
        return is_word(w, "then") ? KW_OTHER : KW_NONE;
    case 'u':
        return is_word(w, "until") ? KW_OPEN : KW_NONE;
    case 'w':
        return is_word(w, "while") ? KW_OPEN : KW_NONE;
    default:
        return KW_NONE;
    }
}

/* Whether @p w is NAME=value (sh_word_is_assignment), found at most once
 * per word: *@p memo is -1 until then, then 0 or 1. */
static bool word_assigns(const sh_word *w, int *memo)
{
    if (*memo < 0)
        *memo = sh_word_is_assignment(w);
    return *memo;
}

/* The word scanned into L->words[L->nwords] joins the current command. */
static void cmd_add_word(lexer *L, stmt_builder *sb, int *assign)
{
    const sh_word *w = &L->words[L->nwords];
    if (!sb->cur_open) {
        memset(&sb->cur, 0, sizeof(sb->cur));
        sb->cur.start = w->start;
        sb->cur.line = w->line;
        sb->cur_open = true;
    }
    /* the leading assignments: counted while every word so far is one */
    if (sb->cur.first_arg == sb->cur.nwords && word_assigns(w, assign))
        sb->cur.first_arg++;
    L->nwords++;
    sb->cur.nwords++;
    sb->cur.end = w->end;
}

/* The open command joins the open statement's commands (its words are
 * the last cur.nwords of L->words; words is set at the end). */
static void cmd_close(lexer *L, stmt_builder *sb)
{
    if (!sb->cur_open)
        return;
    sb->cur_open = false;
    if (!sb->open) { /* cannot happen: a command opens its statement */
        L->nwords -= sb->cur.nwords;
        return;
    }
    if (!room_for(&L->grown, (void **)&L->cmds, &L->cmdcap, L->ncmds,
                  sizeof(*L->cmds))) {
        L->oom = true;
        return;
    }
    L->cmds[L->ncmds++] = sb->cur;
    sb->st.ncmds++;
}

/* Open the statement at @p start (on line @p line) if none is, and make
 * it reach @p end. */
static void stmt_touch(stmt_builder *sb, size_t start, int line, size_t end)
{
    if (!sb->open) {
        memset(&sb->st, 0, sizeof(sb->st));
        sb->st.start = start;
        sb->st.line = line;
        sb->open = true;
    }
    if (end > sb->st.end)
        sb->st.end = end;
}

/* The open statement joins the body (its commands are the last
 * st.ncmds of L->cmds; cmds is set at the end). */
static void stmt_close(lexer *L, stmt_builder *sb, sh_body *b)
{
    cmd_close(L, sb);
    if (!sb->open)
        return;
    sb->open = false;
    sb->st.end_line = line_of(L, sb->st.end ? sb->st.end - 1 : 0);
    if (!room_for(&L->grown, (void **)&L->stmts, &L->stmtcap, b->n,
                  sizeof(*L->stmts))) {
        L->oom = true;
        return;
    }
    L->stmts[b->n++] = sb->st;
}

/* A newline: pending here-documents follow; the statement ends unless a
 * compound command, ( or an operator keeps it open. */
static void lex_newline(lexer *L)
{
    stmt_builder *sb = &L->sb;
    L->p++;
    L->line++;
    if (L->npend) {
        read_heredocs(L);
        if (sb->open)
            sb->st.end = L->p > 0 && L->s[L->p - 1] == '\n' ? L->p - 1 : L->p;
    }
    if (L->kw_depth > 0 || L->paren_depth > 0 || L->continuation) {
        cmd_close(L, sb);
        L->cmd_pos = true;
        return;
    }
    stmt_close(L, sb, L->out);
    L->cmd_pos = true;
}

/* ; or ;; */
static void lex_semicolon(lexer *L)
{
    stmt_builder *sb = &L->sb;
    size_t n = (L->p + 1 < L->len && L->s[L->p + 1] == ';') ? 2 : 1;
    stmt_touch(sb, L->p, L->line, L->p + n);
    L->p += n;
    cmd_close(L, sb);
    L->cmd_pos = true;
    L->continuation = false;
    if (L->kw_depth == 0 && L->paren_depth == 0) {
        if (sb->open)
            sb->st.end = L->p - n; /* the ; is a separator */
        stmt_close(L, sb, L->out);
    }
}

/* & (background) or && */
static void lex_ampersand(lexer *L)
{
    stmt_builder *sb = &L->sb;
    if (L->p + 1 < L->len && L->s[L->p + 1] == '&') {
        stmt_touch(sb, L->p, L->line, L->p + 2);
        L->p += 2;
        cmd_close(L, sb);
        L->cmd_pos = L->continuation = true;
        return;
    }
    stmt_touch(sb, L->p, L->line, L->p + 1);
    L->p++;
    cmd_close(L, sb);
    L->cmd_pos = true;
    L->continuation = false;
    if (L->kw_depth == 0 && L->paren_depth == 0) {
        sb->st.background = true;
        stmt_close(L, sb, L->out);
    }
}

/* | || |& */
static void lex_pipe(lexer *L)
{
    stmt_builder *sb = &L->sb;
    const char *src = L->s;
    size_t n = 1;
    if (L->p + 1 < L->len && (src[L->p + 1] == '|' || src[L->p + 1] == '&'))
        n = 2;
    stmt_touch(sb, L->p, L->line, L->p + n);
    if (n == 1 || src[L->p + 1] == '&')
        sb->st.pipeline = true;
    L->p += n;
    cmd_close(L, sb);
    L->cmd_pos = L->continuation = true;
}

/* ( : a subshell, or name() of a function definition */
static void lex_open_paren(lexer *L)
{
    stmt_builder *sb = &L->sb;
    const char *src = L->s;
    stmt_touch(sb, L->p, L->line, L->p + 1);
    if (sb->cur_open && sb->cur.nwords == 1) {
        size_t q = L->p + 1;
        while (q < L->len && (src[q] == ' ' || src[q] == '\t'))
            q++;
        if (q < L->len && src[q] == ')') {
            sb->st.compound = true;
            L->p = q + 1;
            stmt_touch(sb, L->p - 1, L->line, L->p);
            L->cmd_pos = true;
            return;
        }
    }
    if (sb->st.ncmds == 0 && !sb->cur_open)
        sb->st.compound = true;
    L->paren_depth++;
    L->p++;
    L->cmd_pos = true;
}

static void lex_close_paren(lexer *L)
{
    stmt_touch(&L->sb, L->p, L->line, L->p + 1);
    if (L->paren_depth > 0)
        L->paren_depth--;
    L->p++;
    cmd_close(L, &L->sb);
    L->cmd_pos = true;
}

/* End of a redirection operator at L->p ([n]< > >> << <<- <<< <& >& <>
 * >| &> &>>), or 0 when there is none; *is_heredoc and *strip tell << and
 * <<-. */
static size_t redirection_end(const lexer *L, bool *is_heredoc, bool *strip)
{
    const char *src = L->s;
    size_t len = L->len, q = L->p;
    *is_heredoc = *strip = false;
    while (q < len && src[q] >= '0' && src[q] <= '9')
        q++;
    if (!(q < len && (src[q] == '<' || src[q] == '>' ||
                      (q == L->p && src[q] == '&' && q + 1 < len &&
                       src[q + 1] == '>'))))
        return 0;
    if (src[q] == '&')
        q++;
    if (src[q] == '<' && q + 1 < len && src[q + 1] == '<') {
        if (q + 2 < len && src[q + 2] == '<')
            return q + 3; /* here-string */
        *is_heredoc = true;
        q += 2;
        if (q < len && src[q] == '-') {
            *strip = true;
            q++;
        }
        return q;
    }
    q++;
    if (q < len && (src[q] == '>' || src[q] == '&' || src[q] == '|'))
        q++;
    return q;
}

/* A redirection and its target word, part of the current command; a
 * here-document's delimiter is queued for the next newline. */
static void lex_redirection(lexer *L, size_t op_end, bool is_heredoc, bool strip)
{
    stmt_builder *sb = &L->sb;
    stmt_touch(sb, L->p, L->line, op_end);
    if (!sb->cur_open) {
        memset(&sb->cur, 0, sizeof(sb->cur));
        sb->cur.start = L->p;
        sb->cur.line = L->line;
        sb->cur_open = true;
    }
    sb->cur.has_redir = true;
    L->p = op_end;
    while (L->p < L->len && (L->s[L->p] == ' ' || L->s[L->p] == '\t'))
        L->p++;
    if (L->p < L->len && !is_meta(L->s[L->p])) {
        sh_word target;
        scan_word(L, &target);
        stmt_touch(sb, target.start, target.line, target.end);
        sb->cur.end = target.end;
        if (is_heredoc && L->npend < 8) {
            char *d = strdup(target.value ? target.value : "");
            if (!d) {
                L->oom = true;
                return;
            }
            L->pend[L->npend++] = (heredoc){d, strip, target.line};
            sb->cur.has_heredoc = true;
        }
    }
}

/* A reserved word in command position opens, closes or continues a
 * compound command; returns false for any other word. */
static bool lex_keyword(lexer *L, const sh_word *w)
{
    stmt_builder *sb = &L->sb;
    /* a lone { or } is a reserved word, though its byte may start a brace
     * expansion (not literal) */
    if (!(L->cmd_pos && w->value &&
          (w->literal || ((w->value[0] == '{' || w->value[0] == '}') &&
                          !w->value[1]))))
        return false;
    kw_kind kind = keyword_of(w->value);
    if (kind == KW_NONE)
        return false;
    if (kind == KW_OPEN) {
        /* a compound command, first in the statement or after && || |:
         * the statement is kept whole */
        sb->st.compound = true;
        L->kw_depth++;
        L->cmd_pos = true;
    } else if (kind == KW_CLOSE) {
        if (L->kw_depth > 0)
            L->kw_depth--;
        L->cmd_pos = false;
    } else {
        if (kind == KW_FUNCTION && !sb->cur_open &&
            sb->st.ncmds == 0)
            sb->st.compound = true;
        L->cmd_pos = true;
    }
    cmd_close(L, sb);
    return true;
}

/* A word: a reserved word, or one more word of the current command. */
static void lex_word(lexer *L)
{
    /* scanned where the command's words go: kept there unless reserved */
    if (!room_for(&L->grown, (void **)&L->words, &L->wordcap, L->nwords,
                  sizeof(*L->words))) {
        L->oom = true;
        return;
    }
    sh_word *w = &L->words[L->nwords];
    scan_word(L, w);
    if (w->end == w->start) { /* cannot happen, but never loop forever */
        L->line += L->s[L->p] == '\n';
        L->p++;
        return;
    }
    stmt_touch(&L->sb, w->start, w->line, w->end);
    L->continuation = false;
    if (lex_keyword(L, w))
        return;
    int assign = -1;
    cmd_add_word(L, &L->sb, &assign);
    L->cmd_pos = L->cmd_pos && word_assigns(w, &assign);
}

/* A redirection at L->p, else a word. */
static void lex_redirection_or_word(lexer *L)
{
    bool is_heredoc, strip;
    size_t op_end = redirection_end(L, &is_heredoc, &strip);
    if (op_end)
        lex_redirection(L, op_end, is_heredoc, strip);
    else
        lex_word(L);
}

/* A comment: up to the newline. */
static void lex_comment(lexer *L)
{
    const char *nl = memchr(L->s + L->p, '\n', L->len - L->p);
    L->p = nl ? (size_t)(nl - L->s) : L->len;
}

int sh_lex(sh_body *out, const char *src, size_t len, int first_line)
{
    memset(out, 0, sizeof(*out));
    out->src = src;
    out->len = len;
    out->first_line = first_line;
    /* the scratch arrays' first room: most bodies need no more */
    sh_word word_room[96];
    sh_cmd cmd_room[48];
    sh_stmt stmt_room[32];
    char text_room[3][TEXT_ROOM];
    seg_span seg_room[SEG_ROOM];
    lexer L = {.s = src, .len = len, .line = first_line, .out = out,
               .cmd_pos = true,
               .scratch = {text_room[0], 0, TEXT_ROOM},
               .val = {text_room[1], 0, TEXT_ROOM},
               .segtext = {text_room[2], 0, TEXT_ROOM},
               .segs = seg_room, .segcap = SEG_ROOM,
               .words = word_room, .wordcap = 96,
               .cmds = cmd_room, .cmdcap = 48,
               .stmts = stmt_room, .stmtcap = 32};

    /* a token by its first byte: blanks, escaped newlines and comments
     * between tokens are skipped */
    while (L.p < len && !L.oom) {
        switch (src[L.p]) {
        case ' ': case '\t': case '\r': case '\f': case '\v':
            L.p++;
            break;
        case '#':
            lex_comment(&L);
            break;
        case '\\':
            if (L.p + 1 < len && src[L.p + 1] == '\n') {
                L.p += 2;
                L.line++;
            } else {
                lex_word(&L);
            }
            break;
        case '\n':
            lex_newline(&L);
            break;
        case ';':
            lex_semicolon(&L);
            break;
        case '&':
            if (L.p + 1 < len && src[L.p + 1] == '>')
                lex_redirection_or_word(&L); /* &> */
            else
                lex_ampersand(&L);
            break;
        case '|':
            lex_pipe(&L);
            break;
        case '(':
            lex_open_paren(&L);
            break;
        case ')':
            lex_close_paren(&L);
            break;
        case '<': case '>':
        case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
            lex_redirection_or_word(&L); /* [n]< [n]> ... */
            break;
        default:
            lex_word(&L);
            break;
        }
    }
    if (L.npend)
        read_heredocs(&L);
    stmt_close(&L, &L.sb, out);
    if (!L.oom)
        body_keep(&L, out);
    s2r_arena_free(&L.grown);
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
        if (!sh_name_byte(*p))
            return eq[-1] == '+' && p == eq - 1;
    /* the name must come from the raw source unquoted: a quoted 'A=b' is
     * not an assignment, but the lexer keeps quoting only via segments,
     * and a LIT first segment from quotes is rare enough at command
     * position to accept */
    return true;
}

size_t sh_cmd_first_arg(const sh_cmd *c)
{
    return c->first_arg;
}
