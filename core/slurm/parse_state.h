/* parse_state.h: the state of one directive parse, shared by the option
 * pass (options.c), the option setters (setters.c) and the cross-option
 * checks (checks.c); private to core/slurm. */
#ifndef S2R_SLURM_PARSE_STATE_H
#define S2R_SLURM_PARSE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slurm.h"

/* A GPU request as one option gave it (--gres, --gpus, --gpus-per-node,
 * --gpus-per-task): count, type and the line of the last occurrence. */
typedef struct gpu_req {
    bool set;
    int line;
    int64_t count;
    const char *type; /* into the argv arena */
    size_t type_len;
} gpu_req;

typedef struct s2r_slurm__state {
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
} s2r_slurm__state;

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
 * (last occurrence wins) and check/store its value per sbatch(1) (setters.c).
 * @return 0 or S2R_ENOMEM; value errors go through s2r_slurm__perr().
 */
int s2r_slurm__apply(s2r_slurm__state *st, const s2r_slurm_option *o,
                     const char *v, int line);

/** The cross-option checks of slurm_opt.c (_validate_memory_options() ...),
 *  reported through s2r_slurm__perr() (checks.c). */
void s2r_slurm__cross_checks(s2r_slurm__state *st);

/** The derived facts of shared/corpus/README.md (nodes, tasks_per_node,
 *  gpus_per_node, cpus_per_node, mem_per_node_mib in MiB, time_limit_s in
 *  seconds) into st->job (checks.c). @return 0 or S2R_ENOMEM. */
int s2r_slurm__derive(s2r_slurm__state *st);

#endif
