/* submit_env.c: variables the body reads that, under sbatch, only the
 * environment sbatch ran in gives. Per sbatch(1) --export, the default
 * is ALL: the batch script starts with the submitting shell's variables,
 * so `cd $PROJECT_DIR` works there and, in a pod that has no such
 * environment, goes to $HOME. A warning per variable, at its first read.
 *
 * It must never be false, so the scan is conservative. A scan of the
 * body's text, honouring quotes ('...', "...", $'...', \), comments,
 * $( ), ` `, ${ }, case patterns and here-documents (<<'EOF' bodies
 * read nothing), finds:
 *   reads  $NAME, ${NAME} and ${NAME<op>...} outside single quotes (the
 *          ${NAME:-x} family supplies its own value or check, ${#NAME}
 *          is a length, most often an emptiness check, and ${!NAME} an
 *          indirection: none is a read; nor is a reference inside another
 *          one's word, ${A:-$B}, read only when A is unset);
 *   sets   every other occurrence of a name, anywhere but in comments:
 *          NAME=, export/declare/local/read/for/getopts ... NAME, ((NAME
 *          = 1)), unset NAME, and also a mere mention in a string;
 *   opaque a script that can set variables s2r cannot see: source or .
 *          of a file, eval, module/ml, an activate (conda, mamba,
 *          micromamba, spack env, a venv), spack, set -a or allexport,
 *          BASH_ENV, a name computed at run time after export, declare,
 *          typeset, local, readonly, read, mapfile, readarray, let, unset
 *          or printf -v, a name reference (declare -n); a quote or $(
 *          left open: no warning at all; nor for a login shell
 *          (#!/bin/bash -l), whose profile may set it, or zsh, which
 *          reads ~/.zshenv in every shell.
 * Variables the pod has or s2r gives (k_pod_names) are never warned
 * about, nor names --export gives or names; with --export=NONE or NIL
 * (the job gets no submit environment), a list without ALL,
 * --export-file or --get-user-env (the values come from elsewhere), no
 * warning either. Linear in the body, in two passes: the first finds
 * the reads (an s2r_strset); the second, only when there are some,
 * looks each other name up among them (most scripts mention many more
 * names than they read, so the names are not all kept). */
#include "body.h"
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

/* Names the pod has, or that no submitting shell gives: sorted as strcmp
 * orders them (s2r_sorted_has). Sources: bash(1) "Shell Variables" (set
 * or used by bash itself), POSIX "Environment Variables" (HOME, PATH,
 * LANG, TZ ...), what every process and a Kubernetes pod gets (HOSTNAME,
 * USER as core/runai identity.c gives it), what the workloads set
 * (MASTER_ADDR, RANK ... of a PyTorchJob, JOB_COMPLETION_INDEX of an
 * indexed Job) and what images commonly define (LD_LIBRARY_PATH,
 * PYTHONPATH, VIRTUAL_ENV). Prefixes are in k_pod_prefixes. */
static const char *const k_pod_names[] = {
    "CDPATH", "COLUMNS", "DIRSTACK", "EPOCHREALTIME", "EPOCHSECONDS", "EUID",
    "FUNCNAME", "GLOBIGNORE", "GROUPS", "GROUP_RANK", "HISTCMD",
    "HISTCONTROL", "HISTFILE", "HISTFILESIZE", "HISTIGNORE", "HISTSIZE",
    "HISTTIMEFORMAT", "HOME", "HOSTFILE", "HOSTNAME", "HOSTTYPE", "IFS",
    "IGNOREEOF", "INPUTRC", "JOB_COMPLETION_INDEX", "LANG", "LANGUAGE",
    "LD_LIBRARY_PATH", "LIBRARY_PATH", "LINENO", "LINES", "LOCAL_RANK",
    "LOCAL_WORLD_SIZE", "LOGNAME", "MACHTYPE", "MAIL", "MAILCHECK",
    "MAILPATH", "MAPFILE", "MASTER_ADDR", "MASTER_PORT", "NODE_RANK",
    "OLDPWD", "OPTARG", "OPTERR", "OPTIND", "OSTYPE", "PATH", "PIPESTATUS",
    "POSIXLY_CORRECT", "PPID", "PROMPT_COMMAND", "PS0", "PS1", "PS2", "PS3",
    "PS4", "PWD", "PYTHONPATH", "RANDOM", "RANK", "READLINE_LINE",
    "READLINE_POINT", "REPLY", "SECONDS", "SHELL", "SHELLOPTS", "SHLVL",
    "SRANDOM", "TERM", "TIMEFORMAT", "TMOUT", "TMPDIR", "TZ", "UID", "USER",
    "VIRTUAL_ENV", "WORLD_SIZE", "_"};

