/* paths.c: the files a script uses (see body.h): every absolute path in
 * its directives (--chdir, -o, -e, -i, --export values) and body (words,
 * quoted strings, here-documents, exported values, cd targets), with `~`
 * and $HOME read through [site] home and $SLURM_SUBMIT_DIR through the
 * submit directory; whether the script writes there; the relative files
 * its commands name; and whether it locates its own file ($0).
 *
 * The body is read as text, line by line, as a reader of the script
 * would: a path starts with '/' at the start of a word, after '=', ':',
 * ',', a quote, a redirection or an opening parenthesis, or as the
 * default of ${NAME:-/x}. A '#' that starts a word outside quotes starts
 * a comment: whole-line comments are skipped, paths in a trailing comment
 * are only mentions. */
#include "body.h"
#include "analysis.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* what the scan knows about the job */
typedef struct scan {
    ctx *c;
    char *home;       /* [site] home of the user, or its root; or NULL */
    const char *line; /* the current line and its end */
    const char *end;
    const char *lim;  /* the end of the body: bytes up to it may be read */
    int lineno;
    bool self_words;  /* "$0", "${0}" or "BASH_SOURCE" is somewhere in the
                         body: locates_itself() may find one on a line */
} scan;

/* a letter, a digit, one of "_.+@%-/", or the NUL (strchr's answer) */
static bool path_char(char ch)
{
    static const unsigned char k[256] = {
        [0] = 1, ['_'] = 1, ['.'] = 1, ['+'] = 1, ['@'] = 1, ['%'] = 1,
        ['-'] = 1, ['/'] = 1};
    return isalnum((unsigned char)ch) || k[(unsigned char)ch];
}

/* ';', '|', '&', '(', '`' or the NUL: what a command segment starts after */
static bool starts_cmd_after(char ch)
{
    return ch == ';' || ch == '|' || ch == '&' || ch == '(' || ch == '`' ||
           ch == '\0';
}

/* ';', '|', '&', ')' or the NUL: what ends a command's word */
static bool ends_cmd_word(char ch)
{
    return ch == ';' || ch == '|' || ch == '&' || ch == ')' || ch == '\0';
}

/* ---- recording ---------------------------------------------------- */

/* ---- job->paths, each path once ---------------------------------------- */

/* An open-addressing table of indices into job->paths (+1; 0 is a free
 * slot), so that a script naming n paths costs n lookups, not n^2/2
 * comparisons. Its size is a power of 2, at most half full. */
struct path_index {
    size_t *slot;
    size_t cap;
};

/* the slot of @p path: its entry, or the free slot where it goes */
static size_t *path_slot(struct path_index *ix, const s2r_job *job,
                         const char *path)
{
    size_t m = ix->cap - 1, h = s2r_hash_bytes(path, strlen(path));
    for (size_t i = h & m;; i = (i + 1) & m)
        if (!ix->slot[i] || !strcmp(job->paths[ix->slot[i] - 1].path, path))
            return &ix->slot[i];
}

/* room for one more entry; @return false when out of memory */
static bool path_index_room(struct path_index *ix, const s2r_job *job)
{
    if ((job->n_paths + 1) * 2 <= ix->cap)
        return true;
    struct path_index bigger = {s2r_zalloc(ix->cap ? ix->cap * 2 : 64,
                                           sizeof(size_t)),
                                ix->cap ? ix->cap * 2 : 64};
    if (!bigger.slot)
        return false;
    for (size_t i = 0; i < job->n_paths; i++)
        *path_slot(&bigger, job, job->paths[i].path) = i + 1;
    free(ix->slot);
    *ix = bigger;
    return true;
}

