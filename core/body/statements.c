/* statements.c: what one statement or command of a body is: set-up
 * (environment modules, conda, venv), a helper command (echo, mkdir ...),
 * a SLURM client command, or a candidate for the main computation (per
 * the corpus rules, corpus/README.md "The main command"); the words and
 * messages helpers of the analysis. See analysis.h. */
#include "analysis.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *s2r_body__base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* sorted as strcmp orders them */
static const char *const aux_cmds[] = {
    ".", ":", "[", "[[", "alias", "awk", "basename",
    "cat", "cd", "chmod", "chown", "cmake", "command",
    "conda", "cp", "curl", "cut", "date", "declare",
    "df", "dirname", "du", "echo", "env", "eval",
    "exit", "export", "false", "find", "free", "gcc",
    "git", "grep", "gunzip", "hash", "head", "hostname",
    "id", "jobs", "ldd", "let", "ln", "local",
    "logger", "ls", "lsb_release", "lscpu", "mail", "make",
    "mamba", "micromamba", "mkdir", "mktemp", "ml", "module",
    "module_load", "mv", "nproc", "nvcc", "nvidia-smi", "pip",
    "pip3", "popd", "printenv", "printf", "pushd", "pwd",
    "read", "readlink", "readonly", "realpath", "return", "rm",
    "rocm-smi", "rsync", "sacct", "sbatch", "scancel", "scontrol",
    "sed", "seff", "sendmail", "seq", "set", "shopt",
    "shuf", "sinfo", "sleep", "sort", "source", "spack",
    "squeue", "srun_check", "sstat", "sync", "tail", "tar",
    "tee", "test", "touch", "tr", "trap", "true",
    "type", "ulimit", "umask", "unalias", "uname", "uniq",
    "unset", "unzip", "uv", "wait", "wc", "wget",
    "which", "whoami", "xargs"};

static bool same(const char *a, const char *b)
{
    return s2r_name_is(a, b);
}

bool s2r_body__is_aux(const char *v)
{
    return s2r_sorted_has(aux_cmds, S2R_COUNTOF(aux_cmds), v);
}

/* sorted as strcmp orders them */
static const char *const slurm_client_cmds[] = {"sacct", "sbatch",
    "scancel", "scontrol", "seff", "sinfo", "squeue", "sstat"};

bool s2r_body__is_slurm_client(const char *name)
{
    return s2r_sorted_has(slurm_client_cmds, S2R_COUNTOF(slurm_client_cmds),
                          name);
}

bool s2r_body__word_is(const sh_word *w, const char *s)
{
    return w->literal && w->value && same(w->value, s);
}

bool s2r_body__list_has(const char *const *l, const char *s)
{
    for (size_t i = 0; l[i]; i++)
        if (s2r_name_is(l[i], s))
            return true;
    return false;
}

bool s2r_body__stmt_text_has(const sh_body *b, const sh_stmt *st,
                             const char *needle)
{
    if (st->end < st->start)
        return false;
    /* the needle's first byte is found with memchr, the rest compared */
    return s2r_find_rare(b->src + st->start, st->end - st->start, needle,
                         strlen(needle), 0) != NULL;
}

const sh_word *s2r_body__cmd_word(const sh_cmd *c)
{
    size_t i = c->first_arg; /* sh_cmd_first_arg(c) */
    return i < c->nwords ? &c->words[i] : NULL;
}

/* The commands that may do set-up, by name. */
typedef enum setup_cmd {
    SC_NONE = 0,
    SC_MODULE, /* module, ml */
    SC_SPACK,
    SC_CONDA,  /* conda, mamba, micromamba */
    SC_SOURCE, /* source, . */
    SC_EVAL
} setup_cmd;

/* The commands that may do set-up, sorted as strcmp orders them, and
 * what each is (setup_cmds[i] for setup_names[i], then SC_NONE for a
 * name not among them). */
