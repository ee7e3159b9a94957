/* gres.c: the GPU requests of a job as slurmctld keeps them, one record
 * per GPU type (or none), and the checks of gres_job_state_validate() and
 * _test_gres_cnt() (src/common/gres.c, Slurm 22.05 and later), which may
 * also set the task count, node counts, tasks per node, sockets per node
 * and CPUs per task, and --ntasks-per-gpu's tasks or GPUs.
 * Written from their behaviour; no Slurm code is copied. See
 * parse_state.h. */
#include "slurm.h"
#include "parse_state.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* sbatch names the GPU GRES "gpu" in its messages: "--gpus", "--gres=gpu" */

static bool same_type(const s2r_slurm__gpu *r, const char *t, size_t n)
{
    if (!r->type || !t)
        return !r->type && !t;
    return r->type_len == n && memcmp(r->type, t, n) == 0;
}

/* The record of type [t, t+n) (NULL: none), made at the end if new;
 * NULL when the job names more than S2R_SLURM_MAX_GPU_TYPES types. */
static s2r_slurm__gpu *record(s2r_slurm__gpus *g, const char *t, size_t n)
{
    for (size_t i = 0; i < g->n; i++)
        if (same_type(&g->v[i], t, n))
            return &g->v[i];
    if (g->n > S2R_SLURM_MAX_GPU_TYPES)
        return NULL;
    s2r_slurm__gpu *r = &g->v[g->n++];
    memset(r, 0, sizeof(*r));
    r->type = t;
    r->type_len = t ? n : 0;
    r->seq_node = r->seq_job = r->seq_socket = r->seq_task = -1;
    return r;
}

enum list { L_JOB, L_NODE, L_SOCKET, L_TASK };

/* Set the count of list @p which on record @p r. */
static void set_count(s2r_slurm__gpu *r, enum list which, int64_t count,
                      int seq)
{
    if (which == L_JOB) {
        r->per_job = count;
        r->seq_job = seq;
    } else if (which == L_NODE) {
        r->per_node = count;
        r->seq_node = seq;
    } else if (which == L_SOCKET) {
        r->per_socket = count;
        r->seq_socket = seq;
    } else {
        r->per_task = count;
        r->seq_task = seq;
    }
}

/* The GPU entries of one option value into the records (per type the
 * last count wins). @p seq numbers the entries of the TRES list the
 * value lands in. @return 0 or S2R_EINVAL (refused). */
static int read_value(s2r_slurm__state *st, s2r_slurm__gpus *g,
                      const char *opt, const last_opt *o, bool gres,
                      enum list which, int *seq)
{
    if (!o->set || (gres && !strcasecmp(o->value, "none")))
        return 0;
    const char *cur = o->value;
    s2r_slurm_tres t;
    int rc;
    while ((rc = s2r_slurm__next_tres(&cur, gres, &t)) == 1) {
        if (t.name_len != 3 || memcmp(t.name, "gpu", 3) != 0)
            continue; /* another GRES (shard, mps, ...): the site's */
        (*seq)++;
        if (t.count == 0)
            continue; /* sbatch drops "gpu:0" entries */
        s2r_slurm__gpu *r = record(g, t.type, t.type_len);
        if (!r) {
            rc = S2R_ETOOBIG;
            break;
        }
        g->requested = true;
        set_count(r, which, t.count, *seq);
    }
    if (rc == 0)
        return 0;
    if (rc == S2R_ETOOBIG)
        s2r_slurm__perr(st, o->line, opt, NULL,
                        "Invalid --%s specification '%s': a GPU count above "
                        "%d, or more than %d GPU types (no node holds it; "
                        "slurmctld refuses the job)",
                        opt, o->value, S2R_SLURM_MAX_COUNT,
                        S2R_SLURM_MAX_GPU_TYPES);
    else if (gres)
        s2r_slurm__perr(st, o->line, opt, o->value,
                        "Invalid --gres specification '%s': expected "
                        "name[:type][:count][,...], e.g. gpu:a100:2",
                        o->value);
    else
        s2r_slurm__perr(st, o->line, opt, o->value,
                        "Invalid --%s specification '%s': expected "
                        "[type:]count[,...], e.g. a100:2", opt, o->value);
    return S2R_EINVAL;
}