/* Record @p path (absolute, folded here) used at @p line. */
static void add_use(ctx *c, const char *path, int line, bool written,
                    bool mention, bool in_image)
{
    s2r_job *job = c->job;
    struct path_index *ix = c->paths_seen;
    char *p = s2r_path_fold(path);
    if (!p) {
        c->oom = true;
        return;
    }
    /* its slot: the use already recorded, or where it goes while the
     * table keeps its size */
    size_t *slot = ix->cap ? path_slot(ix, job, p) : NULL;
    if (slot && *slot) {
        s2r_path_use *u = &job->paths[*slot - 1];
        u->written = u->written || written;
        u->mention = u->mention && mention;
        u->in_image = u->in_image && in_image;
        free(p);
        return;
    }
    size_t cap = ix->cap;
    if (!path_index_room(ix, job) ||
        s2r_grow((void **)&job->paths, job->n_paths, sizeof(*job->paths))) {
        free(p);
        c->oom = true;
        return;
    }
    if (!slot || ix->cap != cap)
        slot = path_slot(ix, job, p);
    job->paths[job->n_paths++] =
        (s2r_path_use){p, line, written, mention, in_image};
    *slot = job->n_paths;
}

/* ---- what a word around a path says ---------------------------------- */

/* sorted as strcmp orders them (s2r_sorted_has) */
static const char *const writing_opts[] = {
    "--checkpoint-dir", "--checkpoint_dir", "--ckpt-dir", "--ckpt_dir",
    "--log-dir", "--log_dir", "--logdir", "--out", "--out-dir", "--out_dir",
    "--outdir", "--output", "--output-dir", "--output-directory",
    "--output_dir", "--results-dir", "--save-dir", "--save_dir", "--savedir",
    "--work-dir", "--work_dir", "-o"};
/* sorted as strcmp orders them */
static const char *const bind_opts[] = {"--bind", "--container-mounts",
    "--mount", "--volume", "-B", "-v"};

/* What a command does with the files it names. */
typedef enum writer {
    W_NONE,
    W_WRITE, /* writes them (rm, truncate) */
    W_MAKE,  /* makes them (mkdir, tee, touch) */
    W_COPY,  /* copies into its last one (cp, install, ln, mv, rsync) */
    W_FETCH  /* fetches into the file of its -O/-o option (wget, curl) */
} writer;
/* sorted as strcmp orders the names */
static const struct writer_name {
    const char *name;
    writer w;
} writer_names[] = {
    {"cp", W_COPY},    {"curl", W_FETCH},     {"install", W_COPY},
    {"ln", W_COPY},    {"mkdir", W_MAKE},     {"mv", W_COPY},
    {"rm", W_WRITE},   {"rsync", W_COPY},     {"tee", W_MAKE},
    {"touch", W_MAKE}, {"truncate", W_WRITE}, {"wget", W_FETCH}};

/* what the command named @p name does with the files it names */
static writer writer_of(const char *name)
{
    size_t i = s2r_sorted_find(writer_names, S2R_COUNTOF(writer_names),
                               sizeof(writer_names[0]), name);
    return i < S2R_COUNTOF(writer_names) ? writer_names[i].w : W_NONE;
}

/* The word [*ws, *we) around @p at (split at blanks) and the one before. */
static void word_around(const scan *s, const char *at, const char **ws,
                        const char **we)
{
    const char *a = at, *b = at;
    while (a > s->line && !isspace((unsigned char)a[-1]))
        a--;
    while (b < s->end && !isspace((unsigned char)*b))
        b++;
    *ws = a;
    *we = b;
}

/* @p w (n bytes) without quotes into @p buf (48 bytes); its length */
static size_t unquoted(const char *w, size_t n, char *buf)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < 48; i++)
        if (w[i] != '"' && w[i] != '\'')
            buf[o++] = w[i];
    buf[o] = '\0';
    return o;
}

/* @p w (n bytes) without quotes, one of the @p ln names of @p l (sorted
 * as strcmp orders them). */
static bool word_in(const char *w, size_t n, const char *const *l, size_t ln)
{
    char buf[48];
    return unquoted(w, n, buf) > 0 && s2r_sorted_has(l, ln, buf);
}

/* @p w (n bytes) without quotes, one of writing_opts */
static bool writing_opt(const char *w, size_t n)
{
    return word_in(w, n, writing_opts, S2R_COUNTOF(writing_opts));
}