/* Name prefixes of the same: bash's own (BASH, BASH_SOURCE, BASHPID ...,
 * COMP_, COPROC of an unnamed coproc), locale (LC_), s2r's SLURM stand-ins
 * (slurm_env.c: SLURM_, SLURMD_) and Run:ai's
 * (RUNAI_), the PyTorchJob's (PET_), MPI launchers' (OMPI_, PMIX_, PMI_)
 * and Kubernetes' (KUBERNETES_), and the CUDA, NVIDIA and conda variables
 * an image defines (CUDA_HOME, CUDA_VISIBLE_DEVICES, NVIDIA_VISIBLE_DEVICES,
 * CONDA_PREFIX). */
typedef struct prefix {
    const char *text;
    size_t len;
} prefix;
#define P(s) {s, sizeof(s) - 1}
static const prefix k_pod_prefixes[] = {
    P("BASH"), P("COMP_"), P("CONDA_"), P("COPROC"), P("CUDA_"),
    P("KUBERNETES_"), P("LC_"), P("NVIDIA_"), P("OMPI_"), P("PET_"),
    P("PMIX_"), P("PMI_"), P("RUNAI_"), P("SLURMD_"), P("SLURM_")};
#undef P

/* What a word the scan looks at does. */
typedef enum word_kind {
    K_OPAQUE = 1, /* as a word of its own, the script can set variables
                     s2r cannot see (see the top) */
    K_OPAQUE_ANY, /* the same, wherever it is */
    K_SETTER,     /* a builtin whose words name variables it sets: a word
                     computed at run time there sets names s2r cannot see */
    K_PRINTF,     /* the same, for the word after -v */
    K_SET,        /* set -a */
    K_CASE,       /* case ... esac: its patterns' ) close nothing */
    K_ESAC
} word_kind;

typedef struct keyword {
    const char *name;
    word_kind kind;
} keyword;

/* The words, sorted by name, in two tables of at most 16 (s2r_sorted_find
 * compares those name by name, unrolled): any word ... */
static const keyword k_any_words[] = {
    {"BASH_ENV", K_OPAQUE_ANY}, {"activate", K_OPAQUE},
    {"allexport", K_OPAQUE_ANY}, {"eval", K_OPAQUE},
    {"ml", K_OPAQUE},           {"module", K_OPAQUE},
    {"source", K_OPAQUE},       {"spack", K_OPAQUE}};
/* ... and unquoted ones, that count as a command's */
static const keyword k_cmd_words[] = {
    {"case", K_CASE},       {"declare", K_SETTER},  {"esac", K_ESAC},
    {"export", K_SETTER},   {"let", K_SETTER},      {"local", K_SETTER},
    {"mapfile", K_SETTER},  {"printf", K_PRINTF},   {"read", K_SETTER},
    {"readarray", K_SETTER}, {"readonly", K_SETTER}, {"set", K_SET},
    {"typeset", K_SETTER},  {"unset", K_SETTER}};

#define MAX_DEPTH 64
#define MAX_HEREDOCS 8
#define MAX_DELIM 64

/* an open $( ( ` " ${ ... }: what closes it and how its text reads */
typedef struct frame {
    char close;  /* ) ` " } */
    bool dq;     /* its text is in double quotes (", and a ${ in one) */
    bool noread; /* inside another reference's word: nothing is a read */
    bool arith;  /* (( )): << is a shift, not a here-document */
    unsigned cases; /* case commands open in a $( ): their patterns' )
                       close nothing */
} frame;

/* a name read, at its first read */
typedef struct read_at {
    const char *name;
    size_t len;
    int line;
    bool set; /* the pod has it, or the script sets or mentions it (the
                 second pass) */
} read_at;

typedef struct heredoc {
    char delim[MAX_DELIM];
    size_t len;
    bool quoted; /* <<'EOF', <<"EOF", <<\EOF: the body reads nothing */
    bool tabs;   /* <<-: leading tabs stripped */
} heredoc;

