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
 *   software.c  modules, conda and venvs loaded; set-up kept on storage
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

/* What becomes of a top-level statement. */
typedef enum st_kind {
    ST_KEEP = 0,  /* copied verbatim */
    ST_DROP,      /* removed, with a warning */
    ST_LIFTED,    /* removed: now env or working directory */
    ST_MAIN       /* the main computation, rewritten */
} st_kind;

/* The job being analysed and where messages go. */
typedef struct ctx {
    s2r_job *job;
    const s2r_config *cfg;
    s2r_diags *d;
    const char *file;
    bool oom;
    char *conda_root;   /* a conda installation on mounted storage whose
                           conda.sh the body sources (software.c), owned */
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
    bool mpi;             /* mpirun/mpiexec seen */
    size_t mpi_at, mpi_opts, mpi_prog;
    int64_t srun_tasks;   /* srun -n, 0 when not given */
    char *image;          /* from docker:// or --container-image, owned */
    bool local_image;     /* a local image file (.sif, .sqsh, a path) */
    char *local_image_name;
    bool run_args;        /* singularity run IMG ARGS: entrypoint args */
    bool conda_run;       /* `conda run -n ENV` was in front */
    char *c_workdir;      /* --container-workdir / --pwd */
    s2r_envv c_env;       /* singularity --env, srun --export K=V */
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

typedef struct analysis {
    sh_body body;
    st_kind *kind;
    size_t main;        /* index of the main statement, or (size_t)-1 */
    size_t main_cmd;    /* the main command inside it */
    bool drop_prefix;   /* set-up commands before it (&&) are dropped */
    unwrap u;
    /* bash -c '...' inside the main command */
    struct analysis *inner;
    char *main_text;    /* the rewritten main statement */
    body_edit *edits;
    size_t nedits;
    bool main_literal;  /* the rewritten command is one literal argv */
    owords ow;          /* the rewritten command words */
} analysis;

/* ---- statements, words and messages (statements.c) ---- */

/* env/module set-up that has no meaning in a pod */
typedef enum setup_kind { SU_NONE, SU_MODULE, SU_CONDA, SU_VENV } setup_kind;

/** The set-up @p c does (module load, conda activate, source venv/bin/
 *  activate ...), or SU_NONE. */
setup_kind s2r_body__setup_of(const sh_cmd *c);
/** Index of the main command inside @p st, or -1: a pipeline's first
 *  stage, else the first command of an && / || list that is no set-up or
 *  helper. */
int s2r_body__main_candidate(const sh_stmt *st);
/** True for scontrol, squeue, sinfo, sacct, sstat, sbatch, scancel, seff. */
bool s2r_body__is_slurm_client(const char *name);
/** True when the NULL-terminated list @p l holds @p s. */
bool s2r_body__list_has(const char *const *l, const char *s);

/** A warning (option may be NULL) / a note at @p line of the script. */
void s2r_body__warn(ctx *c, int line, const char *opt, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void s2r_body__note(ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
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
 *  conda run, singularity/apptainer exec|run, time/exec/nohup, bash -c)
 *  and its launcher (torchrun, accelerate launch, deepspeed) into @p u
 *  (zeroed first; free with s2r_body__unwrap_free()). */
void s2r_body__unwrap(const sh_cmd *cmd, unwrap *u);
void s2r_body__unwrap_free(unwrap *u);
/** An image file on the cluster (.sif, .sqsh, a path) rather than an OCI
 *  reference. */
bool s2r_body__is_local_image(const char *v);

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

/* ---- the body text (render.c) ---- */

/** The statements of @p a into @p t: dropped and lifted ones removed, the
 *  main one rewritten, the rest verbatim (with a's edits). */
void s2r_body__render(ctx *c, analysis *a, s2r_buf *t, bool top);
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

/* ---- software (software.c) ---- */

/** Record the modules, conda environments and venvs the top-level
 *  set-up commands of @p b load into job->modules, conda_envs, venvs. */
void s2r_body__software(ctx *c, const sh_body *b);
/** True when set-up statement @p st (of kind @p sk, quoted as @p snip in
 *  messages) can stay in the pod: a conda installation or venv on storage
 *  the site maps ([storage]); says so (a venv: a warning that its base
 *  interpreter must be in the image). False for modules. */
bool s2r_body__setup_kept(ctx *c, const sh_stmt *st, setup_kind sk,
                          const char *snip);

/* ---- servers (serving.c) ---- */

/** A main command that is a long-running server (servers.h): the job
 *  records it and its port; the command listens on every interface. */
void s2r_body__setup_server(ctx *c, analysis *a);

#endif