/* what the command named by @p w (n bytes) without quotes does with the
 * files it names */
static writer writer_word(const char *w, size_t n)
{
    char buf[48];
    return unquoted(w, n, buf) > 0 ? writer_of(buf) : W_NONE;
}

/* The word before [ws...) on the line: *pw, length returned (0: none). */
static size_t prev_word(const scan *s, const char *ws, const char **pw)
{
    const char *e = ws;
    while (e > s->line && isspace((unsigned char)e[-1]))
        e--;
    const char *b = e;
    while (b > s->line && !isspace((unsigned char)b[-1]))
        b--;
    *pw = b;
    return (size_t)(e - b);
}

/* First word of the command segment holding @p ws (after ; | & ( `). */
static size_t segment_cmd(const scan *s, const char *ws, const char **cw)
{
    const char *b = ws;
    while (b > s->line && !starts_cmd_after(b[-1]))
        b--;
    while (b < ws && isspace((unsigned char)*b))
        b++;
    const char *e = b;
    while (e < s->end && !isspace((unsigned char)*e) && !ends_cmd_word(*e))
        e++;
    *cw = b;
    return (size_t)(e - b);
}

/* Is the word at @p ws the last of its command segment? */
static bool last_in_segment(const scan *s, const char *ws)
{
    const char *r = ws;
    while (r < s->end && !isspace((unsigned char)*r) && !ends_cmd_word(*r))
        r++;
    while (r < s->end && isspace((unsigned char)*r))
        r++;
    return r >= s->end || strchr(";|&)#", *r);
}

/* Does the script write at the path starting at @p at? */
static bool writes_at(const scan *s, const char *at, const char *ws,
                      const char *we)
{
    const char *b = ws;
    while (b > s->line && isspace((unsigned char)b[-1]))
        b--;
    if ((b > s->line && b[-1] == '>') || memchr(ws, '>', (size_t)(at - ws)))
        return true;
    const char *eq = memchr(ws, '=', (size_t)(at - ws));
    if (eq && writing_opt(ws, (size_t)(eq - ws)))
        return true;
    const char *pw;
    size_t pn = prev_word(s, ws, &pw);
    if (!eq && pn && writing_opt(pw, pn))
        return true;
    const char *cw;
    size_t cn = segment_cmd(s, ws, &cw);
    writer wr = cn && cw != ws ? writer_word(cw, cn) : W_NONE;
    (void)we;
    return wr == W_WRITE || wr == W_MAKE ||
           (wr == W_COPY && last_in_segment(s, ws));
}

/* The target of a bind (SRC:DST) is a path inside the container. */
static bool bind_target(const scan *s, const char *at, const char *ws)
{
    if (at == s->line || at[-1] != ':' || at - 1 == ws)
        return false;
    const char *eq = memchr(ws, '=', (size_t)(at - ws));
    if (eq && word_in(ws, (size_t)(eq - ws), bind_opts,
                      S2R_COUNTOF(bind_opts)))
        return true;
    const char *pw;
    size_t pn = prev_word(s, ws, &pw);
    return pn && word_in(pw, pn, bind_opts, S2R_COUNTOF(bind_opts));
}

/* ---- where a path starts --------------------------------------------- */

/* A '/' at @p p may start a path. */
static bool path_start(const scan *s, const char *p)
{
    if (p == s->line)
        return true;
    /* the bytes of "'\"=(,;|&<>`:" and the NUL (strchr's answer) */
    static const unsigned char before[256] = {
        [0] = 1, ['\''] = 1, ['"'] = 1, ['='] = 1, ['('] = 1, [','] = 1,
        [';'] = 1, ['|'] = 1, ['&'] = 1, ['<'] = 1, ['>'] = 1, ['`'] = 1,
        [':'] = 1};
    char b = p[-1];
    if (isspace((unsigned char)b) || before[(unsigned char)b])
        return b != ':' || p - 1 == s->line || p[-2] != '/';
    /* ${NAME:-/x}, ${NAME-/x}, ${NAME:=/x} */
    if (b == '-' || b == '=' || b == '+') {
        const char *q = p - 1;
        if (q > s->line && q[-1] == ':')
            q--;
        while (q > s->line && sh_name_byte(q[-1]))
            q--;
        return q - 2 >= s->line && q[-1] == '{' && q[-2] == '$';
    }
    return false;
}

