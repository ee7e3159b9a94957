/* analysis.h: the state of one body analysis, shared by the files of
 * core/body (private to the folder; the folder's interface is body.h).
 *
 *   analyse.c   the statements of a body: dropped, lifted (exports, cd),
 *               the main command; the driver s2r_body__analyse()
 *   statements.c  what one statement or command is; words, messages
 *   unwrap.c    the wrappers and launchers in front of the main program
 *   rewrite.c   the main command's words as the pod runs them
 *   render.c    the bash body: kept statements, the rewritten command
 *   slurm_env.c SLURM_* stand-ins and static resolution of words
 *   serving.c   a main command that is a server: port and listen address
 *   paths.c     the absolute paths and relative files the script uses
 *   submit_env.c  variables only the submitting shell gives (--export=ALL)
 *   software.c  modules, conda and venvs loaded; set-up kept on storage
 *   interpreter.c  a script for another interpreter (#!/usr/bin/perl)
 *
 * Everything works on one s2r_job (borrowed through ctx) and reports to its
 * diagnostics; an allocation failure sets ctx.oom (or a buffer's oom) and
 * the driver returns S2R_ENOMEM.
 */
#ifndef S2R_BODY_ANALYSIS_H
#define S2R_BODY_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <s2r/s2r.h>

#include "base/base.h"
#include "shell/shell.h"

#include "body.h"

/* What becomes of a top-level statement. */
typedef enum st_kind {
    ST_KEEP = 0,  /* copied verbatim */
    ST_DROP,      /* removed, with a warning */
    ST_LIFTED,    /* removed: now env or working directory */
    ST_MAIN,      /* the main computation, rewritten */
    ST_HOSTLIST   /* `scontrol show hostnames`: settled once the workload
                     kind is known (foreign.c) */
} st_kind;

/* The job being analysed and where messages go. */
typedef struct ctx {
    s2r_job *job;
    const s2r_config *cfg;
    s2r_diags *d;
    const char *file;
    s2r_envv pulled;    /* an image file or container name -> the OCI image
                           it came from (`enroot import`, `enroot create`,
                           `singularity|apptainer pull` lines) */
    bool oom;
    char *conda_root;   /* a conda installation on mounted storage whose
                           conda.sh the body sources (software.c), owned */
    struct path_index *paths_seen; /* job->paths by path while
                                      s2r_body__find_paths() runs
                                      (paths.c), which alone adds
                                      paths; else NULL */
    char shell_flags[16]; /* the `set` flags of the #! line's option word
                             (#!/bin/bash -eu: "eu"), per execve(2): the
                             kernel passes that word to the shell */
} ctx;

/* ---- the output word list of the rewritten main command ---- */

typedef struct oword {
    const sh_word *w; /* a source word, or NULL */
    char *txt;        /* a synthetic word */
    bool raw;         /* txt is shell text that expands (not literal) */
} oword;

typedef struct owords {
    oword *v;
    size_t n, cap;
    bool oom;
} owords;

/* ---- the unwrapped main command ---- */

typedef enum launcher {
    L_NONE = 0,
    L_TORCHRUN,   /* torchrun / python -m torch.distributed.run|launch */
    L_ACCELERATE, /* accelerate launch */
    L_DEEPSPEED   /* deepspeed */
} launcher;

/* One srun command's options (steps.c), per srun(1). Sizes are 0 when
 * not given. */
typedef struct srun_step {
    int64_t ntasks, nodes, ntasks_per_node, cpus_per_task;
    int64_t gpus_per_task, gpus_per_node, gpus; /* GPUs; -1: not given */
    bool runtime;        /* options that act in the pod: -o/-e/-i,
                            --label, -K, --multi-prog, -D, --export K=V,
                            --open-mode */
    char runtime_opts[96]; /* those of them mpirun does not apply */
    char refused[96];    /* options the srun stand-in refuses */
    const char *image;   /* --container-image value (borrowed), or NULL */
    size_t end;          /* index of the first word after the options */
} srun_step;