/* The GPU entries of --tres-per-task (checked in checks.c) into the
 * per-task counts, after --gpus-per-task's. @return 0 or S2R_EINVAL. */
static int read_task_tres(s2r_slurm__state *st, s2r_slurm__gpus *g, int *seq)
{
    if (!st->tpt.set)
        return 0;
    const char *cur = st->tpt.value;
    s2r_slurm_task_tres t;
    while (s2r_slurm__next_task_tres(&cur, &t) == 1) {
        if (t.kind != S2R_SLURM_TPT_GPU)
            continue;
        (*seq)++;
        if (t.count == 0)
            continue;
        s2r_slurm__gpu *r = record(g, t.type, t.type_len);
        if (!r) {
            s2r_slurm__perr(st, st->tpt.line, "tres-per-task", NULL,
                            "Invalid --tres-per-task specification '%s': "
                            "more than %d GPU types (slurmctld refuses the "
                            "job)", st->tpt.value, S2R_SLURM_MAX_GPU_TYPES);
            return S2R_EINVAL;
        }
        g->requested = true;
        set_count(r, L_TASK, t.count, *seq);
    }
    return 0;
}

int s2r_slurm__gpus_read(s2r_slurm__state *st, s2r_slurm__gpus *g)
{
    g->n = 0; /* each record is cleared as it is made */
    g->requested = false;
    int seq_job = 0, seq_node = 0, seq_socket = 0, seq_task = 0;
    if (st->cpg_set) /* CpusPerTres=gres:gpu:N, no type */
        record(g, NULL, 0)->cpus = st->job->cpus_per_gpu;
    if (read_value(st, g, "gpus", &st->gpus, false, L_JOB, &seq_job) ||
        read_value(st, g, "gpus-per-node", &st->gpn, false, L_NODE,
                   &seq_node) ||
        read_value(st, g, "gres", &st->gres, true, L_NODE, &seq_node) ||
        read_value(st, g, "gpus-per-socket", &st->gps, false, L_SOCKET,
                   &seq_socket) ||
        read_value(st, g, "gpus-per-task", &st->gpt, false, L_TASK,
                   &seq_task) ||
        read_task_tres(st, g, &seq_task))
        return S2R_EINVAL;
    if (st->mpg_set && st->mpg > 0) { /* MemPerTres=gres:gpu:N */
        s2r_slurm__gpu *r = record(g, NULL, 0);
        if (r)
            r->mem = st->mpg;
    }
    return 0;
}

/* What the counts of record @p r count, for a message: "a100 GPUs" (the
 * type cut to 79 bytes, in @p what), or "GPUs" for no type. */
static const char *noun(const s2r_slurm__gpu *r, char what[100])
{
    if (!r->type)
        return "GPUs";
    int n = r->type_len < 79 ? (int)r->type_len : 79;
    snprintf(what, 100, "%.*s GPUs", n, r->type);
    return what;
}

/* Set a layout count to @p want unless given, else it must agree. */
static bool agree(int64_t *have, int64_t want)
{
    if (*have == NO_VAL || *have == 0) {
        *have = want;
        return true;
    }
    return *have == want;
}

/* The per-node count against the per-socket count and the sockets per
 * node they make (_test_gres_cnt()). @return 0 or S2R_EINVAL. */
