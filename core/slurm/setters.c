/* setters.c: what each sbatch option does with its value in a batch
 * script (per sbatch(1) and src/common/slurm_opt.c): strict value checks,
 * last occurrence wins, the effective directive list. See parse_state.h. */
#include "slurm.h"
#include "parse_state.h"

#include "base/base.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A positive integer value (per sbatch's parse_int): true and *n set, or
 * false after reporting "Invalid numeric value" for the option. */
static bool posint(s2r_slurm__state *st, int line, const char *name,
                   const char *v, int64_t *n)
{
    if (s2r_slurm__parse_int(v, true, n) == 0)
        return true;
    s2r_slurm__perr(st, line, name, v, "Invalid numeric value \"%s\" for --%s",
                    v, name);
    return false;
}

/* One count of -B (per get_resource_arg_range(), src/common/proc_args.c):
 * "" or "*" any (NO_VAL), "N" or "N-M" (its minimum, N >= 0, M > 0, each
 * with an optional k or m multiplier), at most INT_MAX; "1-INT_MAX" is any
 * too. True and *min set, or false after sbatch's error for @p what. */
static bool resource_min(s2r_slurm__state *st, int line, const char *v,
                         size_t len, const char *what, int64_t *min)
{
    char f[48]; /* sbatch reads 47 bytes of each count */
    len = len < sizeof(f) - 1 ? len : sizeof(f) - 1;
    memcpy(f, v, len);
    f[len] = '\0';
    if (!f[0] || f[0] == '*') {
        *min = NO_VAL;
        return true;
    }
    int64_t bound[2] = {0, 0};
    const char *p = f;
    for (int i = 0; i < 2; i++) {
        char *e;
        errno = 0;
        long long r = strtoll(p, &e, 10);
        if (*e == 'k' || *e == 'K')
            r *= 1024, e++;
        else if (*e == 'm' || *e == 'M')
            r *= 1048576, e++;
        if ((*e && *e != '-') || r < (i ? 1 : 0)) {
            s2r_slurm__perr(st, line, "extra-node-info", v,
                            "Invalid numeric value \"%s\" for %s.", f, what);
            return false;
        }
        if (r > INT_MAX || errno == ERANGE) {
            s2r_slurm__perr(st, line, "extra-node-info", v,
                            "Numeric argument (%lld) too large for %s.", r,
                            what);
            return false;
        }
        bound[i] = r;
        if (!*e)
            break;
        p = e + 1;
    }
    *min = bound[0] == 1 && bound[1] == INT_MAX ? NO_VAL : bound[0];
    return true;
}

/* -B S[:C[:T]] (per sbatch(1) --extra-node-info and
 * verify_socket_core_thread_count()): its sockets are --sockets-per-node's
 * (the same field; the later option wins), "*" or none leaves them unset.
 * Its cores and threads are checked and not kept: a Run:ai pod requests
 * cores (rules.c warns). */
static void set_extra_node_info(s2r_slurm__state *st, const char *v, int line)
{
    static const char *const what[3] = {
        "first arg of -B", "second arg of -B", "third arg of -B"};
    const char *p = v;
    int64_t sockets = NO_VAL, ignored;
    for (int j = 0; j < 3; j++) {
        size_t n = strcspn(p, ":");
        if (!resource_min(st, line, p, n, what[j], j ? &ignored : &sockets))
            return;
        if (!p[n])
            break;
        p += n + 1;
    }
    st->spn_set = sockets > 0; /* 0 sockets count nothing */
    st->spn = st->spn_set ? sockets : 0;
    st->spn_line = line;
}

/* Record an effective option: last occurrence wins, first-seen order.
 * @p name is the option table's (static), one pointer per name (an
 * alias's alias_of is its option's name), so names compare as pointers.
 * The value stays in the argv arena (st->values) until
 * s2r_slurm__keep_values(); the entry's own value is NULL until then.
 * The list grows at once to room for as many options as the argv has
 * tokens, at most one per option name, then doubles. */
