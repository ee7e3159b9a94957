/**
 * @file script.c
 * @brief Whole-script checks, the #SBATCH directive scan and the directive
 *        tokenizer, as sbatch does them (sbatch.c, opt.c: get_argument(),
 *        _opt_batch_script()); then hands the argv to s2r_slurm__parse_argv().
 *
 * s2r_slurm__parse_directives() follows sbatch's order: the checks, one
 * pass to the first command reading the directives before it, #SBATCH
 * after it, #PBS/#BSUB; the passes share the line count and the argv.
 */
#include "slurm.h"

#include "base/base.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC1 "#SBATCH"
#define MAGIC1_LEN 7
#define MAGIC2 "#SLURM"
#define MAGIC2_LEN 6

/* C-locale isspace() */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Whether the @p n bytes at @p p spell the lowercase word @p w in any
 * case. */
static bool spells(const char *p, const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != w[i])
            return false;
    return true;
}

/* Whether [p, e) holds "hetjob" or "packjob" in any case (the separator
 * of a heterogeneous job's components). Both are looked for around their
 * 'j', a letter few directives hold, which memchr finds. */
static bool names_het_component(const char *p, const char *e)
{
    for (const char *j = p; j < e; j++) {
        const char *lj = memchr(j, 'j', (size_t)(e - j));
        const char *uj = memchr(j, 'J', (size_t)((lj ? lj : e) - j));
        j = uj ? uj : lj;
        if (!j)
            return false;
        if (e - j >= 3 && spells(j, "job", 3) &&
            ((j - p >= 3 && spells(j - 3, "het", 3)) ||
             (j - p >= 4 && spells(j - 4, "pack", 4))))
            return true;
    }
    return false;
}

/* A #PBS or #BSUB directive line [p, e), which sbatch translates
 * (src/sbatch/xlate.c). */
static bool foreign_directive(const char *p, const char *e)
{
    return p[0] == '#' &&
           ((e - p >= 4 && !memcmp(p, "#PBS", 4)) ||
            (e - p >= 5 && !memcmp(p, "#BSUB", 5)));
}

/* Magic word length at the start of [p, e) (7 for #SBATCH, 6 for #SLURM),
 * 0 if the line is not a directive. */
static size_t magic_len(const char *p, const char *e)
{
    size_t n = (size_t)(e - p);
    if (n >= MAGIC1_LEN && memcmp(p, MAGIC1, MAGIC1_LEN) == 0)
        return MAGIC1_LEN;
    if (n >= MAGIC2_LEN && memcmp(p, MAGIC2, MAGIC2_LEN) == 0)
        return MAGIC2_LEN;
    return 0;
}

/* True when a non-directive line is a command (first non-blank is not '#'). */
static bool is_command(const char *p, const char *e)
{
    for (; p < e; p++) {
        if (is_space(*p))
            continue;
        return *p != '#';
    }
    return false;
}

/* A comment that looks like a directive someone meant: "# SBATCH",
 * "##SBATCH", "#sbatch", "   #SBATCH", "#S BATCH"; *@p rest (may be
 * NULL) is set to what follows the word. */
static bool near_miss_at(const char *p, const char *e, const char **rest)
{
    while (p < e && is_space(*p))
        p++;
    if (p >= e || *p != '#')
        return false;
    while (p < e && (*p == '#' || *p == ' ' || *p == '\t'))
        p++;
    static const char w[] = "sbatch";
    size_t i = 0;
    while (p < e && i < 6) {
        if (lower(*p) == w[i]) {
            i++;
        } else if (i == 1 && *p == ' ') {
            /* "#S BATCH" */
        } else {
            return false;
        }
        p++;
    }
    if (rest)
        *rest = p;
    return i == 6;
}

static bool near_miss(const char *p, const char *e)
{
    return near_miss_at(p, e, NULL);
}

/* Does the text [p, e) hold option @p option ("array") as a word: --NAME,
 * --NAME=..., a unique prefix of it, or its short letter? */
