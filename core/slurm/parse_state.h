/* parse_state.h: the state of one directive parse, shared by the option
 * pass (options.c), the option setters (setters.c), the cross-option
 * checks (checks.c), the GPU requests (gres.c) and the task layout
 * (layout.c); private to core/slurm. */
#ifndef S2R_SLURM_PARSE_STATE_H
#define S2R_SLURM_PARSE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slurm.h"

/* The last occurrence of an option sbatch keeps as a string and checks
 * once, after the option pass (--gres, --gpus, --gpus-per-node,
 * --gpus-per-socket, --gpus-per-task in gres_job_state_validate(),
 * --tres-per-task in _validate_tres_per_task(), --array in
 * _opt_verify()): its value (into the argv arena) and line. */
typedef struct last_opt {
    bool set;
    int line;
    const char *value;
} last_opt;

/* Most effective directives one job has: one per name of the option
 * table (options.c asserts it), as the last occurrence of a name
 * replaces the earlier ones. */
enum { S2R_SLURM__MAX_DIRECTIVES = 160 };

typedef struct s2r_slurm__state {
    s2r_job *job;
    const char *file;
    s2r_diags *d;
    int rc; /* first error status */
    size_t argc;           /* directive tokens */
    size_t directives_cap; /* room in job->directives (setters.c) */
    /* The value of each effective directive (job->directives[i]'s in
     * values[i]), and the last --job-name, --account and --chdir: into
     * the argv arena until s2r_slurm__keep_values() copies them into the
     * job at the end of the pass, so that an option given again and
     * again is copied once. values has S2R_SLURM__MAX_DIRECTIVES slots;
     * those at and after job->n_directives are not set. */
    const char **values;
    const char *job_name, *account, *chdir;

    bool mem_set, mpc_set, mpg_set;
    int64_t mem, mpc, mpg; /* MiB */
    int mem_line, mpc_line, mpg_line;
    last_opt gres, gpus, gpn, gps, gpt, tpt, array;
    /* --tres-per-task names a GPU entry (gres/gpu...) with a count > 0
     * (checks.c): its GPUs are per task, as --gpus-per-task's */
    bool tpt_gpus;
    bool spn_set; /* --sockets-per-node */
    int64_t spn;  /* sockets */
    int spn_line;
    bool ntasks_set, ntpn_set, cpt_set, cpg_set, mincpus_set;
    int64_t mincpus; /* cores */
    int ntasks_line, cpt_line, cpg_line, ntpn_line, mincpus_line;
    bool nodes_set;
    int64_t nodes_min, nodes_max; /* as given; nodes_max 0 = no maximum */
    int nodes_line;
    bool time_set;
    int64_t time; /* seconds */
    int time_line;
    const char *time_value; /* into the argv arena */
    bool exclusive_set, oversub_set, ntasks_per_gpu_set;
    /* --ntasks-per-gpu: tasks per GPU, as slurmctld keeps it (16 bits:
     * 65536 is 0, which asks nothing; 65534 is its NO_VAL16) */
    int64_t ntpg;
    bool exclusive_node; /* --exclusive for the whole node (no value, or
                            =exclusive), not =user, =mcs or =topo */
    int exclusive_line, oversub_line, ntpg_line;
} s2r_slurm__state;

/* Slurm's NO_VAL in a count of this folder: not given. */
#define NO_VAL (-1)

/* The task and node counts of the job description sbatch sends and
 * slurmctld adjusts (job_desc_msg_t); -1 stands for Slurm's NO_VAL (not
 * given). Counts of tasks, nodes and cores. */
typedef struct s2r_slurm__layout {
    int64_t num_tasks;       /* -n, or as sbatch/slurmctld derive it */
    int64_t min_nodes;       /* -N minimum */
    int64_t max_nodes;       /* -N maximum */
    int64_t ntasks_per_node; /* --ntasks-per-node (a maximum) */
    int64_t cpus_per_task;   /* -c */
    int64_t sockets_per_node; /* --sockets-per-node */
} s2r_slurm__layout;

/* One GPU record, as gres_job_state_validate() keeps one per GPU type
 * (or none): the counts each option asks of it (GPUs; 0 = not asked) and
 * the per-GPU CPUs (cores) and memory (MiB). */
typedef struct s2r_slurm__gpu {
    const char *type; /* into the argv arena; NULL: no type */
    size_t type_len;
    int64_t per_job;  /* -G/--gpus */
    int64_t per_node; /* --gpus-per-node, --gres=gpu */
    int64_t per_socket; /* --gpus-per-socket */
    int64_t per_task; /* --gpus-per-task, --tres-per-task=gres/gpu */
    int64_t cpus;     /* --cpus-per-gpu (on the record without a type) */
    int64_t mem;      /* --mem-per-gpu (idem) */
    /* where its last entry sits in TresPerNode, TresPerJob,
     * TresPerSocket and TresPerTask (the order the facts take types
     * in); -1: absent */
    int seq_node, seq_job, seq_socket, seq_task;
} s2r_slurm__gpu;

typedef struct s2r_slurm__gpus {
    s2r_slurm__gpu v[S2R_SLURM_MAX_GPU_TYPES + 1];
    size_t n;
    bool requested; /* a GPU count > 0 in --gres, --gpus, --gpus-per-* or
                       --tres-per-task */
} s2r_slurm__gpus;

/**
 * The option that asks GPUs per task: --gpus-per-task when given, else
 * --tres-per-task (which sbatch(1) takes for the same request: both end
 * in the job's TresPerTask). Its long name in *@p name.
 */