/* A name reference $NAME / ${NAME} at @p p: its name into @p name, the
 * byte after it returned, or NULL when there is none. */
static const char *var_ref(const scan *s, const char *p, char *name,
                           size_t cap)
{
    if (*p != '$' || p + 1 >= s->end)
        return NULL;
    bool brace = p[1] == '{';
    const char *q = p + 1 + brace, *e = q;
    while (e < s->end && sh_name_byte(*e))
        e++;
    if (e == q || (size_t)(e - q) >= cap || isdigit((unsigned char)*q))
        return NULL;
    if (brace && (e >= s->end || *e != '}'))
        return NULL;
    memcpy(name, q, (size_t)(e - q));
    name[e - q] = '\0';
    return e + brace;
}

/* The folder a prefix at @p p stands for (~, $HOME, $SLURM_SUBMIT_DIR, an
 * exported absolute value), and the byte after the prefix in *@p after;
 * NULL when @p p starts none. */
static const char *prefix_at(scan *s, const char *p, const char **after)
{
    s2r_job *job = s->c->job;
    if (*p == '~' && (p == s->line || strchr(" \t\"'=:", p[-1])) &&
        (p + 1 >= s->end || p[1] == '/' || isspace((unsigned char)p[1]) ||
         strchr("\"';", p[1]))) {
        *after = p + 1;
        job->uses_home = true;
        return s->home;
    }
    char name[128];
    const char *e = var_ref(s, p, name, sizeof(name));
    if (!e || (e < s->end && (path_char(*e) && *e != '/')))
        return NULL;
    *after = e;
    if (!strcmp(name, "HOME")) {
        job->uses_home = true;
        return s->home;
    }
    if (!strcmp(name, "SLURM_SUBMIT_DIR"))
        return job->submit_dir;
    const char *v = s2r_envv_get(&job->env, name);
    return v && v[0] == '/' ? v : NULL;
}

/* One path candidate at @p p (a '/' or a prefix): record it; returns the
 * byte after it. */
static const char *take_path(scan *s, const char *p, bool mention)
{
    const char *after = NULL, *base = NULL;
    if (*p != '/') {
        base = prefix_at(s, p, &after);
        if (!after)
            return p + 1;
        if (!base)
            return after;
        p = after;
        if (p < s->end && *p != '/' && path_char(*p))
            return p;
    }
    const char *q = p;
    while (q < s->end && path_char(*q) && *q != '%')
        q++;
    size_t n = (size_t)(q - p);
    while (n > 1 && (p[n - 1] == '.' || p[n - 1] == '/'))
        n--;
    if (!base && (n < 2 || p[1] == '/'))
        return q > p ? q : p + 1;
    /* after a prefix at the end of the text ("$HOME" as its last bytes)
     * p is the end: no path follows */
    bool slash = p < s->end && *p == '/';
    /* the prefix's folder, then the path up to a NUL in it */
    size_t bl = base ? strlen(base) : 0, pl = slash ? strnlen(p, n) : 0;
    char room[256];
    char *full = bl + pl < sizeof(room) ? room : malloc(bl + pl + 1);
    if (!full) {
        s->c->oom = true;
        return q;
    }
    memcpy(full, base ? base : "", bl);
    memcpy(full + bl, p, pl);
    full[bl + pl] = '\0';
    const char *ws, *we;
    word_around(s, base ? after - 1 : p, &ws, &we);
    bool image = !base && bind_target(s, p, ws);
    add_use(s->c, full, s->lineno, !mention && writes_at(s, p, ws, we),
            mention, image);
    if (full != room)
        free(full);
    return q > p ? q : p + 1;
}

/* ---- lines ------------------------------------------------------------- */

/* Where a comment starts on the line ('#' that starts a word outside
 * quotes), or the end. */