/* What becomes of the main command's srun (launch.c). */
typedef enum main_mode {
    MM_PLAIN = 0,   /* no srun in front */
    MM_STRIP,       /* srun removed: one task, or the per-pod launcher of a
                       distributed workload */
    MM_STANDIN,     /* srun kept: the srun stand-in starts its tasks */
    MM_MPIRUN       /* srun becomes mpirun -np TASKS */
} main_mode;

typedef struct unwrap {
    const sh_word *words; /* the command's words */
    size_t n;
    size_t prefix_end;    /* leading NAME=value words end here */
    size_t kw_from, kw_to;/* time / exec / nohup / command before wrappers */
    size_t prog;          /* first word of the program after wrappers */
    launcher lk;
    size_t launch_at;     /* first word of the launcher */
    size_t launch_opts;   /* first option word of the launcher */
    size_t script;        /* launcher's script word (facts start here) */
    bool srun;
    size_t srun_at;       /* the srun word */
    srun_step step;       /* its options */
    bool mpi;             /* mpirun/mpiexec seen */
    bool horovod;         /* horovodrun (mpi_* describe it) */
    size_t mpi_at, mpi_opts, mpi_prog;
    size_t container_at;  /* the container runtime's word (apptainer,
                             singularity, podman, docker, enroot) when
                             one was unwrapped, else 0 with container
                             false */
    bool container;
    const s2r_envv *pulled; /* images the script pulled (ctx.pulled) */
    char *image;          /* from docker:// or --container-image, owned */
    bool local_image;     /* a local image file (.sif, .sqsh, a path) */
    char *local_image_name;
    bool run_args;        /* singularity run IMG ARGS: entrypoint args */
    bool conda_run;       /* `conda run -n ENV` was in front */
    char *c_workdir;      /* --container-workdir / --pwd */
    s2r_envv c_env;       /* singularity --env, srun --export K=V */
    s2r_bind *binds;      /* container binds (s2r_job.binds), owned */
    size_t n_binds;
    char dropped[256];    /* container options with no equivalent */
    bool opaque_torch;    /* bash -c "..." built at run time around a torch
                             launcher: PyTorch, but not rewritable */
    /* bash -c '...' */
    bool shell_string;
    const sh_word *shell_word;
} unwrap;

/* ---- one analysed text (the body, or a bash -c string in it) ---- */

/* a byte range of a kept statement replaced by repl, or deleted (NULL) */
typedef struct body_edit {
    size_t start, end;
    char *repl;
} body_edit;

/* env/module set-up that has no meaning in a pod */
typedef enum setup_kind { SU_NONE, SU_MODULE, SU_CONDA, SU_VENV } setup_kind;

typedef struct analysis {
    sh_body body;
    st_kind *kind;
    /* s2r_body__setup_of() of every command, read once (analyse.c): of
     * command k of statement i at setup[setup_at[i] + k]; one block with
     * kind */
    setup_kind *setup;
    size_t *setup_at;
    size_t main;        /* index of the main statement, or (size_t)-1 */
    size_t main_cmd;    /* the main command inside it */
    bool drop_prefix;   /* set-up commands before it (&&) are dropped */
    bool pwd_inline;    /* the main command's container working
                           directory goes in front of it (env -C DIR) */
    bool env_inline;    /* the main command's container --env goes in
                           front of it as assignments (its own scope),
                           not into the pods' environment */
    const unwrap *u;    /* the main command unwrapped (one of unwraps), or
                           an empty unwrap when there is none */
    /* the commands unwrapped so far, each once (s2r_body__unwrapped) */
    unwrap **unwraps;   /* by cmd_at[stmt] + cmd, each NULL until first
                           read; one block with the two below (unwrap.c) */
    bool *unwrapped;    /* which entries of unwraps are read */
    size_t *cmd_at;     /* the index of each statement's first command */
    size_t n_unwraps;   /* entries of unwraps (the body's commands) */
    /* bash -c '...' inside the main command */
    struct analysis *inner;
    char *main_text;    /* the rewritten main statement */
    body_edit *edits;
    size_t nedits;
    bool main_literal;  /* the rewritten command is one literal argv */
    owords ow;          /* the rewritten command words */
    main_mode mode;     /* what becomes of the main command's srun */
    int64_t mpi_np;     /* MM_MPIRUN: the step's tasks */
    char *cut_src;      /* the text body borrows when a quote or a
                           here-document was left open (analyse.c
                           cut_at_open, end_heredocs), else NULL */
    char *open_delim;   /* the delimiter of the first here-document left
                           open (end_heredocs), else NULL */
} analysis;