typedef struct scan {
    const char *body; /* the text's start */
    const char *p, *end;
    int line;
    frame st[MAX_DEPTH];
    size_t depth;
    heredoc hd[MAX_HEREDOCS];
    size_t nhd;
    int dyn;          /* 1: the words of a setter follow; 2: printf's
                         word after -v; 0 none */
    size_t dyn_depth; /* the frames open where the setter is */
    bool printf_cmd;  /* printf seen: its -v word names a variable */
    bool nameref;     /* the setter is declare, typeset or local, whose
                         -n makes a name reference */
    bool second;      /* the second pass: names are looked up in reads */
    uint64_t lens;    /* bit k: a name read is k bytes long (modulo 64) */
    s2r_strset reads; /* names read, numbered as in read */
    size_t unset;     /* of them, those the pod does not have */
    read_at *read;    /* each name read, in the order of first reads
                         (s2r_grow) */
    bool opaque;
    bool oom;
} scan;

/* a byte after which a word starts: a blank or an operator */
static bool breaks_word(char ch)
{
    switch (ch) {
    case ' ': case '\t': case '\n': case ';': case '&': case '|':
    case '(': case ')': case '<': case '>':
        return true;
    default:
        return false;
    }
}

static bool name_start(char ch)
{
    return sh_name_byte(ch) && !(ch >= '0' && ch <= '9');
}

static bool pod_has(const char *name, size_t n)
{
    if (s2r_sorted_findn(k_pod_names, S2R_COUNTOF(k_pod_names),
                         sizeof(k_pod_names[0]), name,
                         n) < S2R_COUNTOF(k_pod_names))
        return true;
    for (size_t i = 0; i < S2R_COUNTOF(k_pod_prefixes); i++) {
        const prefix *x = &k_pod_prefixes[i];
        if (x->text[0] == name[0] && n >= x->len &&
            !memcmp(name, x->text, x->len))
            return true;
    }
    return false;
}

#define FIRST(c) (1ull << ((c) - 'A'))
/* The first bytes of the names of k_any_words and k_cmd_words, as bits
 * from 'A', by the names' length: most words are none of them, and are
 * known so without a look-up. */
static const uint64_t k_firsts[10] = {
    [2] = FIRST('m'),
    [3] = FIRST('l') | FIRST('s'),
    [4] = FIRST('c') | FIRST('e') | FIRST('r'),
    [5] = FIRST('l') | FIRST('s') | FIRST('u'),
    [6] = FIRST('e') | FIRST('m') | FIRST('p') | FIRST('s'),
    [7] = FIRST('d') | FIRST('m') | FIRST('t'),
    [8] = FIRST('B') | FIRST('a') | FIRST('r'),
    [9] = FIRST('a') | FIRST('r')};
#undef FIRST

#define LAST(c) (1ull << ((c) - 'A'))
/* ... and their last bytes */
static const uint64_t k_lasts[10] = {
    [2] = LAST('l'),
    [3] = LAST('t'),
    [4] = LAST('c') | LAST('d') | LAST('e') | LAST('l'),
    [5] = LAST('k') | LAST('l') | LAST('t'),
    [6] = LAST('e') | LAST('f') | LAST('t'),
    [7] = LAST('e') | LAST('t'),
    [8] = LAST('V') | LAST('e') | LAST('y'),
    [9] = LAST('t') | LAST('y')};
#undef LAST

/* Whether the word of @p n bytes at @p w may be in k_any_words or
 * k_cmd_words; if so, it into @p buf, NUL-terminated. */
static bool may_be_keyword(const char *w, size_t n, char buf[10])
{
    unsigned c = (unsigned char)w[0] - 'A';
    unsigned z = (unsigned char)w[n - 1] - 'A';
    if (n > 9 || c >= 64 || z >= 64 || !(k_firsts[n] >> c & 1) ||
        !(k_lasts[n] >> z & 1))
        return false;
    memcpy(buf, w, n);
    buf[n] = '\0';
    return true;
}

/* The kind of word @p buf in @p table (@p len entries), or 0. */
static int kind_in(const keyword *table, size_t len, const char *buf)
{
    size_t k = s2r_sorted_find(table, len, sizeof(*table), buf);
    return k < len ? (int)table[k].kind : 0;
}

/* Name @p name (@p n bytes) is set or mentioned: in the second pass, a
 * read of it is no warning. */