static int test_per_socket(s2r_slurm__state *st, const s2r_slurm__gpu *r,
                           s2r_slurm__layout *l)
{
    char what[100];
    if (!r->per_node || !r->per_socket)
        return 0;
    if (r->per_node % r->per_socket) {
        s2r_slurm__perr(st, st->gps.line, "gpus-per-socket", NULL,
                        "Failed to validate job spec, --gres=gpu/--gpus-per-"
                        "node not multiple of --gpus-per-socket (%lld %s per "
                        "node, %lld per socket).", (long long)r->per_node,
                        noun(r, what), (long long)r->per_socket);
        return S2R_EINVAL;
    }
    if (!agree(&l->sockets_per_node, r->per_node / r->per_socket)) {
        s2r_slurm__perr(st, st->gps.line, "gpus-per-socket", NULL,
                        "Failed to validate job spec. Based on --gres=gpu/"
                        "--gpus-per-node and --gpus-per-socket required "
                        "number of sockets (%lld) differ from "
                        "--sockets-per-node (%lld).",
                        (long long)(r->per_node / r->per_socket),
                        (long long)l->sockets_per_node);
        return S2R_EINVAL;
    }
    return 0;
}

/* The job total against the per-node, per-socket and per-task counts and
 * the node counts (the first half of _test_gres_cnt()). @return 0 or
 * S2R_EINVAL. */
static int test_job_total(s2r_slurm__state *st, const s2r_slurm__gpu *r,
                          s2r_slurm__layout *l)
{
    char what[100];
    int line = st->gpus.line;
    const char *to;
    const last_opt *tl = s2r_slurm__task_gpus_opt(st, &to);
    if (r->per_job && ((r->per_node && r->per_node > r->per_job) ||
                       (r->per_task && r->per_task > r->per_job) ||
                       (r->per_socket && r->per_socket > r->per_job))) {
        int64_t more = r->per_node     ? r->per_node
                       : r->per_socket ? r->per_socket
                                       : r->per_task;
        s2r_slurm__perr(st, line, "gpus", NULL,
                        "Failed to ensure --gpus >= --gres=gpu/--gpus-per-"
                        "node >= --gpus-per-socket: %lld %s in all is less "
                        "than the %lld per %s", (long long)r->per_job,
                        noun(r, what), (long long)more,
                        r->per_node     ? "node"
                        : r->per_socket ? "socket"
                                        : "task");
        return S2R_EINVAL;
    }
    if (r->per_node && r->per_task && r->per_task > r->per_node) {
        s2r_slurm__perr(st, tl->line, to, NULL,
                        "Failed to ensure --gpus >= --gpus-per-task: %lld %s "
                        "per task is more than the %lld per node",
                        (long long)r->per_task, noun(r, what),
                        (long long)r->per_node);
        return S2R_EINVAL;
    }
    if (r->per_node && r->per_socket && r->per_socket > r->per_node) {
        s2r_slurm__perr(st, st->gps.line, "gpus-per-socket", NULL,
                        "Failed to ensure --gpus >= --gpus-per-task: %lld %s "
                        "per socket is more than the %lld per node",
                        (long long)r->per_socket, noun(r, what),
                        (long long)r->per_node);
        return S2R_EINVAL;
    }
    if (r->per_socket && l->sockets_per_node == NO_VAL) {
        s2r_slurm__perr(st, st->gps.line, "gpus-per-socket", NULL,
                        "--gpus-per-socket option requires --sockets-per-"
                        "node specification (sbatch refuses the job: "
                        "Invalid generic resource (gres) specification)");
        return S2R_EINVAL;
    }
    if (r->per_job && r->per_node) {
        int64_t req = r->per_job / r->per_node;
        if (r->per_job % r->per_node) {
            s2r_slurm__perr(st, line, "gpus", NULL,
                            "Failed to validate job spec, --gpus is not "
                            "multiple of --gres=gpu/--gpus-per-node (%lld "
                            "%s in all, %lld per node)",
                            (long long)r->per_job, noun(r, what),
                            (long long)r->per_node);
            return S2R_EINVAL;
        }
        if ((l->min_nodes != NO_VAL && req < l->min_nodes) ||
            (l->max_nodes != NO_VAL && req > l->max_nodes)) {
            s2r_slurm__perr(st, line, "gpus", NULL,
                            "Failed to validate job spec. Based on --gpus and "
                            "--gres=gpu/--gpus-per-node required nodes (%lld) "
                            "doesn't fall between min_nodes (%lld) and "
                            "max_nodes (%lld) boundaries.", (long long)req,
                            (long long)l->min_nodes,
                            (long long)(l->max_nodes == NO_VAL
                                            ? l->min_nodes : l->max_nodes));
            return S2R_EINVAL;
        }
        l->min_nodes = l->max_nodes = req;
    }
    return test_per_socket(st, r, l);
}

