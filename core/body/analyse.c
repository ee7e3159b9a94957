/* body.c: find and rewrite the main computation of a batch script body.
 * See body.h. */
#include "body.h"
#include "launchers.h"
#include "servers.h"
#include "shell/shell.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* growable text                                                       */
/* ------------------------------------------------------------------ */

typedef struct text {
    char *p;
    size_t n, cap;
    bool oom;
} text;

static void t_putn(text *t, const char *s, size_t n)
{
    if (t->oom || n == 0)
        return;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->n + n + 1)
            cap *= 2;
        char *np = realloc(t->p, cap);
        if (!np) {
            t->oom = true;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void t_puts(text *t, const char *s)
{
    t_putn(t, s, strlen(s));
}

/* ------------------------------------------------------------------ */
/* SLURM variables the directives fix                                   */
/* ------------------------------------------------------------------ */

static int ret_num(char **out, int64_t v)
{
    char b[32];
    snprintf(b, sizeof(b), "%lld", (long long)v);
    *out = strdup(b);
    return *out ? 1 : -1;
}

static int ret_str(char **out, const char *s)
{
    *out = strdup(s);
    return *out ? 1 : -1;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int s2r_body__slurm_var(const s2r_job *job, const char *name, char **out)
{
    *out = NULL;
    if (!strcmp(name, "SLURM_CPUS_PER_TASK"))
        return job->cpus_per_task > 0 ? ret_num(out, job->cpus_per_task) : 0;
    if (!strcmp(name, "SLURM_NNODES") || !strcmp(name, "SLURM_JOB_NUM_NODES"))
        return job->nodes == job->nodes_max || job->nodes_max == 0
                   ? ret_num(out, job->nodes) : -1;
    if (!strcmp(name, "SLURM_NTASKS") || !strcmp(name, "SLURM_NPROCS")) {
        if (job->ntasks > 0)
            return ret_num(out, job->ntasks);
        if (job->ntasks_per_node > 0)
            return ret_num(out, job->ntasks_per_node * job->nodes);
        return 0;
    }
    if (!strcmp(name, "SLURM_NTASKS_PER_NODE"))
        return job->ntasks_per_node > 0 ? ret_num(out, job->ntasks_per_node)
                                        : 0;
    if (!strcmp(name, "SLURM_JOB_NAME"))
        return ret_str(out, job->job_name ? job->job_name
                       : strcmp(job->file, "-") == 0 ? "sbatch"
                       : base_name(job->file));
    if (!strcmp(name, "SLURM_CPUS_ON_NODE") ||
        !strcmp(name, "SLURM_JOB_CPUS_PER_NODE"))
        return ret_num(out, job->cpus_per_node);
    if (!strcmp(name, "SLURM_GPUS_ON_NODE"))
        return job->gpus_per_node > 0 ? ret_num(out, job->gpus_per_node) : 0;
    if (!strcmp(name, "SLURM_MEM_PER_NODE"))
        return job->mem_per_node_mib > 0 ? ret_num(out, job->mem_per_node_mib)
                                         : 0;
    if (job->array) {
        const s2r_array *a = job->array;
        if (!strcmp(name, "SLURM_ARRAY_TASK_COUNT"))
            return ret_num(out, (int64_t)a->count);
        if (!strcmp(name, "SLURM_ARRAY_TASK_MIN"))
            return ret_num(out, a->indices[0]);
        if (!strcmp(name, "SLURM_ARRAY_TASK_MAX"))
            return ret_num(out, a->indices[a->count - 1]);
    }
    if (!strcmp(name, "SLURM_JOB_PARTITION") || !strcmp(name, "SLURM_PARTITION"))
        return job->partitions && job->partitions[0]
                   ? ret_str(out, job->partitions[0]) : -1;
    if (!strcmp(name, "SLURM_JOB_ACCOUNT"))
        return job->account ? ret_str(out, job->account) : -1;
    return -1;
}

/* ------------------------------------------------------------------ */
/* static resolution of a word (export K=V values)                      */
/* ------------------------------------------------------------------ */

/* Expand the $NAME / ${NAME} / ${NAME:-def} references of @p raw that the
 * job fixes. Returns false when anything is only known at run time. */
static bool resolve_raw(const s2r_job *job, const s2r_envv *env,
                        const char *raw, bool in_dq, text *out)
{
    for (size_t i = 0; raw[i];) {
        char c = raw[i];
        if (c == '\\' && raw[i + 1]) {
            if (in_dq && !strchr("$`\"\\", raw[i + 1]))
                t_putn(out, raw + i, 1);
            t_putn(out, raw + i + 1, 1);
            i += 2;
            continue;
        }
        if (c == '`')
            return false;
        if (!in_dq && (c == '*' || c == '?' || c == '[' || c == '~'))
            return false;
        if (c != '$') {
            t_putn(out, raw + i, 1);
            i++;
            continue;
        }
        char name[128];
        size_t nl = 0;
        const char *def = NULL;
        size_t deflen = 0;
        bool colon = false;
        if (raw[i + 1] == '{') {
            size_t j = i + 2;
            while (raw[j] && (isalnum((unsigned char)raw[j]) || raw[j] == '_') &&
                   nl < sizeof(name) - 1)
                name[nl++] = raw[j++];
            name[nl] = '\0';
            if (raw[j] == '}') {
                i = j + 1;
            } else if ((raw[j] == ':' && raw[j + 1] == '-') || raw[j] == '-') {
                colon = raw[j] == ':';
                j += colon ? 2 : 1;
                def = raw + j;
                while (raw[j] && raw[j] != '}' && raw[j] != '$')
                    j++;
                if (raw[j] != '}')
                    return false;
                deflen = (size_t)(raw + j - def);
                i = j + 1;
            } else {
                return false;
            }
        } else if (isalpha((unsigned char)raw[i + 1]) || raw[i + 1] == '_') {
            size_t j = i + 1;
            while (raw[j] && (isalnum((unsigned char)raw[j]) || raw[j] == '_') &&
                   nl < sizeof(name) - 1)
                name[nl++] = raw[j++];
            name[nl] = '\0';
            i = j;
        } else {
            return false;
        }
        if (nl == 0)
            return false;
        const char *known = s2r_envv_get(env, name);
        if (known) {
            t_puts(out, known);
            continue;
        }
        if (strncmp(name, "SLURM_", 6) != 0)
            return false;
        char *v = NULL;
        int st = s2r_body__slurm_var(job, name, &v);
        if (st == 1) {
            t_puts(out, v);
            free(v);
        } else if (st == 0 && def) {
            (void)colon;
            t_putn(out, def, deflen);
        } else if (st == 0) {
            /* unset: expands to nothing */
        } else {
            return false;
        }
    }
    return true;
}

/* value of an assignment word after '=', resolved; NULL if run-time only */
static char *resolve_assignment(const s2r_job *job, const s2r_envv *env,
                                const sh_word *w, char **name_out)
{
    text out = {0};
    bool in_value = false;
    *name_out = NULL;
    for (size_t k = 0; k < w->nsegs; k++) {
        const sh_seg *g = &w->segs[k];
        const char *t = g->text;
        if (!in_value) {
            const char *eq = strchr(t, '=');
            if (!eq || g->type != SH_SEG_LIT)
                break;
            *name_out = strndup(t, (size_t)(eq - t));
            in_value = true;
            t_puts(&out, eq + 1);
            continue;
        }
        if (g->type == SH_SEG_LIT) {
            t_puts(&out, t);
        } else if (!resolve_raw(job, env, t, g->type == SH_SEG_DQ, &out)) {
            free(out.p);
            free(*name_out);
            *name_out = NULL;
            return NULL;
        }
    }
    if (!in_value || out.oom) {
        free(out.p);
        free(*name_out);
        *name_out = NULL;
        return NULL;
    }
    return out.p ? out.p : strdup("");
}

/* ------------------------------------------------------------------ */
/* statement classification                                             */
/* ------------------------------------------------------------------ */

typedef enum st_kind {
    ST_KEEP = 0,  /* copied verbatim */
    ST_DROP,      /* removed, with a warning */
    ST_LIFTED,    /* removed: now env or working directory */
    ST_MAIN       /* the main computation, rewritten */
} st_kind;

/* sorted (strcmp order): looked up with bsearch */
static const char *const aux_cmds[] = {
    ".", ":", "[", "alias", "awk", "basename",
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_aux(const char *v)
{
    return bsearch(&v, aux_cmds, sizeof(aux_cmds) / sizeof(aux_cmds[0]),
                   sizeof(aux_cmds[0]), cmp_str) != NULL;
}

static const char *const slurm_client_cmds[] = {"scontrol", "squeue",
    "sinfo", "sacct", "sstat", "sbatch", "scancel", "seff", NULL};

static bool word_is(const sh_word *w, const char *s)
{
    return w->literal && w->value && strcmp(w->value, s) == 0;
}

static bool list_has(const char *const *l, const char *s)
{
    for (size_t i = 0; l[i]; i++)
        if (strcmp(l[i], s) == 0)
            return true;
    return false;
}

static bool stmt_text_has(const sh_body *b, const sh_stmt *st, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = st->start; i + n <= st->end; i++)
        if (memcmp(b->src + i, needle, n) == 0)
            return true;
    return false;
}

static const sh_word *cmd_word(const sh_cmd *c)
{
    size_t i = sh_cmd_first_arg(c);
    return i < c->nwords ? &c->words[i] : NULL;
}

/* env/module set-up that has no meaning in a pod */
typedef enum setup_kind { SU_NONE, SU_MODULE, SU_CONDA, SU_VENV } setup_kind;

static setup_kind setup_of(const sh_cmd *c)
{
    const sh_word *w = cmd_word(c);
    if (!w || !w->value)
        return SU_NONE;
    size_t i = (size_t)(w - c->words);
    const char *v = w->value;
    if (!strcmp(v, "module") || !strcmp(v, "ml") ||
        (!strcmp(v, "spack") && i + 1 < c->nwords &&
         (word_is(&c->words[i + 1], "load") || word_is(&c->words[i + 1], "env"))))
        return SU_MODULE;
    if ((!strcmp(v, "conda") || !strcmp(v, "mamba") ||
         !strcmp(v, "micromamba")) &&
        !(i + 1 < c->nwords && word_is(&c->words[i + 1], "run")))
        return SU_CONDA;
    if ((!strcmp(v, "source") || !strcmp(v, ".")) && i + 1 < c->nwords) {
        const char *arg = c->words[i + 1].value ? c->words[i + 1].value : "";
        size_t al = strlen(arg);
        if (strstr(arg, "conda.sh") || strstr(arg, "mamba.sh") ||
            !strcmp(arg, "activate") ||
            (al >= 8 && !strcmp(arg + al - 8, "activate") &&
             (strstr(arg, "conda") || strstr(arg, "mamba") ||
              strstr(arg, "miniforge") || strstr(arg, "anaconda"))))
            return SU_CONDA;
        if (al >= 12 && !strcmp(arg + al - 12, "bin/activate"))
            return SU_VENV;
        if (strstr(arg, "modules.sh") || strstr(arg, "lmod"))
            return SU_MODULE;
    }
    if (!strcmp(v, "eval") && i + 1 < c->nwords && c->words[i + 1].value &&
        (strstr(c->words[i + 1].value, "conda shell") ||
         strstr(c->words[i + 1].value, "shell hook") ||
         strstr(c->words[i + 1].value, "conda.sh")))
        return SU_CONDA;
    return SU_NONE;
}

/* ------------------------------------------------------------------ */
/* the analysis                                                         */
/* ------------------------------------------------------------------ */

typedef struct ctx {
    s2r_job *job;
    const s2r_config *cfg;
    s2r_diags *d;
    const char *file;
    bool oom;
} ctx;

static void warn(ctx *c, int line, const char *opt, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void warn(ctx *c, int line, const char *opt, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (s2r_diags_add(c->d, S2R_SEV_WARNING, c->file, line, opt, "%s", msg))
        c->oom = true;
}

static void note(ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(ctx *c, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (s2r_diags_add(c->d, S2R_SEV_NOTE, c->file, line, NULL, "%s", msg))
        c->oom = true;
}

/* the statement's source text on one line, shortened for messages */
static void stmt_snippet(const sh_body *b, const sh_stmt *st, char *out,
                         size_t cap)
{
    size_t o = 0;
    bool space = false;
    for (size_t i = st->start; i < st->end && o + 4 < cap; i++) {
        char ch = b->src[i];
        if (ch == '\\' && i + 1 < st->end && b->src[i + 1] == '\n') {
            i++;
            space = true;
            continue;
        }
        if (isspace((unsigned char)ch)) {
            space = true;
            continue;
        }
        if (space && o)
            out[o++] = ' ';
        space = false;
        out[o++] = ch;
    }
    if (o + 4 >= cap && st->end - st->start > o) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static bool cmd_is_candidate(const sh_cmd *c)
{
    const sh_word *w = cmd_word(c);
    if (!w || !w->value)
        return false; /* assignments only */
    const char *v = base_name(w->value);
    size_t i = (size_t)(w - c->words);
    /* time/exec/nohup prefixes: look at what follows */
    while ((!strcmp(v, "time") || !strcmp(v, "exec") || !strcmp(v, "nohup")) &&
           i + 1 < c->nwords) {
        w = &c->words[++i];
        v = base_name(w->value ? w->value : "");
    }
    /* `conda run -n ENV prog` runs prog */
    if ((!strcmp(v, "conda") || !strcmp(v, "mamba") ||
         !strcmp(v, "micromamba")) &&
        i + 1 < c->nwords && word_is(&c->words[i + 1], "run"))
        return true;
    if (is_aux(v))
        return false;
    /* python -m pip / -m venv is set-up */
    if (!strncmp(v, "python", 6) && i + 2 < c->nwords &&
        word_is(&c->words[i + 1], "-m") &&
        (word_is(&c->words[i + 2], "pip") || word_is(&c->words[i + 2], "venv")))
        return false;
    return true;
}

/* Index of the main command inside @p st, or -1. A pipeline's main command
 * is its first stage; in an && / || list it is the first command that is
 * not set-up (`module load x && python train.py`). */
static int main_candidate(const sh_stmt *st)
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

/* ---- the output word list of the rewritten main command ---- */

typedef struct oword {
    const sh_word *w; /* a source word, or NULL */
    char *txt;        /* a synthetic word */
    bool raw;         /* txt is shell text that expands (not literal) */
} oword;

typedef struct owords {
    oword *v;
    size_t n, cap;
    bool oom;
} owords;

static void ow_push(owords *o, const sh_word *w, const char *txt, bool raw)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        oword *nv = realloc(o->v, cap * sizeof(*nv));
        if (!nv) {
            o->oom = true;
            return;
        }
        o->v = nv;
        o->cap = cap;
    }
    o->v[o->n].w = w;
    o->v[o->n].txt = txt ? strdup(txt) : NULL;
    o->v[o->n].raw = raw;
    if (txt && !o->v[o->n].txt)
        o->oom = true;
    o->n++;
}

/* source words [from, to) as they are */
static void ow_push_range(owords *o, const sh_word *w, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        ow_push(o, &w[i], NULL, false);
}

static void ow_free(owords *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->v[i].txt);
    free(o->v);
    memset(o, 0, sizeof(*o));
}

static bool ow_literal(const oword *w)
{
    return w->w ? w->w->literal : !w->raw;
}

static const char *ow_value(const oword *w)
{
    return w->w ? w->w->value : w->txt;
}

static void ow_render(text *t, const owords *o)
{
    for (size_t i = 0; i < o->n; i++) {
        if (i)
            t_putn(t, " ", 1);
        const oword *w = &o->v[i];
        if (w->w) {
            char *r = sh_word_render(w->w);
            if (!r) {
                t->oom = true;
                return;
            }
            t_puts(t, r);
            free(r);
        } else if (w->raw) {
            t_puts(t, w->txt);
        } else {
            char *q = s2r_shell_quote(w->txt);
            if (!q) {
                t->oom = true;
                return;
            }
            t_puts(t, q);
            free(q);
        }
    }
}

/* ---- unwrapping the main command ---- */

typedef enum launcher {
    L_NONE = 0,
    L_TORCHRUN,   /* torchrun / python -m torch.distributed.run|launch */
    L_ACCELERATE, /* accelerate launch */
    L_DEEPSPEED   /* deepspeed */
} launcher;

typedef struct unwrap {
    const sh_word *words; /* the command's words */
    size_t n;
    size_t prefix_end;    /* leading NAME=value words end here */
    size_t kw_from, kw_to;/* time / exec / nohup / command before wrappers */
    size_t prog;          /* first word of the program after wrappers */
    launcher lk;
    size_t launch_at;     /* first word of the launcher */
    size_t launch_opts;   /* first option word of the launcher */
    size_t script;        /* launcher's script word (facts start here) */
    bool srun;
    bool mpi;             /* mpirun/mpiexec seen */
    size_t mpi_at, mpi_opts, mpi_prog;
    int64_t srun_tasks;   /* srun -n, 0 when not given */
    char *image;          /* from docker:// or --container-image, owned */
    bool local_image;     /* a local image file (.sif, .sqsh, a path) */
    char *local_image_name;
    bool run_args;        /* singularity run IMG ARGS: entrypoint args */
    bool conda_run;       /* `conda run -n ENV` was in front */
    char *c_workdir;      /* --container-workdir / --pwd */
    s2r_envv c_env;       /* singularity --env, srun --export K=V */
    char dropped[256];    /* container options with no equivalent */
    bool opaque_torch;    /* bash -c "..." built at run time around a torch
                             launcher: PyTorch, but not rewritable */
    /* bash -c '...' */
    bool shell_string;
    const sh_word *shell_word;
} unwrap;

static bool is_python(const char *v)
{
    const char *b = base_name(v);
    return !strncmp(b, "python", 6) &&
           (b[6] == '\0' || isdigit((unsigned char)b[6]));
}

static void unwrap_free(unwrap *u)
{
    free(u->image);
    free(u->local_image_name);
    free(u->c_workdir);
    s2r_envv_clear(&u->c_env);
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* an image file on the cluster rather than an OCI reference */
static bool is_local_image(const char *v)
{
    return v[0] == '/' || v[0] == '.' || v[0] == '~' || v[0] == '$' ||
           ends_with(v, ".sif") || ends_with(v, ".sqsh") ||
           ends_with(v, ".squashfs") || ends_with(v, ".simg") ||
           ends_with(v, ".img");
}

static char *pyxis_image(const char *v)
{
    /* [USER@][REGISTRY#]IMAGE[:TAG] -> REGISTRY/IMAGE[:TAG] */
    const char *at = strchr(v, '@');
    const char *hash = strchr(v, '#');
    if (at && (!hash || at < hash))
        v = at + 1;
    char *out = strdup(v);
    if (out && (hash = strchr(out, '#')))
        out[hash - out] = '/';
    return out;
}

static void set_image(unwrap *u, const char *v, bool pyxis)
{
    free(u->image);
    u->image = NULL;
    if (is_local_image(v)) {
        u->local_image = true;
        free(u->local_image_name);
        u->local_image_name = strdup(v);
        return;
    }
    u->local_image = false;
    u->image = pyxis ? pyxis_image(v) : strdup(v);
}

static void note_dropped(unwrap *u, const char *opt)
{
    size_t l = strlen(u->dropped);
    if (strstr(u->dropped, opt))
        return;
    snprintf(u->dropped + l, sizeof(u->dropped) - l, "%s%s", l ? ", " : "",
             opt);
}

/* "--opt=value" or "--opt value": the value of option @p name at word j */
static const char *opt_value(const unwrap *u, size_t j, const char *name,
                             const char *shrt)
{
    const char *o = u->words[j].value ? u->words[j].value : "";
    size_t nl = strlen(name);
    if (!strncmp(o, name, nl) && o[nl] == '=')
        return o + nl + 1;
    if ((!strcmp(o, name) || (shrt && !strcmp(o, shrt))) && j + 1 < u->n)
        return u->words[j + 1].value ? u->words[j + 1].value : "";
    return NULL;
}

/* K=V entries of a comma list (srun --export, singularity --env) */
static void add_env_list(unwrap *u, const char *list)
{
    char *dup = strdup(list), *save = NULL;
    for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t;
         t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq || eq == t)
            continue;
        *eq = '\0';
        s2r_envv_set(&u->c_env, t, eq + 1);
    }
    free(dup);
}

static void do_unwrap(ctx *c, const sh_cmd *cmd, unwrap *u)
{
    memset(u, 0, sizeof(*u));
    u->words = cmd->words;
    u->n = cmd->nwords;
    size_t i = sh_cmd_first_arg(cmd);
    u->prefix_end = i;
    u->kw_from = u->kw_to = i;
    for (;;) {
        if (i >= u->n)
            break;
        const sh_word *w = &u->words[i];
        const char *v = w->value ? w->value : "";
        const char *b = base_name(v);
        if (!strcmp(v, "time") || !strcmp(v, "exec") || !strcmp(v, "nohup") ||
            !strcmp(v, "command")) {
            if (u->kw_to == i)
                u->kw_to = i + 1;
            i++;
            continue;
        }
        if (!strcmp(b, "srun")) {
            u->srun = true;
            size_t j = i + 1;
            while (j < u->n) {
                const char *o = u->words[j].value ? u->words[j].value : "";
                const char *val;
                if ((val = opt_value(u, j, "--container-image", NULL))) {
                    set_image(u, val, true);
                } else if ((val = opt_value(u, j, "--container-workdir", NULL))) {
                    free(u->c_workdir);
                    u->c_workdir = strdup(val);
                } else if (opt_value(u, j, "--container-mounts", NULL)) {
                    note_dropped(u, "srun --container-mounts");
                } else if (opt_value(u, j, "--container-env", NULL)) {
                    note_dropped(u, "srun --container-env");
                } else if ((val = opt_value(u, j, "--export", NULL))) {
                    add_env_list(u, val);
                } else if ((val = opt_value(u, j, "--ntasks", "-n"))) {
                    u->srun_tasks = strtoll(val, NULL, 10);
                } else if (!strncmp(o, "-n", 2) && isdigit((unsigned char)o[2])) {
                    u->srun_tasks = strtoll(o + 2, NULL, 10);
                }
                size_t nj = s2r_launch__skip_option(s2r_launch_srun,
                                                    u->words, u->n, j);
                if (nj == j)
                    break;
                j = nj;
            }
            i = j;
            continue;
        }
        if (!strcmp(b, "mpirun") || !strcmp(b, "mpiexec") ||
            !strcmp(b, "orterun") || !strcmp(b, "mpiexec.hydra")) {
            u->mpi = true;
            u->mpi_at = i;
            u->mpi_opts = i + 1;
            u->mpi_prog = s2r_launch__skip_options(s2r_launch_mpirun, u->words,
                                                   u->n, i + 1);
            i = u->mpi_prog;
            continue;
        }
        if ((!strcmp(b, "conda") || !strcmp(b, "mamba") ||
             !strcmp(b, "micromamba")) &&
            i + 1 < u->n && word_is(&u->words[i + 1], "run")) {
            /* the environment must be part of the image */
            u->conda_run = true;
            i = s2r_launch__skip_options(s2r_launch_conda_run, u->words, u->n,
                                         i + 2);
            continue;
        }
        if ((!strcmp(b, "singularity") || !strcmp(b, "apptainer")) &&
            i + 1 < u->n &&
            (word_is(&u->words[i + 1], "exec") || word_is(&u->words[i + 1], "run"))) {
            bool run = word_is(&u->words[i + 1], "run");
            size_t j = i + 2;
            while (j < u->n) {
                const char *val;
                if ((val = opt_value(u, j, "--pwd", NULL))) {
                    free(u->c_workdir);
                    u->c_workdir = strdup(val);
                } else if ((val = opt_value(u, j, "--env", NULL))) {
                    add_env_list(u, val);
                } else if (opt_value(u, j, "--bind", "-B") ||
                           opt_value(u, j, "--mount", NULL)) {
                    note_dropped(u, "--bind");
                } else if (opt_value(u, j, "--env-file", NULL)) {
                    note_dropped(u, "--env-file");
                } else if (opt_value(u, j, "--overlay", "-o")) {
                    note_dropped(u, "--overlay");
                }
                size_t nj = s2r_launch__skip_option(s2r_launch_singularity,
                                                    u->words, u->n, j);
                if (nj == j)
                    break;
                j = nj;
            }
            if (j < u->n) {
                const char *img = u->words[j].value ? u->words[j].value : "";
                if (!strncmp(img, "docker://", 9))
                    set_image(u, img + 9, false);
                else {
                    free(u->image);
                    u->image = NULL;
                    u->local_image = true;
                    free(u->local_image_name);
                    u->local_image_name = strdup(img);
                }
                j++;
            }
            /* `run` starts the image's runscript with these arguments */
            u->run_args = run;
            i = j;
            if (run)
                break;
            continue;
        }
        if ((!strcmp(b, "bash") || !strcmp(b, "sh")) && i + 2 < u->n &&
            word_is(&u->words[i + 1], "-c") && u->words[i + 2].literal) {
            u->shell_string = true;
            u->shell_word = &u->words[i + 2];
            u->prog = i;
            return;
        }
        if ((!strcmp(b, "bash") || !strcmp(b, "sh")) && i + 2 < u->n &&
            word_is(&u->words[i + 1], "-c") && u->words[i + 2].value) {
            const char *t = u->words[i + 2].value;
            if (strstr(t, "torchrun") || strstr(t, "accelerate launch") ||
                strstr(t, "torch.distributed.run") || strstr(t, "deepspeed "))
                u->opaque_torch = true;
        }
        if (!strcmp(b, "torchrun") ||
            (is_python(v) && i + 2 < u->n && word_is(&u->words[i + 1], "-m") &&
             (word_is(&u->words[i + 2], "torch.distributed.run") ||
              word_is(&u->words[i + 2], "torch.distributed.launch")))) {
            u->lk = L_TORCHRUN;
            u->launch_at = i;
            u->launch_opts = !strcmp(b, "torchrun") ? i + 1 : i + 3;
            u->script = s2r_launch__skip_options(s2r_launch_torchrun, u->words,
                                                 u->n, u->launch_opts);
            break;
        }
        if (!strcmp(b, "accelerate") && i + 1 < u->n &&
            word_is(&u->words[i + 1], "launch")) {
            u->lk = L_ACCELERATE;
            u->launch_at = i;
            u->launch_opts = i + 2;
            u->script = s2r_launch__skip_options(s2r_launch_accelerate,
                                                 u->words, u->n, i + 2);
            break;
        }
        if (!strcmp(b, "deepspeed")) {
            u->lk = L_DEEPSPEED;
            u->launch_at = i;
            u->launch_opts = i + 1;
            u->script = s2r_launch__skip_options(s2r_launch_deepspeed,
                                                 u->words, u->n, i + 1);
            break;
        }
        break;
    }
    u->prog = i;
    (void)c;
}

/* ------------------------------------------------------------------ */

typedef struct analysis {
    sh_body body;
    st_kind *kind;
    size_t main;        /* index of the main statement, or SIZE_MAX */
    size_t main_cmd;    /* the main command inside it */
    bool drop_prefix;   /* set-up commands before it (&&) are dropped */
    unwrap u;
    /* bash -c '...' inside the main command */
    struct analysis *inner;
    char *main_text;    /* the rewritten main statement */
    struct edit {
        size_t start, end; /* a byte range of a kept statement ... */
        char *repl;        /* ... replaced by this text, or deleted */
    } *edits;
    size_t nedits;
    bool main_literal;  /* the rewritten command is one literal argv */
    owords ow;          /* the rewritten command words */
} analysis;

static void analysis_free(analysis *a)
{
    if (!a)
        return;
    sh_body_free(&a->body);
    free(a->kind);
    unwrap_free(&a->u);
    if (a->inner) {
        analysis_free(a->inner);
        free(a->inner);
    }
    free(a->main_text);
    for (size_t i = 0; i < a->nedits; i++)
        free(a->edits[i].repl);
    free(a->edits);
    ow_free(&a->ow);
}

static int64_t total_tasks(const s2r_job *j)
{
    if (j->ntasks > 0)
        return j->ntasks;
    return j->tasks_per_node * j->nodes;
}

/* Build the rewritten words of the main command into a->ow. */
static void rewrite_main(ctx *c, analysis *a, bool top)
{
    s2r_job *job = c->job;
    unwrap *u = &a->u;
    owords *o = &a->ow;
    const sh_word *w = u->words;
    ow_push_range(o, w, 0, u->prefix_end);
    /* time / exec / nohup stay in front of the program */
    if (job->distributed != S2R_DIST_MPI)
        ow_push_range(o, w, u->kw_from, u->kw_to);

    bool multi_node = job->nodes > 1;
    if (u->lk == L_TORCHRUN) {
        ow_push_range(o, w, u->launch_at, u->launch_opts);
        for (size_t i = u->launch_opts; i < u->script;) {
            size_t nx = s2r_launch__skip_option(s2r_launch_torchrun, w, u->n, i);
            if (nx == i)
                nx = i + 1;
            const char *opt = w[i].value ? w[i].value : "";
            if (multi_node && s2r_launch__torchrun_is_rendezvous(opt)) {
                i = nx; /* the PyTorchJob supplies PET_* */
                continue;
            }
            ow_push_range(o, w, i, nx);
            i = nx;
        }
        ow_push_range(o, w, u->script, u->n);
        if (multi_node && top)
            note(c, w[u->launch_at].line,
                 "torchrun rendezvous options replaced: the PyTorchJob sets "
                 "PET_NNODES, PET_NODE_RANK, PET_MASTER_ADDR and PET_MASTER_PORT");
        return;
    }
    if (u->lk == L_ACCELERATE) {
        ow_push_range(o, w, u->launch_at, u->launch_opts);
        for (size_t i = u->launch_opts; i < u->script;) {
            size_t nx = s2r_launch__skip_option(s2r_launch_accelerate, w, u->n, i);
            if (nx == i)
                nx = i + 1;
            const char *opt = w[i].value ? w[i].value : "";
            const char *repl = multi_node ? s2r_launch__accelerate_rewrite(opt)
                                          : NULL;
            if (repl) {
                char *name = strndup(opt, strcspn(opt, "="));
                if (!name) {
                    o->oom = true;
                    return;
                }
                ow_push(o, NULL, name, false);
                if (!strcmp(repl, "NODES")) {
                    char nb[32];
                    snprintf(nb, sizeof(nb), "%lld", (long long)job->nodes);
                    ow_push(o, NULL, nb, false);
                } else {
                    ow_push(o, NULL, repl, true);
                }
                free(name);
            } else {
                ow_push_range(o, w, i, nx);
            }
            i = nx;
        }
        ow_push_range(o, w, u->script, u->n);
        return;
    }
    if (u->lk == L_DEEPSPEED && multi_node) {
        /* pdsh/ssh fan-out has no place in a pod: one torchrun per pod */
        char np[48];
        snprintf(np, sizeof(np), "--nproc_per_node=%lld",
                 (long long)(job->gpus_per_node > 0 ? job->gpus_per_node : 1));
        ow_push(o, NULL, "torchrun", false);
        ow_push(o, NULL, np, false);
        ow_push_range(o, w, u->script, u->n);
        if (top)
            warn(c, w[u->launch_at].line, NULL,
                 "deepspeed's multi-node launcher (hostfile, pdsh/ssh) has no "
                 "place in a pod: each PyTorchJob pod runs torchrun "
                 "--nproc_per_node=%lld; deepspeed.init_distributed() reads "
                 "its environment", (long long)job->gpus_per_node);
        return;
    }
    if (u->lk != L_NONE) {
        ow_push_range(o, w, u->launch_at, u->n);
        return;
    }
    if (job->distributed == S2R_DIST_MPI) {
        char nb[32];
        int64_t np = total_tasks(job);
        /* a literal rank count the user gave to mpirun is kept */
        for (size_t i = u->mpi ? u->mpi_opts : u->n; i + 1 < u->mpi_prog; i++) {
            const char *opt = w[i].value ? w[i].value : "";
            if ((!strcmp(opt, "-np") || !strcmp(opt, "-n") ||
                 !strcmp(opt, "--np") || !strcmp(opt, "-c")) &&
                w[i + 1].literal && w[i + 1].value &&
                strspn(w[i + 1].value, "0123456789") == strlen(w[i + 1].value) &&
                w[i + 1].value[0])
                np = strtoll(w[i + 1].value, NULL, 10);
        }
        snprintf(nb, sizeof(nb), "%lld", (long long)np);
        ow_push(o, NULL, "mpirun", false);
        ow_push(o, NULL, "-np", false);
        ow_push(o, NULL, nb, false);
        if (u->mpi) {
            for (size_t i = u->mpi_opts; i < u->mpi_prog;) {
                size_t nx = s2r_launch__skip_option(s2r_launch_mpirun, w, u->n, i);
                if (nx == i)
                    nx = i + 1;
                const char *opt = w[i].value ? w[i].value : "";
                if (!s2r_launch__mpirun_is_placement(opt))
                    ow_push_range(o, w, i, nx);
                i = nx;
            }
        }
        ow_push_range(o, w, u->prog, u->n);
        return;
    }
    if (u->mpi) {
        /* mpirun in a one-task allocation: keep it as written */
        ow_push_range(o, w, u->mpi_at, u->n);
        return;
    }
    ow_push_range(o, w, u->prog, u->n);
}

static int analyse_text(ctx *c, analysis *a, const char *src, size_t len,
                        int first_line, bool top);

/* facts command_tokens from the unwrapped command */
static void set_tokens(ctx *c, const analysis *a)
{
    const unwrap *u = &a->u;
    size_t from = u->lk != L_NONE ? u->script : u->prog;
    if (u->mpi && u->lk == L_NONE)
        from = u->mpi_prog > u->prog ? u->mpi_prog : u->prog;
    for (size_t i = from; i < u->n; i++)
        if (s2r_strv_push(&c->job->command_tokens,
                          u->words[i].value ? u->words[i].value : ""))
            c->oom = true;
}

static int analyse_text(ctx *c, analysis *a, const char *src, size_t len,
                        int first_line, bool top)
{
    s2r_job *job = c->job;
    a->main = (size_t)-1;
    if (sh_lex(&a->body, src, len, first_line))
        return S2R_ENOMEM;
    sh_body *b = &a->body;
    a->kind = calloc(b->n ? b->n : 1, sizeof(*a->kind));
    if (!a->kind)
        return S2R_ENOMEM;

    bool cwd_sensitive_seen = false;
    for (size_t i = 0; i < b->n; i++) {
        sh_stmt *st = &b->stmts[i];
        int mk = a->main == (size_t)-1 ? main_candidate(st) : -1;
        if (mk >= 0) {
            a->main = i;
            a->main_cmd = (size_t)mk;
            if (mk > 0 && top) {
                bool setup_only = true;
                for (int k = 0; k < mk; k++)
                    if (setup_of(&st->cmds[k]) == SU_NONE)
                        setup_only = false;
                if (setup_only) {
                    char snip[160];
                    size_t n = st->cmds[mk].start - st->start;
                    snprintf(snip, sizeof(snip), "%.*s",
                             (int)(n < 150 ? n : 150), b->src + st->start);
                    a->drop_prefix = true;
                    warn(c, st->line, NULL,
                         "dropped '%s': environment modules, conda and venv "
                         "set-up must be part of the image", snip);
                }
            }
            a->kind[i] = ST_MAIN;
            continue;
        }
        if (st->compound || st->ncmds == 0)
            continue;
        const sh_cmd *cm = &st->cmds[0];
        const sh_word *w = cmd_word(cm);
        char snip[160];
        /* rendezvous discovery and SLURM client commands */
        if (stmt_text_has(b, st, "scontrol show hostname") ||
            (w && w->value && list_has(slurm_client_cmds, base_name(w->value)))) {
            if (!top)
                continue;
            stmt_snippet(b, st, snip, sizeof(snip));
            a->kind[i] = ST_DROP;
            if (stmt_text_has(b, st, "scontrol show hostname"))
                warn(c, st->line, NULL,
                     "dropped '%s': host lists come from SLURM; in Run:ai the "
                     "PyTorchJob/MPIJob provides MASTER_ADDR, MASTER_PORT and "
                     "the MPI hostfile", snip);
            else
                warn(c, st->line, NULL,
                     "dropped '%s': SLURM commands do not exist in a Run:ai "
                     "pod", snip);
            continue;
        }
        if (!top)
            continue;
        bool all_setup = true;
        setup_kind sk = SU_NONE;
        for (size_t k = 0; k < st->ncmds; k++) {
            setup_kind s = setup_of(&st->cmds[k]);
            if (s == SU_NONE)
                all_setup = false;
            else if (sk == SU_NONE)
                sk = s;
        }
        if (sk != SU_NONE && all_setup && a->main == (size_t)-1) {
            stmt_snippet(b, st, snip, sizeof(snip));
            a->kind[i] = ST_DROP;
            warn(c, st->line, NULL,
                 sk == SU_MODULE
                     ? "dropped '%s': Run:ai pods have no environment modules; "
                       "the image must provide this software"
                 : sk == SU_CONDA
                     ? "dropped '%s': the conda environment must be part of the "
                       "image (or a mounted volume)"
                     : "dropped '%s': the virtual environment must be part of "
                       "the image (or a mounted volume)",
                 snip);
            continue;
        }
        if (!w || !w->value) {
            /* plain assignments: kept */
            continue;
        }
        /* export K=V before the main command: job environment */
        if (a->main == (size_t)-1 && st->ncmds == 1 && !cm->has_redir &&
            !strcmp(w->value, "export")) {
            size_t k = (size_t)(w - cm->words) + 1;
            bool all = k < cm->nwords;
            for (size_t q = k; q < cm->nwords; q++) {
                if (!sh_word_is_assignment(&cm->words[q])) {
                    all = false;
                    break;
                }
                char *name = NULL;
                char *val = resolve_assignment(job, &job->env, &cm->words[q],
                                               &name);
                if (!val) {
                    all = false;
                    break;
                }
                free(name);
                free(val);
            }
            if (all) {
                for (size_t q = k; q < cm->nwords; q++) {
                    char *name = NULL;
                    char *val = resolve_assignment(job, &job->env,
                                                   &cm->words[q], &name);
                    if (val && name && s2r_envv_set(&job->env, name, val))
                        c->oom = true;
                    /* the container runtime passes these on without the
                     * prefix; a pod has no such runtime */
                    const char *bare = !name ? NULL
                        : !strncmp(name, "APPTAINERENV_", 13) ? name + 13
                        : !strncmp(name, "SINGULARITYENV_", 15) ? name + 15
                                                               : NULL;
                    if (val && bare && *bare &&
                        s2r_envv_set(&job->env, bare, val))
                        c->oom = true;
                    free(name);
                    free(val);
                }
                a->kind[i] = ST_LIFTED;
            }
            continue;
        }
        /* cd DIR before the main command: working directory */
        if (a->main == (size_t)-1 && st->ncmds == 1 && !st->background &&
            !strcmp(w->value, "cd")) {
            size_t k = (size_t)(w - cm->words) + 1;
            if (k + 1 != cm->nwords) {
                cwd_sensitive_seen = true;
                continue;
            }
            const sh_word *dw = &cm->words[k];
            const char *dv = dw->value ? dw->value : "";
            if (!strcmp(dv, "$SLURM_SUBMIT_DIR") ||
                !strcmp(dv, "${SLURM_SUBMIT_DIR}")) {
                /* where sbatch starts anyway */
                if (!cwd_sensitive_seen)
                    a->kind[i] = ST_LIFTED;
                continue;
            }
            text r = {0};
            bool ok = dw->literal;
            if (!ok) {
                char *name = NULL;
                (void)name;
                ok = true;
                for (size_t g = 0; g < dw->nsegs && ok; g++) {
                    if (dw->segs[g].type == SH_SEG_LIT)
                        t_puts(&r, dw->segs[g].text);
                    else
                        ok = resolve_raw(job, &job->env, dw->segs[g].text,
                                         dw->segs[g].type == SH_SEG_DQ, &r);
                }
            } else {
                t_puts(&r, dv);
            }
            if (ok && r.p && r.p[0] == '/') {
                free(job->workdir);
                job->workdir = strdup(r.p);
                if (!cwd_sensitive_seen)
                    a->kind[i] = ST_LIFTED;
            } else if (ok && r.p && r.p[0] && r.p[0] != '~' &&
                       r.p[0] != '-' && (job->workdir || job->chdir) &&
                       (job->workdir ? job->workdir : job->chdir)[0] == '/') {
                const char *base = job->workdir ? job->workdir : job->chdir;
                char *j = NULL;
                if (asprintf(&j, "%s%s%s", base,
                             base[strlen(base) - 1] == '/' ? "" : "/",
                             r.p) < 0)
                    c->oom = true;
                free(job->workdir);
                job->workdir = j;
                if (!cwd_sensitive_seen)
                    a->kind[i] = ST_LIFTED;
            } else {
                cwd_sensitive_seen = true;
            }
            free(r.p);
            continue;
        }
        const char *v = base_name(w->value);
        if (strcmp(v, "echo") && strcmp(v, "printf") && strcmp(v, "set") &&
            strcmp(v, "nvidia-smi") && strcmp(v, "hostname") &&
            strcmp(v, "date") && strcmp(v, "ulimit") && strcmp(v, "umask") &&
            strcmp(v, "trap") && strcmp(v, "export") && strcmp(v, "sleep"))
            cwd_sensitive_seen = true;
    }

    /* srun in front of other steps: the pod has no srun */
    for (size_t i = 0; i < b->n; i++) {
        if (i == a->main || a->kind[i] != ST_KEEP)
            continue;
        const sh_stmt *st = &b->stmts[i];
        for (size_t k = 0; k < st->ncmds; k++) {
            const sh_cmd *cm = &st->cmds[k];
            const sh_word *w = cmd_word(cm);
            if (!w || !w->value || strcmp(base_name(w->value), "srun"))
                continue;
            size_t idx = (size_t)(w - cm->words);
            size_t j = s2r_launch__skip_options(s2r_launch_srun, cm->words,
                                                cm->nwords, idx + 1);
            if (j >= cm->nwords)
                continue;
            struct edit *ne = realloc(a->edits, (a->nedits + 1) * sizeof(*ne));
            if (!ne)
                return S2R_ENOMEM;
            a->edits = ne;
            ne[a->nedits].start = w->start;
            ne[a->nedits].end = cm->words[j].start;
            ne[a->nedits].repl = NULL;
            a->nedits++;
            if (top)
                warn(c, cm->line, NULL,
                     "srun dropped from the step at line %d: it runs once, "
                     "in the pod", cm->line);
        }
    }

    if (a->main == (size_t)-1)
        return c->oom ? S2R_ENOMEM : S2R_OK;

    sh_stmt *ms = &b->stmts[a->main];
    do_unwrap(c, &ms->cmds[a->main_cmd], &a->u);
    if (top)
        job->main_line = ms->line;
    if (a->u.image && !job->image)
        job->image = strdup(a->u.image);
    else if (a->u.image) {
        free(job->image);
        job->image = strdup(a->u.image);
    }
    if (a->u.c_workdir && top) {
        if (a->u.c_workdir[0] == '/') {
            free(job->workdir);
            job->workdir = strdup(a->u.c_workdir);
        } else {
            warn(c, ms->line, NULL, "container working directory '%s' is "
                 "not absolute: not used", a->u.c_workdir);
        }
    }
    for (size_t k = 0; top && k < a->u.c_env.n; k++)
        if (s2r_envv_set(&job->env, a->u.c_env.v[k].name,
                         a->u.c_env.v[k].value))
            c->oom = true;
    if (a->u.conda_run && top)
        warn(c, ms->line, NULL,
             "'conda run' dropped: the conda environment must be part of the "
             "image (or a mounted volume)");
    if (a->u.dropped[0] && top)
        warn(c, ms->line, NULL,
             "%s: mounts and host variables need a Run:ai data source or "
             "-e; not carried", a->u.dropped);
    if (a->u.local_image && top)
        warn(c, ms->line, NULL,
             "'%s' is a local container image with no OCI equivalent: the "
             "configured default image is used (set [runai] default_image)",
             a->u.local_image_name ? a->u.local_image_name : "");

    if (a->u.shell_string) {
        /* srun bash -c '...': the command is inside the string */
        const sh_word *sw = a->u.shell_word;
        a->inner = calloc(1, sizeof(*a->inner));
        if (!a->inner)
            return S2R_ENOMEM;
        int rc = analyse_text(c, a->inner, sw->value, strlen(sw->value),
                              sw->line, false);
        if (rc)
            return rc;
        if (a->inner->main == (size_t)-1)
            set_tokens(c, a);
        return S2R_OK;
    }
    set_tokens(c, a);
    return c->oom ? S2R_ENOMEM : S2R_OK;
}

/* decide distributed from the (innermost) unwrapped main command */
static const unwrap *main_unwrap(const analysis *a)
{
    const unwrap *u = &a->u;
    while (a->inner && a->inner->main != (size_t)-1) {
        a = a->inner;
        u = &a->u;
    }
    return u;
}

static void decide_distributed(ctx *c, const analysis *a)
{
    s2r_job *job = c->job;
    if (a->main == (size_t)-1)
        return;
    const unwrap *u = main_unwrap(a);
    bool srun = a->u.srun || u->srun;
    int64_t tasks = total_tasks(job);
    if (a->u.srun_tasks > 0)
        tasks = a->u.srun_tasks;
    if ((u->lk != L_NONE || u->opaque_torch) && job->nodes > 1) {
        job->distributed = S2R_DIST_PYTORCH;
        if (u->opaque_torch)
            warn(c, job->main_line, NULL,
                 "the torch launcher sits in a bash -c string built at run "
                 "time: it is kept as written; make its rendezvous use "
                 "$MASTER_ADDR, $MASTER_PORT and $RANK, which the PyTorchJob "
                 "sets");
    }
    else if (u->lk != L_NONE)
        job->distributed = S2R_DIST_NONE;
    else if ((u->mpi || srun) && (job->nodes > 1 || tasks > 1))
        job->distributed = S2R_DIST_MPI;
}

/* copy src[from, to) without the deleted ranges */
static void copy_edited(text *t, const analysis *a, size_t from, size_t to)
{
    const char *src = a->body.src;
    for (size_t k = 0; k < a->nedits && from < to; k++) {
        const struct edit *e = &a->edits[k];
        if (e->end <= from || e->start >= to)
            continue;
        if (e->start > from)
            t_putn(t, src + from, e->start - from);
        if (e->repl)
            t_puts(t, e->repl);
        from = e->end;
    }
    if (from < to)
        t_putn(t, src + from, to - from);
}

/* render statements of @p a into @p t, the main one rewritten */
static void render_body(ctx *c, analysis *a, text *t, bool top)
{
    const sh_body *b = &a->body;
    size_t prev = 0;
    for (size_t i = 0; i < b->n; i++) {
        const sh_stmt *st = &b->stmts[i];
        if (a->kind[i] == ST_DROP || a->kind[i] == ST_LIFTED) {
            t_putn(t, b->src + prev, st->start - prev);
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
            copy_edited(t, a, prev, st->end);
            prev = st->end;
            continue;
        }
        const sh_cmd *cm = &st->cmds[a->main_cmd];
        size_t ws = cm->words[0].start, we = cm->words[cm->nwords - 1].end;
        if (a->drop_prefix) {
            t_putn(t, b->src + prev, st->start - prev);
        } else {
            t_putn(t, b->src + prev, ws - prev);
        }
        if (a->inner && a->inner->main != (size_t)-1) {
            /* prefix assignments, then the string's commands in place */
            for (size_t k = 0; k < a->u.prefix_end; k++) {
                char *r = sh_word_render(&cm->words[k]);
                if (r) {
                    t_puts(t, r);
                    t_putn(t, " ", 1);
                }
                free(r);
            }
            text inner = {0};
            render_body(c, a->inner, &inner, false);
            if (inner.oom)
                t->oom = true;
            if (inner.p)
                t_puts(t, inner.p);
            free(inner.p);
        } else {
            ow_render(t, &a->ow);
        }
        t_putn(t, b->src + we, st->end - we);
        prev = st->end;
    }
    t_putn(t, b->src + prev, b->len - prev);
    (void)top;
}

static void build_ow(ctx *c, analysis *a, bool top)
{
    if (a->main == (size_t)-1)
        return;
    if (a->inner) {
        build_ow(c, a->inner, false);
        return;
    }
    rewrite_main(c, a, top);
}

/* the only thing left is one simple literal command */
static bool reduces_to_argv(const analysis *a)
{
    if (a->main == (size_t)-1 || a->inner || a->nedits)
        return false;
    /* VAR=x prefixes, exec and time need a shell */
    if (a->u.prefix_end > 0 || a->u.kw_to > a->u.kw_from)
        return false;
    const sh_body *b = &a->body;
    for (size_t i = 0; i < b->n; i++) {
        if (i == a->main || a->kind[i] == ST_DROP || a->kind[i] == ST_LIFTED)
            continue;
        const sh_stmt *st = &b->stmts[i];
        /* `set -e` etc. mean nothing for a single command */
        if (!st->compound && st->ncmds == 1 && !st->cmds[0].has_redir) {
            const sh_word *w = cmd_word(&st->cmds[0]);
            if (w && w->value && !strcmp(w->value, "set"))
                continue;
        }
        return false;
    }
    const sh_stmt *ms = &b->stmts[a->main];
    size_t left = ms->ncmds - (a->drop_prefix ? a->main_cmd : 0);
    if (left != 1 || ms->background || ms->cmds[a->main_cmd].has_redir ||
        ms->pipeline)
        return false;
    for (size_t i = 0; i < a->ow.n; i++)
        if (!ow_literal(&a->ow.v[i]))
            return false;
    return a->ow.n > 0;
}

/* ------------------------------------------------------------------ */
/* servers: notebooks and model servers listen where Run:ai routes      */
/* ------------------------------------------------------------------ */

static int cmp_edit(const void *x, const void *y)
{
    const struct edit *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* replace source bytes [start, end) of a kept statement by @p repl */
static void add_edit(ctx *c, analysis *a, size_t start, size_t end,
                     const char *repl)
{
    struct edit *ne = realloc(a->edits, (a->nedits + 1) * sizeof(*ne));
    char *r = repl ? strdup(repl) : NULL;
    if (!ne || (repl && !r)) {
        free(ne == a->edits ? NULL : ne);
        free(r);
        c->oom = true;
        return;
    }
    a->edits = ne;
    ne[a->nedits++] = (struct edit){start, end, r};
    qsort(a->edits, a->nedits, sizeof(*a->edits), cmp_edit);
}

/* a rewritten word of the main command now reads @p txt (literal) */
static void ow_override(ctx *c, owords *o, const sh_word *src,
                        const char *txt)
{
    for (size_t i = 0; i < o->n; i++) {
        if (o->v[i].w != src)
            continue;
        free(o->v[i].txt);
        o->v[i].txt = strdup(txt);
        o->v[i].w = NULL;
        o->v[i].raw = false;
        if (!o->v[i].txt)
            c->oom = true;
    }
}

/* 1..65535 written in digits, else 0 */
static int port_number(const char *v)
{
    if (!v || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 5)
        return 0;
    long p = strtol(v, NULL, 10);
    return p > 0 && p < 65536 ? (int)p : 0;
}

/* NAME when @p v is exactly "$NAME" or "${NAME}" */
static bool var_ref(const char *v, char *out, size_t cap)
{
    if (v[0] != '$')
        return false;
    bool brace = v[1] == '{';
    const char *p = v + 1 + brace;
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_')
        n++;
    if (n == 0 || n >= cap || isdigit((unsigned char)p[0]))
        return false;
    if (brace ? strcmp(p + n, "}") : p[n] != '\0')
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* the word of the last plain or exported assignment to @p name among the
 * statements before @p before */
static const sh_word *find_assignment(const analysis *a, size_t before,
                                      const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = before; i-- > 0;) {
        const sh_stmt *st = &a->body.stmts[i];
        if (st->compound || st->ncmds != 1 || a->kind[i] != ST_KEEP)
            continue;
        const sh_cmd *cm = &st->cmds[0];
        size_t k = cm->nwords && word_is(&cm->words[0], "export") ? 1 : 0;
        for (; k < cm->nwords && sh_word_is_assignment(&cm->words[k]); k++) {
            const char *t = cm->words[k].segs[0].text;
            if (!strncmp(t, name, nl) && t[nl] == '=')
                return &cm->words[k];
        }
    }
    return NULL;
}

/* the value of option word @p w: after '=' when attached */
static const char *opt_val(const sh_word *w, bool attached)
{
    const char *v = w->value ? w->value : "";
    const char *eq = attached ? strchr(v, '=') : NULL;
    return eq ? eq + 1 : v;
}

/* the option word (with its name) now carries @p val */
static void set_opt(ctx *c, analysis *x, const sh_word *w, bool attached,
                    const char *val)
{
    char buf[256];
    if (attached)
        snprintf(buf, sizeof(buf), "%.*s=%s",
                 (int)strcspn(w->value, "="), w->value, val);
    else
        snprintf(buf, sizeof(buf), "%s", val);
    ow_override(c, &x->ow, w, buf);
}

/* the port the server reads from variable @p name: a literal assignment
 * is kept; a computed one (a random port for an ssh tunnel) becomes
 * NAME=PORT in place */
static int fix_port_var(ctx *c, analysis *x, const sh_word *opt,
                        bool attached, const char *name, int port)
{
    const sh_word *as = find_assignment(x, x->main, name);
    char buf[96];
    if (!as) {
        snprintf(buf, sizeof(buf), "%d", port);
        set_opt(c, x, opt, attached, buf);
        note(c, opt->line, "the server's port comes from $%s, which the "
             "script does not set: it listens on %d, which the workload "
             "exposes", name, port);
        return port;
    }
    const char *v = strchr(as->value ? as->value : "", '=');
    int lit = as->literal && v ? port_number(v + 1) : 0;
    if (lit)
        return lit;
    snprintf(buf, sizeof(buf), "%s=%d", name, port);
    add_edit(c, x, as->start, as->end, buf);
    note(c, as->line, "'%s' picks a port for an ssh tunnel; in the pod it "
         "is %s, which the workload exposes", as->value ? as->value : name,
         buf);
    return port;
}

static int server_port(ctx *c, analysis *x, const s2r_server_def *def,
                       size_t from)
{
    const unwrap *u = &x->u;
    bool att = false;
    size_t pi = s2r_server_find_opt(u->words, u->n, from, def->port_opts,
                                    &att);
    if (pi >= u->n)
        return def->default_port;
    const sh_word *w = &u->words[pi];
    const char *v = opt_val(w, att);
    int lit = w->literal ? port_number(v) : 0;
    char name[64];
    if (lit)
        return lit;
    if (var_ref(v, name, sizeof(name)))
        return fix_port_var(c, x, w, att, name, def->default_port);
    char buf[16];
    snprintf(buf, sizeof(buf), "%d", def->default_port);
    set_opt(c, x, w, att, buf);
    note(c, w->line, "the server's port '%s' is computed at run time: it "
         "listens on %d, which the workload exposes", v, def->default_port);
    return def->default_port;
}

static bool listens_everywhere(const char *v)
{
    return !strcmp(v, "0.0.0.0") || !strcmp(v, "::") || !strcmp(v, "*") ||
           !strcmp(v, "[::]");
}

/* the server listens on every interface of the pod, where Run:ai routes */
static int server_host(ctx *c, analysis *x, const s2r_server_def *def,
                       size_t from, int port)
{
    const unwrap *u = &x->u;
    bool att = false;
    size_t hi = s2r_server_find_opt(u->words, u->n, from, def->host_opts,
                                    &att);
    char buf[64];
    if (hi < u->n) {
        const sh_word *w = &u->words[hi];
        const char *v = opt_val(w, att);
        if (def->host_port) {
            const char *colon = strrchr(v, ':');
            int p = w->literal && colon ? port_number(colon + 1) : 0;
            if (p && (size_t)(colon - v) == 7 && !strncmp(v, "0.0.0.0", 7))
                return p;
            port = p ? p : port;
            snprintf(buf, sizeof(buf), "0.0.0.0:%d", port);
        } else if (w->literal && listens_everywhere(v)) {
            return port;
        } else {
            snprintf(buf, sizeof(buf), "0.0.0.0");
        }
        set_opt(c, x, w, att, buf);
        note(c, w->line, "%s listens on %s in the pod (was '%s'), so that "
             "Run:ai can route to it", def->name, buf, v);
        return port;
    }
    if (def->listen_all) {
        ow_push(&x->ow, NULL, def->listen_all, false);
        note(c, x->body.stmts[x->main].line, "%s gets %s: by default it "
             "listens on the loopback interface only, where Run:ai cannot "
             "route", def->name, def->listen_all);
    }
    return port;
}

/* printed ssh-tunnel instructions (echo, printf, cat <<EOF) */
static void drop_tunnel_text(ctx *c, analysis *a, int port)
{
    for (size_t i = 0; i < a->body.n; i++) {
        const sh_stmt *st = &a->body.stmts[i];
        if (a->kind[i] != ST_KEEP || st->compound || st->ncmds != 1)
            continue;
        const sh_word *w = cmd_word(&st->cmds[0]);
        const char *v = w && w->value ? base_name(w->value) : "";
        if (strcmp(v, "echo") && strcmp(v, "printf") && strcmp(v, "cat"))
            continue;
        if (!stmt_text_has(&a->body, st, "ssh ") ||
            !(stmt_text_has(&a->body, st, "-L") ||
              stmt_text_has(&a->body, st, "tunnel")))
            continue;
        char snip[160];
        stmt_snippet(&a->body, st, snip, sizeof(snip));
        a->kind[i] = ST_DROP;
        note(c, st->line, "dropped '%s': ssh-tunnel instructions do not "
             "apply; Run:ai exposes port %d of the workload", snip, port);
    }
}

/* A main command that is a long-running server (servers.h): the job
 * records it and its port; the command listens on every interface. */
static void setup_server(ctx *c, analysis *a)
{
    analysis *x = a;
    while (x->inner && x->inner->main != (size_t)-1)
        x = x->inner;
    if (x->main == (size_t)-1 || x->u.lk != L_NONE || x->u.mpi)
        return;
    size_t from = 0;
    const s2r_server_def *def = s2r_server_match(x->u.words, x->u.n,
                                                 x->u.prog, &from);
    if (!def)
        return;
    s2r_job *job = c->job;
    free(job->server);
    if (!(job->server = strdup(def->name))) {
        c->oom = true;
        return;
    }
    job->serving = def->serving;
    int port = server_port(c, x, def, from);
    job->server_port = server_host(c, x, def, from, port);
    drop_tunnel_text(c, a, job->server_port);
}

/* ------------------------------------------------------------------ */
/* SLURM stand-ins: constants as env, per-pod values in a prelude       */
/* ------------------------------------------------------------------ */

static bool mentions(const char *s, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = s; (p = strstr(p, name)); p += n) {
        char after = p[n];
        char before = p > s ? p[-1] : ' ';
        if ((isalnum((unsigned char)after) || after == '_') ||
            isalnum((unsigned char)before) || before == '_')
            continue;
        return true;
    }
    return false;
}

static const char *const slurm_consts[] = {
    "SLURM_CPUS_PER_TASK", "SLURM_NNODES", "SLURM_JOB_NUM_NODES",
    "SLURM_NTASKS", "SLURM_NPROCS", "SLURM_NTASKS_PER_NODE",
    "SLURM_JOB_NAME", "SLURM_CPUS_ON_NODE", "SLURM_JOB_CPUS_PER_NODE",
    "SLURM_GPUS_ON_NODE", "SLURM_MEM_PER_NODE", "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_JOB_PARTITION",
    "SLURM_JOB_ACCOUNT", NULL};

static void add_prelude(ctx *c, text *pre, const char *body)
{
    s2r_job *job = c->job;
    if (!strstr(body, "SLURM_"))
        return;
    for (size_t i = 0; slurm_consts[i]; i++) {
        if (!mentions(body, slurm_consts[i]))
            continue;
        char *v = NULL;
        if (s2r_body__slurm_var(job, slurm_consts[i], &v) == 1 &&
            s2r_envv_set(&job->slurm_env, slurm_consts[i], v))
            c->oom = true;
        free(v);
    }
    /* SLURM_ARRAY_TASK_ID itself comes from the workload's index list
     * (the YAML Indexed Job maps JOB_COMPLETION_INDEX to it) */
    if (job->array && mentions(body, "SLURM_ARRAY_JOB_ID"))
        t_puts(pre, "export SLURM_ARRAY_JOB_ID=\"${RUNAI_JOB_NAME:-0}\"\n");
    if (mentions(body, "SLURM_JOB_ID") || mentions(body, "SLURM_JOBID"))
        t_puts(pre, "export SLURM_JOB_ID=\"${RUNAI_JOB_UUID:-${HOSTNAME:-0}}\" "
                    "SLURM_JOBID=\"${RUNAI_JOB_UUID:-${HOSTNAME:-0}}\"\n");
    if (mentions(body, "SLURM_NODEID"))
        t_puts(pre, "export SLURM_NODEID=\"${PET_NODE_RANK:-${RANK:-0}}\"\n");
    if (mentions(body, "SLURM_PROCID"))
        t_puts(pre, "export SLURM_PROCID=\"${RANK:-${OMPI_COMM_WORLD_RANK:-0}}\"\n");
    if (mentions(body, "SLURM_LOCALID"))
        t_puts(pre, "export SLURM_LOCALID=\"${LOCAL_RANK:-"
                    "${OMPI_COMM_WORLD_LOCAL_RANK:-0}}\"\n");
    if (mentions(body, "SLURM_SUBMIT_DIR"))
        t_puts(pre, "export SLURM_SUBMIT_DIR=\"$PWD\"\n");
    if (mentions(body, "SLURM_TMPDIR"))
        t_puts(pre, "export SLURM_TMPDIR=\"${TMPDIR:-/tmp}\"\n");
    if (mentions(body, "SLURM_RESTART_COUNT"))
        t_puts(pre, "export SLURM_RESTART_COUNT=0\n");
    if (mentions(body, "SLURM_JOB_NODELIST") || mentions(body, "SLURM_NODELIST"))
        warn(c, 0, NULL, "the script reads SLURM_JOB_NODELIST: SLURM host "
                         "lists have no Run:ai equivalent (use MASTER_ADDR or "
                         "the MPI hostfile)");
}

/* trim blank lines at both ends and squeeze runs of blank lines */
static char *tidy(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 2);
    if (!out)
        return NULL;
    size_t o = 0;
    int blank_run = 0;
    const char *p = s;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        bool blank = true;
        for (size_t i = 0; i < ll; i++)
            if (!isspace((unsigned char)p[i]))
                blank = false;
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

static void shebang(s2r_job *job, const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);
    size_t ll = nl ? (size_t)(nl - buf) : len;
    char line[256];
    size_t n = ll - 2 < sizeof(line) - 1 ? ll - 2 : sizeof(line) - 1;
    if (ll < 2) {
        job->shebang_shell = strdup("bash");
        return;
    }
    memcpy(line, buf + 2, n);
    line[n] = '\0';
    char *save = NULL;
    char *tok = strtok_r(line, " \t", &save);
    if (tok && !strcmp(base_name(tok), "env")) {
        tok = strtok_r(NULL, " \t", &save);
        while (tok && tok[0] == '-')
            tok = strtok_r(NULL, " \t", &save);
    }
    job->shebang_shell = strdup(tok ? base_name(tok) : "bash");
}