static void add_set(scan *s, const char *name, size_t n)
{
    if (!s->second || !(s->lens >> (n % 64) & 1))
        return;
    size_t k = s2r_strset_find(&s->reads, name, n);
    if (k != S2R_STRSET_NONE)
        s->read[k].set = true;
}

/* Name @p name (@p n bytes) is read here: in the first pass, kept at its
 * first read unless the pod has it. */
static void add_read(scan *s, const char *name, size_t n)
{
    if (s->second || s2r_strset_find(&s->reads, name, n) != S2R_STRSET_NONE)
        return;
    if (s2r_grow((void **)&s->read, s->reads.n, sizeof(*s->read))) {
        s->oom = true;
        return;
    }
    /* one the pod has is kept too, as set: found at once when read
     * again */
    bool pod = pod_has(name, n);
    s->read[s->reads.n] = (read_at){name, n, s->line, pod};
    if (!pod) {
        s->lens |= (uint64_t)1 << (n % 64);
        s->unset++;
    }
    if (s2r_strset_add(&s->reads, name, n))
        s->oom = true;
}

static bool noread(const scan *s)
{
    return s->depth && s->st[s->depth - 1].noread;
}

static const frame *top(const scan *s)
{
    return s->depth ? &s->st[s->depth - 1] : NULL;
}

/* Open a frame closed by @p close: " is in double quotes, a ${ word is
 * where it opens, $( ( ` are not. */
static void push(scan *s, char close, bool nr, bool arith)
{
    if (s->depth == MAX_DEPTH) {
        s->opaque = true; /* nested past reason: no verdict */
        return;
    }
    bool dq = close == '"' || (close == '}' && top(s) && top(s)->dq);
    s->st[s->depth++] = (frame){close, dq, nr || noread(s), arith, 0};
}

/* A byte that ends a command: the setter's words end there too. */
static bool ends_command(char ch)
{
    return ch == ';' || ch == '&' || ch == '|' || ch == '\n' || ch == ')' ||
           ch == '<' || ch == '>';
}

/* The word at @p at starts a command: after the text's start, a line
 * start, ; & | ( { ! or a word that runs the next as a command (blanks
 * between) */
static bool command_at(const scan *s, const char *at)
{
    const char *q = at;
    while (q > s->body && (q[-1] == ' ' || q[-1] == '\t'))
        q--;
    if (q == s->body || (q[-1] && strchr("\n;&|({!", q[-1])))
        return true;
    static const char *const kw[] = {"builtin", "command", "do", "elif",
                                     "else", "if", "then", "time",
                                     "until", "while"};
    for (size_t i = 0; i < S2R_COUNTOF(kw); i++) {
        size_t k = strlen(kw[i]);
        if ((size_t)(q - s->body) >= k && !memcmp(q - k, kw[i], k) &&
            ((size_t)(q - s->body) == k || !sh_name_byte(q[-(ptrdiff_t)k - 1])))
            return true;
    }
    return false;
}

/* `.` at s->p as a command (`. env.sh`): before a blank */
static bool dot_command(const scan *s)
{
    const char *p = s->p;
    return p + 1 < s->end && (p[1] == ' ' || p[1] == '\t') &&
           command_at(s, p);
}

static bool quote_byte(char ch)
{
    return ch == '"' || ch == '\'' || ch == '`';
}

/* The name that ended at s->p, from @p w, is a word of its own (a
 * command's or an argument's, quoted or not): `eval "..."` and `source
 * x`, not /scratch/eval or eval.py. */
static bool whole_word(const scan *s, const char *w)
{
    char before = w == s->body ? ' ' : w[-1];
    char after = s->p == s->end ? ' ' : *s->p;
    return (breaks_word(before) || quote_byte(before) || before == '{') &&
           (breaks_word(after) || quote_byte(after));
}

/* The name run at s->p, not after a $: a set, and perhaps a word that
 * makes the script opaque or starts a setter's words. */
