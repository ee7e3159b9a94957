/* convert.h: core/convert, layer 5: the whole rules conversion.
 * Owns: s2r_job_parse(), s2r_job_free(), s2r_convert_buffer().
 * Uses: core/slurm, core/body, core/runai and below.
 *
 * The entry points are public and declared in <s2r/s2r.h>: parse a script
 * as sbatch does (directives by core/slurm, then the body by core/body),
 * map it with the rules (core/runai) and render it. Layers above include
 * this header to say they use the conversion. */
#ifndef S2R_CONVERT_H
#define S2R_CONVERT_H

#include <s2r/s2r.h>

#endif