static int record(s2r_slurm__state *st, const char *name, const char *value,
                  int line)
{
    s2r_job *job = st->job;
    for (size_t i = 0; i < job->n_directives; i++) {
        s2r_directive *dv = &job->directives[i];
        if (dv->name == name) {
            st->values[i] = value;
            dv->line = line;
            return 0;
        }
    }
    size_t n = job->n_directives;
    if (n == st->directives_cap) {
        /* n < S2R_SLURM__MAX_DIRECTIVES (one entry per name), and an
         * option has come from one of argc (>= 1) tokens */
        size_t cap = n ? n * 2 : st->argc;
        if (cap > S2R_SLURM__MAX_DIRECTIVES)
            cap = S2R_SLURM__MAX_DIRECTIVES;
        s2r_directive *nv = realloc(job->directives, cap * sizeof(*nv));
        if (!nv)
            return S2R_ENOMEM;
        job->directives = nv;
        st->directives_cap = cap;
    }
    s2r_directive *dv = &job->directives[n];
    dv->name = name;
    dv->value = NULL;
    dv->line = line;
    st->values[n] = value;
    job->n_directives++;
    return 0;
}

/* A malloc'd copy of @p v into *@p field (NULL: nothing to copy).
 * @return 0 or S2R_ENOMEM. */
static int copy_str(char **field, const char *v)
{
    if (!v)
        return 0;
    char *c = strdup(v);
    if (!c)
        return S2R_ENOMEM;
    free(*field);
    *field = c;
    return 0;
}