static const char *comment_at(const scan *s)
{
    if (!memchr(s->line, '#', (size_t)(s->end - s->line)))
        return s->end; /* most lines: no '#' at all */
    char quote = 0;
    for (const char *p = s->line; p < s->end; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            else if (*p == '\\' && quote == '"' && p + 1 < s->end)
                p++;
        } else if (*p == '\\' && p + 1 < s->end) {
            p++;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '#' &&
                   (p == s->line || isspace((unsigned char)p[-1]))) {
            return p;
        }
    }
    return s->end;
}

/* $0, ${0} or BASH_SOURCE at @p q, one of the bytes up to @p e */
static bool self_word_at(const char *q, const char *e)
{
    if (*q == '$')
        return q + 1 < e &&
               ((q[1] == '0' &&
                 (q + 2 >= e || !isdigit((unsigned char)q[2]))) ||
                (q + 3 < e && !strncmp(q + 1, "{0}", 3)));
    return (size_t)(e - q) >= 11 && !memcmp(q, "BASH_SOURCE", 11);
}

/* $0, ${0} or BASH_SOURCE in [p, e) (the line outside its comment), the
 * '$' and 'B' found with memchr */
static bool has_self_word(const char *p, const char *e)
{
    for (const char *q = p; (q = memchr(q, '$', (size_t)(e - q))); q++)
        if (self_word_at(q, e))
            return true;
    return s2r_find_rare(p, (size_t)(e - p), "BASH_SOURCE", 11, 0) != NULL;
}

/* has_self_word() outside single quotes: the script finds itself. In
 * single quotes they are an inner shell's (sh -c '... "$0"' NAME, find
 * -exec sh -c), not expanded by the script. */
static bool locates_itself(const char *p, const char *e)
{
    if (!has_self_word(p, e))
        return false;
    bool dq = false;
    for (const char *q = p; q < e; q++) {
        if (*q == '\\' && q + 1 < e) {
            q++;
        } else if (*q == '"') {
            dq = !dq;
        } else if (*q == '\'' && !dq) {
            const char *c = memchr(q + 1, '\'', (size_t)(e - q - 1));
            if (!c)
                return false;
            q = c;
        } else if ((*q == '$' || *q == 'B') && self_word_at(q, e)) {
            return true;
        }
    }
    return false;
}

static void scan_line(scan *s)
{
    const char *p = s->line;
    while (p < s->end && isspace((unsigned char)*p))
        p++;
    if (p >= s->end || *p == '#')
        return;
    const char *cmt = comment_at(s);
    if (s->self_words && !s->c->job->self_line &&
        locates_itself(s->line, cmt))
        s->c->job->self_line = s->lineno;
    /* the next byte a path ('/') or a prefix ('~', '$') may start at */
    for (p = s->line;
         (p = s2r_find_any(p, s->end, s->lim, '/', '~', '$')) < s->end;) {
        if (*p != '/' || path_start(s, p))
            p = take_path(s, p, p >= cmt);
        else
            p++;
    }
}

/* ---- relative files ----------------------------------------------------- */

/* A word that names a file relative to the working directory: it holds a
 * '/' (./run.sh, configs/a.yaml) or ends in a file extension (train.py),
 * and no blank, glob or character a file name in a script seldom has (one
 * of " \t*?[=:,@$`'\"(){}<>|;&": a URL's "://" among them). */
