/* checks.c: the cross-option checks of sbatch (src/common/slurm_opt.c
 * _validate_*()) and the derived facts of shared/corpus/README.md
 * (per node: tasks, GPUs, cores, memory in MiB). See parse_state.h. */
#include "slurm.h"
#include "parse_state.h"

#include <stdlib.h>
#include <string.h>

static int max_line(int a, int b)
{
    return a > b ? a : b;
}

void s2r_slurm__cross_checks(s2r_slurm__state *st)
{
    s2r_job *job = st->job;
    /* _validate_memory_options() */
    if (st->mem_set + st->mpc_set + st->mpg_set > 1) {
        int l = max_line(st->mem_line, max_line(st->mpc_line, st->mpg_line));
        const char *o = (l == st->mpg_line && st->mpg_set) ? "mem-per-gpu"
                        : (l == st->mpc_line && st->mpc_set) ? "mem-per-cpu"
                                                              : "mem";
        s2r_slurm__perr(st, l, o, NULL,
                        "--mem, --mem-per-cpu, and --mem-per-gpu are mutually "
                        "exclusive");
    }
    /* a GPU count per node given twice (tres_per_node "gres/gpu" twice) */
    if (st->gpn.set && st->gres.set && st->gres.count > 0)
        s2r_slurm__perr(
            st, max_line(st->gpn.line, st->gres.line), "gpus-per-node", NULL,
            "--gpus-per-node and --gres=gpu both request GPUs per node; "
            "use only one of them");
    /* _validate_cpus_per_tres() */
    if (st->cpg_set && st->cpt_set)
        s2r_slurm__perr(
            st, max_line(st->cpg_line, st->cpt_line), "cpus-per-gpu", NULL,
            "--cpus-per-task, --tres-per-task=cpu:#, and --cpus-per-gpu "
            "are mutually exclusive");
    /* _validate_share_options() */
    if (st->exclusive_set && st->oversub_set)
        s2r_slurm__perr(
            st, max_line(st->exclusive_line, st->oversub_line), "exclusive",
            NULL,
            "--exclusive and --oversubscribe options are mutually "
            "exclusive");
    /* _validate_ntasks_per_gpu() */
    if (st->ntasks_per_gpu_set && st->gpt.set)
        s2r_slurm__perr(
            st, max_line(st->ntpg_line, st->gpt.line), "ntasks-per-gpu", NULL,
            "--gpus-per-task and --ntasks-per-gpu are mutually exclusive");
    if (st->ntasks_per_gpu_set && st->tres_per_task_set)
        s2r_slurm__perr(
            st, max_line(st->ntpg_line, st->tpt_line), "ntasks-per-gpu", NULL,
            "--tres-per-task and --ntasks-per-gpu are mutually exclusive");
    /* --gpus-per-task needs a task count: -n, or --ntasks-per-node on a
     * fixed node count (sbatch then sets ntasks), or a job total -G */
    if (st->gpt.set && st->gpt.count > 0 && !st->ntasks_set &&
        !(st->ntpn_set && (!st->nodes_set || job->nodes == job->nodes_max)) &&
        !st->gpus.set)
        s2r_slurm__perr(
            st, st->gpt.line, "gpus-per-task", NULL,
            "--gpus-per-task requires a task count: add --ntasks (-n), "
            "--ntasks-per-node with a fixed --nodes, or --gpus (-G)");
    /* the controller refuses a zero-node job without a burst buffer */
    if (st->nodes_set && job->nodes == 0)
        s2r_slurm__perr(
            st, st->nodes_line, "nodes", NULL,
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

int s2r_slurm__derive(s2r_slurm__state *st)
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