static const char *const setup_names[] = {
    ".", "conda", "eval", "mamba", "micromamba", "ml", "module", "source",
    "spack"};
static const setup_cmd setup_cmds[] = {
    SC_SOURCE, SC_CONDA, SC_EVAL, SC_CONDA, SC_CONDA, SC_MODULE, SC_MODULE,
    SC_SOURCE, SC_SPACK, SC_NONE};
_Static_assert(S2R_COUNTOF(setup_cmds) == S2R_COUNTOF(setup_names) + 1,
               "one command per name, then SC_NONE");

/* What command name @p v is. */
static setup_cmd setup_cmd_of(const char *v)
{
    return setup_cmds[s2r_sorted_find(setup_names, S2R_COUNTOF(setup_names),
                                      sizeof(setup_names[0]), v)];
}

setup_kind s2r_body__setup_of(const sh_cmd *c)
{
    const sh_word *w = s2r_body__cmd_word(c);
    if (!w || !w->value)
        return SU_NONE;
    size_t i = (size_t)(w - c->words);
    const char *v = w->value;
    setup_cmd sc = setup_cmd_of(v);
    if (sc == SC_NONE)
        return SU_NONE;
    if (sc == SC_MODULE ||
        (sc == SC_SPACK && i + 1 < c->nwords &&
         (s2r_body__word_is(&c->words[i + 1], "load") ||
          s2r_body__word_is(&c->words[i + 1], "env"))))
        return SU_MODULE;
    if (sc == SC_CONDA &&
        !(i + 1 < c->nwords && s2r_body__word_is(&c->words[i + 1], "run")))
        return SU_CONDA;
    if (sc == SC_SOURCE && i + 1 < c->nwords) {
        const char *arg = c->words[i + 1].value ? c->words[i + 1].value : "";
        size_t al = strlen(arg);
        /* "conda.sh" and "anaconda" hold "conda", and lie at or after its
         * first place; "mamba.sh" likewise holds "mamba" */
        const char *conda = strstr(arg, "conda");
        const char *mamba = strstr(arg, "mamba");
        bool activate = al >= 8 && same(arg + al - 8, "activate");
        if ((conda && strstr(conda, "conda.sh")) ||
            (mamba && strstr(mamba, "mamba.sh")) ||
            (activate &&
             (al == 8 || conda || mamba || strstr(arg, "miniforge"))))
            return SU_CONDA;
        if (al >= 12 && !strcmp(arg + al - 12, "bin/activate"))
            return SU_VENV;
        if (strstr(arg, "modules.sh") || strstr(arg, "lmod"))
            return SU_MODULE;
    }
    if (sc == SC_EVAL && i + 1 < c->nwords && c->words[i + 1].value &&
        (strstr(c->words[i + 1].value, "conda shell") ||
         strstr(c->words[i + 1].value, "shell hook") ||
         strstr(c->words[i + 1].value, "conda.sh")))
        return SU_CONDA;
    return SU_NONE;
}


/* ------------------------------------------------------------------ */
/* messages                                                             */
/* ------------------------------------------------------------------ */

/* a message is cut to this many bytes */
enum { MESSAGE_MAX = 1023 };

void s2r_body__warn(ctx *c, int line, const char *opt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (s2r_diags_vadd(c->d, S2R_SEV_WARNING, c->file, line, opt,
                       MESSAGE_MAX, fmt, ap))
        c->oom = true;
    va_end(ap);
}

void s2r_body__note(ctx *c, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (s2r_diags_vadd(c->d, S2R_SEV_NOTE, c->file, line, NULL, MESSAGE_MAX,
                       fmt, ap))
        c->oom = true;
    va_end(ap);
}

/* the statement's source text on one line, shortened for messages: the
 * text never takes more than cap - 4 bytes, which leaves room for "..."
 * and the NUL (a blank and a character are written together) */
