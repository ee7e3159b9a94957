/* slurm_env.c: SLURM stand-ins. The values of SLURM_* variables the
 * directives fix (per sbatch(1) "OUTPUT ENVIRONMENT VARIABLES"), words
 * resolved from them at conversion time, and the prelude that gives a pod
 * the per-task ones. See analysis.h and body.h. */
#include "body.h"
#include "analysis.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* SLURM variables the directives fix                                   */
/* ------------------------------------------------------------------ */

/* the value of option @p name as sbatch read it, "" for one without a
 * value; NULL when the script does not give it */
static const char *directive_value(const s2r_job *job, const char *name)
{
    for (size_t i = 0; i < job->n_directives; i++)
        if (!strcmp(job->directives[i].name, name))
            return job->directives[i].value ? job->directives[i].value : "";
    return NULL;
}

static bool has_directive(const s2r_job *job, const char *name)
{
    return directive_value(job, name) != NULL;
}

/* SLURM_ARRAY_TASK_STEP: the number after the first ':' of --array, else
 * 1, as slurmctld sets it (job_mgr.c _create_job_array), also for a list
 * such as 1,3,5-7,10-20:5 (5). */
static int64_t array_step(const s2r_job *job)
{
    for (size_t i = 0; i < job->n_directives; i++) {
        const s2r_directive *d = &job->directives[i];
        const char *c = strcmp(d->name, "array") || !d->value
                            ? NULL : strchr(d->value, ':');
        if (c)
            return strtoll(c + 1, NULL, 10);
    }
    return 1;
}

/* The SLURM_* variables the directives can fix, sorted by strcmp. */
typedef enum slurm_var {
    V_ARRAY_TASK_COUNT, V_ARRAY_TASK_MAX, V_ARRAY_TASK_MIN, V_ARRAY_TASK_STEP,
    V_CPUS_ON_NODE, V_CPUS_PER_TASK, V_GPUS, V_GPUS_ON_NODE, V_GPUS_PER_NODE,
    V_GPUS_PER_TASK, V_JOB_ACCOUNT, V_JOB_CPUS_PER_NODE, V_JOB_NAME,
    V_JOB_NUM_NODES, V_JOB_PARTITION, V_MEM_PER_CPU, V_MEM_PER_GPU,
    V_MEM_PER_NODE, V_NNODES, V_NPROCS, V_NTASKS, V_NTASKS_PER_NODE,
    V_PARTITION, V_SUBMIT_DIR
} slurm_var;

/* sorted (bsearch), in slurm_var's order */
static const char *const k_vars[] = {
    "ARRAY_TASK_COUNT", "ARRAY_TASK_MAX", "ARRAY_TASK_MIN", "ARRAY_TASK_STEP",
    "CPUS_ON_NODE", "CPUS_PER_TASK", "GPUS", "GPUS_ON_NODE", "GPUS_PER_NODE",
    "GPUS_PER_TASK", "JOB_ACCOUNT", "JOB_CPUS_PER_NODE", "JOB_NAME",
    "JOB_NUM_NODES", "JOB_PARTITION", "MEM_PER_CPU", "MEM_PER_GPU",
    "MEM_PER_NODE", "NNODES", "NPROCS", "NTASKS", "NTASKS_PER_NODE",
    "PARTITION", "SUBMIT_DIR"};
_Static_assert(sizeof(k_vars) / sizeof(k_vars[0]) == V_SUBMIT_DIR + 1,
               "one name per slurm_var");

