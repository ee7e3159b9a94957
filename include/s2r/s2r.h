/* s2r.h: include/s2r, layer 0: the public API (with plugin.h, the SDK).
 * Owns: job, workload, diagnostics, containers, config, parse and emit.
 * Uses: nothing of the core; libc (plugin.h: json-c's json_object). */
/**
 * @file s2r.h
 * @brief s2r core library: read a SLURM batch script the way sbatch does and
 *        turn it into a Run:ai 2.25 workload.
 *
 * Pipeline (every stage is a pure function of its inputs):
 *
 *   bytes --s2r_job_parse()--> s2r_job        (what sbatch makes of it)
 *         --s2r_rules_convert()--> s2r_workload (Run:ai side, per design §2)
 *         --s2r_emit()--> text                  (runai CLI | YAML | REST JSON)
 *
 * Units used throughout: memory in MiB (1 MiB = 2^20 bytes, as SLURM's "M"),
 * time in seconds, CPUs in whole cores, GPUs in whole devices.
 *
 * Ownership: every pointer inside s2r_job / s2r_workload is owned by the
 * enclosing struct and released by s2r_job_free() / s2r_workload_free().
 * Strings are NUL-terminated UTF-8 (bytes are passed through unchanged).
 *
 * Errors: functions return 0 (S2R_OK) on success or a negative s2r_status
 * (see plugin.h). Problems with the input are reported as diagnostics in an
 * s2r_diags list, each naming file, line and option.
 */
#ifndef S2R_S2R_H
#define S2R_S2R_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define S2R_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Diagnostics                                                         */
/* ------------------------------------------------------------------ */

typedef enum s2r_severity {
    S2R_SEV_NOTE = 0,    /**< informative; printed unless -q */
    S2R_SEV_WARNING = 1, /**< something has no exact Run:ai equivalent */
    S2R_SEV_ERROR = 2    /**< the script is refused (as sbatch would) */
} s2r_severity;

typedef struct s2r_diag {
    s2r_severity severity;
    char *file;    /**< script name as given by the user ("-" for stdin) */
    int line;      /**< 1-based line, 0 when not tied to a line */
    char *option;  /**< long option name without dashes ("mail-type"), or NULL */
    char *message; /**< one sentence, no trailing newline, never a secret */
} s2r_diag;

/** Diagnostics in the order added. Zero-initialise before use; fill it
 *  with s2r_diags_add() only. The slots after the last (from @c v[cap])
 *  are the list's own. */
typedef struct s2r_diags {
    s2r_diag *v;
    size_t n, cap;
} s2r_diags;

/** Append a diagnostic: copies of @p file and @p option (either may be
 *  NULL) and the message formatted from @p fmt, in memory the list owns
 *  (blocks of its own, as s2r_strv's strings: each stays where it is
 *  until s2r_diags_clear() frees them all; never free one yourself).
 *  Returns 0 or S2R_ENOMEM. */
