/* body.h: core/body, layer 3: what a batch script's body runs.
 * Owns: statements, words, launchers, servers, the rewritten body.
 * Uses: core/shell, core/base and include/s2r.
 *
 * Reads the statements after the directive block (see shell.h) and
 * finds the main computation, per the corpus rules (corpus/README.md
 * "The main command"): set-up (module, conda, venv, mkdir, echo ...) is not
 * it; launchers and wrappers in front are removed (srun, mpirun/mpiexec,
 * torchrun, python -m torch.distributed.run, accelerate launch, deepspeed,
 * singularity/apptainer exec, bash -c '...').
 */
#ifndef S2R_BODY_H
#define S2R_BODY_H

#include <s2r/s2r.h>

/**
 * Analyse the body of @p buf starting at byte @p body_off (line
 * @p body_line). The directive fields of @p job must already be filled.
 * Fills job->image, workdir, env, command_tokens, distributed, main_line,
 * uses_array_index, run_argv or run_shell, launcher_argv, slurm_env and
 * shebang_shell. Warnings (dropped module/conda lines, local images,
 * rendezvous code) go to @p d.
 * @return 0 or S2R_ENOMEM.
 */
int s2r_body__analyse(s2r_job *job, const char *buf, size_t len,
                      size_t body_off, int body_line, const s2r_config *cfg,
                      s2r_diags *d);

/**
 * The value a SLURM_* variable has in the job, as far as the directives fix
 * it (per sbatch(1) "OUTPUT ENVIRONMENT VARIABLES").
 * @return 1 and a malloc'd value in *out; 0 when sbatch leaves it unset
 *         (so ${X:-default} gives the default); -1 when only the running
 *         job knows it (job id, host names, task ids).
 */
int s2r_body__slurm_var(const s2r_job *job, const char *name, char **out);

#endif