static void bare_name(scan *s, bool quoted)
{
    const char *w = s->p;
    while (s->p < s->end && sh_name_byte(*s->p))
        s->p++;
    size_t n = (size_t)(s->p - w);
    if (!name_start(*w))
        return; /* a number */
    add_set(s, w, n);
    char buf[10];
    if (!may_be_keyword(w, n, buf))
        return;
    int kind = kind_in(k_any_words, S2R_COUNTOF(k_any_words), buf);
    if (kind == K_OPAQUE_ANY || (kind == K_OPAQUE && whole_word(s, w)))
        s->opaque = true;
    if (quoted || kind)
        return;
    kind = kind_in(k_cmd_words, S2R_COUNTOF(k_cmd_words), buf);
    frame *t = s->depth ? &s->st[s->depth - 1] : NULL;
    if (kind == K_ESAC && t && t->cases)
        t->cases--;
    /* the others count as a command's word */
    if (!kind || kind == K_ESAC || !command_at(s, w))
        return;
    if (kind == K_CASE && t)
        t->cases++;
    if (kind == K_SETTER || kind == K_PRINTF)
        s->dyn_depth = s->depth;
    if (kind == K_SETTER) {
        s->dyn = 1;
        s->nameref = buf[0] == 'd' || buf[0] == 't' || buf[0] == 'l';
    }
    s->printf_cmd |= kind == K_PRINTF;
    if (kind != K_SET)
        return;
    /* set -a, set -ea ...: every later assignment is exported */
    const char *q = s->p;
    while (q < s->end && (*q == ' ' || *q == '\t'))
        q++;
    if (q < s->end && *q == '-')
        for (const char *e = q + 1;
             e < s->end && e < q + 32 && name_start(*e); e++)
            if (*e == 'a')
                s->opaque = true;
}

/* ${ at s->p: the reference's name, whether it is a read, and its word.
 * The closing } of a plain ${NAME} is taken; otherwise a frame stays
 * open up to the }, whose text reads nothing. */
static void brace_ref(scan *s, bool in_heredoc)
{
    s->p += 2;
    const char *w = s->p;
    bool special = s->p < s->end && (*s->p == '#' || *s->p == '!');
    if (special)
        w = ++s->p;
    while (s->p < s->end && sh_name_byte(*s->p))
        s->p++;
    size_t n = (size_t)(s->p - w);
    bool named = n && name_start(*w);
    char op = s->p < s->end ? *s->p : '\0';
    /* ${NAME}, ${NAME%x}, ${NAME/x/y}, ${NAME:1:2}, ${NAME[0]} read it;
     * ${NAME:-x} and the rest of its family do not */
    bool family = op == '-' || op == '=' || op == '?' || op == '+' ||
                  (op == ':' && s->p + 1 < s->end && s->p[1] &&
                   strchr("-=?+", s->p[1]));
    bool read = named && !special && !family && !noread(s) &&
                op != '\0';
    if (read)
        add_read(s, w, n);
    else if (named)
        add_set(s, w, n);
    if (op == '}') {
        s->p++;
        return;
    }
    if (in_heredoc) { /* a here-document's ${...}: no frames, skip it */
        for (int d = 1; s->p < s->end && *s->p != '\n' && d; s->p++)
            d += *s->p == '{' ? 1 : *s->p == '}' ? -1 : 0;
        return;
    }
    push(s, '}', true, false);
}

/* $ at s->p in a here-document body (no quotes count there): a read or
 * the start of a $( whose text reads nothing (counted in *paren). */
static void heredoc_dollar(scan *s, int *paren)
{
    const char *q = s->p + 1;
    if (q < s->end && *q == '{' && !*paren) {
        brace_ref(s, true);
    } else if (q < s->end && *q == '(') {
        (*paren)++;
        s->p += 2;
    } else if (q < s->end && name_start(*q) && !*paren) {
        s->p++;
        const char *w = s->p;
        while (s->p < s->end && sh_name_byte(*s->p))
            s->p++;
        add_read(s, w, (size_t)(s->p - w));
    } else {
        s->p++;
    }
}

/* One here-document body from s->p (at a line start) to its delimiter
 * line, or the end of the text. */