/* The per-task count against the job total, the task count, the tasks
 * per node and the CPUs per task (the second half of _test_gres_cnt()).
 * @param per_job  the job total, set here from the task count when
 *                 --gpus is not given. @return 0 or S2R_EINVAL. */
static int test_per_task(s2r_slurm__state *st, const s2r_slurm__gpu *r,
                         s2r_slurm__layout *l, int64_t *per_job)
{
    char what[100];
    const char *o;
    int line = s2r_slurm__task_gpus_opt(st, &o)->line;
    if (*per_job) {
        if (*per_job % r->per_task) {
            s2r_slurm__perr(st, line, o, NULL,
                            "Failed to validate job spec, --gpus not multiple "
                            "of --gpus-per-task (%lld %s in all, %lld per "
                            "task)", (long long)*per_job, noun(r, what),
                            (long long)r->per_task);
            return S2R_EINVAL;
        }
        int64_t req = *per_job / r->per_task;
        if (l->num_tasks == NO_VAL) {
            l->num_tasks = req;
        } else if (l->num_tasks != req) {
            s2r_slurm__perr(st, line, o, NULL,
                            "Failed to validate job spec. Based on --gpus and "
                            "--gpus-per-task number of requested tasks (%lld) "
                            "differ from -n/--ntasks (%lld).", (long long)req,
                            (long long)l->num_tasks);
            return S2R_EINVAL;
        }
    } else if (l->num_tasks != NO_VAL) {
        *per_job = l->num_tasks * r->per_task;
    } else {
        s2r_slurm__perr(st, line, o, NULL,
                        "Failed to validate job spec. --gpus-per-task or "
                        "--tres-per-task used without either --gpus or "
                        "-n/--ntasks is not allowed (add --ntasks, or "
                        "--nodes with one count)");
        return S2R_EINVAL;
    }
    if (r->per_node) {
        if (r->per_node % r->per_task) {
            s2r_slurm__perr(st, line, o, NULL,
                            "Failed to validate job spec, --gres=gpu/--gpus-"
                            "per-node not multiple of --gpus-per-task (%lld "
                            "%s per node, %lld per task).",
                            (long long)r->per_node, noun(r, what),
                            (long long)r->per_task);
            return S2R_EINVAL;
        }
        if (!agree(&l->ntasks_per_node, r->per_node / r->per_task)) {
            s2r_slurm__perr(st, line, o, NULL,
                            "Failed to validate job spec. Based on --gres=gpu/"
                            "--gpus-per-node and --gpus-per-task requested "
                            "number of tasks per node (%lld) differ from "
                            "--ntasks-per-node (%lld).",
                            (long long)(r->per_node / r->per_task),
                            (long long)l->ntasks_per_node);
            return S2R_EINVAL;
        }
    }
    if (r->per_socket && r->per_socket % r->per_task) {
        s2r_slurm__perr(st, line, o, NULL,
                        "Failed to validate job spec, --gpus-per-socket not "
                        "multiple of --gpus-per-task (%lld %s per socket, "
                        "%lld per task).", (long long)r->per_socket,
                        noun(r, what), (long long)r->per_task);
        return S2R_EINVAL;
    }
    if (r->cpus && !agree(&l->cpus_per_task, r->cpus * r->per_task)) {
        s2r_slurm__perr(st, line, o, NULL,
                        "Failed to validate job spec. Based on --cpus-per-gpu "
                        "and --gpus-per-task requested number of cpus (%lld) "
                        "differ from -c/--cpus-per-task (%lld).",
                        (long long)(r->cpus * r->per_task),
                        (long long)l->cpus_per_task);
        return S2R_EINVAL;
    }
    return 0;
}