/* ---- statements, words and messages (statements.c) ---- */

/** The set-up @p c does (module load, conda activate, source venv/bin/
 *  activate ...), or SU_NONE. */
setup_kind s2r_body__setup_of(const sh_cmd *c);
/** s2r_body__setup_of() of command @p k of statement @p i of @p a, as
 *  read once by the analysis (analyse.c). */
setup_kind s2r_body__setup_at(const analysis *a, size_t i, size_t k);
/** Index of the main command inside @p st, or -1: a pipeline's first
 *  stage, else the first command of an && / || list that is no set-up or
 *  helper. */
int s2r_body__main_candidate(const sh_stmt *st);
/** True when statement @p st is joined to the next one by && or || (its
 *  text ends with the operator). */
bool s2r_body__stmt_continues(const sh_body *b, const sh_stmt *st);
/** True for a set-up or helper command (echo, mkdir, cat, module ...). */
bool s2r_body__is_aux(const char *name);
/** True for scontrol, squeue, sinfo, sacct, sstat, sbatch, scancel, seff. */
bool s2r_body__is_slurm_client(const char *name);
/** True when the NULL-terminated list @p l holds @p s (a list in no
 *  order; a sorted one is searched with s2r_sorted_has()). */
bool s2r_body__list_has(const char *const *l, const char *s);

