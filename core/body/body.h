/* body.h: core/body, layer 3: what a batch script's body runs.
 * Owns: statements, the launch, srun steps, containers, launcher grammars.
 * Uses: core/shell, core/base and include/s2r.
 *
 * Reads the statements after the directive block (see shell.h) and
 * finds the main computation, per the corpus rules (corpus/README.md
 * "The main command"): set-up (module, conda, venv, mkdir, echo ...) is not
 * it; launchers and wrappers in front are removed (srun, mpirun/mpiexec,
 * torchrun, python -m torch.distributed.run, accelerate launch, deepspeed,
 * singularity/apptainer exec, bash -c '...'). It also owns the servers,
 * the SLURM variables and the rewritten body; srun steps other than the
 * launch stay for the srun stand-in (core/runai/srun_standin.sh).
 */
#ifndef S2R_BODY_H
#define S2R_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include <s2r/s2r.h>

/* ------------------------------------------------------------------ */
/* Launcher and wrapper grammars (launchers.c)                          */
/* ------------------------------------------------------------------ */

/* What a launcher is, for the converter and the model guard. */
typedef enum s2r_launch_kind {
    S2R_LK_WRAPPER = 0, /* runs the program after its options as it is */
    S2R_LK_SRUN,        /* srun(1): a job step */
    S2R_LK_MPIRUN,      /* mpirun/mpiexec/orterun/mpiexec.hydra */
    S2R_LK_HOROVODRUN,  /* horovodrun: MPI (or Gloo) ranks */
    S2R_LK_TORCHRUN,    /* torchrun, python -m torch.distributed.run */
    S2R_LK_ACCELERATE,  /* accelerate launch */
    S2R_LK_DEEPSPEED    /* deepspeed */
} s2r_launch_kind;

/* What the workload does with an option of a multi-node launch. */
typedef enum s2r_launch_role {
    S2R_LR_NONE = 0,
    S2R_LR_RENDEZVOUS,    /* torchrun: a PyTorchJob sets it (PET_*) */
    S2R_LR_PLACEMENT,     /* mpirun/horovodrun: the MPIJob's hostfile */
    S2R_LR_NUM_MACHINES,  /* accelerate: the node count */
    S2R_LR_MACHINE_RANK,  /* accelerate: $RANK of the PyTorchJob */
    S2R_LR_MAIN_IP,       /* accelerate: $MASTER_ADDR */
    S2R_LR_MAIN_PORT      /* accelerate: $MASTER_PORT */
} s2r_launch_role;

/* One option of a grammar, spelled as on the command line ("-n",
 * "--ntasks", "-np"). */
typedef struct s2r_launch_opt {
    const char *name;
    unsigned char nvals;  /* value words when not written name=value:
                             0 (a flag, or a value only after '='), 1, 2 */
    const char *key;      /* a size the option sets ("ntasks", "nodes",
                             "nproc_per_node", "np" ...), or NULL */
    s2r_launch_role role;
} s2r_launch_opt;

typedef struct s2r_launch_grammar {
    const char *family;        /* "srun", "torchrun", ... */
    s2r_launch_kind kind;
    const s2r_launch_opt *opts;/* sorted as strcmp orders the names,
                                  terminated by a NULL name */
    size_t nopts;              /* the names of opts */
    bool single_dash_long;     /* -np and --np alike (Open MPI, Horovod) */
    unsigned char unknown_nvals; /* value words of an unknown long option */
    bool guess_unknown;        /* an unknown --option takes a value unless
                                  the next word is an option or a .py file
                                  (the Python launchers' argparse) */
} s2r_launch_grammar;

/* The grammars, per each program's manual (launchers.c). */
extern const s2r_launch_grammar s2r_launch_srun;        /* srun(1) */
extern const s2r_launch_grammar s2r_launch_mpirun;      /* mpirun(1) */
extern const s2r_launch_grammar s2r_launch_horovodrun;  /* horovodrun */
extern const s2r_launch_grammar s2r_launch_torchrun;    /* torchrun */
extern const s2r_launch_grammar s2r_launch_accelerate;  /* accelerate launch */
extern const s2r_launch_grammar s2r_launch_deepspeed;   /* deepspeed */
extern const s2r_launch_grammar s2r_launch_singularity; /* exec/run/shell */
extern const s2r_launch_grammar s2r_launch_podman;      /* podman(-hpc) run */
extern const s2r_launch_grammar s2r_launch_enroot_start;/* enroot start */
extern const s2r_launch_grammar s2r_launch_conda_run;   /* conda run */
extern const s2r_launch_grammar s2r_launch_env;         /* env(1) */
extern const s2r_launch_grammar s2r_launch_timeout;     /* timeout(1) */
extern const s2r_launch_grammar s2r_launch_nice;        /* nice(1) */
extern const s2r_launch_grammar s2r_launch_stdbuf;      /* stdbuf(1) */
extern const s2r_launch_grammar s2r_launch_taskset;     /* taskset(1) */
extern const s2r_launch_grammar s2r_launch_none;        /* no options */

/* What s2r_launch_match() found. */
typedef struct s2r_launch_matched {
    const s2r_launch_opt *opt; /* the option, NULL when unknown or "--" */
    const char *value;         /* its value: after '=', attached (-n4), or
                                  the next word; NULL for a flag */
    bool unknown;              /* an option the grammar does not list */
    bool end;                  /* "--": the options end after it */
} s2r_launch_matched;

/**
 * Read the option word @p w of grammar @p g (@p next: the word after it,
 * or NULL) into @p m.
 * @return the words it takes (1 + its values; 1 for "--"), or 0 when @p w
 *         is no option (the program or an operand).
 */
size_t s2r_launch_match(const s2r_launch_grammar *g, const char *w,
                        const char *next, s2r_launch_matched *m);

/** Index of the first word of @p argv[i..n) after the options of @p g
 *  ("--" included), n when none. */
size_t s2r_launch_skip_options(const s2r_launch_grammar *g,
                               const char *const *argv, size_t n, size_t i);

/** The size key option @p o sets, or NULL (also for NULL). */
const char *s2r_launch_key(const s2r_launch_opt *o);

/**
 * The launcher @p argv[0..n) starts with: torchrun, python [-flags] -m
 * torch.distributed.run|launch, accelerate launch, deepspeed, horovodrun,
 * mpirun/mpiexec/orterun/mpiexec.hydra/prterun, srun; NULL for any other
 * program. *@p opts_at: the index of its first option word.
 */
const s2r_launch_grammar *s2r_launch_identify(const char *const *argv,
                                              size_t n, size_t *opts_at);

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

#endif
