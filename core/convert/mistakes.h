/* mistakes.h: likely mistakes sbatch accepts, which only the whole job
 * (directives and body) shows; private to core/convert. */
#ifndef S2R_CONVERT_MISTAKES_H
#define S2R_CONVERT_MISTAKES_H

#include <stddef.h>

#include <s2r/s2r.h>

/**
 * Warn (S2R_SEV_WARNING, naming the option and line) about what sbatch
 * takes without complaint but a script rarely means:
 *  - the body reads SLURM_ARRAY_TASK_ID and the job is no array (SLURM
 *    leaves the variable unset), with the line of an --array sbatch does
 *    not read ("##SBATCH", "# SBATCH", #SBATCH after the first command)
 *    when there is one;
 *  - the image the job runs in is written NAME:sha256:DIGEST, which is
 *    no OCI reference (a digest follows '@'), from pyxis'
 *    --container-image, Shifter's --image or a docker:// image of
 *    singularity/apptainer.
 * @param job       a parsed, valid job (directives and body)
 * @param buf,len   the script bytes it was parsed from
 * @param body_off  byte offset of the first command (where sbatch stopped
 *                  reading directives)
 * @return 0 or S2R_ENOMEM.
 */
int s2r_convert__warn_mistakes(const s2r_job *job, const char *buf,
                               size_t len, size_t body_off, s2r_diags *d);

#endif