/** A warning (option may be NULL) / a note at @p line of the script. */
void s2r_body__warn(ctx *c, int line, const char *opt, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void s2r_body__note(ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** True for the shells whose script is analysed as a bash body: bash,
 *  sh, dash, ksh, zsh (the base name of the #! interpreter). */
bool s2r_body__is_shell_name(const char *s);
/** The last path component of @p p ("/usr/bin/python3" -> "python3"). */
const char *s2r_body__base_name(const char *p);
/** True when @p w is the literal word @p s. */
bool s2r_body__word_is(const sh_word *w, const char *s);
/** The command word of @p c after NAME=value prefixes, or NULL. */
const sh_word *s2r_body__cmd_word(const sh_cmd *c);
/** True when the statement's source text contains @p needle. */
bool s2r_body__stmt_text_has(const sh_body *b, const sh_stmt *st,
                             const char *needle);
/** The statement's source on one line (blanks and backslash-newlines
 *  folded to one blank) into @p out, NUL-terminated within @p cap bytes,
 *  ending in "..." when shortened (messages). */
void s2r_body__stmt_snippet(const sh_body *b, const sh_stmt *st, char *out,
                            size_t cap);

/* ---- unwrapping (unwrap.c) ---- */

/** Find the program behind the wrappers of @p cmd (srun, mpirun,
 *  horovodrun, conda run, singularity/apptainer exec|run, podman-hpc run,
 *  enroot start, time/exec/nohup, a computed prefix word, bash -c) and its
 *  launcher (torchrun, accelerate launch, deepspeed) into @p u (zeroed
 *  first; free with s2r_body__unwrap_free()). @p pulled: the image files
 *  and enroot names the script made (may be NULL). */
void s2r_body__unwrap(const sh_cmd *cmd, unwrap *u, const s2r_envv *pulled);
void s2r_body__unwrap_free(unwrap *u);
/** True when s2r_body__unwrap() would find @p cmd's program at its first
 *  word, with no wrapper, launcher or bash -c in front (no srun, no
 *  launch): known without unwrapping it. */
bool s2r_body__runs_bare(const sh_cmd *cmd);
/** Command @p cmd of statement @p stmt of @p a unwrapped with the images
 *  the script pulled (c->pulled), read once per analysis: a later call
 *  for the same command returns the same unwrap. Borrowed from @p a, valid
 *  until s2r_body__forget_unwraps() or s2r_body__free_unwraps(); an empty
 *  unwrap (and c->oom set) when out of memory. */
const unwrap *s2r_body__unwrapped(ctx *c, analysis *a, size_t stmt,
                                  size_t cmd);
/** The images the script pulled changed: the unwraps of @p a are read
 *  again when next asked for. */
void s2r_body__forget_unwraps(analysis *a);
/** Free the unwraps of @p a (its analysis ends). */
void s2r_body__free_unwraps(analysis *a);
/** The unwrap of no command (every field zero). */
extern const unwrap s2r_body__no_unwrap;
/** Add container option @p opt to the list of those not carried. */
void s2r_body__note_dropped(unwrap *u, const char *opt);

/* ---- container runtimes (containers.c) ---- */

/** An image file on the cluster (.sif, .sqsh, a path) rather than an OCI
 *  reference. */
bool s2r_body__is_local_image(const char *v);
/** [USER@][REGISTRY#]IMAGE[:TAG] (enroot, pyxis) as an OCI reference
 *  REGISTRY/IMAGE[:TAG] (malloc'd, NULL on ENOMEM). */
char *s2r_body__enroot_ref(const char *v);
/** The image of @p u: @p v, a local file, or (@p enroot) an enroot/pyxis
 *  reference. */
void s2r_body__set_image(unwrap *u, const char *v, bool enroot);
/** Option @p m of container runtime (or srun) grammar @p g, read from a
 *  word at @p line, into @p u: binds, environment (--env, srun --export
 *  K=V), working directory, image (srun --container-image); options with
 *  no Run:ai equivalent are noted as dropped. */
void s2r_body__container_option(unwrap *u, const s2r_launch_grammar *g,
                                const s2r_launch_matched *m, int line);
/** The container runtime at word @p i (singularity|apptainer exec|run,
 *  podman-hpc|podman|docker run, enroot start): image, binds, env and
 *  working directory into @p u; the index of the program after it, or
 *  @p i when word @p i is none. */
size_t s2r_body__unwrap_container(unwrap *u, size_t i);
/** Statement @p i is `enroot import URI`, `enroot create FILE` or
 *  `singularity|apptainer pull [FILE] docker://URI`, which a later
 *  container command uses: it is left out with a note and the name
 *  recorded in c->pulled (true). */
bool s2r_body__image_setup(ctx *c, analysis *a, size_t i);

/* ---- job steps (steps.c) ---- */

/** srun's options from word @p i of @p u, read once: the step's into
 *  u->step (per srun(1)), pyxis' --container-* and --export K=V into @p u
 *  (s2r_body__container_option()). */
void s2r_body__srun_parse(unwrap *u, size_t i);
/** Nodes and tasks of step @p s in @p job, per srun(1): -N, else as many
 *  nodes as -n tasks need at the job's tasks per node; -n, else
 *  --ntasks-per-node x nodes, else the job's tasks. */
int64_t s2r_body__step_nodes(const s2r_job *job, const srun_step *s);
int64_t s2r_body__step_tasks(const s2r_job *job, const srun_step *s);
/** True when shell text @p text runs srun outside comments. */
bool s2r_body__runs_srun(const char *text);
/** The srun steps besides the launch: an MPI program's step with several
 *  tasks becomes `mpirun -np N` (an edit, with a note); warnings about the
 *  steps the pod runs through the srun stand-in (refused options, GPUs the
 *  pod lacks, another image, the MPIJob's launcher pod). Before
 *  rendering. */
void s2r_body__plan_steps(ctx *c, analysis *a);
/** The note that the pod's command carries the srun stand-in (after
 *  rendering, once job->srun_standin is known). */
void s2r_body__note_standin(ctx *c, const analysis *a);
/** A PyTorchJob of several pods runs the batch script on each: a warning
 *  naming the kept lines outside the launch that run programs (up to
 *  three), which SLURM runs once, on the first node. */
void s2r_body__warn_every_pod(ctx *c, const analysis *a);

/* ---- MPIJob workers (mpi_workers.c) ---- */

/** job->worker_setup: the set-up lines before the launch that make files
 *  the ranks read, for the workers of an MPIJob (a note says which). */
void s2r_body__worker_setup(ctx *c, const analysis *a);
/** Copy @p u's container binds into the job with a warning each (the pod
 *  sees a cluster path only on a Run:ai data source). */
void s2r_body__apply_binds(ctx *c, const unwrap *u);
/** The container runtimes (apptainer/singularity exec, podman/docker run,
 *  enroot start) of kept lines besides the main command, srun steps too:
 *  removed by edits, so that the line runs in the pod's one image, with
 *  the runtime's --env in front; another image, a runscript, --pwd and
 *  options with no equivalent are warned, binds carried as the main
 *  command's are. Top-level statements, after s2r_body__plan_steps(). */
void s2r_body__side_containers(ctx *c, analysis *a);
/** A pod's script that still runs apptainer or singularity (in a loop,
 *  a block or a function: @p tidied is the rendered body) gets a stand-in
 *  for them in @p pre, with a warning naming the first such line of
 *  @p a; the docker:// image they name becomes the job's when the script
 *  names no other and they name one only (container_standin.c). */
void s2r_body__container_standin(ctx *c, const analysis *a, s2r_buf *pre,
                                 const char *tidied);
/** @p value into @p b as one shell word: quoted (when it needs it) if it
 *  is literal, else double-quoted so that its $ and ` expand as they did
 *  in the container runtime's option (the script's shell expanded
 *  them). */
void s2r_body__put_value(s2r_buf *b, const char *value);
/** `NAME=VALUE` (no blank after it) into @p b, VALUE as
 *  s2r_body__put_value() writes it. */
void s2r_body__put_assignment(s2r_buf *b, const char *name,
                              const char *value);
/** pyxis' #SBATCH --container-mounts (binds, as the main command's are)
 *  and --container-workdir (the working directory when absolute), which
 *  pyxis applies to the batch script's container as to its steps'. */
void s2r_body__directive_containers(ctx *c);

/* ---- the launch and the workload kind (launch.c) ---- */

/** The command of @p a that launches the job's parallel work: a framework
 *  launcher first, else an srun step over the whole allocation, else any
 *  srun step (not of a helper, a SLURM client, a cluster daemon or a
 *  bash -c string of helpers only), in statements and inside compound
 *  ones. False when there is none: then no command of @p a is a launch
 *  (every srun in it is one of those). */
bool s2r_body__pick_launch(ctx *c, analysis *a, size_t *stmt, size_t *cmd);
/** The distributed kind of the job (job->distributed) and a->mode, from
 *  the (innermost) main command. */
void s2r_body__decide(ctx *c, analysis *a);
/** Other commands that launch like the main one (the same framework
 *  launcher or mpirun, say in the other branch of an if block) get the
 *  same rewrite, as edits with a note. */
void s2r_body__other_launches(ctx *c, analysis *a);
/** The unwrapped main command, inside `srun bash -c '...'` when there. */
const unwrap *s2r_body__main_unwrap(const analysis *a);
/** True when srun @p u (@p inner: the main command inside its bash -c
 *  string, or NULL) starts an MPI program: not a helper, a SLURM client
 *  or `ray start`, not Python or a shell script on a GPU job (SLURM-aware
 *  frameworks), not
 *  a shell script on one node or in a step besides the launch (@p
 *  side). */
bool s2r_body__srun_runs_mpi(ctx *c, const unwrap *u, const unwrap *inner,
                             bool side);
/** The cluster daemon u->prog starts ("Ray" for ray start|stop, "Spark
 *  standalone" for start-master.sh ..., "Dask" for dask-scheduler ...),
 *  or NULL. */
const char *s2r_body__cluster_daemon(const unwrap *u);

/* ---- SLURM itself and foreign work (foreign.c) ---- */

/** Top-level statement @p i runs a SLURM client: dropped with a warning
 *  saying what to use instead; host lists wait for the workload kind. */
void s2r_body__slurm_command(ctx *c, analysis *a, size_t i);
/** Once the kind is known: host-list lines, SLURM clients in functions
 *  and handlers, Ray clusters and workflow managers (warnings). */
void s2r_body__foreign(ctx *c, analysis *a);
/** Once the main command is rewritten (a PyTorchJob on several nodes): a
 *  line that sets a variable to the first host of the allocation
 *  (`NAME=$(scontrol show hostnames ... | head -n 1)`) sets it to
 *  "${MASTER_ADDR}" when the body as the pod runs it still reads NAME,
 *  with a note; else it is dropped with a warning. */
void s2r_body__settle_first_hosts(ctx *c, analysis *a);

/* ---- the rewritten command (rewrite.c) ---- */

/** Append a source word @p w, or a synthetic word @p txt (copied; @p raw:
 *  shell text that expands) to @p o. */
void s2r_body__ow_push(owords *o, const sh_word *w, const char *txt,
                       bool raw);
void s2r_body__ow_free(owords *o);
bool s2r_body__ow_literal(const oword *w);
const char *s2r_body__ow_value(const oword *w);
/** The words for a shell: source words as written, synthetic ones
 *  quoted (or raw). */
void s2r_body__ow_render(s2r_buf *t, const owords *o);
/** Tasks of the job: --ntasks, else tasks per node x nodes. */
int64_t s2r_body__total_tasks(const s2r_job *j);
/** Build the rewritten words of a->u's command into a->ow: launcher
 *  options the workload supplies removed (torchrun rendezvous, accelerate
 *  machine options, deepspeed's fan-out, mpirun placement). */
void s2r_body__rewrite_main(ctx *c, analysis *a, bool top);
/** The bash -c text an srun step that becomes mpirun runs in front of the
 *  program: each rank exports SLURM_PROCID and SLURM_LOCALID from its MPI
 *  rank (Open MPI, MPICH, Intel MPI, PMIx), then execs the program. */
extern const char s2r_body__rank_vars[];

/* ---- the body text (render.c) ---- */

/** Replace source bytes [start, end) of a kept statement of @p a by
 *  @p repl (copied; NULL deletes them); edits stay sorted. */
void s2r_body__add_edit(ctx *c, analysis *a, size_t start, size_t end,
                        const char *repl);
/** True when an edit of @p a touches the source bytes [from, to). */
bool s2r_body__edited(const analysis *a, size_t from, size_t to);

/** The statements of @p a into @p t: dropped and lifted ones removed, the
 *  main one rewritten, the rest verbatim (with a's edits). */
void s2r_body__render(ctx *c, analysis *a, s2r_buf *t, bool top);
/** True for a lone `set ...` statement (shell options). */
bool s2r_body__is_set(const sh_stmt *st);
/** True when what is left is one simple literal command (an argv). */
bool s2r_body__reduces_to_argv(const analysis *a);
/** @p s with blank lines trimmed at both ends and runs squeezed
 *  (malloc'd, NULL on ENOMEM). */
char *s2r_body__tidy(const char *s);

/* ---- SLURM stand-ins (slurm_env.c) ---- */

/** Expand the $NAME / ${NAME} / ${NAME:-def} references of @p raw that the
 *  job fixes into @p out; false when anything is known only at run time.
 *  @p in_dq: @p raw is the inside of double quotes. */
bool s2r_body__resolve_raw(const s2r_job *job, const s2r_envv *env,
                           const char *raw, bool in_dq, s2r_buf *out);
/** The value of assignment word @p w after '=', resolved (malloc'd), and
 *  its name in *@p name_out (malloc'd); NULL when known only at run time. */
char *s2r_body__resolve_assignment(const s2r_job *job, const s2r_envv *env,
                                   const sh_word *w, char **name_out);
/**
 * The value a SLURM_* variable has in the job, as far as the directives fix
 * it (per sbatch(1) "OUTPUT ENVIRONMENT VARIABLES").
 * @return 1 and the value in *@p out, borrowed: a string of @p job, or a
 *         number written into @p num (S2R_I64_TEXT bytes, the caller's),
 *         valid while both are; 0 when sbatch leaves it unset (so
 *         ${X:-default} gives the default); -1 when only the running job
 *         knows it (job id, host names, task ids).
 */
int s2r_body__slurm_var(const s2r_job *job, const char *name,
                        char num[S2R_I64_TEXT], const char **out);
/** True when @p s names variable @p name as a whole word. */
bool s2r_body__mentions(const char *s, const char *name);
/** SLURM_* values the directives fix into job->slurm_env, per-pod values
 *  (SLURM_JOB_ID, SLURM_PROCID ...) as exports into @p pre, for the
 *  variables @p body reads. */
void s2r_body__add_prelude(ctx *c, s2r_buf *pre, const char *body);

/* ---- files the script uses (paths.c) ---- */

/** [site] home with %u the user (cfg->user), or the folder the homes are
 *  in when the user is not known; NULL without [site] home. malloc'd. */
char *s2r_body__home(const s2r_config *cfg);
/** Every absolute path of the directives and of @p body (@p len bytes
 *  from line @p first_line) into job->paths, with job->uses_home and
 *  job->self_line (warned about: $0 is a spool copy under SLURM). */
void s2r_body__find_paths(ctx *c, const char *body, size_t len,
                          int first_line);
/** The relative files the simple commands of @p b name, into
 *  job->relative_files (at most 64). */
void s2r_body__relative_files(ctx *c, const sh_body *b);

/* ---- a script for another interpreter (interpreter.c) ---- */

/** What the pod runs for script @p buf (@p len bytes, the whole file)
 *  whose #! names no shell: per sbatch(1) the script is copied and
 *  executed, so job->run_argv is `bash -c LAUNCHER s2r-job TEXT`, which
 *  writes TEXT (the script as it is) to a file under $TMPDIR and execs
 *  the #! line's interpreter and optional argument on it (execve(2)
 *  "Interpreter scripts"); job->command_tokens gets the interpreter's
 *  name, and a note says so. @return S2R_OK or S2R_ENOMEM. */
int s2r_body__run_interpreted(ctx *c, const char *buf, size_t len);

/* ---- the submitting shell's variables (submit_env.c) ---- */

/** A warning per variable that the body of script @p buf (@p len bytes;
 *  the body from @p body_off, at line @p body_line) reads and, under
 *  sbatch's --export=ALL (its default), only the environment sbatch ran
 *  in gives: not set anywhere in the script, not one the pod has (HOME,
 *  PATH, SLURM_* stand-ins ...), not given by --export. At the line of its
 *  first read. None when the script can set variables s2r cannot see
 *  (source, eval, module, conda activate, set -a, a login shell ...) or
 *  the job does not get the submit environment. Linear in @p len. */
void s2r_body__submit_env(ctx *c, const char *buf, size_t len,
                          size_t body_off, int body_line);

/* ---- software (software.c) ---- */

/** Record the modules, conda environments and venvs the top-level
 *  set-up commands of @p a load into job->modules, conda_envs, venvs. */
void s2r_body__software(ctx *c, const analysis *a);
/** True when set-up statement @p i of @p a (of kind @p sk, quoted as
 *  @p snip in messages) can stay in the pod: a conda installation or venv
 *  on storage the site maps ([storage]); says so (a venv: a warning that
 *  its base interpreter must be in the image). False for modules. */
bool s2r_body__setup_kept(ctx *c, const analysis *a, size_t i,
                          setup_kind sk, const char *snip);
/** The module, conda and venv set-up left in the kept statements of @p a
 *  (blocks, lists joined by && or ||, lines after the main command): a
 *  warning per line, and for `module`/`ml` a stand-in function that does
 *  nothing and succeeds, into the prelude @p pre (software.c). */
void s2r_body__setup_in_body(ctx *c, const analysis *a, s2r_buf *pre);

/* ---- servers (serving.c) ---- */

/** A main command that is a long-running server (servers.h): the job
 *  records it and its port; the command listens on every interface. */
void s2r_body__setup_server(ctx *c, analysis *a);

#endif