int s2r_diags_add(s2r_diags *d, s2r_severity sev, const char *file, int line,
                  const char *option, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/** Number of diagnostics of severity @p sev. */
size_t s2r_diags_count(const s2r_diags *d, s2r_severity sev);
/** True when a warning or error names @p option. */
bool s2r_diags_has_option(const s2r_diags *d, const char *option);
/** Format one diagnostic as "file:line: warning: message" (malloc'd). */
char *s2r_diag_format(const s2r_diag *dg);
/** Free every diagnostic of @p d and the list itself; @p d is left empty. */
void s2r_diags_clear(s2r_diags *d);

/* ------------------------------------------------------------------ */
/* Small containers                                                    */
/* ------------------------------------------------------------------ */

/** A list of strings, @c v[n] NULL. Zero-initialise before use; fill it
 *  with s2r_strv_push() only. The strings are copies the vector owns, in
 *  blocks of its own: each stays where it is, whatever is pushed after
 *  it, until s2r_strv_clear() frees them all (never free one yourself).
 *  The slots after the last (from @c v[cap]) are the vector's own. */
typedef struct s2r_strv {
    char **v;
    size_t n, cap;
} s2r_strv;

/** Append a copy of @p s. @return S2R_OK or S2R_ENOMEM. */
int s2r_strv_push(s2r_strv *sv, const char *s);
/** Free the strings and the list; @p sv is left empty. */
void s2r_strv_clear(s2r_strv *sv);

/** One NAME=VALUE of an s2r_envv: the text of both in memory the vector
 *  owns (its arena, as s2r_strv's strings; a replaced value a block of
 *  its own), @c value after @c name's NUL; s2r_envv_clear() frees it. */
typedef struct s2r_env {
    char *name;
    char *value;
} s2r_env;

/** NAME=VALUE pairs in the order first set. Names are distinct: fill
 *  it with s2r_envv_set(), which replaces a name it already holds (the
 *  rules copy a job's vector on that promise). Zero-initialise before
 *  use; the slots after the last entry (from @c v[n]) are the vector's
 *  own. */
typedef struct s2r_envv {
    s2r_env *v;
    size_t n, cap;
} s2r_envv;

/** Set NAME=VALUE, replacing an earlier value of the same name in place
 *  (@p name and @p value may be text of @p ev itself, the old value
 *  included; the old text is then gone). The text of the other entries
 *  stays where it is. @return S2R_OK or S2R_ENOMEM. */
int s2r_envv_set(s2r_envv *ev, const char *name, const char *value);
const char *s2r_envv_get(const s2r_envv *ev, const char *name);
void s2r_envv_clear(s2r_envv *ev);

/* ------------------------------------------------------------------ */
/* Storage: the site's shared file systems as Run:ai volumes           */
/* ------------------------------------------------------------------ */

/** What a [storage] entry mounts, per the Run:ai 2.25 CLI reference
 *  (`runai training standard submit`) and REST spec.storage. */
typedef enum s2r_volume_kind {
    S2R_VOL_PVC = 0,       /**< an existing PersistentVolumeClaim: CLI
                                `--existing-pvc claimname=CLAIM,path=PATH`,
                                REST storage.pvc[], YAML
                                persistentVolumeClaim */
    S2R_VOL_NFS = 1,       /**< an NFS export: CLI `--nfs path=EXPORT,
                                server=SERVER,mountpath=PATH`, REST
                                storage.nfs[], YAML nfs */
    S2R_VOL_HOSTPATH = 2,  /**< a folder of the node: CLI `--host-path
                                path=HOSTPATH,mount=PATH`, REST
                                storage.hostPath[], YAML hostPath */
    S2R_VOL_DATASOURCE = 3 /**< a data source registered in Run:ai (its
                                own mount path is fixed there): CLI
                                `--datasource type=TYPE,name=NAME`
                                (training and inference only) */
} s2r_volume_kind;

/** One mount: a [storage] entry of the site (s2r_config.volumes) or a
 *  volume of a workload (s2r_workload.volumes). */
typedef struct s2r_volume {
    s2r_volume_kind kind;
    char *path;    /**< where the pod sees it: the [storage] key, the
                        path as scripts see it on the SLURM cluster; no
                        trailing '/' (except "/" itself) */
    char *source;  /**< PVC claim name, NFS export path, host path, or the
                        data source name */
    char *server;  /**< NFS server; for a data source its type ("pvc",
                        "nfs", "hostPath", "s3", "git", "configMap",
                        "secretVolume") or NULL; else NULL */
    bool read_only;/**< ",ro": mounted read-only */
    int line;      /**< line of the entry in the site file, 0 if none */
} s2r_volume;

/** An absolute path a script uses (core/body paths.c): in a directive
 *  (--chdir, -o, -e, -i, --export), a word of the body (quoted strings and
 *  here-documents included), an exported value or a `cd` target; `~` and
 *  $HOME through [site] home. */
typedef struct s2r_path_use {
    char *path;     /**< absolute, "." and ".." folded, no trailing '/' */
    int line;       /**< script line of the first use */
    bool written;   /**< the script writes there (>, >>, tee, mkdir,
                         cp/mv targets, -o, --output-dir, --out ...) */
    bool mention;   /**< only in a trailing comment: mounted when an
                         entry covers it, never warned about */
    bool in_image;  /**< a path inside a container (a bind mount's target
                         such as /data of `--bind /x:/data`): no site
                         storage, never warned about */
} s2r_path_use;

/* ------------------------------------------------------------------ */
/* s2r_job: what sbatch makes of a script                              */
/* ------------------------------------------------------------------ */

/** One effective directive option after "last occurrence wins". */
typedef struct s2r_directive {
    const char *name; /**< canonical long name without dashes
                            ("cpus-per-task"); static, s2r's option table */
    char *value; /**< value as sbatch read it (quotes removed), or NULL */
    int line;    /**< line of the (last) occurrence */
} s2r_directive;

/** A bind of a container runtime: `singularity|apptainer -B SRC[:DST[:ro]]`,
 *  `podman-hpc run -v SRC:DST[:ro]`, `enroot start --mount SRC:DST`, pyxis
 *  `srun --container-mounts=SRC:DST[:ro]`. The pod sees SRC only where the
 *  site storage map ([storage] of s2r.ini) mounts it. */
typedef struct s2r_bind {
    char *source;    /**< the path on the SLURM node, as written (may hold
                          $VARS) */
    char *target;    /**< the path inside the container (= source when the
                          bind names one path) */
    bool read_only;  /**< :ro */
    int line;        /**< script line of the command that binds it */
} s2r_bind;

/** --array, per sbatch(1) --array and slurm_parse_array_tok(). */
typedef struct s2r_array {
    int32_t *indices;     /**< every index, ascending, no duplicates */
    size_t count;
    int32_t max_parallel; /**< the %N throttle, 0 when not given */
} s2r_array;

typedef enum s2r_distributed {
    S2R_DIST_NONE = 0,
    S2R_DIST_PYTORCH = 1, /**< torchrun / torch.distributed.run / accelerate /
                               deepspeed over more than one node */
    S2R_DIST_MPI = 2      /**< mpirun / mpiexec / srun of a program, more than
                               one task or node */
} s2r_distributed;

/** A memory request in MiB; per sbatch(1) --mem / --mem-per-cpu / --mem-per-gpu. */
#define S2R_MEM_UNSET (-1)
#define S2R_MEM_ALL (-2) /**< --mem=0: all memory of each node */
/** --time: not given / no limit (UNLIMITED, INFINITE, -1, 0). */
#define S2R_TIME_UNSET (-1)
#define S2R_TIME_UNLIMITED (-2)

typedef struct s2r_job {
    char *file;     /**< script name as given ("-" for stdin) */
    bool valid;     /**< false when sbatch would refuse the script */

    /* ---- directives (the facts of ../shared/corpus/README.md), counted
     * as slurmctld stores the job: sbatch and slurmctld adjust the
     * counts given (--ntasks-per-node is a maximum, --gpus over a
     * per-node count sets the nodes, --gpus-per-task sets the tasks) ---- */
    char *job_name;          /**< --job-name verbatim, or NULL */
    int64_t nodes;           /**< minimum node count (range a-b gives a,
                                  0-N gives 0); 1 when not given */
    int64_t nodes_max;       /**< maximum node count; == nodes for one */
    bool nodes_set;          /**< --nodes was given */
    int64_t ntasks;          /**< task count (--ntasks, or as sbatch and
                                  slurmctld set it), 0 when none is set */
    int64_t ntasks_per_node; /**< tasks per node at most (--ntasks-per-node
                                  or set from GPUs per task), 0 = none */
    int64_t tasks_per_node;  /**< derived: ntasks-per-node, else
                                  ceil(ntasks/nodes), else 1 (0 with 0
                                  nodes) */
    int64_t cpus_per_task;   /**< CPUs per task (--cpus-per-task, or
                                  --cpus-per-gpu x --gpus-per-task), 0 when
                                  not set */
    int64_t cpus_per_gpu;    /**< --cpus-per-gpu, 0 when not given */
    int64_t gpus_per_node;   /**< derived from --gres/--gpus*, summed over
                                  the GPU types, 0 = none */
    char *gpu_type;          /**< "a100" etc. (the first of several), or
                                  NULL */
    int64_t cpus_per_node;   /**< derived (cores; at least --mincpus) */
    int64_t mem_per_node_mib;/**< derived: MiB, S2R_MEM_ALL or S2R_MEM_UNSET */
    int64_t time_limit_s;    /**< seconds, or S2R_TIME_UNSET / _UNLIMITED */
    s2r_array *array;        /**< NULL when no --array */
    char *chdir;             /**< --chdir, or NULL */
    char **partitions;       /**< --partition list, NULL-terminated or NULL */
    char *account;           /**< --account or NULL */
    s2r_envv export_env;     /**< K=V entries of --export */
    char *export_mode;       /**< "ALL", "NONE", "NIL" or NULL */
    char *container_image;   /**< pyxis --container-image as an OCI ref */
    s2r_directive *directives; /**< every effective option, in order */
    size_t n_directives;

    /* ---- body (what the script runs) ---- */
    char *image;             /**< OCI image the main command runs in, or NULL */
    char *workdir;           /**< directory of the main command, or NULL */
    s2r_envv env;            /**< job variables with run-time values */
    s2r_strv command_tokens; /**< argv of the main computation (facts form) */
    s2r_distributed distributed;
    int main_line;           /**< line of the main command, 0 if none */
    bool uses_array_index;   /**< body reads SLURM_ARRAY_TASK_ID */

    /* ---- what the container runs (filled by body analysis) ---- */
    s2r_strv run_argv;       /**< direct argv when the body reduces to one
                                  command; empty when run_shell is used */
    char *run_shell;         /**< bash body for `bash -c`, or NULL */
    s2r_strv launcher_argv;  /**< MPI: the mpirun command for the launcher */
    s2r_envv slurm_env;      /**< SLURM_* stand-ins the body reads whose value
                                  the directives fix (SLURM_CPUS_PER_TASK...) */
    char *shebang_shell;     /**< interpreter of the #! line ("bash") */
    bool run_args_only;      /**< run_argv are arguments for the image's
                                  entrypoint (singularity run IMG ARGS) */
    char *server;            /**< main command is a long-running server:
                                  its name ("jupyter lab", "vllm serve"),
                                  or NULL */
    bool serving;            /**< the server is a model server (inference) */
    int server_port;         /**< the port it listens on in the pod */

    /* ---- files and software (core/body paths.c and software.c) ---- */
    char *submit_dir;        /**< SLURM_SUBMIT_DIR (s2r_config.submit_dir),
                                  or NULL when unknown */
    s2r_path_use *paths;     /**< absolute paths the script uses, first
                                  use first, each path once */
    size_t n_paths;
    s2r_strv relative_files; /**< relative files the body names (train.py,
                                  ./config.sh, configs/a.yaml), once each:
                                  they are looked up in the working
                                  directory */
    bool uses_home;          /**< the body reads `~` or $HOME */
    int self_line;           /**< line where the body locates its own file
                                  ($0, BASH_SOURCE), 0 when it does not */
    s2r_strv modules;        /**< environment modules the body loads
                                  (`module load NAME[/VERSION]`, `ml`),
                                  in order, each once */
    s2r_strv conda_envs;     /**< conda environments it activates (a name,
                                  "base", or a path), in order */
    s2r_strv venvs;          /**< virtual environments whose bin/activate
                                  it sources (the folder, "." for
                                  `source bin/activate`), in order */
    /* ---- job steps and container runtimes (filled by body analysis) ---- */
    bool srun_standin;       /**< the pod's command runs srun steps: it
                                  carries the srun stand-in
                                  (s2r_srun_standin() in core/runai) */
    bool uses_mpirun;        /**< the body starts MPI ranks with mpirun
                                  (a launch or an srun step made mpirun) */
    char *worker_setup;      /**< MPIJob (distributed MPI over more than
                                  one node): bash lines the worker pods run
                                  before sshd, the set-up that makes files
                                  the ranks read; NULL when none */
    s2r_bind *binds;         /**< container runtime binds of the main
                                  command, in script order */
    size_t n_binds;
} s2r_job;

/**
 * Parse a batch script exactly as sbatch(1) does (directive scan, option
 * values, cross-option rules) and analyse its body.
 *
 * @param job_out  zeroed struct to fill; free with s2r_job_free() in all cases
 * @param file     script name for messages and the default job name
 * @param buf,len  the script bytes (need not be NUL-terminated)
 * @param cfg      site configuration (default image etc.), may be NULL
 * @param diags    receives errors, warnings and notes
 * @return 0 when the script is valid; S2R_EINVAL when sbatch would refuse it
 *         (job_out->valid is false and diags holds at least one error);
 *         S2R_ENOMEM.
 */
struct s2r_config;
int s2r_job_parse(s2r_job *job_out, const char *file, const char *buf,
                  size_t len, const struct s2r_config *cfg, s2r_diags *diags);
void s2r_job_free(s2r_job *job);

/* ------------------------------------------------------------------ */
/* s2r_workload: the Run:ai side                                       */
/* ------------------------------------------------------------------ */

typedef enum s2r_workload_kind {
    S2R_WL_STANDARD = 0, /**< runai training standard submit / batch/v1 Job */
    S2R_WL_PYTORCH = 1,  /**< runai training pytorch submit / PyTorchJob */
    S2R_WL_MPI = 2,      /**< runai training mpi submit / MPIJob v2beta1 */
    S2R_WL_WORKSPACE = 3,/**< runai workspace submit: an interactive server
                              (Jupyter, code-server, TensorBoard ...) with
                              its port exposed; per Run:ai CLI
                              `runai workspace submit --external-url` */
    S2R_WL_INFERENCE = 4 /**< runai inference standard submit: a model
                              server (vLLM, TGI, SGLang, Triton), per
                              Run:ai CLI `--serving-port` */
} s2r_workload_kind;

typedef struct s2r_workload {
    s2r_workload_kind kind;
    char *name;            /**< DNS-1123 label, <= 63 chars */
    char *source;          /**< script name it came from (messages), or NULL */
    char *project;         /**< Run:ai project, NULL = from $RUNAI_PROJECT */
    int64_t pods;          /**< pods doing the work (= SLURM nodes) */
    int64_t workers;       /**< CLI --workers: PyTorch nodes-1, MPI nodes */
    int64_t slots_per_worker; /**< MPI --slots-per-worker (tasks per node) */

    /* per pod (= per SLURM node) */
    int64_t gpus;          /**< --gpu-devices-request / nvidia.com/gpu */
    int64_t cpus;          /**< --cpu-core-request / cpu (cores) */
    int64_t memory_mib;    /**< --cpu-memory-request in MiB, 0 = unset */

    char *image;
    char *workdir;         /**< --working-dir, or NULL */
    s2r_envv env;          /**< --environment-variable */
    s2r_strv command;      /**< container argv (after `--command --`) */
    bool command_is_args;  /**< command holds arguments for the image's own
                                entrypoint (`singularity run IMG ARGS`):
                                CLI `-- ARGS` without --command, YAML args */
    bool array_index_used; /**< the command reads SLURM_ARRAY_TASK_ID */
    s2r_strv launcher_command; /**< MPI launcher argv */
    s2r_strv worker_command;   /**< MPI worker argv: the set-up the ranks
                                    need, then sshd, which mpi-operator v2
                                    reaches the workers through; empty
                                    for the other kinds */

    char **node_pools;     /**< NULL-terminated, or NULL */
    char *node_type;       /**< run.ai/type, or NULL */
    char *priority;        /**< very-low .. very-high, or NULL */
    char *preemptibility;  /**< preemptible | non-preemptible, or NULL */
    int64_t backoff_limit; /**< 0: SLURM does not requeue by default */

    /* arrays (standard only) */
    int64_t completions;   /**< --runs, 0 when no array */
    int64_t parallelism;   /**< --parallelism, 0 when no array */
    int32_t *array_indices;/**< SLURM index of each completion index */
    size_t n_array_indices;

    int64_t time_limit_s;  /**< activeDeadlineSeconds; 0 = none */
    int64_t gpus_per_proc; /**< PyTorch nprocPerNode hint, 0 = unset */

    /* servers (workspace / inference) */
    int port;              /**< container port the server listens on
                                (--external-url container= /
                                --serving-port), 0 = none */
    char *server;          /**< the server program ("jupyter lab"), or NULL */

    /* what the pods need to run as the job ran on SLURM */
    s2r_volume *volumes;   /**< site storage mounted on every pod (MPI
                                launcher, PyTorch master and workers) */
    size_t n_volumes;
    bool large_shm;        /**< a large /dev/shm: CLI --large-shm, YAML a
                                Memory emptyDir at /dev/shm, REST
                                compute.largeShmRequest */
    bool run_as_user;      /**< run as run_as_uid/run_as_gid (CLI
                                --run-as-uid/--run-as-gid, YAML
                                securityContext, REST spec.security);
                                false: the image's user */
    int64_t run_as_uid;    /**< user id, when run_as_user */
    int64_t run_as_gid;    /**< group id, when run_as_user; -1: none */
    char *supplemental_groups; /**< "1000,1001" (CLI --supplemental-groups),
                                    or NULL */
    char *stdout_file;     /**< sbatch -o filename pattern (sbatch(1)
                                "filename pattern", relative to the working
                                directory), or NULL: stdout only in the
                                container log */
    char *stderr_file;     /**< -e pattern, or NULL: stderr goes where
                                stdout goes */
    char *stdin_file;      /**< -i pattern, or NULL */
    bool log_append;       /**< --open-mode=append (default truncate) */
    char *user;            /**< user name for %u in the patterns, or NULL */
} s2r_workload;

void s2r_workload_free(s2r_workload *wl);

/* ------------------------------------------------------------------ */
/* Site configuration ([core] and [site] of s2r.ini)                   */
/* ------------------------------------------------------------------ */

typedef struct s2r_map_entry {
    char *key;
    char *value; /**< "" means: map to nothing */
} s2r_map_entry;

typedef struct s2r_config {
    char *project;         /**< fixed Run:ai project, NULL = $RUNAI_PROJECT */
    char *default_image;   /**< image when the script names none */
    char *priority;        /**< very-low .. very-high, NULL = Run:ai default */
    char *preemptibility;  /**< preemptible | non-preemptible, or NULL */
    char *time_limit;      /**< "warn" (default) or "timeout" (wrap command) */
    char *format;          /**< default output: cli | yaml | json */
    char *provider;        /**< provider section id, NULL = built-in rules */
    char *config_file;     /**< path it was read from, or NULL */
    s2r_map_entry *partitions; /**< partition -> node pool */
    size_t n_partitions;
    s2r_map_entry *constraints; /**< constraint -> node type */
    size_t n_constraints;
    s2r_map_entry *storage;  /**< [storage]: path as scripts see it (also
                                  the mount path in the pod) -> Run:ai
                                  storage ("pvc:CLAIM", "nfs:SERVER:EXPORT",
                                  "hostpath:PATH", "datasource:NAME", each
                                  with an optional ",ro"), in file order */
    size_t n_storage;
    s2r_map_entry *accounts; /**< [accounts]: --account -> Run:ai project */
    size_t n_accounts;
    s2r_map_entry *qos;      /**< [qos]: --qos -> Run:ai priority class */
    size_t n_qos;
    s2r_map_entry *modules;  /**< [modules]: module[/version] -> image */
    size_t n_modules;
    char *home;              /**< [site] home: users' home folders, %u =
                                  the user name ("/home/%u"), or NULL */
    char *submit_dir;        /**< SLURM_SUBMIT_DIR, the directory sbatch
                                  ran in (--submit-dir), absolute. NULL or
                                  "": unknown, so the pod gets no working
                                  directory and a warning says so; the s2r
                                  program and s2r_convert_json() fill in
                                  the current directory, as sbatch does */
    s2r_volume *volumes;     /**< [storage] parsed and checked, in file
                                  order */
    size_t n_volumes;
    char *run_as;            /**< [site] run_as: "user" (the script
                                  owner's UID, GID and groups, as SLURM
                                  runs jobs) or "image" (the image's user);
                                  NULL: "user" when [storage] maps a shared
                                  file system, else "image" */
    char *user;              /**< [site] user, else the local user's name
                                  (the s2r program); NULL = unknown */
    int64_t uid, gid;        /**< [site] uid / gid, else the local user's
                                  (the s2r program); -1 = unknown */
    char *groups;            /**< [site] groups ("1000,1001"), else the
                                  local user's supplementary groups; NULL =
                                  none known */
    bool no_slurm_log;       /**< [site] slurm_log = false: no default
                                  slurm-%j.out when -o and -e are not
                                  given */
} s2r_config;

/** Defaults: image nvcr.io/nvidia/pytorch:24.05-py3, time_limit warn,
 *  uid and gid -1 (unknown), everything else unset. */
void s2r_config_defaults(s2r_config *cfg);
void s2r_config_free(s2r_config *cfg);
/** Look up @p key in a map; NULL when absent. */
const char *s2r_config_map(const s2r_map_entry *m, size_t n, const char *key);

/* ------------------------------------------------------------------ */
/* Conversion and output                                               */
/* ------------------------------------------------------------------ */

/**
 * The built-in rules provider: s2r_job -> s2r_workload per design §2.
 * Warns (in @p diags) for every effective option with no Run:ai equivalent.
 * @return 0, S2R_EINVAL (job not valid) or S2R_ENOMEM.
 */
int s2r_rules_convert(s2r_workload *wl_out, const s2r_job *job,
                      const s2r_config *cfg, s2r_diags *diags);

typedef enum s2r_format {
    S2R_FMT_CLI = 0,  /**< bash script calling runai training ... submit */
    S2R_FMT_YAML = 1, /**< Job / PyTorchJob / MPIJob for runai workload submit */
    S2R_FMT_JSON = 2  /**< body of POST /api/v1/workloads/{trainings,distributed} */
} s2r_format;

/** "cli"|"yaml"|"json" -> format; returns -1 when unknown. */
int s2r_format_from_name(const char *name);

/**
 * Render a workload. @p out receives a malloc'd NUL-terminated text the
 * caller frees. Emitters are pure: same workload, same bytes.
 * Per-format notes (e.g. --time has no CLI flag) go to @p diags.
 */
int s2r_emit(char **out, const s2r_workload *wl, s2r_format fmt,
             const s2r_config *cfg, s2r_diags *diags);

/**
 * The whole rules conversion: parse @p buf as sbatch would, convert with the
 * built-in rules provider and render in @p fmt. On success *out is the
 * malloc'd text; on failure *out is NULL and @p diags says why (nothing is
 * partially rendered).
 * @return 0, S2R_EINVAL (script refused), S2R_ENOMEM.
 */
int s2r_convert_buffer(char **out, const char *file, const char *buf,
                       size_t len, s2r_format fmt, const s2r_config *cfg,
                       s2r_diags *diags);

/* ------------------------------------------------------------------ */
/* One call for language bindings (libs2r.so)                          */
/* ------------------------------------------------------------------ */

/** Largest script accepted, in bytes: 4 MiB, slurmctld's default
 *  max_script_size (per slurm.conf(5) MaxScriptSize), as the s2r program. */
#define S2R_MAX_SCRIPT_BYTES (4u << 20)

/** What s2r_convert_json() converts. Zero it, set struct_size to
 *  sizeof(s2r_convert_request), then the fields; later versions only add
 *  fields at the end. The library keeps no pointer after the call. */
typedef struct s2r_convert_request {
    size_t struct_size;      /**< sizeof(s2r_convert_request) */
    const char *file;        /**< script name for messages and the default
                                  job name (as `s2r FILE`); NULL = "-" */
    const char *script;      /**< the script bytes (need not be
                                  NUL-terminated); NULL only with len 0 */
    size_t script_len;       /**< bytes in @c script, at most
                                  S2R_MAX_SCRIPT_BYTES */
    const char *format;      /**< "cli" | "yaml" | "json"; NULL = the
                                  configuration's [core] format, else "cli"
                                  (as `s2r --format`) */
    const char *config_path; /**< s2r.ini to read (as `s2r --config`), or
                                  NULL for the defaults */
    const char *submit_dir;  /**< SLURM_SUBMIT_DIR, an absolute path (as
                                  `s2r --submit-dir`), or NULL */
} s2r_convert_request;

/**
 * Convert one script with the built-in rules provider and describe all
 * that the conversion says in one JSON document: the same output, bytes
 * and diagnostics as `s2r [--config F] [--format X] [--submit-dir D] FILE`
 * with the rules provider, plus what sbatch makes of the script and the
 * Run:ai workload. No network, no model, no plugin: a configuration whose
 * [core] provider is not the rules provider is refused
 * (S2R_EUNSUPPORTED); the environment (S2R_API_ENDPOINT...) is not read.
 * The configuration's core sections are read and checked as the program
 * does (s2r_config_apply() in config.h); plugin sections ([provider.*],
 * [auth.*], [ratelimit.*]) are not opened, so a plugin they name need not
 * be installed, where the program's registry would refuse one missing.
 *
 * Thread safety: any number of threads may call it at once. The
 * conversion path keeps no global or static mutable state, and each call
 * runs in the "C" locale of its own thread (uselocale(3)), so the
 * caller's locale (LC_NUMERIC, LC_CTYPE) changes nothing.
 *
 * The document (UTF-8 JSON object; script bytes that are not UTF-8 pass
 * through unchanged inside strings):
 *
 *   {
 *     "format": "cli" | "yaml" | "json",       the format used
 *     "output": string | null,                 the rendered workload, null
 *                                              unless the call returned 0
 *     "diagnostics": [                         in the order they arose
 *       { "severity": "error" | "warning" | "note",
 *         "file": string | null,   script or configuration name
 *         "line": int,             1-based, 0 = not tied to a line
 *         "option": string | null, sbatch long option without dashes
 *                                  ("mail-type") or configuration key
 *         "category": string,      see below
 *         "message": string,       one sentence, never a secret
 *         "text": string }         "file:line: warning: message", as the
 *                                  s2r program prints it (s2r_diag_format)
 *     ],
 *     "job": object | null,        what sbatch makes of the script, in the
 *                                  corpus facts schema (s2r_job: job_name,
 *                                  nodes, tasks_per_node, gpus_per_node,
 *                                  gpu_type, cpus_per_node (cores),
 *                                  mem_per_node_mib (MiB, "all" for
 *                                  --mem=0, null), time_limit_s (seconds,
 *                                  null = none), array {indices,
 *                                  max_parallel}, image, workdir, env,
 *                                  command_tokens, distributed, directives
 *                                  [{name, value, line}], id, valid,
 *                                  submit_dir, paths, modules, conda_envs,
 *                                  venvs); null
 *                                  when sbatch refuses the script
 *     "workload": object | null    the Run:ai side (s2r_workload's field
 *                                  names: kind, name, pods, gpus, cpus,
 *                                  memory_mib, image, command, ...); null
 *                                  when there is none
 *   }
 *
 * "category" sorts the diagnostics for a reader. It is derived in one
 * place (api_json.c) from the diagnostic, the stage that raised it and the
 * script line it names; the first rule that applies wins:
 *   1. "usage"     the request itself (unknown format, no script)
 *   2. "config"    reading the configuration file, or its provider
 *   3. by the option the diagnostic names or, when it names none, the
 *      effective #SBATCH option on its line: "time" (--time, --time-min),
 *      "array" (--array), "image" (--container-image), else "option" (no
 *      Run:ai equivalent, approximated, or refused)
 *   4. "format"    what the chosen output format cannot carry, or what to
 *                  do with it (REST placeholders, a server as a YAML Job)
 *   5. "directive" a '#' line after line 1, blanks before it allowed
 *                  (#SBATCH after the first command, "# SBATCH", #PBS,
 *                  hetjob components)
 *   6. "script"    an error about the script as a whole (no #! line, DOS
 *                  line breaks, larger than S2R_MAX_SCRIPT_BYTES)
 *   7. "image"     the body names no OCI image, or a local image file
 *   8. "storage"   mounts: [storage] entries, paths on no mounted
 *                  storage, bind paths the workload does not carry
 *   9. "body"      anything else about what the script runs (set-up lines
 *                  dropped, launchers rewritten, server ports)
 *
 * @param json_out  receives the malloc'd, NUL-terminated document, to be
 *                  released with s2r_free(); NULL only when the call
 *                  returns S2R_ENOMEM or @p json_out / @p req is NULL
 * @param req       what to convert (see s2r_convert_request)
 * @return 0 converted ("output" set); S2R_EINVAL: the script is refused as
 *         sbatch would refuse it, the configuration is invalid, or the
 *         request is (unknown format, relative submit_dir, struct_size too
 *         small); S2R_ENOTFOUND: @c config_path cannot be opened;
 *         S2R_EUNSUPPORTED: the configuration names a provider other than
 *         the rules provider; S2R_ETOOBIG: the script is larger than
 *         S2R_MAX_SCRIPT_BYTES; S2R_ENOMEM. Every error but S2R_ENOMEM
 *         comes with a document holding at least one "error" diagnostic.
 */
int s2r_convert_json(char **json_out, const s2r_convert_request *req);

/** Release memory the library allocated for the caller (the document of
 *  s2r_convert_json(), texts of s2r_emit() ...), so a
 *  binding need not share the C library's malloc. NULL is ignored. */
void s2r_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* S2R_S2R_H */