static void heredoc_body(scan *s, const heredoc *h)
{
    int paren = 0;
    while (s->p < s->end) {
        const char *l = s->p;
        if (h->tabs)
            while (l < s->end && *l == '\t')
                l++;
        const char *nl = memchr(l, '\n', (size_t)(s->end - l));
        const char *le = nl ? nl : s->end;
        if ((size_t)(le - l) == h->len && !memcmp(l, h->delim, h->len)) {
            s->p = nl ? nl + 1 : s->end;
            s->line++;
            return;
        }
        while (s->p < le) {
            char ch = *s->p;
            if (!h->quoted && ch == '\\') {
                s->p += s->p + 1 < le ? 2 : 1;
            } else if (!h->quoted && ch == '$') {
                heredoc_dollar(s, &paren);
                if (s->p > le) /* a ${ ran to the end */
                    s->p = le;
            } else if (name_start(ch) && (s->p == l || !sh_name_byte(s->p[-1]))) {
                bare_name(s, true);
            } else {
                paren += !h->quoted && paren && ch == '(';
                paren -= !h->quoted && paren && ch == ')';
                s->p++;
            }
        }
        s->p = nl ? nl + 1 : s->end;
        s->line++;
    }
}

/* << at s->p (not <<<, not a shift): its delimiter word, kept to read
 * the body after the end of the line. */
static void heredoc_op(scan *s)
{
    s->p += 2;
    heredoc h = {.tabs = s->p < s->end && *s->p == '-'};
    s->p += h.tabs;
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
        s->p++;
    char q = 0;
    while (s->p < s->end && (q || !breaks_word(*s->p))) {
        char ch = *s->p++;
        if (q ? ch == q : (ch == '\'' || ch == '"')) {
            q = q ? 0 : ch;
            h.quoted = true;
        } else if (!q && ch == '\\') {
            h.quoted = true;
        } else if (h.len < MAX_DELIM - 1) {
            h.delim[h.len++] = ch;
        } else {
            s->opaque = true; /* a delimiter past reason: no verdict */
        }
        if (ch == '\n')
            s->line++;
    }
    if (s->nhd == MAX_HEREDOCS || h.len == 0)
        s->opaque = true;
    else
        s->hd[s->nhd++] = h;
}

/* $ at s->p outside single quotes and here-documents */
static void dollar(scan *s, bool dq)
{
    const char *q = s->p + 1;
    char ch = q < s->end ? *q : '\0';
    if (ch == '{') {
        brace_ref(s, false);
    } else if (ch == '(') {
        bool arith = q + 1 < s->end && q[1] == '(';
        s->p += arith ? 3 : 2;
        push(s, ')', false, arith);
        if (arith)
            push(s, ')', false, true);
    } else if (ch == '\'' && !dq) { /* $'...': backslash escapes */
        for (s->p += 2; s->p < s->end && *s->p != '\''; s->p++) {
            s->line += *s->p == '\n';
            if (*s->p == '\\' && s->p + 1 < s->end)
                s->line += *++s->p == '\n';
        }
        s->p += s->p < s->end;
    } else if (name_start(ch)) {
        s->p++;
        const char *w = s->p;
        while (s->p < s->end && sh_name_byte(*s->p))
            s->p++;
        if (noread(s))
            add_set(s, w, (size_t)(s->p - w));
        else
            add_read(s, w, (size_t)(s->p - w));
    } else {
        s->p += ch && ch != '"' && ch != '\n' ? 2 : 1; /* $1 $@ $? ... */
    }
}

/* A word starts at s->p after a setter: one whose name is computed at
 * run time ($ or ` before its =: "$k=$v", "out_$i") names variables s2r
 * cannot see; so does declare, typeset or local -n (a name reference:
 * assigning the reference assigns the name it holds). */
static void setter_word(scan *s)
{
    const char *p = s->p;
    bool option = *p == '-';
    for (; p < s->end && *p != '=' && !breaks_word(*p); p++) {
        if (*p == '$' || *p == '`' || (option && s->nameref && *p == 'n'))
            s->opaque = true;
        if (*p == '\\' && p + 1 < s->end)
            p++;
    }
    if (s->dyn == 2)
        s->dyn = 0;
}

static void newline(scan *s)
{
    s->p++;
    s->line++;
    s->dyn = 0;
    s->printf_cmd = false;
    for (size_t i = 0; i < s->nhd; i++)
        heredoc_body(s, &s->hd[i]);
    s->nhd = 0;
}

/* One byte (or construct) in double quotes. */
static void in_dq(scan *s)
{
    char ch = *s->p;
    if (ch == '\\') {
        s->p++;
        if (s->p < s->end)
            s->line += *s->p++ == '\n';
    } else if (ch == '"' || ch == '}') {
        /* a " inside "${X:-"..."}" opens quotes of its own */
        if (top(s)->close == ch)
            s->depth--;
        else if (ch == '"')
            push(s, '"', false, false);
        s->p++;
    } else if (ch == '$') {
        dollar(s, true);
    } else if (ch == '`') {
        push(s, '`', false, false);
        s->p++;
    } else if (name_start(ch)) {
        bare_name(s, true);
    } else {
        s->line += ch == '\n';
        s->p++;
    }
}

