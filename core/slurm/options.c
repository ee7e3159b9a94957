/**
 * @file slurm_options.c
 * @brief The sbatch option table, getopt_long("+") over the directive argv,
 *        option setters, cross-option checks and derived facts.
 *
 * Option names, short letters and argument kinds follow sbatch(1) (Slurm
 * 24.x-26.x) and pyxis' SPANK options; rules follow getopt_long(3) and
 * src/common/slurm_opt.c. No Slurm code is copied.
 */
#include "slurm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ S2R_SLURM_ARG_NONE
#define R_ S2R_SLURM_ARG_REQUIRED
#define O_ S2R_SLURM_ARG_OPTIONAL

/* Sorted by strcmp(name): s2r_slurm__find_long() bisects it. */
static const s2r_slurm_option k_options[] = {
    {"account", 'A', R_, S2R_SLURM_K_ACCOUNT, false},
    {"acctg-freq", 0, R_, S2R_SLURM_K_STRING, false},
    {"array", 'a', R_, S2R_SLURM_K_ARRAY, false},
    {"batch", 0, R_, S2R_SLURM_K_STRING, false},
    {"bb", 0, R_, S2R_SLURM_K_STRING, false},
    {"bbf", 0, R_, S2R_SLURM_K_STRING, false},
    {"begin", 'b', R_, S2R_SLURM_K_STRING, false},
    {"chdir", 'D', R_, S2R_SLURM_K_CHDIR, false},
    {"cluster-constraint", 0, R_, S2R_SLURM_K_STRING, false},
    {"clusters", 'M', R_, S2R_SLURM_K_STRING, false},
    {"comment", 0, R_, S2R_SLURM_K_STRING, false},
    {"constraint", 'C', R_, S2R_SLURM_K_STRING, false},
    {"container", 0, R_, S2R_SLURM_K_STRING, false},
    {"container-entrypoint", 0, N_, S2R_SLURM_K_STRING, true},
    {"container-entrypoint-log", 0, N_, S2R_SLURM_K_STRING, true},
    {"container-env", 0, R_, S2R_SLURM_K_STRING, true},
    {"container-id", 0, R_, S2R_SLURM_K_STRING, false},
    {"container-image", 0, R_, S2R_SLURM_K_CONTAINER_IMAGE, true},
    {"container-mount-home", 0, N_, S2R_SLURM_K_STRING, true},
    {"container-mounts", 0, R_, S2R_SLURM_K_STRING, true},
    {"container-name", 0, R_, S2R_SLURM_K_STRING, true},
    {"container-readonly", 0, N_, S2R_SLURM_K_STRING, true},
    {"container-remap-root", 0, N_, S2R_SLURM_K_STRING, true},
    {"container-save", 0, R_, S2R_SLURM_K_STRING, true},
    {"container-workdir", 0, R_, S2R_SLURM_K_STRING, true},
    {"container-writable", 0, N_, S2R_SLURM_K_STRING, true},
    {"contiguous", 0, N_, S2R_SLURM_K_STRING, false},
    {"core-spec", 'S', R_, S2R_SLURM_K_STRING, false},
    {"cores-per-socket", 0, R_, S2R_SLURM_K_STRING, false},
    {"cpu-freq", 0, R_, S2R_SLURM_K_STRING, false},
    {"cpus-per-gpu", 0, R_, S2R_SLURM_K_CPUS_PER_GPU, false},
    {"cpus-per-task", 'c', R_, S2R_SLURM_K_CPUS_PER_TASK, false},
    {"deadline", 0, R_, S2R_SLURM_K_STRING, false},
    {"delay-boot", 0, R_, S2R_SLURM_K_STRING, false},
    {"dependency", 'd', R_, S2R_SLURM_K_STRING, false},
    {"distribution", 'm', R_, S2R_SLURM_K_STRING, false},
    {"error", 'e', R_, S2R_SLURM_K_STRING, false},
    {"exclude", 'x', R_, S2R_SLURM_K_STRING, false},
    {"exclusive", 0, O_, S2R_SLURM_K_EXCLUSIVE, false},
    {"export", 0, R_, S2R_SLURM_K_EXPORT, false},
    {"export-file", 0, R_, S2R_SLURM_K_STRING, false},
    {"extra", 0, R_, S2R_SLURM_K_STRING, false},
    {"extra-node-info", 'B', R_, S2R_SLURM_K_STRING, false},
    {"get-user-env", 0, O_, S2R_SLURM_K_STRING, false},
    {"gid", 0, R_, S2R_SLURM_K_STRING, false},
    {"gpu-bind", 0, R_, S2R_SLURM_K_STRING, false},
    {"gpu-freq", 0, R_, S2R_SLURM_K_STRING, false},
    {"gpus", 'G', R_, S2R_SLURM_K_GPUS, false},
    {"gpus-per-node", 0, R_, S2R_SLURM_K_GPUS_PER_NODE, false},
    {"gpus-per-socket", 0, R_, S2R_SLURM_K_STRING, false},
    {"gpus-per-task", 0, R_, S2R_SLURM_K_GPUS_PER_TASK, false},
    {"gres", 0, R_, S2R_SLURM_K_GRES, false},
    {"gres-flags", 0, R_, S2R_SLURM_K_STRING, false},
    {"help", 'h', N_, S2R_SLURM_K_IGNORED, false},
    {"hint", 0, R_, S2R_SLURM_K_STRING, false},
    {"hold", 'H', N_, S2R_SLURM_K_STRING, false},
    {"ignore-pbs", 0, N_, S2R_SLURM_K_STRING, false},
    {"input", 'i', R_, S2R_SLURM_K_STRING, false},
    {"job-name", 'J', R_, S2R_SLURM_K_JOB_NAME, false},
    {"kill-on-invalid-dep", 0, R_, S2R_SLURM_K_STRING, false},
    {"licenses", 'L', R_, S2R_SLURM_K_STRING, false},
    {"mail-type", 0, R_, S2R_SLURM_K_STRING, false},
    {"mail-user", 0, R_, S2R_SLURM_K_STRING, false},
    {"mcs-label", 0, R_, S2R_SLURM_K_STRING, false},
    {"mem", 0, R_, S2R_SLURM_K_MEM, false},
    {"mem-bind", 0, R_, S2R_SLURM_K_STRING, false},
    {"mem-per-cpu", 0, R_, S2R_SLURM_K_MEM_PER_CPU, false},
    {"mem-per-gpu", 0, R_, S2R_SLURM_K_MEM_PER_GPU, false},
    {"mincpus", 0, R_, S2R_SLURM_K_POSINT, false},
    {"network", 0, R_, S2R_SLURM_K_STRING, false},
    {"nice", 0, O_, S2R_SLURM_K_NICE, false},
    {"no-container-entrypoint", 0, N_, S2R_SLURM_K_STRING, true},
    {"no-container-mount-home", 0, N_, S2R_SLURM_K_STRING, true},
    {"no-container-remap-root", 0, N_, S2R_SLURM_K_STRING, true},
    {"no-kill", 'k', O_, S2R_SLURM_K_STRING, false},
    {"no-requeue", 0, N_, S2R_SLURM_K_STRING, false},
    {"nodefile", 'F', R_, S2R_SLURM_K_STRING, false},
    {"nodelist", 'w', R_, S2R_SLURM_K_STRING, false},
    {"nodes", 'N', R_, S2R_SLURM_K_NODES, false},
    {"ntasks", 'n', R_, S2R_SLURM_K_NTASKS, false},
    {"ntasks-per-core", 0, R_, S2R_SLURM_K_POSINT, false},
    {"ntasks-per-gpu", 0, R_, S2R_SLURM_K_NTASKS_PER_GPU, false},
    {"ntasks-per-node", 0, R_, S2R_SLURM_K_NTASKS_PER_NODE, false},
    {"ntasks-per-socket", 0, R_, S2R_SLURM_K_POSINT, false},
    {"ntasks-per-tres", 0, R_, S2R_SLURM_K_POSINT, false},
    {"oom-kill-step", 0, O_, S2R_SLURM_K_STRING, false},
    {"open-mode", 0, R_, S2R_SLURM_K_OPEN_MODE, false},
    {"output", 'o', R_, S2R_SLURM_K_STRING, false},
    {"overcommit", 'O', N_, S2R_SLURM_K_STRING, false},
    {"oversubscribe", 's', N_, S2R_SLURM_K_OVERSUBSCRIBE, false},
    {"parsable", 0, N_, S2R_SLURM_K_STRING, false},
    {"partition", 'p', R_, S2R_SLURM_K_PARTITION, false},
    {"prefer", 0, R_, S2R_SLURM_K_STRING, false},
    {"priority", 0, R_, S2R_SLURM_K_STRING, false},
    {"profile", 0, R_, S2R_SLURM_K_STRING, false},
    {"propagate", 0, O_, S2R_SLURM_K_STRING, false},
    {"qos", 'q', R_, S2R_SLURM_K_STRING, false},
    {"quiet", 'Q', N_, S2R_SLURM_K_IGNORED, false},
    {"reboot", 0, N_, S2R_SLURM_K_STRING, false},
    {"requeue", 0, O_, S2R_SLURM_K_STRING, false},
    {"reservation", 0, R_, S2R_SLURM_K_STRING, false},
    {"resv-ports", 0, O_, S2R_SLURM_K_STRING, false},
    {"segment", 0, R_, S2R_SLURM_K_STRING, false},
    {"signal", 0, R_, S2R_SLURM_K_STRING, false},
    {"sockets-per-node", 0, R_, S2R_SLURM_K_STRING, false},
    {"spread-job", 0, N_, S2R_SLURM_K_STRING, false},
    {"stepmgr", 0, N_, S2R_SLURM_K_STRING, false},
    {"switches", 0, R_, S2R_SLURM_K_STRING, false},
    {"test-only", 0, N_, S2R_SLURM_K_STRING, false},
    {"thread-spec", 0, R_, S2R_SLURM_K_STRING, false},
    {"threads-per-core", 0, R_, S2R_SLURM_K_STRING, false},
    {"time", 't', R_, S2R_SLURM_K_TIME, false},
    {"time-min", 0, R_, S2R_SLURM_K_TIME_MIN, false},
    {"tmp", 0, R_, S2R_SLURM_K_TMP, false},
    {"tres-bind", 0, R_, S2R_SLURM_K_STRING, false},
    {"tres-per-task", 0, R_, S2R_SLURM_K_TRES_PER_TASK, false},
    {"uid", 0, R_, S2R_SLURM_K_STRING, false},
    {"usage", 0, N_, S2R_SLURM_K_IGNORED, false},
    {"use-min-nodes", 0, N_, S2R_SLURM_K_STRING, false},
    {"verbose", 'v', N_, S2R_SLURM_K_IGNORED, false},
    {"version", 'V', N_, S2R_SLURM_K_IGNORED, false},
    {"wait", 'W', N_, S2R_SLURM_K_STRING, false},
    {"wait-all-nodes", 0, R_, S2R_SLURM_K_STRING, false},
    {"wckey", 0, R_, S2R_SLURM_K_STRING, false},
    {"wrap", 0, R_, S2R_SLURM_K_IGNORED, false},
};

