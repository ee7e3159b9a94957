/* layout.c: the task and node layout of a job as sbatch sends it
 * (src/sbatch/opt.c _opt_verify(), slurm_opt_create_job_desc()) and
 * slurmctld stores it (job_mgr.c validate_job_create_req(),
 * _job_create(), the placement check of a job not held), with the GPU
 * records of gres.c between them; then the derived facts of
 * shared/corpus/README.md, counted as slurmctld's stored job gives them
 * (NumNodes, NumTasks, NtasksPerN, CPUs/Task, MinCPUsNode, TresPer*,
 * CpusPerTres, MemPerTres). Written from their behaviour, checked against
 * a Slurm 22.05 controller (tests/sbatch); no Slurm code is copied. See
 * parse_state.h. */
#include "slurm.h"
#include "parse_state.h"

#include <stdlib.h>
#include <string.h>

static int64_t ceil_div(int64_t a, int64_t b)
{
    return b > 0 ? a / b + (a % b != 0) : a;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* a x b for counts in [0, 2^62), or INT64_MAX when it would not fit */
static int64_t mul_sat(int64_t a, int64_t b)
{
    if (a > 0 && b > INT64_MAX / a)
        return INT64_MAX;
    return a * b;
}

/* sbatch's _opt_verify() and job description: what it sends.
 * @return 0 or S2R_ENOMEM. */
static int sbatch_layout(s2r_slurm__state *st, s2r_slurm__layout *l)
{
    s2r_job *job = st->job;
    int64_t min = st->nodes_set ? st->nodes_min : 1;
    int64_t max = st->nodes_set ? st->nodes_max : 0;
    bool ntasks_set = st->ntasks_set;
    int64_t ntasks = ntasks_set ? job->ntasks : 1;
    /* --ntasks-per-node on a fixed node count sets the task count */
    if (st->ntpn_set && !ntasks_set && (max == 0 || min == max)) {
        ntasks = min * job->ntasks_per_node;
        ntasks_set = true;
    }
    /* a task per socket: --sockets-per-node on a fixed node count (-N)
     * sets the task count, unless -n or --ntasks-per-node does */
    if (st->spn_set && st->nodes_set && !ntasks_set && !st->ntpn_set &&
        (max == 0 || min == max)) {
        ntasks = mul_sat(min > 1 ? min : 1, st->spn);
        ntasks_set = true;
    }
    if (st->nodes_set && ntasks_set) {
        if (ntasks < max)
            max = ntasks;
        if (ntasks < min) {
            if (s2r_diags_add(st->d, S2R_SEV_NOTE, st->file, st->nodes_line,
                              "nodes",
                              "can't run %lld processes on %lld nodes, "
                              "setting nnodes to %lld (as sbatch does)",
                              (long long)ntasks, (long long)min,
                              (long long)ntasks) != 0)
                return S2R_ENOMEM;
            min = max = ntasks;
        }
    }
    l->num_tasks = ntasks_set ? ntasks : NO_VAL;
    l->min_nodes = st->nodes_set ? min : NO_VAL;
    l->max_nodes = st->nodes_set && max ? max : NO_VAL;
    l->ntasks_per_node = st->ntpn_set ? job->ntasks_per_node : NO_VAL;
    l->cpus_per_task = st->cpt_set ? job->cpus_per_task : NO_VAL;
    l->sockets_per_node = st->spn_set ? st->spn : NO_VAL;
    return 0;
}

/* The refusals of slurmctld that need the final counts (those of the
 * placement check a job not held gets). */
static void controller_checks(s2r_slurm__state *st, const s2r_slurm__layout *l,
                              const s2r_slurm__gpus *g)
{
    int64_t min = l->min_nodes == NO_VAL ? 1 : l->min_nodes;
    int64_t max = l->max_nodes == NO_VAL ? 0 : l->max_nodes;
    if (min == 0 && max == 0) {
        s2r_slurm__perr(st, st->nodes_line, "nodes", NULL,
                        "Node count specification invalid: --nodes=0 "
                        "(slurmctld runs a job without nodes only for a "
                        "burst buffer; give at least 1, or a range 0-N)");
        return;
    }
    if (min == 0 && st->job->array) {
        s2r_slurm__perr(st, st->nodes_line, "nodes", NULL,
                        "Node count specification invalid: a job array "
                        "needs at least one node (--nodes=0-N with --array)");
        return;
    }
    int64_t ntpn = l->ntasks_per_node;
    /* with --cpus-per-gpu, select/cons_tres 22.05 places some such jobs
     * (it counts a node's CPUs from its GPUs): the tasks still do not fit
     * per sbatch(1) --ntasks-per-node, but "held only" would be false */
    bool cpg_placed = st->cpg_set && g->n > 0;
    if (ntpn > 0 && l->num_tasks > 0 && max > 0 &&
        ceil_div(l->num_tasks, ntpn) > max)
        s2r_slurm__perr(st, st->ntpn_line, "ntasks-per-node", NULL,
                        "Requested node configuration is not available: "
                        "%lld tasks at most %lld per node need %lld nodes, "
                        "but --nodes allows at most %lld%s",
                        (long long)l->num_tasks, (long long)ntpn,
                        (long long)ceil_div(l->num_tasks, ntpn),
                        (long long)max,
                        cpg_placed ? "" : " (slurmctld holds such a job "
                                          "only with --hold)");
    /* GPUs per task on a node that takes ntasks-per-node tasks: the job
     * must have that many tasks (select/cons_tres), unless it has the
     * whole node (--exclusive): slurmctld 22.05 then places it */
    bool per_task = false;
    for (size_t i = 0; i < g->n; i++)
        per_task = per_task || g->v[i].per_task > 0;
    const char *to;
    const last_opt *tl = s2r_slurm__task_gpus_opt(st, &to);
    if (per_task && ntpn > 0 && l->num_tasks > 0 && l->num_tasks < ntpn &&
        !st->exclusive_node)
        s2r_slurm__perr(st, tl->line, to, NULL,
                        "Requested node configuration is not available: "
                        "GPUs per task for %lld tasks per node, but the job "
                        "has %lld task%s (slurmctld holds such a job only "
                        "with --hold)", (long long)ntpn,
                        (long long)l->num_tasks,
                        l->num_tasks == 1 ? "" : "s");
}

/* Nodes, tasks and tasks per node as the stored job gives them. */
static void task_facts(s2r_job *job, const s2r_slurm__layout *l)
{
    int64_t min = l->min_nodes == NO_VAL ? 1 : l->min_nodes;
    int64_t num_tasks = l->num_tasks == NO_VAL ? 0 : l->num_tasks;
    /* NumTasks: the task count, else the minimum node count */
    int64_t ntasks = num_tasks ? num_tasks : min;
    /* a zero minimum: a node when there are tasks */
    int64_t nodes = min ? min : (num_tasks ? 1 : 0);
    int64_t ntpn = l->ntasks_per_node > 0 ? l->ntasks_per_node : 0;
    /* --ntasks-per-node is a maximum: more nodes when the tasks need */
    if (ntpn)
        nodes = max64(nodes, ceil_div(ntasks, ntpn));
    job->nodes = nodes;
    job->nodes_max = l->max_nodes > nodes ? l->max_nodes : nodes;
    job->ntasks = l->num_tasks == NO_VAL ? 0 : ntasks;
    job->ntasks_per_node = ntpn;
    job->tasks_per_node = ntpn ? ntpn : nodes ? ceil_div(ntasks, nodes) : 0;
    job->cpus_per_task = l->cpus_per_task > 0 ? l->cpus_per_task : 0;
}

/* GPUs, cores and memory per node. @return 0 or S2R_ENOMEM. */
static int resource_facts(s2r_slurm__state *st, const s2r_slurm__gpus *g,
                          const s2r_slurm__layout *l)
{
    s2r_job *job = st->job;
    const s2r_slurm__gpu *t = NULL;
    int64_t spn = l->sockets_per_node > 0 ? l->sockets_per_node : 0;
    job->gpus_per_node = s2r_slurm__gpus_per_node(g, job->nodes, spn,
                                                  job->tasks_per_node, &t);
    free(job->gpu_type);
    job->gpu_type = NULL;
    if (t && !(job->gpu_type = strndup(t->type, t->type_len)))
        return S2R_ENOMEM;
    int64_t cpt = job->cpus_per_task > 0 ? job->cpus_per_task : 1;
    if (st->cpg_set && job->gpus_per_node > 0) {
        job->cpus_per_node = mul_sat(job->cpus_per_gpu, job->gpus_per_node);
    } else {
        /* MinCPUsNode: --mincpus, and at least one task's CPUs */
        int64_t c = max64(mul_sat(cpt, job->tasks_per_node), cpt);
        job->cpus_per_node = st->mincpus_set ? max64(c, st->mincpus) : c;
    }
    if (st->mem_set)
        job->mem_per_node_mib = st->mem == 0 ? S2R_MEM_ALL : st->mem;
    else if (st->mpc_set)
        job->mem_per_node_mib = st->mpc == 0 ? S2R_MEM_ALL
                                : mul_sat(st->mpc, job->cpus_per_node);
    else if (st->mpg_set && st->mpg > 0)
        job->mem_per_node_mib = mul_sat(st->mpg, job->gpus_per_node);
    else /* --mem-per-gpu=0 asks no memory per GPU: the default applies */
        job->mem_per_node_mib = S2R_MEM_UNSET;
    return 0;
}

/* Counts past what s2r takes: no node holds them, slurmctld refuses. */
static void size_checks(s2r_slurm__state *st)
{
    s2r_job *job = st->job;
    if (job->gpus_per_node > S2R_SLURM_MAX_COUNT ||
        job->cpus_per_node > S2R_SLURM_MAX_COUNT ||
        job->tasks_per_node > S2R_SLURM_MAX_COUNT)
        s2r_slurm__perr(st, 0, NULL, NULL,
                        "the directives ask %lld GPUs, %lld CPUs and %lld "
                        "tasks per node; more than %d of any is more than "
                        "a node holds (slurmctld refuses the job)",
                        (long long)job->gpus_per_node,
                        (long long)job->cpus_per_node,
                        (long long)job->tasks_per_node, S2R_SLURM_MAX_COUNT);
    else if (job->mem_per_node_mib > S2R_SLURM_MAX_MEM_MIB)
        s2r_slurm__perr(st, st->mpc_set ? st->mpc_line : st->mpg_line,
                        st->mpc_set ? "mem-per-cpu" : "mem-per-gpu", NULL,
                        "%lld MiB of memory per node is more than a node "
                        "holds (slurmctld refuses the job)",
                        (long long)job->mem_per_node_mib);
}

/* The facts of a refused job: the directives as given. */
static void plain_facts(s2r_job *job, const s2r_slurm__state *st)
{
    if (!st->nodes_set)
        job->nodes = job->nodes_max = 1;
    else if (job->nodes_max < job->nodes)
        job->nodes_max = job->nodes;
    job->tasks_per_node =
        st->ntpn_set ? job->ntasks_per_node
        : st->ntasks_set ? ceil_div(job->ntasks, job->nodes ? job->nodes : 1)
                         : 1;
    job->cpus_per_node = job->tasks_per_node;
    job->mem_per_node_mib = S2R_MEM_UNSET;
}

int s2r_slurm__derive(s2r_slurm__state *st)
{
    s2r_job *job = st->job;
    job->nodes_set = st->nodes_set;
    job->nodes = st->nodes_set ? st->nodes_min : 1;
    job->nodes_max = st->nodes_set ? st->nodes_max : 1;
    job->time_limit_s = st->time_set ? st->time : S2R_TIME_UNSET;
    s2r_slurm__layout l;
    /* about 5 KiB, on the stack: a heap block this size costs more to
     * take and give back than the whole of derive; gpus_read sets it */
    s2r_slurm__gpus gpus, *g = &gpus;
    if (st->rc == 0 && sbatch_layout(st, &l) != 0)
        return S2R_ENOMEM;
    if (st->rc == 0 && s2r_slurm__gpus_read(st, g) == 0 &&
        s2r_slurm__gpus_validate(st, g, &l, false) == 0) {
        /* slurmctld: --ntasks-per-node on a node count sets the tasks */
        if (l.ntasks_per_node != NO_VAL && l.min_nodes != NO_VAL &&
            l.num_tasks == NO_VAL)
            l.num_tasks = l.ntasks_per_node * l.min_nodes;
        if (s2r_slurm__gpus_validate(st, g, &l, true) == 0)
            controller_checks(st, &l, g);
    }
    int rc = 0;
    if (st->rc == 0) {
        task_facts(job, &l);
        rc = resource_facts(st, g, &l);
        if (rc == 0)
            size_checks(st);
    } else if (st->rc != S2R_ENOMEM) {
        plain_facts(job, st);
    }
    return st->rc == S2R_ENOMEM ? S2R_ENOMEM : rc;
}