static bool relative_file(const char *v)
{
    /* 1: a shell character, 2: '/', 3: '.' */
    static const unsigned char kind[256] = {
        [' '] = 1, ['\t'] = 1, ['*'] = 1, ['?'] = 1, ['['] = 1, ['='] = 1,
        [':'] = 1, [','] = 1, ['@'] = 1, ['$'] = 1, ['`'] = 1, ['\''] = 1,
        ['"'] = 1, ['('] = 1, [')'] = 1, ['{'] = 1, ['}'] = 1, ['<'] = 1,
        ['>'] = 1, ['|'] = 1, [';'] = 1, ['&'] = 1, ['/'] = 2, ['.'] = 3};
    /* sorted as strcmp orders them */
    static const char *const ext[] = {"R", "bash", "cfg", "ckpt", "conf",
        "csv", "fa", "fasta", "fq", "gz", "h5", "in", "ini", "ipynb", "jl",
        "json", "lua", "m", "nml", "npy", "npz", "parquet", "pl", "pt", "pth",
        "py", "r", "rb", "sh", "sif", "tar", "toml", "tsv", "txt", "yaml",
        "yml", "zip"};
    switch (v[0]) {
    case '\0':
    case '-':
    case '/':
    case '~':
    case '$':
    case '=':
        return false;
    case '.':
        if (strncmp(v, "./", 2) && strncmp(v, "../", 3))
            return false;
        break;
    default:
        break;
    }
    /* one pass: the shell characters, a '/', the last '.' */
    bool slash = false;
    const char *dot = NULL;
    for (const char *p = v; *p; p++) {
        unsigned char k = kind[(unsigned char)*p];
        if (k == 0)
            continue;
        if (k == 1)
            return false;
        if (k == 2)
            slash = true;
        else if (k == 3)
            dot = p;
    }
    if (slash)
        return true;
    return dot && dot != v && s2r_sorted_has(ext, S2R_COUNTOF(ext), dot + 1);
}

/* Commands whose arguments name software, not files: `module load
 * cuda/12.1`, `spack load gcc@12`, `conda activate envs/x`. */
static bool names_software(const sh_cmd *cm)
{
    /* sorted as strcmp orders them */
    static const char *const cmds[] = {"conda", "mamba", "micromamba", "ml",
                                       "module", "spack"};
    const sh_word *w = s2r_body__cmd_word(cm);
    return w && w->literal && w->value &&
           s2r_sorted_has(cmds, S2R_COUNTOF(cmds), w->value);
}

/* @p v without a leading "./" */
static const char *plain_rel(const char *v)
{
    while (v[0] == '.' && v[1] == '/')
        v += 2;
    return v;
}

/* True when @p v is a file or folder of @p made, or inside one of them. */
static bool made_before(const s2r_strv *made, const char *v)
{
    v = plain_rel(v);
    for (size_t q = 0; q < made->n; q++) {
        size_t n = strlen(made->v[q]);
        if (!strncmp(v, made->v[q], n) && (!v[n] || v[n] == '/'))
            return true;
    }
    return false;
}

static void add_made(ctx *c, s2r_strv *made, const char *v)
{
    v = plain_rel(v);
    size_t n = strlen(v);
    while (n > 1 && v[n - 1] == '/')
        n--;
    if (!*v || v[0] == '/' || v[0] == '-' || made->n >= 64)
        return;
    char *t = strndup(v, n);
    if (!t || s2r_strv_take(made, t))
        c->oom = true;
}

/* The targets of the output redirections of command @p cm (> F, >> F,
 * &> F, >| F) on its first line, unquoted, into @p made. */
static void redirect_targets(ctx *c, const sh_body *b, const sh_cmd *cm,
                             s2r_strv *made)
{
    const char *p = b->src + cm->start, *e = b->src + cm->end;
    char q = 0;
    for (; p < e && (q || *p != '\n'); p++) {
        if (q) {
            q = *p == q ? 0 : q;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            q = *p;
            continue;
        }
        if (*p != '>')
            continue;
        while (p + 1 < e && (p[1] == '>' || p[1] == '|'))
            p++;
        if (p + 1 < e && p[1] == '&')
            continue; /* >&2: a descriptor */
        const char *t = p + 1;
        while (t < e && (*t == ' ' || *t == '\t'))
            t++;
        const char *te = t;
        while (te < e && !strchr(" \t\n;|&<>()'\"$`", *te))
            te++;
        if (te > t) {
            char name[256];
            size_t n = (size_t)(te - t) < sizeof(name) ? (size_t)(te - t)
                                                        : sizeof(name) - 1;
            memcpy(name, t, n);
            name[n] = '\0';
            add_made(c, made, name);
        }
        p = te - 1;
    }
}