/* A byte that means nothing outside quotes, wherever it is. */
static bool plain_byte(char ch)
{
    switch (ch) {
    case ' ': case '\t': case '/': case '=': case ',': case ':': case '%':
    case '+': case '@': case '*': case '?': case '[': case ']': case '~':
    case '^': case '!': case '{':
        return true;
    default:
        return false;
    }
}

/* A byte that means nothing in double quotes. */
static bool plain_dq_byte(char ch)
{
    return ch != '\\' && ch != '"' && ch != '$' && ch != '`' && ch != '}' &&
           ch != '\n';
}

/* Past the bytes from s->p that need no more than bare_name() would do
 * with a name that is no keyword: the loop of most of the text, where
 * each byte costs a few instructions. Stops at a byte that means more
 * (or at a name that may be a keyword, for bare_name()). Not while a
 * setter's words follow (s->dyn). */
static void skip_plain(scan *s, bool dq)
{
    const char *p = s->p;
    while (p < s->end) {
        char ch = *p;
        if (sh_name_byte(ch)) {
            const char *w = p;
            while (++p < s->end && sh_name_byte(*p))
                ;
            char buf[10];
            size_t n = (size_t)(p - w);
            if (!name_start(*w))
                continue; /* a number */
            if (may_be_keyword(w, n, buf)) {
                p = w;
                break;
            }
            add_set(s, w, n);
        } else if (dq ? plain_dq_byte(ch)
                      : plain_byte(ch) || (ch == '-' && !s->printf_cmd) ||
                            (ch == '.' && p > s->body &&
                             !breaks_word(p[-1]))) {
            p++;
        } else {
            break;
        }
    }
    s->p = p;
}

/* A word starts at s->p (after a blank or an operator). */
static bool word_start(const scan *s, const char *body)
{
    return s->p == body || breaks_word(s->p[-1]);
}

/* One byte (or construct) outside quotes. */
static void unquoted(scan *s, const char *body)
{
    char ch = *s->p;
    const frame *t = top(s);
    if (s->dyn && s->depth == s->dyn_depth && word_start(s, body) &&
        ch != ' ' && ch != '\t' && ch != '\n')
        setter_word(s);
    if (ch == '\n') {
        newline(s);
    } else if (ch == '\\') {
        s->p++;
        if (s->p < s->end)
            s->line += *s->p++ == '\n';
    } else if (ch == '\'') {
        for (s->p++; s->p < s->end && *s->p != '\''; )
            if (name_start(*s->p) && !sh_name_byte(s->p[-1]))
                bare_name(s, true);
            else
                s->line += *s->p++ == '\n';
        s->p += s->p < s->end;
    } else if (ch == '"') {
        push(s, '"', false, false);
        s->p++;
    } else if (ch == '#' && word_start(s, body)) {
        const char *nl = memchr(s->p, '\n', (size_t)(s->end - s->p));
        s->p = nl ? nl : s->end; /* a comment */
    } else if (ch == '$') {
        dollar(s, false);
    } else if (ch == '`' || ch == ')' || ch == '}') {
        if (t && t->close == ch && !(ch == ')' && t->cases))
            s->depth--;
        else if (ch == '`')
            push(s, '`', false, false);
        s->p++;
    } else if (ch == '(') {
        bool arith = s->p + 1 < s->end && s->p[1] == '(';
        push(s, ')', false, arith || (t && t->arith));
        s->p++;
    } else if (ch == '<' && s->p + 1 < s->end && s->p[1] == '<' &&
               !(t && t->arith)) {
        if (s->p + 2 < s->end && s->p[2] == '<')
            s->p += 3; /* <<< here-string */
        else
            heredoc_op(s);
    } else if (ch == '.' && word_start(s, body) && dot_command(s)) {
        s->opaque = true;
        s->p++;
    } else if (sh_name_byte(ch)) {
        bare_name(s, false);
    } else {
        if (ch == '-' && s->printf_cmd && s->p + 2 < s->end &&
            s->p[1] == 'v' && (s->p[2] == ' ' || s->p[2] == '\t'))
            s->dyn = 2, s->dyn_depth = s->depth;
        else if (ends_command(ch) && s->depth == s->dyn_depth)
            s->dyn = 0, s->printf_cmd = false;
        s->p++;
    }
}

