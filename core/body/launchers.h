/* launchers.h: option grammars of the programs a batch script puts in front
 * of its computation (private): srun, mpirun/mpiexec, singularity/apptainer
 * exec, torchrun, accelerate launch, deepspeed. They tell which options take
 * a value, so the converter can find where the program starts. */
#ifndef S2R_LAUNCHERS_H
#define S2R_LAUNCHERS_H

#include <stdbool.h>
#include <stddef.h>

#include "shell/shell.h"

typedef struct s2r_launch_grammar {
    const char *name;
    const char *const *long_val;   /* long options with a value (no dashes) */
    const char *const *long_two;   /* options with two values (mpirun -mca) */
    const char *short_val;         /* short options with a value */
    bool single_dash_long;         /* -np style long options (Open MPI) */
    bool guess_unknown;            /* unknown --opt takes a value unless the
                                      next word is an option or a .py file */
} s2r_launch_grammar;

extern const s2r_launch_grammar *const s2r_launch_srun;        /* srun(1) */
extern const s2r_launch_grammar *const s2r_launch_mpirun;      /* mpirun(1) */
extern const s2r_launch_grammar *const s2r_launch_singularity; /* exec/run */
extern const s2r_launch_grammar *const s2r_launch_torchrun;    /* torchrun */
extern const s2r_launch_grammar *const s2r_launch_accelerate;  /* launch */
extern const s2r_launch_grammar *const s2r_launch_deepspeed;   /* deepspeed */
extern const s2r_launch_grammar *const s2r_launch_conda_run;   /* conda run */

/** Index after the option at @p i with its values; @p i if words[i] is
 * not an option. "--" is consumed and ends the options. */
size_t s2r_launch__skip_option(const s2r_launch_grammar *g, const sh_word *w,
                               size_t n, size_t i);
/** Index of the first word after all options from @p i. */
size_t s2r_launch__skip_options(const s2r_launch_grammar *g, const sh_word *w,
                                size_t n, size_t i);
/** torchrun options a PyTorchJob supplies through PET_* (per the Kubeflow
 * training operator's envvar.go): --nnodes, --node_rank, --master_*,
 * --rdzv_*, --local_addr. @p opt is the option word ("--nnodes=4"). */
bool s2r_launch__torchrun_is_rendezvous(const char *opt);
/** accelerate launch options whose value the PyTorchJob provides: returns
 * the replacement shell text ("\"$RANK\"", ...), "NODES" for the node count,
 * or NULL to keep the option. */
const char *s2r_launch__accelerate_rewrite(const char *opt);
/** mpirun options the MPIJob replaces (process count and host lists). */
bool s2r_launch__mpirun_is_placement(const char *opt);

#endif