#define N_OPTIONS (sizeof(k_options) / sizeof(k_options[0]))

const s2r_slurm_option *s2r_slurm__options(size_t *n_out)
{
    *n_out = N_OPTIONS;
    return k_options;
}

/* strcmp of the first @p len bytes of @p name against a NUL-terminated
 * table name, treating @p name as a NUL-terminated string of length len. */
static int cmp_name(const char *name, size_t len, const char *tab)
{
    size_t tl = strlen(tab);
    size_t m = len < tl ? len : tl;
    int c = memcmp(name, tab, m);
    if (c)
        return c;
    return (len > tl) - (len < tl);
}

const s2r_slurm_option *s2r_slurm__find_long(const char *name, size_t len,
                                             int *status_out)
{
    /* first entry >= name */
    size_t lo = 0, hi = N_OPTIONS;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_name(name, len, k_options[mid].name) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (len == 0) {
        *status_out = S2R_SLURM_UNKNOWN;
        return NULL;
    }
    if (lo < N_OPTIONS && cmp_name(name, len, k_options[lo].name) == 0) {
        *status_out = S2R_SLURM_FOUND;
        return &k_options[lo];
    }
    /* entries with this prefix follow contiguously */
    size_t n = 0;
    while (lo + n < N_OPTIONS &&
           strncmp(k_options[lo + n].name, name, len) == 0 &&
           strlen(k_options[lo + n].name) >= len)
        n++;
    if (n == 1) {
        *status_out = S2R_SLURM_FOUND;
        return &k_options[lo];
    }
    *status_out = n ? S2R_SLURM_AMBIGUOUS : S2R_SLURM_UNKNOWN;
    return NULL;
}