static bool names_option(const char *p, const char *e, const char *option)
{
    while (p < e) {
        while (p < e && is_space(*p))
            p++;
        const char *w = p;
        while (p < e && !is_space(*p))
            p++;
        const s2r_slurm_option *o = NULL;
        int st;
        if (p - w > 2 && w[0] == '-' && w[1] == '-') {
            const char *eq = memchr(w, '=', (size_t)(p - w));
            o = s2r_slurm__find_long(w + 2,
                                     (size_t)((eq ? eq : p) - w - 2), &st);
        } else if (p - w >= 2 && w[0] == '-' && w[1] != '-') {
            o = s2r_slurm__find_short(w[1]);
        }
        if (o && !strcmp(o->alias_of ? o->alias_of : o->name, option))
            return true;
    }
    return false;
}

int s2r_slurm__disabled_directive(const char *buf, size_t len,
                                  size_t body_off, const char *option,
                                  bool *after_body)
{
    const char *p = buf, *end = buf + len;
    int line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *rest = NULL;
        line++;
        bool late = (size_t)(p - buf) >= body_off;
        if (late && (size_t)(e - p) >= MAGIC1_LEN &&
            memcmp(p, MAGIC1, MAGIC1_LEN) == 0)
            rest = p + MAGIC1_LEN;
        else if (!magic_len(p, e) && line > 1)
            near_miss_at(p, e, &rest);
        if (rest && names_option(rest, e, option)) {
            if (after_body)
                *after_body = late && rest == p + MAGIC1_LEN;
            return line;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static int script_error(s2r_diags *d, const char *file, int line,
                        const char *msg)
{
    if (s2r_diags_add(d, S2R_SEV_ERROR, file, line, NULL, "%s", msg) != 0)
        return S2R_ENOMEM;
    return S2R_EINVAL;
}

/* The whole-script checks of sbatch.c, in sbatch's order. */
static int check_script(const char *file, const char *buf, size_t len,
                        s2r_diags *d)
{
    if (len == 0)
        return script_error(d, file, 0, "Batch script is empty!");
    size_t i = 0;
    while (i < len && is_space(buf[i]))
        i++;
    if (i == len)
        return script_error(d, file, 0,
                            "Batch script contains only whitespace!");
    if (len < 2 || buf[0] != '#' || buf[1] != '!')
        return script_error(
            d, file, 1,
            "This does not look like a batch script. The first line must "
            "start with #! followed by the path to an interpreter, for "
            "instance: #!/bin/sh");
    const char *nul = memchr(buf, '\0', len);
    if (nul) {
        int line = 1;
        for (const char *p = buf; p < nul; p++)
            line += (*p == '\n');
        return script_error(d, file, line,
                            "The batch script contains a NUL character; "
                            "sbatch refuses it");
    }
    const char *p = buf, *e = buf + len;
    while ((p = memchr(p, '\r', (size_t)(e - p))) != NULL) {
        if (p + 1 < e && p[1] == '\n') {
            int line = 1;
            for (const char *q = buf; q < p; q++)
                line += (*q == '\n');
            return script_error(
                d, file, line,
                "Batch script contains DOS line breaks (\\r\\n) instead of "
                "expected UNIX line breaks (\\n); convert it with dos2unix");
        }
        p++;
    }
    return 0;
}

/* The directive tokens and their lines: ARGV_STACK of each live on the
 * caller's stack (a script seldom has more). Past that, the scan only
 * counts them, and once it is over argv_collect() finds them in the
 * token room (directive_scan) and lists them, all at once, in arrays
 * carved from an arena: no array grows and is copied token by token. */
#define ARGV_STACK 32

typedef struct argv_buf {
    char **v;
    int *lines;
    size_t n;   /* tokens */
    size_t cap; /* room in v and lines: the first cap tokens are there */
} argv_buf;

static void argv_push(argv_buf *a, char *s, int line)
{
    if (a->n < a->cap) {
        a->v[a->n] = s;
        a->lines[a->n] = line;
    }
    a->n++;
}

/* List all a->n tokens when there are more than the arrays hold: from
 * the token room at @p room (records of read_directive()), into arrays
 * from @p scratch. @return 0 or S2R_ENOMEM. */
static int argv_collect(argv_buf *a, char *room, s2r_arena *scratch)
{
    if (a->n <= a->cap)
        return 0;
    size_t each = sizeof(char *) + sizeof(int);
    char **v = a->n < SIZE_MAX / each ? s2r_arena_alloc(scratch, a->n * each)
                                      : NULL;
    if (!v)
        return S2R_ENOMEM;
    int *lines = (int *)(void *)(v + a->n);
    char *p = room;
    for (size_t i = 0; i < a->n; p++) { /* p++: past the record's end */
        int line;
        memcpy(&line, p, sizeof(line));
        for (p += sizeof(line); *p; p += strlen(p) + 1, i++) {
            v[i] = p;
            lines[i] = line;
        }
    }
    a->v = v;
    a->lines = lines;
    a->cap = a->n;
    return 0;
}

/* The bytes the tokenizer treats specially outside quotes: C-locale
 * whitespace, the quotes, backslash and '#'. */
static const bool k_token_special[256] = {
    [' '] = true, ['\t'] = true, ['\n'] = true, ['\v'] = true,
    ['\f'] = true, ['\r'] = true, ['"'] = true,  ['\''] = true,
    ['\\'] = true, ['#'] = true,
};

/* Tokenize the rest of one directive line [p, e) like sbatch's
 * get_argument(): whitespace separates, quotes group and are removed,
 * backslash escapes, an unquoted '#' ends the line (even mid-token), a
 * token that yields no characters ends the line. Tokens are written into
 * *arena (NUL-terminated). */
static int tokenize_line(const char *file, int line, const char *p,
                         const char *e, char **arena, argv_buf *a,
                         s2r_diags *d)
{
    const char *full = p;
    for (;;) {
        while (p < e && is_space(*p))
            p++;
        if (p >= e)
            return 0;
        if (*p == ':') {
            if (s2r_diags_add(d, S2R_SEV_ERROR, file, line, NULL,
                              "Unexpected `:` in [%.*s]", (int)(e - full),
                              full) != 0)
                return S2R_ENOMEM;
            return S2R_EINVAL;
        }
        char *tok = *arena;
        char *o = tok;
        bool quoted = false, escape = false;
        char q = 0;
        for (;;) {
            if (!quoted && !escape)
                while (p < e && !k_token_special[(unsigned char)*p])
                    *o++ = *p++; /* the plain bytes, copied as they are */
            if (!(p < e && (quoted || !is_space(*p))))
                break;
            if (escape) {
                escape = false;
            } else if (*p == '\\') {
                escape = true;
                p++;
                continue;
            } else if (quoted) {
                if (*p == q) {
                    quoted = false;
                    p++;
                    continue;
                }
            } else if (*p == '"' || *p == '\'') {
                quoted = true;
                q = *p++;
                continue;
            } else if (*p == '#') {
                break;
            }
            *o++ = *p++;
        }
        if (quoted) {
            if (s2r_diags_add(d, S2R_SEV_ERROR, file, line, NULL,
                              "Unmatched `%c` in [%.*s]", q, (int)(e - full),
                              full) != 0)
                return S2R_ENOMEM;
            return S2R_EINVAL;
        }
        if (o == tok)
            return 0; /* comment, or an empty token: rest of line ignored */
        *o++ = '\0';
        *arena = o;
        argv_push(a, tok, line);
        if (p < e && *p == '#') {
            /* a '#' glued to a word is seldom meant as a comment: a pyxis
             * image (nvcr.io#nvidia/pytorch) loses its path */
            const char *ce = p;
            while (ce < e && !is_space(*ce))
                ce++;
            if (s2r_diags_add(d, S2R_SEV_WARNING, file, line, NULL,
                              "the unquoted '#' in '%s%.*s' ends the "
                              "directive, as in sbatch: '%s' is read and the "
                              "rest is a comment; quote the value to keep "
                              "the '#'", tok, (int)(ce - p), p, tok) != 0)
                return S2R_ENOMEM;
            return 0;
        }
    }
}

/* The directive scan's state: where tokens go, and the warnings given.
 * The token room holds one record per directive line read: the line (an
 * int, unaligned), its tokens, each NUL-terminated, and an empty one. A
 * line's record takes at most its bytes: the magic word (6 or 7) leaves
 * room for the line and the end, the tokens take at most the bytes after
 * it and one NUL. */
typedef struct directive_scan {
    const char *file;
    s2r_diags *d;
    char *arena; /* the next record's bytes, in the token room */
    argv_buf av;
    bool slurm_warned; /* the #SLURM warning was given */
    bool het;          /* a hetjob separator ended the first component */
} directive_scan;

/* An #SBATCH or #SLURM line [p, e) (@p m: its magic word's length)
 * before the first command, in the job's first component: its tokens
 * join the argv, or it separates a heterogeneous job's components.
 * @return 0, S2R_EINVAL or S2R_ENOMEM. */
static int read_directive(directive_scan *s, int line, const char *p,
                          const char *e, size_t m)
{
    int rc = 0;
    if (m == MAGIC2_LEN && !s->slurm_warned) {
        s->slurm_warned = true;
        if (s2r_diags_add(s->d, S2R_SEV_WARNING, s->file, line, NULL,
                          "Change from #SLURM to #SBATCH in your "
                          "script and verify the options are valid "
                          "in sbatch") != 0)
            rc = S2R_ENOMEM;
    }
    if (names_het_component(p + m, e)) {
        s->het = true;
        if (s2r_diags_add(s->d, S2R_SEV_WARNING, s->file, line, NULL,
                          "heterogeneous job: only the first "
                          "component (the directives before line "
                          "%d) is converted", line) != 0)
            rc = S2R_ENOMEM;
    } else if (rc == 0) {
        memcpy(s->arena, &line, sizeof(line));
        s->arena += sizeof(line);
        rc = tokenize_line(s->file, line, p + m, e, &s->arena, &s->av, s->d);
        *s->arena++ = '\0';
    }
    return rc;
}

/* #SBATCH lines after the first command (at @p body, line @p body_line)
 * are shell comments to sbatch: a warning for each. Only a line starting
 * with '#' can be one, so lines are found by their '#', and counted only
 * for a warning. *@p foreign is set when a #PBS or #BSUB line is among
 * them. @return 0 or S2R_ENOMEM. */
static int warn_late_directives(const char *file, const char *buf,
                                size_t len, size_t body, int body_line,
                                bool *foreign, s2r_diags *d)
{
    const char *end = buf + len, *first = buf + body;
    const char *counted = first; /* lines counted up to here ... */
    int l = body_line;           /* ... where this line starts */
    for (const char *q = first; q < end; q++) {
        q = memchr(q, '#', (size_t)(end - q));
        if (!q)
            break;
        if (q == first || q[-1] != '\n')
            continue; /* not in column 0 (the command's line has none) */
        *foreign = *foreign || foreign_directive(q, end);
        if ((size_t)(end - q) < MAGIC1_LEN ||
            memcmp(q, MAGIC1, MAGIC1_LEN) != 0)
            continue;
        for (; counted < q; counted++)
            l += (*counted == '\n');
        if (s2r_diags_add(d, S2R_SEV_WARNING, file, l, NULL,
                          "ignored: #SBATCH after the first command "
                          "at line %d (sbatch stops reading "
                          "directives there)", body_line) != 0)
            return S2R_ENOMEM;
    }
    return 0;
}

/* Token bytes up to this script size live on the stack. */
#define ARENA_STACK 4096

/* The offset of the first command line of the @p len bytes at @p buf
 * (the line the directive scan stops at), @p len if none. */
static size_t first_command(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (!magic_len(p, e) && is_command(p, e))
            return (size_t)(p - buf);
        p = nl ? nl + 1 : end;
    }
    return len;
}

int s2r_slurm__parse_directives(s2r_job *job, const char *file,
                                const char *buf, size_t len, s2r_diags *d,
                                size_t *body_offset_out, int *body_line_out)
{
    job->valid = false;
    if (body_offset_out)
        *body_offset_out = 0;
    if (body_line_out)
        *body_line_out = 1;
    int rc = check_script(file, buf, len, d);
    if (rc != 0)
        return rc;

    /* A directive line's record takes at most its bytes (directive_scan):
     * the lines before the first command bound them all. Past the stack,
     * the token room and the token list come from an arena, whose blocks
     * the thread keeps for the next script. */
    char arena_stack[ARENA_STACK];
    char *argv_stack[ARGV_STACK];
    int lines_stack[ARGV_STACK];
    char *room = arena_stack;
    s2r_arena scratch = {0};
    size_t room_len = len + 2 > sizeof(arena_stack)
                          ? first_command(buf, len) + 2
                          : len + 2;
    if (room_len > sizeof(arena_stack) &&
        !(room = s2r_arena_alloc(&scratch, room_len)))
        rc = S2R_ENOMEM; /* the scan still finds the first command */
    directive_scan s = {
        .file = file,
        .d = d,
        .arena = room,
        .av = {.v = argv_stack, .lines = lines_stack, .cap = ARGV_STACK},
    };

    /* one pass to the first command, reading the directives before it */
    const char *end = buf + len;
    const char *p = buf;
    int line = 0;
    size_t body = len;
    int body_line = 0;
    bool foreign = false; /* a #PBS or #BSUB line after the first */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        line++;
        size_t m = magic_len(p, e);
        if (m) {
            if (rc == 0 && !s.het)
                rc = read_directive(&s, line, p, e, m);
        } else if (is_command(p, e)) {
            body = (size_t)(p - buf);
            body_line = line;
            break;
        } else if (line > 1) {
            foreign = foreign || foreign_directive(p, e);
            if (rc == 0 && near_miss(p, e) &&
                s2r_diags_add(d, S2R_SEV_NOTE, file, line, NULL,
                              "not a directive: sbatch reads only lines "
                              "starting with exactly '#SBATCH' in column 0; "
                              "this line is a comment") != 0)
                rc = S2R_ENOMEM;
        }
        p = nl ? nl + 1 : end;
    }
    if (!body_line)
        body_line = line + 1;
    if (body_offset_out)
        *body_offset_out = body;
    if (body_line_out)
        *body_line_out = body_line;

    if (rc == 0 && body < len)
        rc = warn_late_directives(file, buf, len, body, body_line, &foreign,
                                  d);

    argv_buf *av = &s.av;
    if (rc == 0)
        rc = argv_collect(av, room, &scratch);

    /* #PBS / #BSUB: sbatch translates them after the #SBATCH pass (they
     * override it, src/sbatch/xlate.c) unless --ignore-pbs; s2r does not */
    if (rc == 0 && foreign) {
        bool ignore = false;
        for (size_t k = 0; k < av->n; k++)
            if (!strcmp(av->v[k], "--ignore-pbs"))
                ignore = true;
        int l = 1;
        for (p = buf; p < end && !ignore;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *e = nl ? nl : end;
            if (foreign_directive(p, e)) {
                if (s2r_diags_add(d, S2R_SEV_WARNING, file, l, NULL,
                                  "%.*s directives are not converted: sbatch "
                                  "would translate them and let them override "
                                  "#SBATCH; write them as #SBATCH options",
                                  p[1] == 'P' ? 4 : 5, p) != 0)
                    rc = S2R_ENOMEM;
                break;
            }
            l++;
            p = nl ? nl + 1 : end;
        }
    }

    if (rc == 0)
        rc = s2r_slurm__parse_argv(job, file, av->v, av->lines, av->n, d);
    s2r_arena_free(&scratch);
    job->valid = (rc == 0);
    return rc;
}