int s2r_slurm__keep_values(s2r_slurm__state *st)
{
    s2r_job *job = st->job;
    int rc = 0;
    for (size_t i = 0; i < job->n_directives; i++) {
        const char *v = st->values[i];
        /* a value recorded in this pass replaces the entry's NULL */
        if (v && !(job->directives[i].value = strdup(v)))
            rc = S2R_ENOMEM;
    }
    if (copy_str(&job->job_name, st->job_name) != 0 ||
        copy_str(&job->account, st->account) != 0 ||
        copy_str(&job->chdir, st->chdir) != 0)
        rc = S2R_ENOMEM;
    return rc;
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

/* An option sbatch keeps as a string and checks once, on its last
 * value (the GPU options, --tres-per-task, --array): see checks.c and
 * gres.c. */
static void set_last(last_opt *o, const char *v, int line)
{
    o->set = true;
    o->line = line;
    o->value = v;
}

/* --container-image (pyxis): the enroot reference as an OCI one. */
static int set_container_image(s2r_job *job, const char *v)
{
    char *img = s2r_slurm__image_to_oci(v);
    if (!img)
        return S2R_ENOMEM;
    free(job->container_image);
    job->container_image = img;
    return 0;
}

/* Shifter's --image=TYPE:IMAGE, as its SPANK plugin takes it (TYPE of
 * letters, IMAGE of letters, digits and ":_-./"): a "docker" image is the
 * OCI reference the job runs in; an "id" or "local" one has none. */
static int set_shifter_image(s2r_slurm__state *st, const char *name,
                             const char *v, int line)
{
    const char *colon = strchr(v, ':');
    bool ok = colon && colon > v && colon[1];
    for (const char *p = v; ok && p < colon; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
    for (const char *p = colon ? colon + 1 : v; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
             (*p >= '0' && *p <= '9') || strchr(":_-./", *p);
    if (!ok) {
        s2r_slurm__perr(st, line, name, v,
                        "Invalid --image '%s': Shifter's --image takes "
                        "TYPE:IMAGE (e.g. docker:ubuntu:22.04; letters, "
                        "digits and ':_-./' only)", v);
        return 0;
    }
    free(st->job->container_image);
    st->job->container_image = NULL;
    if (colon - v == 6 && !strncmp(v, "docker", 6))
        return set_str(&st->job->container_image, colon + 1);
    if (s2r_diags_add(st->d, S2R_SEV_WARNING, st->file, line, name,
                      "--image=%s: a Shifter '%.*s' image has no OCI "
                      "reference a Run:ai workload can pull; the configured "
                      "default image is used", v, (int)(colon - v), v) != 0)
        return S2R_ENOMEM;
    return 0;
}

/* -c/--cpus-per-task and --cpus-per-gpu: positive counts (cores). */
static void set_cpus(s2r_slurm__state *st, const s2r_slurm_option *o,
                     const char *v, int line)
{
    int64_t n;
    if (o->kind == S2R_SLURM_K_CPUS_PER_GPU) {
        if (!posint(st, line, o->name, v, &n))
            return;
        st->job->cpus_per_gpu = n;
        st->cpg_set = true;
        st->cpg_line = line;
        return;
    }
    if (s2r_slurm__parse_int(v, true, &n) != 0) {
        s2r_slurm__perr(st, line, o->name, v,
                        "invalid number of cpus per task (-c %s): a positive "
                        "integer is required", v);
        return;
    }
    st->job->cpus_per_task = n;
    st->cpt_set = true;
    st->cpt_line = line;
}

/* --exclusive[=user|mcs|topo] and -s/--oversubscribe (exclusive of each
 * other, see checks.c). */
static void set_sharing(s2r_slurm__state *st, const s2r_slurm_option *o,
                        const char *v, int line)
{
    if (o->kind == S2R_SLURM_K_OVERSUBSCRIBE) {
        st->oversub_set = true;
        st->oversub_line = line;
        return;
    }
    if (v && strcmp(v, "user") != 0 && strcmp(v, "mcs") != 0 &&
        strcmp(v, "topo") != 0 && strcmp(v, "exclusive") != 0 &&
        strcmp(v, "oversubscribe") != 0 && strcmp(v, "allocation") != 0)
        s2r_slurm__perr(st, line, o->name, v,
             "Invalid --exclusive specification '%s': expected user, "
             "mcs or topo", v);
    st->exclusive_set = true;
    st->exclusive_line = line;
    st->exclusive_node = !v || !strcmp(v, "exclusive");
}

/* --mem, --mem-per-cpu, --mem-per-gpu (MiB) and --tmp (checked only). */
static void set_mem(s2r_slurm__state *st, const s2r_slurm_option *o,
                    const char *v, int line)
{
    int64_t n;
    int rc = s2r_slurm__parse_mem(v, &n);
    if (rc == S2R_ETOOBIG) {
        s2r_slurm__perr(st, line, o->name, NULL,
             "Invalid --%s specification '%s': more than %lld MiB, more "
             "than a node holds (slurmctld refuses the job)", o->name, v,
             (long long)S2R_SLURM_MAX_MEM_MIB);
        return;
    }
    if (rc != 0) {
        s2r_slurm__perr(st, line, o->name, v,
             "Invalid --%s specification '%s': expected a whole number "
             "with an optional K, M, G or T suffix (default M)", o->name, v);
        return;
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
}

/* --nice[=adjustment]: an integer within +-2147483645. */
static void check_nice(s2r_slurm__state *st, const char *name, const char *v,
                       int line)
{
    int64_t n;
    if (!v)
        return;
    const char *p = v;
    bool neg = (*p == '-');
    if (neg)
        p++;
    if (s2r_slurm__parse_int(p, false, &n) != 0 || n > 2147483645LL)
        s2r_slurm__perr(st, line, name, v,
                        "Invalid --nice value '%s': an integer between "
                        "-2147483645 and 2147483645 is required", v);
}

/* -N/--nodes: N, MIN-MAX or a size list. */
static void set_nodes(s2r_slurm__state *st, const char *name, const char *v,
                      int line)
{
    int64_t lo, hi;
    if (s2r_slurm__parse_nodes(v, &lo, &hi) != 0) {
        s2r_slurm__perr(st, line, name, v,
                        "Invalid node count specification '%s': expected N, "
                        "MIN-MAX or a size list", v);
        return;
    }
    st->nodes_min = lo;
    st->nodes_max = hi;
    st->nodes_set = true;
    st->nodes_line = line;
}

/* -n/--ntasks, --ntasks-per-node, --ntasks-per-gpu: positive counts. */
static void set_ntasks(s2r_slurm__state *st, const s2r_slurm_option *o,
                       const char *v, int line)
{
    int64_t n;
    bool ok = posint(st, line, o->name, v, &n);
    if (o->kind == S2R_SLURM_K_NTASKS_PER_GPU) {
        st->ntasks_per_gpu_set = true;
        st->ntpg = ok ? n & 0xFFFF : 0; /* job_desc's uint16_t */
        st->ntpg_line = line;
        if (ok && (n > 0xFFFF || n == 0xFFFE) &&
            s2r_diags_add(st->d, S2R_SEV_WARNING, st->file, line,
                          "ntasks-per-gpu",
                          "--ntasks-per-gpu=%s: slurmctld keeps the tasks "
                          "per GPU in 16 bits and reads %lld%s", v,
                          (long long)st->ntpg,
                          st->ntpg == 0xFFFE || st->ntpg == 0
                              ? ", which it takes for none (ignored)"
                              : "") != 0)
            st->rc = S2R_ENOMEM;
    } else if (!ok) {
        return;
    } else if (o->kind == S2R_SLURM_K_NTASKS) {
        st->job->ntasks = n;
        st->ntasks_set = true;
        st->ntasks_line = line;
    } else {
        st->job->ntasks_per_node = n;
        st->ntpn_set = true;
        st->ntpn_line = line;
    }
}

/* -p/--partition: the list replaces an earlier one. */
static int set_partition(s2r_slurm__state *st, const char *name,
                         const char *v, int line)
{
    s2r_job *job = st->job;
    char **parts;
    int rc = s2r_slurm__parse_partitions(v, &parts);
    if (rc == S2R_ENOMEM)
        return rc;
    if (rc != 0) {
        s2r_slurm__perr(st, line, name, v,
                        "Invalid --partition specification '%s'", v);
        return 0;
    }
    s2r_strlist_free(job->partitions);
    job->partitions = parts;
    return 0;
}

/* -t/--time (seconds) and --time-min (checked only). */
static void set_time(s2r_slurm__state *st, const s2r_slurm_option *o,
                     const char *v, int line)
{
    int64_t n;
    if (s2r_slurm__parse_time(v, &n) != 0) {
        s2r_slurm__perr(st, line, o->name, v,
             "Invalid --%s specification '%s': expected minutes, M:S, "
             "H:M:S, D-H, D-H:M, D-H:M:S or UNLIMITED", o->name, v);
        return;
    }
    if (o->kind == S2R_SLURM_K_TIME) {
        st->time_set = true;
        st->time = n;
        st->time_line = line;
        st->time_value = v;
    }
}

/* The setter of option kind o->kind. @return 0 or S2R_ENOMEM. */
static int set_value(s2r_slurm__state *st, const s2r_slurm_option *o,
                     const char *v, int line)
{
    s2r_job *job = st->job;
    int64_t n;
    switch ((s2r_slurm_kind)o->kind) {
    case S2R_SLURM_K_STRING:
    case S2R_SLURM_K_IGNORED:
        return 0;
    case S2R_SLURM_K_POSINT:
        posint(st, line, o->name, v, &n);
        return 0;
    case S2R_SLURM_K_MINCPUS:
        if (posint(st, line, o->name, v, &n)) {
            st->mincpus = n;
            st->mincpus_set = true;
            st->mincpus_line = line;
        }
        return 0;
    case S2R_SLURM_K_ACCOUNT: /* copied in by s2r_slurm__keep_values() */
        st->account = v;
        return 0;
    case S2R_SLURM_K_CHDIR:
        st->chdir = v;
        return 0;
    case S2R_SLURM_K_JOB_NAME:
        st->job_name = v;
        return 0;
    case S2R_SLURM_K_CONTAINER_IMAGE:
        return set_container_image(job, v);
    case S2R_SLURM_K_SHIFTER_IMAGE:
        return set_shifter_image(st, o->name, v, line);
    case S2R_SLURM_K_ARRAY:
        set_last(&st->array, v, line);
        return 0;
    case S2R_SLURM_K_CPUS_PER_GPU:
    case S2R_SLURM_K_CPUS_PER_TASK:
        set_cpus(st, o, v, line);
        return 0;
    case S2R_SLURM_K_EXCLUSIVE:
    case S2R_SLURM_K_OVERSUBSCRIBE:
        set_sharing(st, o, v, line);
        return 0;
    case S2R_SLURM_K_EXPORT:
        return s2r_slurm__parse_export(v, job);
    case S2R_SLURM_K_GPUS:
        set_last(&st->gpus, v, line);
        return 0;
    case S2R_SLURM_K_GPUS_PER_NODE:
        set_last(&st->gpn, v, line);
        return 0;
    case S2R_SLURM_K_GPUS_PER_SOCKET:
        set_last(&st->gps, v, line);
        return 0;
    case S2R_SLURM_K_GPUS_PER_TASK:
        set_last(&st->gpt, v, line);
        return 0;
    case S2R_SLURM_K_GRES:
        set_last(&st->gres, v, line);
        return 0;
    case S2R_SLURM_K_MEM:
    case S2R_SLURM_K_MEM_PER_CPU:
    case S2R_SLURM_K_MEM_PER_GPU:
    case S2R_SLURM_K_TMP:
        set_mem(st, o, v, line);
        return 0;
    case S2R_SLURM_K_NICE:
        check_nice(st, o->name, v, line);
        return 0;
    case S2R_SLURM_K_NODES:
        set_nodes(st, o->name, v, line);
        return 0;
    case S2R_SLURM_K_NTASKS:
    case S2R_SLURM_K_NTASKS_PER_NODE:
    case S2R_SLURM_K_NTASKS_PER_GPU:
        set_ntasks(st, o, v, line);
        return 0;
    case S2R_SLURM_K_OPEN_MODE:
        if (v[0] != 'a' && v[0] != 'A' && v[0] != 't' && v[0] != 'T')
            s2r_slurm__perr(st, line, o->name, v,
                 "Invalid --open-mode specification '%s': expected append "
                 "or truncate", v);
        return 0;
    case S2R_SLURM_K_PARTITION:
        return set_partition(st, o->name, v, line);
    case S2R_SLURM_K_EXTRA_NODE_INFO:
        set_extra_node_info(st, v, line);
        return 0;
    case S2R_SLURM_K_SOCKETS_PER_NODE:
        if (posint(st, line, o->name, v, &n)) {
            st->spn = n;
            st->spn_set = true;
            st->spn_line = line;
        }
        return 0;
    case S2R_SLURM_K_TIME:
    case S2R_SLURM_K_TIME_MIN:
        set_time(st, o, v, line);
        return 0;
    case S2R_SLURM_K_TRES_PER_TASK:
        set_last(&st->tpt, v, line);
        return 0;
    }
    return 0;
}

int s2r_slurm__apply(s2r_slurm__state *st, const s2r_slurm_option *o,
                     const char *v, int line)
{
    if (o->kind == S2R_SLURM_K_IGNORED) {
        if (s2r_diags_add(st->d, S2R_SEV_NOTE, st->file, line, NULL,
                          "ignored: --%s has no effect in a batch script "
                          "(sbatch honours it only on the command line)",
                          o->name) != 0)
            return S2R_ENOMEM;
        return 0;
    }
    if (record(st, o->alias_of ? o->alias_of : o->name, v, line) != 0)
        return S2R_ENOMEM;
    return set_value(st, o, v, line);
}