static int cmp_var(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

/* @p name's entry, or -1 when the directives cannot fix it. */
static int var_of(const char *name)
{
    if (strncmp(name, "SLURM_", 6) != 0)
        return -1;
    const char *const *hit =
        bsearch(name + 6, k_vars, sizeof(k_vars) / sizeof(k_vars[0]),
                sizeof(k_vars[0]), cmp_var);
    return hit ? (int)(hit - k_vars) : -1;
}

static int ret_num(char num[S2R_I64_TEXT], const char **out, int64_t v)
{
    s2r_i64_text(num, v);
    *out = num;
    return 1;
}

static int ret_str(const char **out, const char *s)
{
    *out = s;
    return 1;
}

/* sbatch(1) sets SLURM_GPUS, SLURM_GPUS_PER_NODE and SLURM_GPUS_PER_TASK
 * to --gpus, --gpus-per-node and --gpus-per-task as given ("a100:2"
 * too), and only when they are given */
static int option_var(const s2r_job *job, const char *option,
                      const char **out)
{
    const char *v = directive_value(job, option);
    return v && *v ? ret_str(out, v) : 0;
}

/* True when [p, p+n) is a GPU entry of --tres-per-task: "gres/gpu",
 * "gres/gpu:..." or "gres/gpu=N" ("gres:" as sbatch reads "gres/"). */
static bool tres_gpu_entry(const char *p, size_t n)
{
    return n >= 8 &&
           (!strncmp(p, "gres/gpu", 8) || !strncmp(p, "gres:gpu", 8)) &&
           (n == 8 || p[8] == ':' || p[8] == '=');
}

/* SLURM_GPUS_PER_TASK of --tres-per-task without --gpus-per-task: per
 * sbatch(1) (23.11 and later) its gres/gpu entries are --gpus-per-task,
 * "[TYPE:]N" each. One entry: "gres/gpu" is 1, "gres/gpu=N" N, and
 * "gres/gpu:N" or "gres/gpu:TYPE:N" at the end of the value its text
 * after "gres/gpu:"; any other GPU list only the job knows (-1). */
static int tres_gpus_per_task(const s2r_job *job, char num[S2R_I64_TEXT],
                              const char **out)
{
    const char *v = directive_value(job, "tres-per-task");
    const char *gpu = NULL;
    size_t len = 0;
    int n = 0;
    for (const char *p = v ? v : ""; *p;) {
        size_t l = strcspn(p, ",");
        if (tres_gpu_entry(p, l)) {
            gpu = p;
            len = l;
            n++;
        }
        p += l + (p[l] == ',');
    }
    if (n != 1)
        return n ? -1 : 0;
    if (len == 8)
        return ret_str(out, "1");
    const char *rest = gpu + 9, *c = gpu + len;
    while (c > rest && c[-1] != ':' && c[-1] != '=')
        c--;
    size_t cl = (size_t)(gpu + len - c);
    if (!cl || strspn(c, "0123456789") < cl || cl > 9)
        return -1; /* "gres/gpu:a100" is "a100:1" to sbatch */
    long long cnt = strtoll(c, NULL, 10);
    if (!cnt)
        return 0; /* sbatch drops a count of 0 */
    if (c == rest) /* "gres/gpu:N", "gres/gpu=N" */
        return ret_num(num, out, cnt);
    return c[-1] == ':' && !gpu[len] ? ret_str(out, rest) : -1;
}

/* SLURM_MEM_PER_CPU and SLURM_MEM_PER_GPU: --mem-per-cpu and
 * --mem-per-gpu in MiB (the node's memory is that times its CPUs or
 * GPUs, core/slurm layout.c), only when given */
static int mem_per_var(const s2r_job *job, const char *option, int64_t per,
                       char num[S2R_I64_TEXT], const char **out)
{
    if (!has_directive(job, option))
        return 0;
    if (job->mem_per_node_mib <= 0 || per <= 0)
        return -1;
    return ret_num(num, out, job->mem_per_node_mib / per);
}

static int array_var(const s2r_job *job, slurm_var v, char num[S2R_I64_TEXT],
                     const char **out)
{
    const s2r_array *a = job->array;
    if (!a)
        return -1;
    switch (v) {
    case V_ARRAY_TASK_COUNT:
        return ret_num(num, out, (int64_t)a->count);
    case V_ARRAY_TASK_MIN:
        return ret_num(num, out, a->indices[0]);
    case V_ARRAY_TASK_MAX:
        return ret_num(num, out, a->indices[a->count - 1]);
    default:
        return ret_num(num, out, array_step(job));
    }
}

/* s2r_body__slurm_var() of entry @p v (-1: none) */
static int var_value(const s2r_job *job, int v, char num[S2R_I64_TEXT],
                     const char **out)
{
    *out = NULL;
    switch (v) {
    case V_CPUS_PER_TASK:
        return job->cpus_per_task > 0
                   ? ret_num(num, out, job->cpus_per_task) : 0;
    case V_NNODES:
    case V_JOB_NUM_NODES:
        return job->nodes == job->nodes_max || job->nodes_max == 0
                   ? ret_num(num, out, job->nodes) : -1;
    case V_NTASKS:
    case V_NPROCS:
        if (job->ntasks > 0)
            return ret_num(num, out, job->ntasks);
        if (job->ntasks_per_node > 0)
            return ret_num(num, out, job->ntasks_per_node * job->nodes);
        return 0;
    case V_NTASKS_PER_NODE:
        return job->ntasks_per_node > 0
                   ? ret_num(num, out, job->ntasks_per_node) : 0;
    case V_JOB_NAME:
        return ret_str(out, job->job_name ? job->job_name
                            : strcmp(job->file, "-") == 0 ? "sbatch"
                            : s2r_body__base_name(job->file));
    case V_CPUS_ON_NODE:
    case V_JOB_CPUS_PER_NODE:
        return ret_num(num, out, job->cpus_per_node);
    case V_GPUS_ON_NODE:
        return job->gpus_per_node > 0
                   ? ret_num(num, out, job->gpus_per_node) : 0;
    case V_GPUS:
        return option_var(job, "gpus", out);
    case V_GPUS_PER_NODE:
        return option_var(job, "gpus-per-node", out);
    case V_GPUS_PER_TASK:
        return has_directive(job, "gpus-per-task")
                   ? option_var(job, "gpus-per-task", out)
                   : tres_gpus_per_task(job, num, out);
    case V_MEM_PER_CPU:
        return mem_per_var(job, "mem-per-cpu", job->cpus_per_node, num, out);
    case V_MEM_PER_GPU:
        return mem_per_var(job, "mem-per-gpu", job->gpus_per_node, num, out);
    case V_MEM_PER_NODE:
        return job->mem_per_node_mib > 0 && has_directive(job, "mem")
                   ? ret_num(num, out, job->mem_per_node_mib) : 0;
    case V_SUBMIT_DIR:
        return job->submit_dir ? ret_str(out, job->submit_dir) : -1;
    case V_ARRAY_TASK_COUNT:
    case V_ARRAY_TASK_MIN:
    case V_ARRAY_TASK_MAX:
    case V_ARRAY_TASK_STEP:
        return array_var(job, (slurm_var)v, num, out);
    case V_JOB_PARTITION:
    case V_PARTITION:
        /* of several, slurmctld picks the one the job starts in */
        return job->partitions && job->partitions[0] && !job->partitions[1]
                   ? ret_str(out, job->partitions[0]) : -1;
    case V_JOB_ACCOUNT:
        return job->account ? ret_str(out, job->account) : -1;
    default:
        return -1;
    }
}

int s2r_body__slurm_var(const s2r_job *job, const char *name,
                        char num[S2R_I64_TEXT], const char **out)
{
    return var_value(job, var_of(name), num, out);
}

/* ------------------------------------------------------------------ */
/* static resolution of a word (export K=V values)                      */
/* ------------------------------------------------------------------ */

/* One $NAME, ${NAME}, ${NAME-def} or ${NAME:-def} reference at raw[i]
 * (raw[i] == '$'): its name, its default (into @p raw, or NULL) and the
 * index after it. Returns false for any other form ($1, $(...), ${#x}). */
typedef struct var_ref {
    char name[128];
    size_t nl;
    const char *def;
    size_t deflen;
    size_t next;
} var_ref;

static size_t scan_name(const char *raw, size_t j, var_ref *r)
{
    while (raw[j] && sh_name_byte(raw[j]) &&
           r->nl < sizeof(r->name) - 1)
        r->name[r->nl++] = raw[j++];
    r->name[r->nl] = '\0';
    return j;
}

static bool parse_ref(const char *raw, size_t i, var_ref *r)
{
    memset(r, 0, sizeof(*r));
    if (raw[i + 1] == '{') {
        size_t j = scan_name(raw, i + 2, r);
        if (raw[j] == '}') {
            r->next = j + 1;
        } else if ((raw[j] == ':' && raw[j + 1] == '-') || raw[j] == '-') {
            j += raw[j] == ':' ? 2 : 1;
            r->def = raw + j;
            while (raw[j] && raw[j] != '}' && raw[j] != '$')
                j++;
            if (raw[j] != '}')
                return false;
            r->deflen = (size_t)(raw + j - r->def);
            r->next = j + 1;
        } else {
            return false;
        }
    } else if (isalpha((unsigned char)raw[i + 1]) || raw[i + 1] == '_') {
        r->next = scan_name(raw, i + 1, r);
    } else {
        return false;
    }
    return r->nl > 0;
}

/* The value of reference @p r into @p out: the job environment's, else a
 * SLURM_* value the directives fix (unset: the default, or nothing).
 * Returns false when only the running job knows it. */
static bool expand_ref(const s2r_job *job, const s2r_envv *env,
                       const var_ref *r, s2r_buf *out)
{
    const char *known = s2r_envv_get(env, r->name);
    if (known) {
        s2r_buf_puts(out, known);
        return true;
    }
    if (strncmp(r->name, "SLURM_", 6) != 0)
        return false;
    char num[S2R_I64_TEXT];
    const char *v;
    int st = s2r_body__slurm_var(job, r->name, num, &v);
    if (st == 1) {
        s2r_buf_puts(out, v);
        return true;
    }
    if (st == 0 && r->def)
        s2r_buf_putn(out, r->def, r->deflen);
    /* st == 0 without a default: unset, expands to nothing */
    return st == 0;
}

bool s2r_body__resolve_raw(const s2r_job *job, const s2r_envv *env,
                           const char *raw, bool in_dq, s2r_buf *out)
{
    for (size_t i = 0; raw[i];) {
        char c = raw[i];
        if (c == '\\' && raw[i + 1]) {
            if (in_dq && !strchr("$`\"\\", raw[i + 1]))
                s2r_buf_putn(out, raw + i, 1);
            s2r_buf_putn(out, raw + i + 1, 1);
            i += 2;
            continue;
        }
        if (c == '`')
            return false;
        if (!in_dq && (c == '*' || c == '?' || c == '[' || c == '~'))
            return false;
        if (c != '$') {
            s2r_buf_putn(out, raw + i, 1);
            i++;
            continue;
        }
        var_ref r;
        if (!parse_ref(raw, i, &r) || !expand_ref(job, env, &r, out))
            return false;
        i = r.next;
    }
    return true;
}

char *s2r_body__resolve_assignment(const s2r_job *job, const s2r_envv *env,
                                   const sh_word *w, char **name_out)
{
    s2r_buf out = {0};
    bool in_value = false;
    *name_out = NULL;
    for (size_t k = 0; k < w->nsegs; k++) {
        const sh_seg *g = &w->segs[k];
        const char *t = g->text;
        if (!in_value) {
            const char *eq = strchr(t, '=');
            /* an unquoted ~ after the = or a : is the home directory
             * (bash(1) "Tilde Expansion" in assignments): the pod's shell
             * expands it */
            if (!eq || g->type != SH_SEG_LIT || eq[1] == '~' ||
                strstr(eq + 1, ":~"))
                break;
            *name_out = strndup(t, (size_t)(eq - t));
            in_value = true;
            s2r_buf_puts(&out, eq + 1);
            continue;
        }
        if (g->type == SH_SEG_LIT) {
            s2r_buf_puts(&out, t);
        } else if (!s2r_body__resolve_raw(job, env, t, g->type == SH_SEG_DQ,
                                          &out)) {
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
/* SLURM stand-ins: constants as env, per-pod values in a prelude       */
/* ------------------------------------------------------------------ */

bool s2r_body__mentions(const char *s, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = s; (p = strstr(p, name)); p += n) {
        char after = p[n];
        char before = p > s ? p[-1] : ' ';
        if (sh_name_byte(after) || sh_name_byte(before))
            continue;
        return true;
    }
    return false;
}

/* set in every pod, as sbatch(1) "OUTPUT ENVIRONMENT VARIABLES" says,
 * when the directives fix them (kjob's slurm mode sets the same list) */
typedef struct const_var {
    slurm_var v;
    const char *name;
} const_var;

/* the entry and its name, from one word: they cannot disagree */
#define CV(x) {V_##x, "SLURM_" #x}
static const const_var slurm_always[] = {
    CV(JOB_NAME),         CV(SUBMIT_DIR),     CV(NNODES),
    CV(NTASKS),           CV(CPUS_PER_TASK),  CV(MEM_PER_NODE),
    CV(GPUS_ON_NODE),     CV(ARRAY_TASK_COUNT), CV(ARRAY_TASK_MIN),
    CV(ARRAY_TASK_MAX),   CV(ARRAY_TASK_STEP), {0, NULL}};
/* set when the body reads them */
static const const_var slurm_consts[] = {
    CV(JOB_NUM_NODES), CV(NPROCS),        CV(NTASKS_PER_NODE),
    CV(CPUS_ON_NODE),  CV(JOB_CPUS_PER_NODE), CV(JOB_PARTITION),
    CV(JOB_ACCOUNT),   CV(GPUS),          CV(GPUS_PER_NODE),
    CV(GPUS_PER_TASK), CV(MEM_PER_CPU),   CV(MEM_PER_GPU),
    {0, NULL}};
#undef CV

/* job->slurm_env is empty before the prelude (s2r_job_parse() zeroes the
 * job, and only the prelude fills it), and the prelude sets each name
 * once: appended, with no look-up of the names before it */
static void set_env(ctx *c, const char *name, const char *value)
{
    if (s2r_envv_append(&c->job->slurm_env, name, value))
        c->oom = true;
}

static void add_const(ctx *c, const const_var *k)
{
    char num[S2R_I64_TEXT];
    const char *v;
    if (var_value(c->job, (int)k->v, num, &v) == 1)
        set_env(c, k->name, v);
}

/* SLURM_* names the prelude looks for in the body, one bit each */
typedef enum slurm_read {
    R_JOB_NUM_NODES, R_NPROCS, R_NTASKS_PER_NODE, R_CPUS_ON_NODE,
    R_JOB_CPUS_PER_NODE, R_JOB_PARTITION, R_JOB_ACCOUNT, R_GPUS,
    R_GPUS_PER_NODE, R_GPUS_PER_TASK, R_MEM_PER_CPU, R_MEM_PER_GPU,
    /* slurm_consts */
    R_LOCALID, R_TMPDIR, R_RESTART_COUNT, R_JOB_NODELIST, R_NODELIST,
    R_TASKS_PER_NODE, R_JOB_GPUS, R_JOB_QOS, R_JOB_RESERVATION,
    R_JOB_START_TIME, R_JOB_END_TIME, R_CLUSTER_NAME, R_SUBMIT_HOST,
    /* SLURMD_NODENAME: "SLURMD_", not "SLURM_" */
    R_NODENAME, R_COUNT
} slurm_read;
_Static_assert(sizeof(slurm_consts) / sizeof(slurm_consts[0]) - 1 ==
                   R_LOCALID,
               "slurm_read starts with slurm_consts' entries");

/* the names of slurm_read's entries, after "SLURM_" (slurm_consts' first,
 * in its order) */
static const char *const k_read_names[R_COUNT] = {
    "JOB_NUM_NODES", "NPROCS", "NTASKS_PER_NODE", "CPUS_ON_NODE",
    "JOB_CPUS_PER_NODE", "JOB_PARTITION", "JOB_ACCOUNT", "GPUS",
    "GPUS_PER_NODE", "GPUS_PER_TASK", "MEM_PER_CPU", "MEM_PER_GPU",
    "LOCALID", "TMPDIR", "RESTART_COUNT", "JOB_NODELIST", "NODELIST",
    "TASKS_PER_NODE", "JOB_GPUS", "JOB_QOS", "JOB_RESERVATION",
    "JOB_START_TIME", "JOB_END_TIME", "CLUSTER_NAME", "SUBMIT_HOST",
    "NODENAME"};

/* The slurm_read entries @p body mentions (as s2r_body__mentions() finds
 * a name), one bit each: one strstr pass over the body's "SLURM_" words,
 * each whole word compared with the names, where each name took a strstr
 * over the whole body. A mention is a whole name word: the bytes of a word
 * that starts after another name byte are skipped. NAME= that is not
 * ${NAME=...} assigns the variable, as the ranks of an srun made mpirun
 * do (s2r_body__rank_vars): no reading of it. */
static uint32_t slurm_reads(const char *body)
{
    uint32_t m = 0;
    for (const char *p = body; (p = strstr(p, "SLURM"));) {
        /* SLURM_NAME, or SLURMD_NAME (only R_NODENAME) */
        bool daemon = p[5] == 'D';
        const char *w = p + 5 + daemon;
        if (*w != '_') {
            p = w;
            continue;
        }
        const char *e = ++w;
        while (sh_name_byte(*e))
            e++;
        bool assigns = *e == '=' &&
                       (p == body || (p[-1] != '{' && p[-1] != '$'));
        if (!assigns && (p == body || !sh_name_byte(p[-1]))) {
            size_t n = (size_t)(e - w);
            int r = daemon ? R_NODENAME : 0, end = daemon ? R_COUNT : R_NODENAME;
            for (; r < end; r++)
                if (k_read_names[r][0] == *w &&
                    strlen(k_read_names[r]) == n &&
                    !memcmp(w, k_read_names[r], n))
                    m |= 1u << r;
        }
        p = e;
    }
    return m;
}

/* The warning that the body reads @p name, which the pod lacks because
 * of @p why, with @p tail after it ("" or SET_IT). */
#define SET_IT "; set it in the script if the script needs it"
static void warn_unset(ctx *c, const char *name, const char *why,
                       const char *tail)
{
    s2r_body__warn(c, 0, NULL, "the script reads %s: %s, so it is unset in "
                   "the pod%s", name, why, tail);
}

/* The job facts sbatch(1) "OUTPUT ENVIRONMENT VARIABLES" gives that only
 * the pod (its host name, its start) or nothing the script says (the
 * cluster, the submitting host, a default QOS) knows: set in the prelude
 * when the pod can know them, else a warning that they stay unset. */
static void add_run_facts(ctx *c, s2r_buf *pre, uint32_t m)
{
    if (m & (1u << R_NODENAME)) /* the pod is the node that runs it */
        s2r_buf_puts(pre, "export SLURMD_NODENAME=\"${HOSTNAME:-$(uname -n)}\"\n");
    if (m & (1u << R_JOB_START_TIME | 1u << R_JOB_END_TIME))
        s2r_buf_puts(pre, "printf -v SLURM_JOB_START_TIME '%(%s)T' -1\n"
                          "export SLURM_JOB_START_TIME\n");
    int64_t t = c->job->time_limit_s;
    if (t == S2R_TIME_UNLIMITED) /* job_end_time_reset(): a year */
        t = 365 * 24 * 60 * 60;
    if ((m & (1u << R_JOB_END_TIME)) && t > 0) {
        char num[S2R_I64_TEXT];
        s2r_i64_text(num, t);
        s2r_buf_puts(pre, "export SLURM_JOB_END_TIME=$((SLURM_JOB_START_TIME + ");
        s2r_buf_puts(pre, num);
        s2r_buf_puts(pre, "))\n");
    } else if (m & (1u << R_JOB_END_TIME)) {
        warn_unset(c, "SLURM_JOB_END_TIME", "with no --time the limit is "
                   "the partition's, which the script does not say", "");
    }
    /* sbatch(1): set only when the job has a reservation */
    const char *v = directive_value(c->job, "reservation");
    if ((m & (1u << R_JOB_RESERVATION)) && v && *v)
        set_env(c, "SLURM_JOB_RESERVATION", v);
    v = directive_value(c->job, "qos");
    if ((m & (1u << R_JOB_QOS)) && v && *v)
        set_env(c, "SLURM_JOB_QOS", v);
    else if (m & (1u << R_JOB_QOS))
        warn_unset(c, "SLURM_JOB_QOS", "with no --qos it is the account's "
                   "default QOS, which the script does not say", "");
    /* with no -p or -A they are the cluster's defaults */
    bool several = c->job->partitions && c->job->partitions[0] &&
                   c->job->partitions[1];
    if ((m & (1u << R_JOB_PARTITION)) &&
        !s2r_envv_get(&c->job->slurm_env, "SLURM_JOB_PARTITION"))
        warn_unset(c, "SLURM_JOB_PARTITION", several
                   ? "the job runs in the one of --partition's partitions "
                     "slurmctld starts it in"
                   : "with no --partition it is the cluster's default "
                     "partition, which the script does not say", "");
    if ((m & (1u << R_JOB_ACCOUNT)) &&
        !s2r_envv_get(&c->job->slurm_env, "SLURM_JOB_ACCOUNT"))
        warn_unset(c, "SLURM_JOB_ACCOUNT", "with no --account it is the "
                   "user's default account, which the script does not say",
                   "");
    if (m & (1u << R_CLUSTER_NAME))
        warn_unset(c, "SLURM_CLUSTER_NAME", "the SLURM cluster's name is "
                   "not in the script", SET_IT);
    if (m & (1u << R_SUBMIT_HOST))
        warn_unset(c, "SLURM_SUBMIT_HOST", "the host sbatch ran on is not "
                   "in the script", SET_IT);
}

/* SLURM_TASKS_PER_NODE, per sbatch(1): the tasks of each node, equal
 * counts of consecutive nodes as "N(xM)"; false (and nothing set) when
 * the directives leave the spread to slurmctld */
static bool tasks_per_node(const s2r_job *job, char *out, size_t cap)
{
    int64_t nodes = job->nodes, per;
    if (nodes < 1 || (job->nodes_max && job->nodes_max != nodes))
        return false;
    if (job->ntasks_per_node > 0 &&
        (job->ntasks <= 0 || job->ntasks == job->ntasks_per_node * nodes))
        per = job->ntasks_per_node;
    else if (job->ntasks <= 0)
        per = 1;
    else if (job->ntasks % nodes == 0)
        per = job->ntasks / nodes;
    else
        return false;
    if (nodes == 1)
        snprintf(out, cap, "%lld", (long long)per);
    else
        snprintf(out, cap, "%lld(x%lld)", (long long)per, (long long)nodes);
    return true;
}

/* The GPUs of a pod as their ordinals in it, "0,1,...,N-1" (N GPUs per
 * node), where SLURM's GRES plugin gives the node's own indices; false
 * with no GPUs. */
static bool gpu_ordinals(const s2r_job *job, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int64_t g = 0; g < job->gpus_per_node; g++) {
        int k = snprintf(out + n, cap - n, g ? ",%lld" : "%lld", (long long)g);
        if (k < 0 || (size_t)k >= cap - n)
            return false;
        n += (size_t)k;
    }
    return n > 0;
}

void s2r_body__add_prelude(ctx *c, s2r_buf *pre, const char *body)
{
    char text[512];
    /* CUDA_VISIBLE_DEVICES: the container runtime shows the pod's GPUs
     * and seldom sets it, so a script that counts GPUs by splitting it
     * gets its pod's ordinals, as GRES gave the node's */
    if (c->job->gpus_per_node > 0 &&
        s2r_body__mentions(body, "CUDA_VISIBLE_DEVICES") &&
        gpu_ordinals(c->job, text, sizeof(text))) {
        s2r_buf_puts(pre, "export CUDA_VISIBLE_DEVICES=\"${CUDA_VISIBLE_DEVICES:-");
        s2r_buf_puts(pre, text);
        s2r_buf_puts(pre, "}\"\n");
    }
    for (size_t i = 0; slurm_always[i].name; i++)
        add_const(c, &slurm_always[i]);
    uint32_t m = slurm_reads(body);
    if (!m)
        return;
    for (size_t i = 0; slurm_consts[i].name; i++)
        if (m & (1u << i))
            add_const(c, &slurm_consts[i]);
    /* SLURM_JOB_ID, SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID, SLURM_NODEID
     * and SLURM_PROCID: every pod computes them (core/runai pod script) */
    if (m & (1u << R_LOCALID))
        s2r_buf_puts(pre, "export SLURM_LOCALID=\"${LOCAL_RANK:-"
                          "${OMPI_COMM_WORLD_LOCAL_RANK:-0}}\"\n");
    if (m & (1u << R_TMPDIR))
        s2r_buf_puts(pre, "export SLURM_TMPDIR=\"${TMPDIR:-/tmp}\"\n");
    if (m & (1u << R_RESTART_COUNT))
        s2r_buf_puts(pre, "export SLURM_RESTART_COUNT=0\n");
    if ((m & (1u << R_TASKS_PER_NODE)) &&
        tasks_per_node(c->job, text, sizeof(text)))
        set_env(c, "SLURM_TASKS_PER_NODE", text);
    else if (m & (1u << R_TASKS_PER_NODE)) {
        snprintf(text, sizeof(text), "how slurmctld spreads %lld task(s) over "
                 "the job's nodes is not fixed by the directives",
                 (long long)c->job->ntasks);
        warn_unset(c, "SLURM_TASKS_PER_NODE", text, "");
    }
    if ((m & (1u << R_JOB_GPUS)) && gpu_ordinals(c->job, text, sizeof(text)))
        set_env(c, "SLURM_JOB_GPUS", text);
    add_run_facts(c, pre, m);
    if (m & (1u << R_JOB_NODELIST | 1u << R_NODELIST))
        s2r_body__warn(c, 0, NULL, "the script reads %s: SLURM host lists "
                       "have no Run:ai equivalent (use MASTER_ADDR or the "
                       "MPI hostfile)", m & (1u << R_JOB_NODELIST)
                                            ? "SLURM_JOB_NODELIST"
                                            : "SLURM_NODELIST");
}