void s2r_body__stmt_snippet(const sh_body *b, const sh_stmt *st, char *out,
                            size_t cap)
{
    if (cap == 0)
        return;
    size_t o = 0, keep = cap > 4 ? cap - 4 : 0;
    bool space = false, cut = false;
    const char *src = b->src;
    size_t i = st->start;
    while (i < st->end) {
        char ch = src[i];
        if (ch == '\\' && i + 1 < st->end && src[i + 1] == '\n') {
            i += 2;
            space = true;
            continue;
        }
        if (isspace((unsigned char)ch)) {
            space = true;
            i++;
            continue;
        }
        /* a run of bytes kept as they are, up to a space or a backslash
         * (which may start a line continuation) */
        size_t r = i + 1;
        while (r < st->end && !isspace((unsigned char)src[r]) &&
               src[r] != '\\')
            r++;
        if (space && o) {
            if (o + 2 > keep) { /* the blank and a character */
                cut = true;
                break;
            }
            out[o++] = ' ';
        }
        space = false;
        size_t len = r - i;
        if (len > keep - o) {
            memcpy(out + o, src + i, keep - o);
            o = keep;
            cut = true;
            break;
        }
        memcpy(out + o, src + i, len);
        o += len;
        i = r;
    }
    if (cut && cap >= 4) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static bool cmd_is_candidate(const sh_cmd *c)
{
    const sh_word *w = s2r_body__cmd_word(c);
    if (!w || !w->value)
        return false; /* assignments only */
    const char *v = s2r_body__base_name(w->value);
    size_t i = (size_t)(w - c->words);
    /* time/exec/nohup prefixes: look at what follows */
    while ((same(v, "time") || same(v, "exec") || same(v, "nohup")) &&
           i + 1 < c->nwords) {
        w = &c->words[++i];
        v = s2r_body__base_name(w->value ? w->value : "");
    }
    /* `conda run -n ENV prog` runs prog */
    if ((same(v, "conda") || same(v, "mamba") || same(v, "micromamba")) &&
        i + 1 < c->nwords && s2r_body__word_is(&c->words[i + 1], "run"))
        return true;
    if (s2r_body__is_aux(v))
        return false;
    /* container images fetched or built: set-up, not the computation */
    const char *sub = i + 1 < c->nwords ? c->words[i + 1].value : NULL;
    if (sub &&
        ((same(v, "enroot") && !same(sub, "start")) ||
         ((same(v, "singularity") || same(v, "apptainer")) &&
          (same(sub, "pull") || same(sub, "build"))) ||
         ((same(v, "podman-hpc") || same(v, "podman")) &&
          (same(sub, "pull") || same(sub, "migrate") ||
           same(sub, "build")))))
        return false;
    /* python -m pip / -m venv is set-up */
    if (!strncmp(v, "python", 6) && i + 2 < c->nwords &&
        s2r_body__word_is(&c->words[i + 1], "-m") &&
        (s2r_body__word_is(&c->words[i + 2], "pip") ||
         s2r_body__word_is(&c->words[i + 2], "venv")))
        return false;
    return true;
}

/* Index of the main command inside @p st, or -1. A pipeline's main command
 * is its first stage; in an && / || list it is the first command that is
 * not set-up (`module load x && python train.py`). */
int s2r_body__main_candidate(const sh_stmt *st)
{
    if (st->compound || st->ncmds == 0)
        return -1;
    if (st->pipeline)
        return cmd_is_candidate(&st->cmds[0]) ? 0 : -1;
    for (size_t k = 0; k < st->ncmds; k++)
        if (cmd_is_candidate(&st->cmds[k]))
            return (int)k;
    return -1;
}

bool s2r_body__stmt_continues(const sh_body *b, const sh_stmt *st)
{
    size_t e = st->end;
    while (e > st->start && (b->src[e - 1] == ' ' || b->src[e - 1] == '\t'))
        e--;
    return e >= st->start + 2 &&
           ((b->src[e - 1] == '&' && b->src[e - 2] == '&') ||
            (b->src[e - 1] == '|' && b->src[e - 2] == '|'));
}