static inline const last_opt *s2r_slurm__task_gpus_opt(
    const s2r_slurm__state *st, const char **name)
{
    *name = st->gpt.set ? "gpus-per-task" : "tres-per-task";
    return st->gpt.set ? &st->gpt : &st->tpt;
}

/** True when slurmctld sees a --ntasks-per-gpu (its 16-bit count is not
 *  NO_VAL16); st->ntpg may still be 0. */
static inline bool s2r_slurm__ntpg_given(const s2r_slurm__state *st)
{
    return st->ntasks_per_gpu_set && st->ntpg != 0xFFFE;
}

/** True when GPUs are asked per task (--gpus-per-task, or a GPU entry
 *  of --tres-per-task). */
static inline bool s2r_slurm__task_gpus_set(const s2r_slurm__state *st)
{
    return st->gpt.set || st->tpt_gpus;
}

/**
 * Report a refusal: one S2R_SEV_ERROR naming @p option (long name without
 * dashes, or NULL) at @p line, with a hint when @p hint_of holds a
 * non-breaking space (U+00A0, which sbatch does not take for a blank).
 * Sets st->rc to S2R_EINVAL (S2R_ENOMEM when the diagnostic cannot be
 * added).
 */
void s2r_slurm__perr(s2r_slurm__state *st, int line, const char *option,
                     const char *hint_of, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/**
 * Run the setter of one occurrence of option @p o with value @p v (NULL
 * for options without one) from @p line: record it in job->directives
 * (last occurrence wins; st->values holds its value until
 * s2r_slurm__keep_values()) and check/store its value per sbatch(1)
 * (setters.c).
 * @return 0 or S2R_ENOMEM; value errors go through s2r_slurm__perr().
 */
int s2r_slurm__apply(s2r_slurm__state *st, const s2r_slurm_option *o,
                     const char *v, int line);

/**
 * Copy the values the option pass keeps in the argv arena into the job:
 * each effective directive's value and the last --job-name, --account
 * and --chdir (setters.c). Run once at the end of every pass, whatever
 * its outcome, so that the job owns its strings.
 * @return 0 or S2R_ENOMEM (the values not copied stay NULL).
 */
int s2r_slurm__keep_values(s2r_slurm__state *st);

/** The cross-option checks of slurm_opt.c (_validate_memory_options() ...),
 *  reported through s2r_slurm__perr() (checks.c). */
void s2r_slurm__cross_checks(s2r_slurm__state *st);

/**
 * The last --gres, --gpus, --gpus-per-node, --gpus-per-socket,
 * --gpus-per-task and --tres-per-task values and
 * --cpus-per-gpu/--mem-per-gpu as GPU records, in the order slurmctld
 * makes them (per-GPU CPUs, per job, per node: --gpus-per-node before
 * --gres, per socket, per task: --gpus-per-task's before
 * --tres-per-task's, as sbatch puts them first in TresPerTask, per-GPU
 * memory); entries with count 0 make none, a
 * later entry of a type replaces the count of an earlier one (gres.c).
 * Bad values are refused through s2r_slurm__perr().
 * @return 0 or S2R_EINVAL.
 */
int s2r_slurm__gpus_read(s2r_slurm__state *st, s2r_slurm__gpus *g);

/**
 * gres_job_state_validate() over the records: --ntasks-per-gpu's task
 * count (the GPUs asked times it) or, with no GPU asked, its GPUs (the
 * tasks divided by it: a record of no type with a job count, added to
 * @p g), a --mem-per-gpu without a GPU, then per record _test_gres_cnt()
 * (which may set the task count, the node counts, the tasks per node and
 * the CPUs per task in @p l; with --ntasks-per-gpu the task count must be
 * a multiple of it),
 * then a type named in one request and none in another (gres.c). The
 * first failure is refused through s2r_slurm__perr() with sbatch's
 * message. @p in_slurmctld skips the check only sbatch makes
 * (--cpus-per-gpu with -c).
 * @return 0 or S2R_EINVAL.
 */
int s2r_slurm__gpus_validate(s2r_slurm__state *st, s2r_slurm__gpus *g,
                             s2r_slurm__layout *l, bool in_slurmctld);

/**
 * GPUs per node as the facts count them (shared/corpus/README.md, and
 * slurmctld's records): per record the per-node count, else the job
 * count spread over @p nodes (rounded up), else the per-socket count
 * times @p sockets_per_node (per sbatch(1) --gpus-per-socket, which
 * needs --sockets-per-node), else the per-task count times
 * @p tasks_per_node (counts up to S2R_SLURM_MAX_COUNT); summed over the
 * records, INT64_MAX when the sum would not fit. *@p type_out is the
 * first type with GPUs in the order TresPerNode, TresPerJob,
 * TresPerSocket, TresPerTask list them (into the argv arena, or NULL)
 * (gres.c).
 */
int64_t s2r_slurm__gpus_per_node(const s2r_slurm__gpus *g, int64_t nodes,
                                 int64_t sockets_per_node,
                                 int64_t tasks_per_node,
                                 const s2r_slurm__gpu **type_out);

/** The derived facts of shared/corpus/README.md (nodes, tasks_per_node,
 *  gpus_per_node, cpus_per_node, mem_per_node_mib in MiB, time_limit_s in
 *  seconds) into st->job, after sbatch's and slurmctld's own adjustments
 *  of the task layout and their refusals (layout.c).
 *  @return 0 or S2R_ENOMEM. */
int s2r_slurm__derive(s2r_slurm__state *st);

#endif
