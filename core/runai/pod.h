/* pod.h: what every pod of a workload runs around the script's own
 * command (private to core/runai; emitters and rules use it).
 *
 *   pod_script.c  the container's argv: one bash script assembled in one
 *                 place, in a fixed order (see the top of that file)
 *   pod_env.c     the SLURM variables each pod computes when it starts
 *   logs.c        sbatch's -o/-e/-i filename patterns as shell words, and
 *                 the folder they need mounted
 */
#ifndef S2R_RUNAI_POD_H
#define S2R_RUNAI_POD_H

#include <s2r/s2r.h>

#include "base/base.h"

/** The argv of a pod (s2r_pod_args_make), as a view. */
typedef struct s2r_pod_args {
    const char **v; /**< n words and a NULL: static text, @p cmd's words
                         (borrowed: valid while @p cmd is) and script */
    size_t n;
    char *script;   /**< the bash -c SCRIPT (owned), or NULL */
} s2r_pod_args;

/**
 * The argv of the container that runs @p cmd (wl->command, or the MPI
 * launcher's command) as the job's batch script ran on SLURM: `bash -c
 * SCRIPT` (a shell body) or `bash -c SCRIPT s2r-job ARGV...` (one
 * command), SCRIPT setting the SLURM environment and copying the output
 * to the -o/-e files. An empty @p cmd, or arguments for the image's own
 * entrypoint (wl->command_is_args), are the words unchanged: nothing can
 * run before the entrypoint. @p out is overwritten; free it with
 * s2r_pod_args_free().
 * @return S2R_OK or S2R_ENOMEM (then @p out holds nothing).
 */
int s2r_pod_args_make(s2r_pod_args *out, const s2r_workload *wl,
                      const s2r_strv *cmd);
/** Release what s2r_pod_args_make() made; @p a is left empty. */
void s2r_pod_args_free(s2r_pod_args *a);

/** The length in bytes (its NUL not counted) of the longest argument of
 *  s2r_pod_args_make(@p wl, @p cmd), without building them; 0 for an empty
 *  command, or when memory runs out. */
size_t s2r_pod_longest_arg(const s2r_workload *wl, const s2r_strv *cmd);

/** At least s2r_pod_longest_arg(@p wl, @p cmd), from the lengths of the
 *  strings that go into the arguments, without building them: for a
 *  caller that needs the exact length only past a size. */
size_t s2r_pod_longest_arg_bound(const s2r_workload *wl,
                                 const s2r_strv *cmd);

/** True when the pods compute SLURM variables or copy output, i.e. when
 *  s2r_pod_args_make() wraps @p cmd at all. */
bool s2r_pod_wraps(const s2r_workload *wl, const s2r_strv *cmd);

/** The exports of the SLURM variables only the running pod knows
 *  (SLURM_JOB_ID, SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID, SLURM_NODEID,
 *  SLURM_PROCID), one per line, into @p b (pod_env.c). */
void s2r_pod__slurm_env(s2r_buf *b, const s2r_workload *wl);

/** The exports of SLURM_JOB_ID and SLURM_JOBID alone, one number for the
 *  whole workload from RUNAI_JOB_UUID (else its name), as every pod of it
 *  computes them (s2r_pod__slurm_env() starts with them; an MPIJob's
 *  workers, which run no batch script, get only these) (pod_env.c). */
void s2r_pod__job_id(s2r_buf *b, const s2r_workload *wl);

/** @p pattern (sbatch(1) "filename pattern") as one double-quoted shell
 *  word into @p b, the replacement symbols read from the SLURM variables
 *  s2r_pod__slurm_env() exports (logs.c). */
void s2r_pod__file_word(s2r_buf *b, const char *pattern,
                        const s2r_workload *wl);

/** The folder the file of @p pattern lies in, absolute (relative to
 *  @p workdir), cut before the first folder holding a replacement symbol;
 *  NULL for /dev/ files, when @p workdir is needed and unknown, or on
 *  ENOMEM. malloc'd. */
char *s2r_pod__file_folder(const char *pattern, const char *workdir);

#endif