/* _test_gres_cnt() of one record. @return 0 or S2R_EINVAL. */
static int test_cnt(s2r_slurm__state *st, const s2r_slurm__gpu *r,
                    s2r_slurm__layout *l, bool in_slurmctld)
{
    char what[100];
    if (test_job_total(st, r, l))
        return S2R_EINVAL;
    if (s2r_slurm__ntpg_given(st) && st->ntpg && l->num_tasks != NO_VAL &&
        l->num_tasks % st->ntpg) {
        s2r_slurm__perr(st, st->ntpg_line, "ntasks-per-gpu", NULL,
                        "Failed to validate job spec, -n/--ntasks has to be "
                        "a multiple of --ntasks-per-gpu (%lld task%s, %lld "
                        "per GPU).", (long long)l->num_tasks,
                        l->num_tasks == 1 ? "" : "s", (long long)st->ntpg);
        return S2R_EINVAL;
    }
    if (!in_slurmctld && r->cpus && l->cpus_per_task != NO_VAL) {
        s2r_slurm__perr(st, st->cpg_line, "cpus-per-gpu", NULL,
                        "--cpus-per-gpu is mutually exclusive with "
                        "--cpus-per-task");
        return S2R_EINVAL;
    }
    int64_t per_job = r->per_job;
    if (r->per_task && test_per_task(st, r, l, &per_job))
        return S2R_EINVAL;
    if (per_job) {
        if (l->min_nodes != NO_VAL && per_job < l->min_nodes) {
            const char *to;
            const last_opt *tl = s2r_slurm__task_gpus_opt(st, &to);
            int at = tl->line;
            if (st->gpus.set) {
                at = st->gpus.line;
                to = "gpus";
            } else if (!r->per_task) { /* --ntasks-per-gpu's GPUs */
                at = st->ntpg_line;
                to = "ntasks-per-gpu";
            }
            s2r_slurm__perr(st, at, to, NULL,
                            "Failed to validate job spec, --gpus < -N: %lld "
                            "%s for %lld nodes (every node needs one)",
                            (long long)per_job, noun(r, what),
                            (long long)l->min_nodes);
            return S2R_EINVAL;
        }
        if (l->max_nodes != NO_VAL && per_job < l->max_nodes)
            l->max_nodes = per_job;
    }
    return 0;
}

/* The GPUs of record @p r for the whole job, as slurmctld totals a
 * request (total_gres): the largest of the job count and the per-node
 * count times the minimum node count (the per-node count when -N is not
 * given); --ntasks-per-gpu excludes the per-socket and per-task counts. */
static int64_t job_total(const s2r_slurm__gpu *r, const s2r_slurm__layout *l)
{
    int64_t n = r->per_node;
    if (l->min_nodes != NO_VAL)
        n = l->min_nodes > 0 && n > INT64_MAX / l->min_nodes
                ? INT64_MAX
                : n * l->min_nodes;
    return n > r->per_job ? n : r->per_job;
}

/* --ntasks-per-gpu (gres_job_state_validate()): with GPUs requested the
 * task count is their total times the tasks per GPU, whatever -n says;
 * without, the job gets -n divided by the tasks per GPU GPUs for the
 * whole job (none when fewer tasks than that: sbatch says so and goes
 * on); with neither, sbatch refuses. The GPUs it adds are a request for
 * a later call (slurmctld's). @return 0 or S2R_EINVAL. */