const s2r_slurm_option *s2r_slurm__find_short(char c)
{
    if (c == 0)
        return NULL;
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (k_options[i].short_name == c)
            return &k_options[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Parser state                                                        */
/* ------------------------------------------------------------------ */

typedef struct gpu_req {
    bool set;
    int line;
    int64_t count;
    const char *type; /* into the argv arena */
    size_t type_len;
} gpu_req;

typedef struct pstate {
    s2r_job *job;
    const char *file;
    s2r_diags *d;
    int rc; /* first error status */

    bool mem_set, mpc_set, mpg_set;
    int64_t mem, mpc, mpg;
    int mem_line, mpc_line, mpg_line;
    gpu_req gres, gpus, gpn, gpt;
    bool ntasks_set, ntpn_set, cpt_set, cpg_set;
    int cpt_line, cpg_line, ntpn_line;
    bool nodes_set;
    int nodes_line;
    bool time_set;
    int64_t time;
    bool exclusive_set, oversub_set, ntasks_per_gpu_set, tres_per_task_set;
    int exclusive_line, oversub_line, ntpg_line, tpt_line;
} pstate;

/* " (contains a non-breaking space ...)" when @p s has U+00A0 in UTF-8. */
static const char *nbsp_hint(const char *s)
{
    if (s && strstr(s, "\xc2\xa0"))
        return " (it contains a non-breaking space U+00A0, which sbatch "
               "does not treat as whitespace; use a plain space)";
    return "";
}

static void perr(pstate *st, int line, const char *option, const char *hint_of,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void perr(pstate *st, int line, const char *option, const char *hint_of,
                 const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (s2r_diags_add(st->d, S2R_SEV_ERROR, st->file, line, option, "%s%s",
                      msg, nbsp_hint(hint_of)) != 0)
        st->rc = S2R_ENOMEM;
    else if (st->rc == 0)
        st->rc = S2R_EINVAL;
}

/* A positive integer value (per sbatch's parse_int): true and *n set, or
 * false after reporting "Invalid numeric value" for the option. */
static bool posint(pstate *st, int line, const char *name, const char *v,
                   int64_t *n)
{
    if (s2r_slurm__parse_int(v, true, n) == 0)
        return true;
    perr(st, line, name, v, "Invalid numeric value \"%s\" for --%s", v, name);
    return false;
}

/* Record an effective option: last occurrence wins, first-seen order. */
static int record(pstate *st, const char *name, const char *value, int line)
{
    s2r_job *job = st->job;
    for (size_t i = 0; i < job->n_directives; i++) {
        s2r_directive *dv = &job->directives[i];
        if (strcmp(dv->name, name) == 0) {
            char *v = value ? strdup(value) : NULL;
            if (value && !v)
                return S2R_ENOMEM;
            free(dv->value);
            dv->value = v;
            dv->line = line;
            return 0;
        }
    }
    if ((job->n_directives & (job->n_directives - 1)) == 0) {
        size_t cap = job->n_directives ? job->n_directives * 2 : 8;
        if (cap < 8)
            cap = 8;
        s2r_directive *nv = realloc(job->directives, cap * sizeof(*nv));
        if (!nv)
            return S2R_ENOMEM;
        job->directives = nv;
    }
    s2r_directive *dv = &job->directives[job->n_directives];
    dv->name = strdup(name);
    dv->value = value ? strdup(value) : NULL;
    dv->line = line;
    if (!dv->name || (value && !dv->value)) {
        free(dv->name);
        free(dv->value);
        return S2R_ENOMEM;
    }
    job->n_directives++;
    return 0;
}

static int set_str(char **field, const char *value)
{
    char *v = strdup(value);
    if (!v)
        return S2R_ENOMEM;
    free(*field);
    *field = v;
    return 0;
}

static void set_gpu_req(pstate *st, gpu_req *g, const char *opt,
                        const char *v, int line, bool gres)
{
    int64_t n;
    const char *t;
    size_t tl;
    int rc = gres ? s2r_slurm__parse_gres(v, &n, &t, &tl)
                  : s2r_slurm__parse_gpu_spec(v, &n, &t, &tl);
    if (rc != 0) {
        perr(st, line, opt, v,
             gres ? "Invalid --gres specification '%s': expected "
                    "name[:type][:count][,...], e.g. gpu:a100:2"
                  : "Invalid --%s specification '%s': expected "
                    "[type:]count[,...], e.g. a100:2",
             gres ? v : opt, gres ? "" : v);
        return;
    }
    g->set = true;
    g->line = line;
    g->count = n;
    g->type = t;
    g->type_len = tl;
}

/* Run the setter of one occurrence. Returns S2R_ENOMEM or 0 (value errors
 * are reported through perr()). */
static int apply(pstate *st, const s2r_slurm_option *o, const char *v,
                 int line)
{
    s2r_job *job = st->job;
    const char *name = o->name;
    int64_t n;

    if (o->kind == S2R_SLURM_K_IGNORED) {
        if (s2r_diags_add(st->d, S2R_SEV_NOTE, st->file, line, NULL,
                          "ignored: --%s has no effect in a batch script "
                          "(sbatch honours it only on the command line)",
                          name) != 0)
            return S2R_ENOMEM;
        return 0;
    }
    if (record(st, name, v, line) != 0)
        return S2R_ENOMEM;

    switch ((s2r_slurm_kind)o->kind) {
    case S2R_SLURM_K_STRING:
    case S2R_SLURM_K_IGNORED:
        break;
    case S2R_SLURM_K_POSINT:
        posint(st, line, name, v, &n);
        break;
    case S2R_SLURM_K_ACCOUNT:
        return set_str(&job->account, v);
    case S2R_SLURM_K_CHDIR:
        return set_str(&job->chdir, v);
    case S2R_SLURM_K_JOB_NAME:
        return set_str(&job->job_name, v);
    case S2R_SLURM_K_CONTAINER_IMAGE: {
        char *img = s2r_slurm__image_to_oci(v);
        if (!img)
            return S2R_ENOMEM;
        free(job->container_image);
        job->container_image = img;
        break;
    }
    case S2R_SLURM_K_ARRAY: {
        s2r_array a;
        int rc = s2r_slurm__parse_array(v, &a);
        if (rc == S2R_ENOMEM)
            return rc;
        if (rc != 0) {
            perr(st, line, name, v,
                 "Invalid job array specification '%s': expected N, N-M or "
                 "N-M:S (0 <= N <= M < %d, S >= 1), comma-separated, with "
                 "an optional %%K throttle",
                 v, S2R_SLURM_MAX_ARRAY_SIZE);
            break;
        }
        s2r_array *pa = job->array ? job->array : malloc(sizeof(*pa));
        if (!pa) {
            free(a.indices);
            return S2R_ENOMEM;
        }
        if (job->array)
            free(job->array->indices);
        *pa = a;
        job->array = pa;
        break;
    }
    case S2R_SLURM_K_CPUS_PER_GPU:
        if (!posint(st, line, name, v, &n))
            break;
        job->cpus_per_gpu = n;
        st->cpg_set = true;
        st->cpg_line = line;
        break;
    case S2R_SLURM_K_CPUS_PER_TASK:
        if (s2r_slurm__parse_int(v, true, &n) != 0) {
            perr(st, line, name, v,
                 "invalid number of cpus per task (-c %s): a positive "
                 "integer is required", v);
            break;
        }
        job->cpus_per_task = n;
        st->cpt_set = true;
        st->cpt_line = line;
        break;
    case S2R_SLURM_K_EXCLUSIVE:
        if (v && strcmp(v, "user") != 0 && strcmp(v, "mcs") != 0 &&
            strcmp(v, "topo") != 0 && strcmp(v, "exclusive") != 0 &&
            strcmp(v, "oversubscribe") != 0 && strcmp(v, "allocation") != 0)
            perr(st, line, name, v,
                 "Invalid --exclusive specification '%s': expected user, "
                 "mcs or topo", v);
        st->exclusive_set = true;
        st->exclusive_line = line;
        break;
    case S2R_SLURM_K_OVERSUBSCRIBE:
        st->oversub_set = true;
        st->oversub_line = line;
        break;
    case S2R_SLURM_K_EXPORT:
        return s2r_slurm__parse_export(v, job);
    case S2R_SLURM_K_GPUS:
        set_gpu_req(st, &st->gpus, name, v, line, false);
        break;
    case S2R_SLURM_K_GPUS_PER_NODE:
        set_gpu_req(st, &st->gpn, name, v, line, false);
        break;
    case S2R_SLURM_K_GPUS_PER_TASK:
        set_gpu_req(st, &st->gpt, name, v, line, false);
        break;
    case S2R_SLURM_K_GRES:
        set_gpu_req(st, &st->gres, name, v, line, true);
        break;
    case S2R_SLURM_K_MEM:
    case S2R_SLURM_K_MEM_PER_CPU:
    case S2R_SLURM_K_MEM_PER_GPU:
    case S2R_SLURM_K_TMP:
        if (s2r_slurm__parse_mem(v, &n) != 0) {
            perr(st, line, name, v,
                 "Invalid --%s specification '%s': expected a whole number "
                 "with an optional K, M, G or T suffix (default M)", name, v);
            break;
        }
        if (o->kind == S2R_SLURM_K_MEM) {
            st->mem_set = true;
            st->mem = n;
            st->mem_line = line;
        } else if (o->kind == S2R_SLURM_K_MEM_PER_CPU) {
            st->mpc_set = true;
            st->mpc = n;
            st->mpc_line = line;
        } else if (o->kind == S2R_SLURM_K_MEM_PER_GPU) {
            st->mpg_set = true;
            st->mpg = n;
            st->mpg_line = line;
        }
        break;
    case S2R_SLURM_K_NICE:
        if (v) {
            const char *p = v;
            bool neg = (*p == '-');
            if (neg)
                p++;
            if (s2r_slurm__parse_int(p, false, &n) != 0 ||
                n > 2147483645LL)
                perr(st, line, name, v,
                     "Invalid --nice value '%s': an integer between "
                     "-2147483645 and 2147483645 is required", v);
        }
        break;
    case S2R_SLURM_K_NODES: {
        int64_t lo, hi;
        if (s2r_slurm__parse_nodes(v, &lo, &hi) != 0) {
            perr(st, line, name, v,
                 "Invalid node count specification '%s': expected N, "
                 "MIN-MAX or a size list", v);
            break;
        }
        job->nodes = lo;
        job->nodes_max = hi ? hi : lo;
        st->nodes_set = true;
        st->nodes_line = line;
        break;
    }
    case S2R_SLURM_K_NTASKS:
        if (!posint(st, line, name, v, &n))
            break;
        job->ntasks = n;
        st->ntasks_set = true;
        break;
    case S2R_SLURM_K_NTASKS_PER_NODE:
        if (!posint(st, line, name, v, &n))
            break;
        job->ntasks_per_node = n;
        st->ntpn_set = true;
        st->ntpn_line = line;
        break;
    case S2R_SLURM_K_NTASKS_PER_GPU:
        posint(st, line, name, v, &n);
        st->ntasks_per_gpu_set = true;
        st->ntpg_line = line;
        break;
    case S2R_SLURM_K_OPEN_MODE:
        if (v[0] != 'a' && v[0] != 'A' && v[0] != 't' && v[0] != 'T')
            perr(st, line, name, v,
                 "Invalid --open-mode specification '%s': expected append "
                 "or truncate", v);
        break;
    case S2R_SLURM_K_PARTITION: {
        char **parts;
        int rc = s2r_slurm__parse_partitions(v, &parts);
        if (rc == S2R_ENOMEM)
            return rc;
        if (rc != 0) {
            perr(st, line, name, v, "Invalid --partition specification '%s'",
                 v);
            break;
        }
        if (job->partitions) {
            for (char **p = job->partitions; *p; p++)
                free(*p);
            free(job->partitions);
        }
        job->partitions = parts;
        break;
    }
    case S2R_SLURM_K_TIME:
    case S2R_SLURM_K_TIME_MIN:
        if (s2r_slurm__parse_time(v, &n) != 0) {
            perr(st, line, name, v,
                 "Invalid --%s specification '%s': expected minutes, M:S, "
                 "H:M:S, D-H, D-H:M, D-H:M:S or UNLIMITED", name, v);
            break;
        }
        if (o->kind == S2R_SLURM_K_TIME) {
            st->time_set = true;
            st->time = n;
        }
        break;
    case S2R_SLURM_K_TRES_PER_TASK:
        st->tres_per_task_set = true;
        st->tpt_line = line;
        break;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Cross-option checks and derived facts                               */
/* ------------------------------------------------------------------ */

static int max_line(int a, int b)
{
    return a > b ? a : b;
}

static void cross_checks(pstate *st)
{
    s2r_job *job = st->job;
    /* _validate_memory_options() */
    if (st->mem_set + st->mpc_set + st->mpg_set > 1) {
        int l = max_line(st->mem_line, max_line(st->mpc_line, st->mpg_line));
        const char *o = (l == st->mpg_line && st->mpg_set) ? "mem-per-gpu"
                        : (l == st->mpc_line && st->mpc_set) ? "mem-per-cpu"
                                                              : "mem";
        perr(st, l, o, NULL,
             "--mem, --mem-per-cpu, and --mem-per-gpu are mutually "
             "exclusive");
    }
    /* a GPU count per node given twice (tres_per_node "gres/gpu" twice) */
    if (st->gpn.set && st->gres.set && st->gres.count > 0)
        perr(st, max_line(st->gpn.line, st->gres.line), "gpus-per-node",
             NULL,
             "--gpus-per-node and --gres=gpu both request GPUs per node; "
             "use only one of them");
    /* _validate_cpus_per_tres() */
    if (st->cpg_set && st->cpt_set)
        perr(st, max_line(st->cpg_line, st->cpt_line), "cpus-per-gpu", NULL,
             "--cpus-per-task, --tres-per-task=cpu:#, and --cpus-per-gpu "
             "are mutually exclusive");
    /* _validate_share_options() */
    if (st->exclusive_set && st->oversub_set)
        perr(st, max_line(st->exclusive_line, st->oversub_line), "exclusive",
             NULL,
             "--exclusive and --oversubscribe options are mutually "
             "exclusive");
    /* _validate_ntasks_per_gpu() */
    if (st->ntasks_per_gpu_set && st->gpt.set)
        perr(st, max_line(st->ntpg_line, st->gpt.line), "ntasks-per-gpu",
             NULL,
             "--gpus-per-task and --ntasks-per-gpu are mutually exclusive");
    if (st->ntasks_per_gpu_set && st->tres_per_task_set)
        perr(st, max_line(st->ntpg_line, st->tpt_line), "ntasks-per-gpu",
             NULL,
             "--tres-per-task and --ntasks-per-gpu are mutually exclusive");
    /* --gpus-per-task needs a task count: -n, or --ntasks-per-node on a
     * fixed node count (sbatch then sets ntasks), or a job total -G */
    if (st->gpt.set && st->gpt.count > 0 && !st->ntasks_set &&
        !(st->ntpn_set && (!st->nodes_set || job->nodes == job->nodes_max)) &&
        !st->gpus.set)
        perr(st, st->gpt.line, "gpus-per-task", NULL,
             "--gpus-per-task requires a task count: add --ntasks (-n), "
             "--ntasks-per-node with a fixed --nodes, or --gpus (-G)");
    /* the controller refuses a zero-node job without a burst buffer */
    if (st->nodes_set && job->nodes == 0)
        perr(st, st->nodes_line, "nodes", NULL,
             "Node count specification invalid: --nodes must be at least 1");
}

static int set_type(s2r_job *job, const gpu_req *g)
{
    free(job->gpu_type);
    job->gpu_type = NULL;
    if (!g || !g->type)
        return 0;
    job->gpu_type = strndup(g->type, g->type_len);
    return job->gpu_type ? 0 : S2R_ENOMEM;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return b > 0 ? (a + b - 1) / b : a;
}

static int derive(pstate *st)
{
    s2r_job *job = st->job;
    job->nodes_set = st->nodes_set;
    if (!st->nodes_set) {
        job->nodes = 1;
        job->nodes_max = 1;
    }
    /* sbatch _opt_verify(): more nodes than tasks is cut to the tasks */
    if (st->nodes_set && st->ntasks_set && job->ntasks < job->nodes) {
        if (s2r_diags_add(st->d, S2R_SEV_NOTE, st->file, st->nodes_line,
                          NULL,
                          "can't run %lld processes on %lld nodes, setting "
                          "nnodes to %lld (as sbatch does)",
                          (long long)job->ntasks, (long long)job->nodes,
                          (long long)job->ntasks) != 0)
            return S2R_ENOMEM;
        job->nodes = job->nodes_max = job->ntasks;
    }
    if (job->nodes_max < job->nodes)
        job->nodes_max = job->nodes;

    int64_t nodes = job->nodes > 0 ? job->nodes : 1;
    if (st->ntpn_set)
        job->tasks_per_node = job->ntasks_per_node;
    else if (st->ntasks_set)
        job->tasks_per_node = ceil_div(job->ntasks, nodes);
    else
        job->tasks_per_node = 1;

    const gpu_req *src = NULL;
    job->gpus_per_node = 0;
    if (st->gpn.set && st->gpn.count > 0) {
        src = &st->gpn;
        job->gpus_per_node = st->gpn.count;
    } else if (st->gres.set && st->gres.count > 0) {
        src = &st->gres;
        job->gpus_per_node = st->gres.count;
    } else if (st->gpus.set && st->gpus.count > 0) {
        src = &st->gpus;
        job->gpus_per_node = ceil_div(st->gpus.count, nodes);
    } else if (st->gpt.set && st->gpt.count > 0) {
        src = &st->gpt;
        job->gpus_per_node = st->gpt.count * job->tasks_per_node;
    }
    if (set_type(job, src) != 0)
        return S2R_ENOMEM;

    if (st->cpg_set && job->gpus_per_node > 0)
        job->cpus_per_node = job->cpus_per_gpu * job->gpus_per_node;
    else
        job->cpus_per_node =
            (st->cpt_set ? job->cpus_per_task : 1) * job->tasks_per_node;

    if (st->mem_set)
        job->mem_per_node_mib = st->mem == 0 ? S2R_MEM_ALL : st->mem;
    else if (st->mpc_set)
        job->mem_per_node_mib = st->mpc * job->cpus_per_node;
    else if (st->mpg_set)
        job->mem_per_node_mib = st->mpg * job->gpus_per_node;
    else
        job->mem_per_node_mib = S2R_MEM_UNSET;

    job->time_limit_s = st->time_set ? st->time : S2R_TIME_UNSET;
    return 0;
}

/* ------------------------------------------------------------------ */
/* getopt_long("+")                                                    */
/* ------------------------------------------------------------------ */

static void ambiguous(pstate *st, int line, const char *arg, const char *name,
                      size_t len)
{
    char poss[400];
    size_t o = 0;
    poss[0] = '\0';
    for (size_t i = 0; i < N_OPTIONS && o + 1 < sizeof(poss); i++) {
        if (strncmp(k_options[i].name, name, len) == 0) {
            int w = snprintf(poss + o, sizeof(poss) - o, " '--%s'",
                             k_options[i].name);
            if (w < 0)
                break;
            o += (size_t)w;
        }
    }
    perr(st, line, NULL, NULL,
         "option '%s' is ambiguous; possibilities:%s", arg, poss);
}

int s2r_slurm__parse_argv(s2r_job *job, const char *file, char *const *argv,
                          const int *lines, size_t argc, s2r_diags *d)
{
    pstate st;
    memset(&st, 0, sizeof(st));
    st.job = job;
    st.file = file;
    st.d = d;

    size_t i = 0;
    const s2r_slurm_option *prev = NULL;
    int prev_line = 0;
    bool stop = false;
    while (i < argc && !stop) {
        const char *arg = argv[i];
        int line = lines[i];
        if (arg[0] != '-' || arg[1] == '\0')
            break; /* first non-option: "+" stops here */
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[1] == '-') {
            const char *nm = arg + 2;
            const char *eq = strchr(nm, '=');
            size_t len = eq ? (size_t)(eq - nm) : strlen(nm);
            int status;
            const s2r_slurm_option *o = s2r_slurm__find_long(nm, len, &status);
            i++;
            if (!o) {
                if (status == S2R_SLURM_AMBIGUOUS)
                    ambiguous(&st, line, arg, nm, len);
                else
                    perr(&st, line, NULL, arg, "unrecognized option '%s'",
                         arg);
                stop = true;
                break;
            }
            const char *val = NULL;
            if (o->has_arg == S2R_SLURM_ARG_NONE) {
                if (eq) {
                    perr(&st, line, o->name, NULL,
                         "option '--%s' doesn't allow an argument", o->name);
                    stop = true;
                    break;
                }
            } else if (eq) {
                val = eq + 1;
            } else if (o->has_arg == S2R_SLURM_ARG_REQUIRED) {
                if (i >= argc) {
                    perr(&st, line, o->name, NULL,
                         "option '--%s' requires an argument", o->name);
                    stop = true;
                    break;
                }
                val = argv[i++];
            }
            if (apply(&st, o, val, line) != 0)
                return S2R_ENOMEM;
            prev = o;
            prev_line = line;
            continue;
        }
        /* a cluster of short options: -Hv, -N2, -J name */
        const char *p = arg + 1;
        i++;
        while (*p) {
            const s2r_slurm_option *o = s2r_slurm__find_short(*p);
            if (!o) {
                perr(&st, line, NULL, arg, "invalid option -- '%c'", *p);
                stop = true;
                break;
            }
            p++;
            const char *val = NULL;
            if (o->has_arg != S2R_SLURM_ARG_NONE) {
                if (*p) {
                    val = p;
                } else if (o->has_arg == S2R_SLURM_ARG_REQUIRED) {
                    if (i >= argc) {
                        perr(&st, line, o->name, NULL,
                             "option requires an argument -- '%c'",
                             o->short_name);
                        stop = true;
                        break;
                    }
                    val = argv[i++];
                }
            }
            if (apply(&st, o, val, line) != 0)
                return S2R_ENOMEM;
            prev = o;
            prev_line = line;
            if (val == p)
                break;
        }
    }
    if (st.rc == S2R_ENOMEM)
        return S2R_ENOMEM;
    if (!stop && i < argc) {
        const char *tok = argv[i];
        char hint[200];
        const char *opt = NULL;
        hint[0] = '\0';
        if (prev && prev_line == lines[i]) {
            opt = prev->name;
            if (prev->has_arg == S2R_SLURM_ARG_OPTIONAL)
                snprintf(hint, sizeof(hint),
                         " (--%s takes a value only as --%s=VALUE)",
                         prev->name, prev->name);
            else if (prev->has_arg == S2R_SLURM_ARG_REQUIRED)
                snprintf(hint, sizeof(hint),
                         " (a value containing spaces must be quoted, and "
                         "a trailing comment must start with '#')");
        }
        /* a non-breaking space may sit in the stray token or just before */
        const char *nb = tok;
        if (!strstr(tok, "\xc2\xa0") && i > 0 && strstr(argv[i - 1], "\xc2\xa0"))
            nb = argv[i - 1];
        perr(&st, lines[i], opt, nb,
             "Invalid directive found in batch script: %s%s", tok, hint);
    }
    if (st.rc == 0)
        cross_checks(&st);
    if (st.rc == S2R_ENOMEM)
        return S2R_ENOMEM;
    if (derive(&st) != 0)
        return S2R_ENOMEM;
    return st.rc;
}