/* The names of the --export directive (with a value or without: either
 * the job has it, or the --export warning names it), as set. */
static void export_names(scan *s, const s2r_job *job)
{
    const char *v = NULL;
    for (size_t i = 0; i < job->n_directives; i++)
        if (!strcmp(job->directives[i].name, "export"))
            v = job->directives[i].value;
    for (const char *p = v; p && *p;) {
        size_t n = strcspn(p, ",=");
        add_set(s, p, n);
        p += n;
        p += strcspn(p, ",");
        p += *p == ',';
    }
}

/* Whether sbatch's --export gives the script the submitting shell's
 * environment: ALL (the default), and no --export-file or
 * --get-user-env, which bring values from elsewhere. */
static bool exports_all(const s2r_job *job)
{
    for (size_t i = 0; i < job->n_directives; i++)
        if (!strcmp(job->directives[i].name, "export-file") ||
            !strcmp(job->directives[i].name, "get-user-env"))
            return false;
    return !job->export_mode || !strcmp(job->export_mode, "ALL");
}

/* Whether the #! line of @p buf (@p len bytes) starts a login or
 * interactive shell (bash -l, --login, -i; env -i clears the
 * environment): its start-up files set variables s2r cannot see. Any
 * option word with an l or an i counts. */
static bool login_shell(const char *buf, size_t len)
{
    if (len < 2 || buf[0] != '#' || buf[1] != '!')
        return false;
    const char *nl = memchr(buf, '\n', len);
    const char *e = nl ? nl : buf + len;
    for (const char *p = buf + 2; p < e; p++)
        if (*p == '-' && (p[-1] == ' ' || p[-1] == '\t'))
            for (const char *q = p + 1; q < e && *q != ' ' && *q != '\t';
                 q++)
                if (*q == 'l' || *q == 'i')
                    return true;
    return false;
}

void s2r_body__submit_env(ctx *c, const char *buf, size_t len,
                          size_t body_off, int body_line)
{
    const s2r_job *job = c->job;
    /* zsh reads ~/.zshenv in every shell, a script's too */
    if (!exports_all(job) || login_shell(buf, len) ||
        !strcmp(job->shebang_shell, "zsh"))
        return;
    const char *body = buf + body_off;
    len -= body_off;
    if (!memchr(body, '$', len))
        return; /* nothing is read */
    scan s = {.body = body, .end = body + len};
    s2r_strset_init(&s.reads);
    for (int pass = 0; pass < 2 && !s.opaque && !s.oom; pass++) {
        if (pass && !s.unset)
            break; /* nothing to warn about: no second pass */
        s.second = pass;
        s.p = body;
        s.line = body_line;
        s.depth = s.nhd = 0;
        s.dyn = 0;
        s.printf_cmd = false;
        if (s.second)
            export_names(&s, job);
        while (s.p < s.end && !s.opaque && !s.oom) {
            bool dq = top(&s) && top(&s)->dq;
            if (!s.dyn && (skip_plain(&s, dq), s.p == s.end))
                break;
            if (sh_name_byte(*s.p) && (dq || !s.dyn))
                bare_name(&s, dq);
            else if (dq)
                in_dq(&s);
            else
                unquoted(&s, body);
        }
        /* a frame still open at the end: bash stops on it, and the scan
         * may have lost its way (s2r warns of what never closes) */
        if (s.depth)
            s.opaque = true;
    }
    for (size_t i = 0; i < s.reads.n && !s.opaque && !s.oom; i++) {
        const char *name = s.read[i].name;
        int n = (int)s.read[i].len;
        if (s.read[i].set)
            continue;
        s2r_body__warn(c, s.read[i].line, NULL,
             "$%.*s is not set in the script: sbatch takes it from the "
             "environment it ran in (--export=ALL%s), which the pod does "
             "not have; set it in the script or give it "
             "(--export=ALL,%.*s=VALUE)",
             n, name, job->export_mode ? "" : ", the default", n, name);
    }
    if (s.oom)
        c->oom = true;
    s2r_strset_clear(&s.reads);
    free(s.read);
}