/* The files and folders command @p cm makes, into @p made: what tee,
 * touch and mkdir name, the last word of cp, mv, ln, install and rsync,
 * wget -O and curl -o files, and its output redirections. */
static void files_made(ctx *c, const sh_body *b, const sh_cmd *cm,
                       s2r_strv *made)
{
    if (cm->has_redir)
        redirect_targets(c, b, cm, made);
    const sh_word *w = s2r_body__cmd_word(cm);
    if (!w || !w->literal || !w->value)
        return;
    const char *name = s2r_body__base_name(w->value);
    size_t k = (size_t)(w - cm->words) + 1;
    writer wr = writer_of(name);
    if (wr == W_MAKE) {
        for (; k < cm->nwords; k++)
            if (cm->words[k].literal && cm->words[k].value)
                add_made(c, made, cm->words[k].value);
    } else if (wr == W_COPY && k < cm->nwords) {
        const sh_word *d = &cm->words[cm->nwords - 1];
        if (d->literal && d->value)
            add_made(c, made, d->value);
    } else if (wr == W_FETCH) {
        /* wget -O FILE, curl -o FILE (and their long forms) */
        for (; k + 1 < cm->nwords; k++) {
            const char *o = cm->words[k].value ? cm->words[k].value : "";
            if ((!strcmp(o, "-O") || !strcmp(o, "-o") ||
                 !strcmp(o, "--output-document") || !strcmp(o, "--output")) &&
                cm->words[k + 1].literal && cm->words[k + 1].value)
                add_made(c, made, cm->words[k + 1].value);
        }
    }
}

/* True when word @p w of @p cm names a model the program fetches from a
 * model hub ("org/name"), not a file: the value of --model and its kin
 * (vLLM, TGI, SGLang, Hugging Face scripts) or `vllm serve`'s first
 * argument, with one '/' and not written as a path (./, ../). */
static bool model_id(const sh_cmd *cm, size_t w, const char *v)
{
    static const char *const opts[] = {
        "--model", "--model-id", "--model-path", "--model_id",
        "--model_name_or_path", "--model_path", "--tokenizer"};
    const char *slash = strchr(v, '/');
    if (!slash || strchr(slash + 1, '/') || v[0] == '.' || slash == v ||
        !slash[1])
        return false;
    const char *word = cm->words[w].value ? cm->words[w].value : "";
    const char *opt = NULL;
    size_t n = 0;
    if (!strncmp(word, "--", 2) && strchr(word, '=')) {
        opt = word; /* --model=org/name */
        n = (size_t)(strchr(word, '=') - word);
    } else if (w > 0 && cm->words[w - 1].value) {
        opt = cm->words[w - 1].value;
        n = strlen(opt);
        const sh_word *cw = s2r_body__cmd_word(cm);
        if (!strcmp(opt, "serve") && cw && cw->value &&
            !strcmp(s2r_body__base_name(cw->value), "vllm"))
            return true;
    }
    for (size_t i = 0; opt && i < S2R_COUNTOF(opts); i++)
        if (strlen(opts[i]) == n && !strncmp(opt, opts[i], n))
            return true;
    return false;
}

void s2r_body__relative_files(ctx *c, const sh_body *b)
{
    s2r_strv *out = &c->job->relative_files;
    /* the files the script writes before it reads them are not looked up
     * in the working directory: the pod makes them there */
    s2r_strv made = {0};
    for (size_t i = 0; i < b->n && out->n < 64; i++) {
        const sh_stmt *st = &b->stmts[i];
        for (size_t k = 0; !st->compound && k < st->ncmds; k++) {
            const sh_cmd *cm = &st->cmds[k];
            if (names_software(cm))
                continue;
            files_made(c, b, cm, &made);
            for (size_t w = sh_cmd_first_arg(cm); w < cm->nwords; w++) {
                const sh_word *wd = &cm->words[w];
                const char *v = wd->literal && wd->value ? wd->value : "";
                const char *eq = !strncmp(v, "--", 2) ? strchr(v, '=') : NULL;
                v = eq ? eq + 1 : v;
                if (!relative_file(v) || made_before(&made, v) ||
                    model_id(cm, w, v))
                    continue;
                bool seen = false;
                for (size_t q = 0; q < out->n && !seen; q++)
                    seen = !strcmp(out->v[q], v);
                if (!seen && s2r_strv_push(out, v))
                    c->oom = true;
            }
        }
    }
    s2r_strv_clear(&made);
}