static int tasks_per_gpu(s2r_slurm__state *st, s2r_slurm__gpus *g,
                         s2r_slurm__layout *l, bool in_slurmctld)
{
    if (g->requested) {
        int64_t gpus = 0;
        for (size_t i = 0; i < g->n; i++) {
            int64_t t = job_total(&g->v[i], l);
            gpus = t > INT64_MAX - gpus ? INT64_MAX : gpus + t;
        }
        if (gpus == 0) {
            s2r_slurm__perr(st, st->ntpg_line, "ntasks-per-gpu", NULL,
                            "Can't set num_tasks = gpus * *ntasks_per_tres "
                            "because there are no allocated GPUs (--nodes=0 "
                            "asks none per node)");
            return S2R_EINVAL;
        }
        int64_t n = gpus > INT64_MAX / st->ntpg ? INT64_MAX
                                                : gpus * st->ntpg;
        if (!in_slurmctld && st->ntasks_set && n != st->job->ntasks &&
            s2r_diags_add(st->d, S2R_SEV_NOTE, st->file, st->ntpg_line,
                          "ntasks-per-gpu",
                          "--ntasks-per-gpu=%lld with %lld GPUs makes %lld "
                          "tasks: slurmctld replaces --ntasks=%lld with "
                          "them", (long long)st->ntpg, (long long)gpus,
                          (long long)n, (long long)st->job->ntasks) != 0) {
            st->rc = S2R_ENOMEM;
            return S2R_ENOMEM;
        }
        l->num_tasks = n;
        return 0;
    }
    if (l->num_tasks == NO_VAL || l->num_tasks == 0) {
        s2r_slurm__perr(st, st->ntpg_line, "ntasks-per-gpu", NULL,
                        "--ntasks-per-tres needs either a GRES GPU "
                        "specification or a node/ntask specification (add "
                        "--gpus, -n/--ntasks or -N/--nodes)");
        return S2R_EINVAL;
    }
    int64_t gpus = l->num_tasks / st->ntpg;
    if (gpus == 0 && g->n > 0) {
        /* "gpu:0" finds the record of --cpus-per-gpu/--mem-per-gpu: a GPU
         * request of none, refused below (-n is not a multiple) */
        g->requested = true;
        return 0;
    }
    if (gpus == 0) {
        if (!in_slurmctld &&
            s2r_diags_add(st->d, S2R_SEV_WARNING, st->file, st->ntpg_line,
                          "ntasks-per-gpu",
                          "--ntasks-per-gpu=%lld with %lld task%s gives the "
                          "job no GPU (sbatch: Failed to add generated GRES "
                          "gres:gpu:0)", (long long)st->ntpg,
                          (long long)l->num_tasks,
                          l->num_tasks == 1 ? "" : "s") != 0) {
            st->rc = S2R_ENOMEM;
            return S2R_ENOMEM;
        }
        return 0;
    }
    s2r_slurm__gpu *r = record(g, NULL, 0);
    if (!r) { /* every type is taken: a typed request, which asks GPUs */
        s2r_slurm__perr(st, st->ntpg_line, "ntasks-per-gpu", NULL,
                        "Invalid GRES specification: more than %d GPU types",
                        S2R_SLURM_MAX_GPU_TYPES);
        return S2R_EINVAL;
    }
    r->per_job = gpus; /* as a --gpus request */
    r->seq_job = 0;
    g->requested = true;
    return 0;
}

/* The GPU option given last (for a message about them all). */
static const last_opt *latest(s2r_slurm__state *st, const char **name)
{
    const last_opt *o[] = {&st->gres, &st->gpus, &st->gpn,
                           &st->gps,  &st->gpt,  &st->tpt};
    const char *n[] = {"gres",            "gpus",          "gpus-per-node",
                       "gpus-per-socket", "gpus-per-task", "tres-per-task"};
    const last_opt *best = NULL;
    for (int i = 0; i < 6; i++)
        if (o[i]->set && (!best || o[i]->line >= best->line)) {
            best = o[i];
            *name = n[i];
        }
    return best;
}