static bool is_shell(const char *s)
{
    return !strcmp(s, "bash") || !strcmp(s, "sh") || !strcmp(s, "dash") ||
           !strcmp(s, "ksh") || !strcmp(s, "zsh");
}

int s2r_body__analyse(s2r_job *job, const char *buf, size_t len,
                      size_t body_off, int body_line, const s2r_config *cfg,
                      s2r_diags *d)
{
    ctx c = {.job = job, .cfg = cfg, .d = d, .file = job->file};
    shebang(job, buf, len);
    if (!job->shebang_shell)
        return S2R_ENOMEM;

    /* --export K=V entries come first; script exports override them */
    for (size_t i = 0; i < job->export_env.n; i++)
        if (s2r_envv_set(&job->env, job->export_env.v[i].name,
                         job->export_env.v[i].value))
            return S2R_ENOMEM;
    if (job->chdir && job->chdir[0] == '/') {
        job->workdir = strdup(job->chdir);
        if (!job->workdir)
            return S2R_ENOMEM;
    } else if (job->chdir) {
        /* relative to the directory sbatch ran in, which a pod lacks */
        int cl = 0;
        for (size_t k = 0; k < job->n_directives; k++)
            if (!strcmp(job->directives[k].name, "chdir"))
                cl = job->directives[k].line;
        warn(&c, cl, "chdir", "--chdir=%s is relative to the directory "
             "sbatch was run in, which a Run:ai pod does not have: no "
             "working directory is set (give an absolute path)", job->chdir);
    }
    if (job->container_image && is_local_image(job->container_image)) {
        warn(&c, 0, "container-image", "--container-image=%s is a local "
             "image file with no OCI equivalent: the configured default "
             "image is used (set [runai] default_image)",
             job->container_image);
    } else if (job->container_image) {
        job->image = strdup(job->container_image);
    }

    if (!is_shell(job->shebang_shell)) {
        /* the whole script is a program for another interpreter */
        const char *nl = memchr(buf, '\n', len);
        size_t off = nl ? (size_t)(nl - buf) + 1 : len;
        char *prog = strndup(buf + off, len - off);
        if (!prog || s2r_strv_push(&job->run_argv, job->shebang_shell) ||
            s2r_strv_push(&job->run_argv, "-c") ||
            s2r_strv_push(&job->run_argv, prog) ||
            s2r_strv_push(&job->command_tokens, job->shebang_shell)) {
            free(prog);
            return S2R_ENOMEM;
        }
        free(prog);
        note(&c, 1, "the script is a %s program: it runs as '%s -c SCRIPT'",
             job->shebang_shell, job->shebang_shell);
        return S2R_OK;
    }

    analysis a = {0};
    int rc = analyse_text(&c, &a, buf + body_off, len - body_off, body_line,
                          true);
    if (rc) {
        analysis_free(&a);
        return rc;
    }
    decide_distributed(&c, &a);
    build_ow(&c, &a, true);
    if (job->distributed == S2R_DIST_NONE && !job->array)
        setup_server(&c, &a);
    if (a.ow.oom || c.oom) {
        analysis_free(&a);
        return S2R_ENOMEM;
    }

    if (a.main == (size_t)-1)
        warn(&c, body_line, NULL,
             "no main command found: the whole body runs as a bash script");

    text body = {0};
    render_body(&c, &a, &body, true);
    char *tidied = tidy(body.p ? body.p : "");
    free(body.p);
    if (!tidied || body.oom) {
        free(tidied);
        analysis_free(&a);
        return S2R_ENOMEM;
    }

    text pre = {0};
    add_prelude(&c, &pre, tidied);
    job->uses_array_index = mentions(tidied, "SLURM_ARRAY_TASK_ID");

    if (tidied[0] == '\0' && pre.n == 0) {
        /* e.g. `apptainer run docker://img`: the image's own command */
        note(&c, job->main_line, "the script runs the image's default "
             "command (its entrypoint)");
    } else if (reduces_to_argv(&a) && pre.n == 0) {
        for (size_t i = 0; i < a.ow.n; i++)
            if (s2r_strv_push(&job->run_argv, ow_value(&a.ow.v[i])))
                c.oom = true;
        job->run_args_only = a.u.run_args;
    } else {
        if (a.u.run_args)
            warn(&c, job->main_line, NULL,
                 "'singularity run' inside a longer script: the image's "
                 "runscript is not known here, so its arguments run as a "
                 "command; name the program explicitly");
        text all = {0};
        if (pre.p)
            t_puts(&all, pre.p);
        t_puts(&all, tidied);
        job->run_shell = all.p ? all.p : strdup("");
        if (all.oom)
            c.oom = true;
    }
    free(pre.p);
    free(tidied);
    analysis_free(&a);
    return c.oom ? S2R_ENOMEM : S2R_OK;
}