/* ---- directives --------------------------------------------------------- */

static int directive_line(const s2r_job *job, const char *name)
{
    for (size_t i = 0; i < job->n_directives; i++)
        if (!strcmp(job->directives[i].name, name))
            return job->directives[i].line;
    return 0;
}

/* Absolute paths of --chdir, -o, -e, -i and --export values. */
static void directive_paths(ctx *c)
{
    /* sorted as strcmp orders them */
    static const char *const opts[] = {"chdir", "error", "input", "output"};
    s2r_job *job = c->job;
    for (size_t i = 0; i < job->n_directives; i++) {
        const s2r_directive *d = &job->directives[i];
        if (!d->value || d->value[0] != '/' ||
            !s2r_sorted_has(opts, S2R_COUNTOF(opts), d->name) ||
            !strncmp(d->value, "/dev/", 5))
            continue;
        bool log = !strcmp(d->name, "output") || !strcmp(d->name, "error");
        add_use(c, d->value, d->line, log, false, false);
    }
    int el = -1; /* the --export line, looked up at its first use */
    for (size_t i = 0; i < job->export_env.n; i++) {
        const char *v = job->export_env.v[i].value;
        if (v && v[0] == '/') {
            if (el < 0)
                el = directive_line(job, "export");
            add_use(c, v, el, false, false, false);
        }
    }
}

/* [site] home for the user (%u), or the folder the homes are in when
 * the user is not known; NULL without [site] home. */
char *s2r_body__home(const s2r_config *cfg)
{
    if (!cfg || !cfg->home || cfg->home[0] != '/')
        return NULL;
    const char *u = strstr(cfg->home, "%u");
    char *out = NULL;
    if (!u)
        return s2r_path_fold(cfg->home);
    if (cfg->user && *cfg->user) {
        if (asprintf(&out, "%.*s%s%s", (int)(u - cfg->home), cfg->home,
                     cfg->user, u + 2) < 0)
            return NULL;
    } else if (!(out = strndup(cfg->home, (size_t)(u - cfg->home)))) {
        return NULL;
    }
    char *f = s2r_path_fold(out);
    free(out);
    return f;
}

void s2r_body__find_paths(ctx *c, const char *body, size_t len,
                          int first_line)
{
    scan s = {.c = c, .home = s2r_body__home(c->cfg),
              .self_words = locates_itself(body, body + len)};
    struct path_index seen = {0};
    c->paths_seen = &seen;
    directive_paths(c);
    const char *p = body, *end = body + len;
    s.lim = end;
    for (int ln = first_line; p < end; ln++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        s.line = p;
        s.end = nl ? nl : end;
        s.lineno = ln;
        scan_line(&s);
        p = nl ? nl + 1 : end;
    }
    free(s.home);
    free(seen.slot);
    c->paths_seen = NULL;
    /* a script for another interpreter runs from a copy in the pod too
     * (interpreter.c); a shell body runs as `bash -c`, where $0 is bash */
    bool copy = c->job->shebang_shell &&
                !s2r_body__is_shell_name(c->job->shebang_shell);
    if (c->job->self_line)
        s2r_body__warn(c, c->job->self_line, NULL,
             "the script locates its own file ($0, BASH_SOURCE): under "
             "SLURM $0 is slurmd's spool copy of it, and the files next to "
             "the script are in the submit directory%s%s; in the pod $0 is "
             "%s", c->job->submit_dir ? " " : "",
             c->job->submit_dir ? c->job->submit_dir : "",
             copy ? "a copy of it under $TMPDIR" : "bash");
}