int s2r_slurm__gpus_validate(s2r_slurm__state *st, s2r_slurm__gpus *g,
                             s2r_slurm__layout *l, bool in_slurmctld)
{
    /* a task count implied by a fixed node count when the job asks
     * anything per task (TresPerTask: --gpus-per-task, --tres-per-task,
     * its cpu entry alone too) */
    bool ntpg = s2r_slurm__ntpg_given(st);
    if ((st->gpt.set || st->tpt.set || ntpg) && l->num_tasks == NO_VAL &&
        l->min_nodes != NO_VAL && l->min_nodes == l->max_nodes) {
        if (ntpg)
            l->num_tasks = l->min_nodes * st->ntpg;
        else if (l->ntasks_per_node != NO_VAL)
            l->num_tasks = l->min_nodes * l->ntasks_per_node;
        else if (l->cpus_per_task == NO_VAL)
            l->num_tasks = l->min_nodes;
    }
    if (ntpg && st->ntpg && tasks_per_gpu(st, g, l, in_slurmctld))
        return S2R_EINVAL;
    if (g->n == 0)
        return 0;
    if (st->mpg_set && !g->requested) {
        s2r_slurm__perr(st, st->mpg_line, "mem-per-gpu", NULL,
                        "Requested mem_per_tres=gres:gpu:%lld but did not "
                        "request any GPU (add --gpus, --gres=gpu or "
                        "--gpus-per-node)", (long long)st->mpg);
        return S2R_EINVAL;
    }
    bool typed = false;
    const s2r_slurm__gpu *untyped = NULL;
    for (size_t i = 0; i < g->n; i++) {
        const s2r_slurm__gpu *r = &g->v[i];
        if (test_cnt(st, r, l, in_slurmctld))
            return S2R_EINVAL;
        if (r->type)
            typed = true;
        else
            untyped = r;
    }
    /* a request without a type beside one with a type: only the per-GPU
     * CPUs and memory may come without one (_merge_generic_data()) */
    if (typed && untyped &&
        (untyped->per_job || untyped->per_node || untyped->per_socket ||
         untyped->per_task)) {
        const char *name = "gres";
        const last_opt *o = latest(st, &name);
        s2r_slurm__perr(st, o ? o->line : 0, name, NULL,
                        "Invalid GRES specification (with and without type "
                        "identification): name a GPU type in every GPU "
                        "request, or in none");
        return S2R_EINVAL;
    }
    return 0;
}

/* The count of one record on a node (the facts' rule). */
static int64_t on_node(const s2r_slurm__gpu *r, int64_t nodes, int64_t spn,
                       int64_t tpn)
{
    if (r->per_node)
        return r->per_node;
    if (r->per_job)
        return nodes > 0 ? (r->per_job + nodes - 1) / nodes : r->per_job;
    if (r->per_socket)
        return r->per_socket * spn;
    return r->per_task * tpn;
}

int64_t s2r_slurm__gpus_per_node(const s2r_slurm__gpus *g, int64_t nodes,
                                 int64_t sockets_per_node,
                                 int64_t tasks_per_node,
                                 const s2r_slurm__gpu **type_out)
{
    int64_t total = 0;
    for (size_t i = 0; i < g->n; i++) {
        int64_t n = on_node(&g->v[i], nodes, sockets_per_node, tasks_per_node);
        total = n > INT64_MAX - total ? INT64_MAX : total + n;
    }
    /* the type: TresPerNode's records first, then TresPerJob's, then
     * TresPerSocket's, then TresPerTask's, each list in the order of its
     * last entries */
    const s2r_slurm__gpu *best = NULL;
    int best_list = 4, best_seq = 0;
    for (size_t i = 0; i < g->n; i++) {
        const s2r_slurm__gpu *r = &g->v[i];
        if (!r->type ||
            on_node(r, nodes, sockets_per_node, tasks_per_node) <= 0)
            continue;
        int list = r->seq_node >= 0     ? 0
                   : r->seq_job >= 0    ? 1
                   : r->seq_socket >= 0 ? 2
                                        : 3;
        int seq = list == 0   ? r->seq_node
                  : list == 1 ? r->seq_job
                  : list == 2 ? r->seq_socket
                              : r->seq_task;
        if (list < best_list || (list == best_list && seq < best_seq)) {
            best = r;
            best_list = list;
            best_seq = seq;
        }
    }
    *type_out = best;
    return total;
}
