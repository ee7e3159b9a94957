/* slurm.h: core/slurm, layer 3: what sbatch makes of the directives.
 * Owns: the #SBATCH scan, the sbatch option table and setters, values.
 * Uses: core/base and include/s2r only.
 *
 * The sbatch-exact "#SBATCH" directive parser.
 *
 * This reads the directive part of a batch script the way sbatch(1) does
 * (src/sbatch/sbatch.c, src/sbatch/opt.c, src/common/slurm_opt.c,
 * src/common/proc_args.c, src/common/parse_time.c) and fills the directive
 * fields of an s2r_job. The script body is not analysed here.
 *
 * Files:
 *   script.c    whole-script checks, directive scan, tokenizer, driver
 *   options.c   the sbatch option table, getopt_long("+") over the
 *               directive argv
 *   setters.c   per-option setters (parse_state.h: the parse's state)
 *   checks.c    cross-option checks and the derived facts
 *   values.c    strict value parsers (time, memory, counts, arrays, node
 *               counts, --export, images)
 *   tres.c      GRES and GPU list values (--gres, --gpus, --gpus-per-*)
 *
 * Thread safety: no mutable global state; every function only touches its
 * arguments. Value parsers never allocate except where stated.
 */
#ifndef S2R_SLURM_H
#define S2R_SLURM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <s2r/s2r.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Driver                                                              */
/* ------------------------------------------------------------------ */

/**
 * Read the directives of a batch script exactly as sbatch does.
 *
 * Performs, in order:
 *  - the whole-script checks of sbatch.c (empty, whitespace only, first two
 *    bytes "#!", NUL byte, any "\r\n" pair), each fatal;
 *  - the directive scan of _opt_batch_script(): "#SBATCH" (legacy "#SLURM",
 *    with a warning) in column 0, case-sensitive; blank and comment lines do
 *    not stop the scan, the first other line does;
 *  - the tokenizer of get_argument() (quotes, backslash, unquoted '#' ends
 *    the line even mid-token, unmatched quote and leading ':' fatal);
 *  - getopt_long("+") over one argv made of all directive tokens, with the
 *    sbatch option table (see s2r_slurm__find_long()); leftover tokens are
 *    fatal ("Invalid directive found in batch script: TOKEN");
 *  - every option setter (strict value formats, last occurrence wins);
 *  - the cross-option checks of slurm_opt.c (_validate_memory_options etc.);
 *  - the derived facts of shared/corpus/README.md.
 *
 * Fills job->job_name, nodes, nodes_max, nodes_set, ntasks, ntasks_per_node,
 * tasks_per_node, cpus_per_task, cpus_per_gpu, gpus_per_node, gpu_type,
 * cpus_per_node, mem_per_node_mib, time_limit_s, array, chdir, partitions,
 * account, export_env, export_mode, container_image, directives and valid.
 * Does not touch job->file or the body fields.
 *
 * Diagnostics: every refusal is one S2R_SEV_ERROR naming the option (long
 * name without dashes) where one is involved. Warnings/notes about lines
 * sbatch ignores (directives after the first command, "# SBATCH" near
 * misses, hetjob components) carry option NULL.
 *
 * @param job              zero-initialised job (free with s2r_job_free())
 * @param file             script name used in diagnostics
 * @param buf,len          script bytes, need not be NUL-terminated
 * @param d                receives diagnostics
 * @param body_offset_out  byte offset of the first command line (the line
 *                         that stopped the scan), or @p len if none; may be
 *                         NULL. Set even when the script is refused after
 *                         the whole-script checks (0 when those fail).
 * @param body_line_out    1-based line of that command, or (number of
 *                         lines + 1) if none; may be NULL
 * @return 0 (job->valid = true), S2R_EINVAL (job->valid = false and at least
 *         one error in @p d) or S2R_ENOMEM.
 */
int s2r_slurm__parse_directives(s2r_job *job, const char *file,
                                const char *buf, size_t len, s2r_diags *d,
                                size_t *body_offset_out, int *body_line_out);

/**
 * Where the script holds option @p option (long name, "array") in a line
 * sbatch does not read as a directive: a comment that looks like one
 * ("##SBATCH --array=1-9", "# SBATCH -a 1-9", "#sbatch ..."), or an
 * "#SBATCH" line at or after the first command (@p body_off, as
 * s2r_slurm__parse_directives() gives it). The option may be a unique
 * prefix (--arr) or the short letter (-a).
 * @param after_body  set true for an #SBATCH line after the first
 *                    command, false for a comment; may be NULL
 * @return the 1-based line of the first such line, 0 if none.
 */
int s2r_slurm__disabled_directive(const char *buf, size_t len,
                                  size_t body_off, const char *option,
                                  bool *after_body);

/**
 * The option pass of sbatch's _opt_batch_script()/_set_options() over an
 * argv of directive tokens (no argv[0]): getopt_long with "+" and the
 * sbatch option table, each option's setter (strict values, last occurrence
 * wins, every occurrence validated), leftover tokens fatal, then the
 * cross-option checks and the derived facts. Fills the same job fields as
 * s2r_slurm__parse_directives() except job->valid.
 * @param job         zero-initialised job, as s2r_slurm__parse_directives()
 *                    takes it
 * @param argv,lines  tokens and the 1-based line each came from
 * @return 0, S2R_EINVAL (errors in @p d) or S2R_ENOMEM.
 */
int s2r_slurm__parse_argv(s2r_job *job, const char *file, char *const *argv,
                          const int *lines, size_t argc, s2r_diags *d);

/* ------------------------------------------------------------------ */
/* Option table                                                        */
/* ------------------------------------------------------------------ */

/** Argument kinds, as getopt_long's has_arg. */
enum {
    S2R_SLURM_ARG_NONE = 0,     /**< no_argument */
    S2R_SLURM_ARG_REQUIRED = 1, /**< required_argument: "=v" or next token */
    S2R_SLURM_ARG_OPTIONAL = 2  /**< optional_argument: only "--opt=v" /
                                     attached "-kv" */
};

/** What a setter does with an option (private to the parser). */
typedef enum s2r_slurm_kind {
    S2R_SLURM_K_STRING = 0,  /**< kept verbatim in job->directives only */
    S2R_SLURM_K_IGNORED,     /**< accepted, ignored in a script (note) */
    S2R_SLURM_K_POSINT,      /**< positive int (parse_int(.., true)) */
    S2R_SLURM_K_MINCPUS,     /**< --mincpus: a positive int (cores) */
    S2R_SLURM_K_SHIFTER_IMAGE, /**< Shifter --image=TYPE:IMAGE */
    S2R_SLURM_K_ACCOUNT,
    S2R_SLURM_K_ARRAY,
    S2R_SLURM_K_CHDIR,
    S2R_SLURM_K_CONTAINER_IMAGE,
    S2R_SLURM_K_CPUS_PER_GPU,
    S2R_SLURM_K_CPUS_PER_TASK,
    S2R_SLURM_K_EXCLUSIVE,
    S2R_SLURM_K_EXPORT,
    S2R_SLURM_K_EXTRA_NODE_INFO, /**< -B S[:C[:T]]: its sockets */
    S2R_SLURM_K_GPUS,
    S2R_SLURM_K_GPUS_PER_NODE,
    S2R_SLURM_K_GPUS_PER_SOCKET,
    S2R_SLURM_K_GPUS_PER_TASK,
    S2R_SLURM_K_GRES,
    S2R_SLURM_K_JOB_NAME,
    S2R_SLURM_K_MEM,
    S2R_SLURM_K_MEM_PER_CPU,
    S2R_SLURM_K_MEM_PER_GPU,
    S2R_SLURM_K_NICE,
    S2R_SLURM_K_NODES,
    S2R_SLURM_K_NTASKS,
    S2R_SLURM_K_NTASKS_PER_GPU,
    S2R_SLURM_K_NTASKS_PER_NODE,
    S2R_SLURM_K_OPEN_MODE,
    S2R_SLURM_K_OVERSUBSCRIBE,
    S2R_SLURM_K_PARTITION,
    S2R_SLURM_K_SOCKETS_PER_NODE,
    S2R_SLURM_K_TIME,
    S2R_SLURM_K_TIME_MIN,
    S2R_SLURM_K_TMP,
    S2R_SLURM_K_TRES_PER_TASK
} s2r_slurm_kind;

/** One sbatch option (sbatch(1) for Slurm 24.x-26.x, plus the SPANK
 *  options of pyxis and Shifter). */
typedef struct s2r_slurm_option {
    const char *name;     /**< long name without dashes */
    char short_name;      /**< short letter, 0 if none */
    uint8_t has_arg;      /**< S2R_SLURM_ARG_* */
    uint8_t kind;         /**< s2r_slurm_kind */
    const char *plugin;   /**< the site plugin that adds it to sbatch
                               ("pyxis", "shifter"), NULL for sbatch's */
    const char *alias_of; /**< the option it is another spelling of
                               (recorded under that name: the very
                               pointer of that entry's name), or NULL */
} s2r_slurm_option;

/** The whole table, sorted by name (strcmp). */
const s2r_slurm_option *s2r_slurm__options(size_t *n_out);

/** Lookup status of s2r_slurm__find_long(). */
enum { S2R_SLURM_FOUND = 0, S2R_SLURM_UNKNOWN = 1, S2R_SLURM_AMBIGUOUS = 2 };

/**
 * Look up a long option the way GNU getopt_long does: an exact name wins,
 * otherwise a unique prefix is accepted; two or more prefix matches are
 * ambiguous. @p name need not be NUL-terminated (@p len bytes).
 * @param status_out S2R_SLURM_FOUND / _UNKNOWN / _AMBIGUOUS
 * @return the option, or NULL unless found.
 */
const s2r_slurm_option *s2r_slurm__find_long(const char *name, size_t len,
                                             int *status_out);

/** Look up a short option letter (sbatch's optstring); NULL if none. */
const s2r_slurm_option *s2r_slurm__find_short(char c);

/* ------------------------------------------------------------------ */
/* Value parsers (pure; 0 on success, S2R_EINVAL when sbatch refuses)  */
/* ------------------------------------------------------------------ */

/**
 * -t/--time and --time-min, per sbatch(1) --time and time_str2secs():
 * "M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S" ("2-" = 2 days). Only
 * digits, one '-' and at most two ':' (none before the '-'); fields are not
 * range-checked ("0:240:0" = 14400). "-1", "INFINITE", "UNLIMITED" (any
 * case) and any spelling of zero give S2R_TIME_UNLIMITED.
 * @param secs_out seconds the string denotes (NOT rounded to minutes;
 *                 sbatch enforces limits in whole minutes, rounded up).
 */
int s2r_slurm__parse_time(const char *s, int64_t *secs_out);

/** Largest memory s2r takes, in MiB (2^40 MiB = 1 EiB, per node or per
 *  CPU or GPU, and per node after the arithmetic). sbatch reads larger
 *  values (or wraps them) and slurmctld refuses the job, as no node
 *  holds them; s2r refuses them at once. */
#define S2R_SLURM_MAX_MEM_MIB ((int64_t)1 << 40)

/**
 * --mem, --mem-per-cpu, --mem-per-gpu, --tmp, per str_to_mbytes():
 * a non-negative integer with optional K|M|G|T suffix (any case) and an
 * optional B/b after the suffix; default unit MiB; K rounds up to a whole
 * MiB; G = 1024 MiB. No decimals, no spaces, no "Gi", no "P".
 * @param mib_out MiB (0 stays 0: the caller maps --mem=0 to S2R_MEM_ALL).
 * @return 0, S2R_EINVAL, or S2R_ETOOBIG (above S2R_SLURM_MAX_MEM_MIB).
 */
int s2r_slurm__parse_mem(const char *s, int64_t *mib_out);

/**
 * Integer option values, per parse_int() in proc_args.c: decimal, nothing
 * after it; with @p positive the value must be > 0, otherwise >= 0.
 * Max INT32_MAX.
 */
int s2r_slurm__parse_int(const char *s, bool positive, int64_t *out);

/** Largest count s2r takes in a GRES or GPU value (and per node after
 *  the arithmetic): 2^31-1. sbatch reads larger counts (up to 2^64-1, or
 *  as a type name when the digits overflow) and slurmctld then refuses
 *  the job, as no node holds them; s2r refuses them at once. */
#define S2R_SLURM_MAX_COUNT INT32_MAX

/** Most GPU types one job may name across all its GPU options (no
 *  cluster has more; it bounds the per-type bookkeeping). */
#define S2R_SLURM_MAX_GPU_TYPES 64

/**
 * A GRES count, per _is_valid_number() and suffix_mult(): decimal digits
 * with an optional multiplier k|kib (1024), kb (1000), m|mib, mb, g|gib,
 * gb, t|tib, tb, p|pib, pb (any case). Must start with a digit.
 * @return 0, S2R_EINVAL (not a count) or S2R_ETOOBIG (a count above
 *         S2R_SLURM_MAX_COUNT).
 */
int s2r_slurm__parse_gres_count(const char *s, size_t len, int64_t *out);

/** One entry of a GRES or GPU list (pointers into the value). */
typedef struct s2r_slurm_tres {
    const char *name; /**< "gpu", "shard", ... (not NUL-terminated) */
    size_t name_len;
    const char *type; /**< "a100", or NULL when the entry names none */
    size_t type_len;
    int64_t count;    /**< >= 0; 0 means sbatch drops the entry */
} s2r_slurm_tres;

/**
 * The next entry of a comma list, per slurm_get_next_tres(): with
 * @p gres "name", "name:count", "name:type", "name:type:count" (a leading
 * "gres/" or "gres:" is dropped, as newer sbatch folds it), otherwise
 * "[type:]count" or "type" with the name "gpu" (-G/--gpus, --gpus-per-*).
 * The last ':' field is a count when it is one, else the type with count
 * 1 ("gpu:a100" = 1, "gpu:0.5" = type "0.5"); with another ':' before it
 * it must be a count ("gpu:a100:x" is invalid). Empty entries are skipped
 * (sbatch ignores them); an empty field ("gpu:", "gpu::1") is invalid.
 * @param cursor  in: where to read (a NUL-terminated value); out: after
 *                the entry
 * @return 1 (an entry in @p t), 0 (no more), S2R_EINVAL (malformed) or
 *         S2R_ETOOBIG (a count above S2R_SLURM_MAX_COUNT, or digits too
 *         many to be a count).
 */
int s2r_slurm__next_tres(const char **cursor, bool gres, s2r_slurm_tres *t);

/**
 * --gres=LIST, per sbatch(1) --gres: the list of s2r_slurm__next_tres()
 * with @p gres, or "none" (any case), which requests nothing.
 * @param gpus_out   GPUs per node the "gpu" entries request: per GPU
 *                   type (or none) the last count wins, as slurmctld
 *                   keeps one record per type; summed over the types
 * @param type_out   the first type named on a "gpu" entry, pointing into
 *                   @p s (not NUL-terminated), or NULL; may be NULL
 * @param type_len   its length; may be NULL
 * @return 0, S2R_EINVAL, or S2R_ETOOBIG (a count too large, or more than
 *         S2R_SLURM_MAX_GPU_TYPES types)
 */
int s2r_slurm__parse_gres(const char *s, int64_t *gpus_out,
                          const char **type_out, size_t *type_len);

/** What one --tres-per-task entry asks of each task. */
typedef enum s2r_slurm_task_tres_kind {
    S2R_SLURM_TPT_CPU = 0, /**< "cpu=N" or "cpu:N": -c N */
    S2R_SLURM_TPT_GPU,     /**< "gres/gpu[:type][:N]", "gres/gpu[:type]=N" */
    S2R_SLURM_TPT_OTHER    /**< another GRES or a license: the site's */
} s2r_slurm_task_tres_kind;

/** One entry of a --tres-per-task list (pointers into the value). */
typedef struct s2r_slurm_task_tres {
    s2r_slurm_task_tres_kind kind;
    const char *entry; /**< the whole entry, for messages */
    size_t entry_len;
    const char *type;  /**< GPU type ("a100"), or NULL */
    size_t type_len;
    int64_t count;     /**< CPUs or GPUs per task; 0: sbatch drops a
                            GRES entry of count 0 */
} s2r_slurm_task_tres;

/**
 * The next entry of a --tres-per-task list, per sbatch(1) --tres-per-task
 * ("trestype[/tresname]=count", comma-separated) and what sbatch and
 * slurmctld make of it (_validate_tres_per_task() in slurm_opt.c,
 * slurm_get_next_tres(), assoc_mgr_valid_tres_cnt()):
 *  - "cpu=N" / "cpu:N": N CPUs per task (N > 0), as -c N;
 *  - "gres/NAME", "gres/NAME:N", "gres/NAME=N", "gres/NAME:TYPE",
 *    "gres/NAME:TYPE:N", "gres/NAME:TYPE=N" ("gres:" is read as "gres/",
 *    as sbatch rewrites it); NAME "gpu" asks GPUs per task, as
 *    --gpus-per-task does; N takes the suffixes of
 *    s2r_slurm__parse_gres_count();
 *  - "license/NAME[=N]" ("license:" as "license/"): the site's.
 * Empty entries are skipped.
 * @param cursor  in: where to read (a NUL-terminated value); out: after
 *                the entry
 * @param t       the entry; on S2R_EINVAL its entry and entry_len name
 *                the one refused
 * @return 1 (an entry in @p t), 0 (no more), S2R_EINVAL: a malformed
 *         entry, or a TRES no task can ask for (sbatch refuses mem,
 *         energy, node, billing, fs, vmem, pages and bb; slurmctld any
 *         type but cpu, gres and license, "gpu:2" included: "Invalid
 *         Trackable RESource (TRES) specification"), or S2R_ETOOBIG (a
 *         count above S2R_SLURM_MAX_COUNT).
 */
int s2r_slurm__next_task_tres(const char **cursor, s2r_slurm_task_tres *t);

/**
 * -G/--gpus, --gpus-per-node, --gpus-per-task, per sbatch(1):
 * "[type:]N[,[type:]N...]" (a type alone counts 1, as in GRES).
 * @param count_out  GPUs requested: per type the last count wins, summed
 * @param type_out,type_len  first type named (into @p s), or NULL
 * @return as s2r_slurm__parse_gres()
 */
int s2r_slurm__parse_gpu_spec(const char *s, int64_t *count_out,
                              const char **type_out, size_t *type_len);

/** MaxArraySize default of slurm.conf: indexes must be < this. */
#define S2R_SLURM_MAX_ARRAY_SIZE 1001

/**
 * -a/--array, per sbatch(1) --array and slurm_parse_array_tok(): comma list
 * of "N", "N-M", "N-M:S", each optionally inside "[ ]", one optional "%K"
 * throttle at the end (K >= 0; %0 is no limit, as slurmctld stores no
 * throttle for it). 0 <= N <= M < 1001, S >= 1; duplicates and any order
 * are fine.
 * @param out  filled with a malloc'd, ascending, duplicate-free index list
 *             and max_parallel (0 without "%K"); on failure left empty.
 * @return 0, S2R_EINVAL or S2R_ENOMEM.
 */
int s2r_slurm__parse_array(const char *s, s2r_array *out);

/**
 * -N/--nodes, per verify_node_count() in proc_args.c: "N", "min-max", or a
 * size list ("1,4,8", "1-15:4") whose smallest/largest entries give min/max.
 * Numbers take an optional k (x1024) or m (x1048576) suffix, any case.
 * Max < min is refused. (Zero is accepted here; the caller refuses it.)
 */
int s2r_slurm__parse_nodes(const char *s, int64_t *min_out, int64_t *max_out);

/**
 * --export, per sbatch(1) --export: "ALL", "NONE", "NIL" (any case) or
 * "[ALL,]VAR[,VAR=value...]". Sets job->export_mode ("ALL", "NONE", "NIL";
 * a list without ALL behaves like NONE plus the listed variables, so it
 * gives "NONE") and replaces job->export_env with the VAR=value entries
 * (bare names only pass the submitter's value and are not stored).
 * @return 0 or S2R_ENOMEM (every string is accepted, as in sbatch).
 */
int s2r_slurm__parse_export(const char *s, s2r_job *job);

/**
 * -p/--partition: comma-separated list (empty entries skipped) as a
 * malloc'd NULL-terminated array of malloc'd strings in *@p out.
 * @return 0, S2R_EINVAL (no name at all) or S2R_ENOMEM.
 */
int s2r_slurm__parse_partitions(const char *s, char ***out);

/**
 * Pyxis --container-image=[USER@][REGISTRY#]IMAGE[:TAG] (optionally with a
 * "docker://" prefix) as an OCI reference: the enroot '#' between registry
 * and path becomes '/', the USER@ credential prefix is dropped
 * ("nvcr.io#nvidia/pytorch:24.01-py3" -> "nvcr.io/nvidia/pytorch:24.01-py3").
 * A local path (starting with '/' or '.') is returned unchanged.
 * @return malloc'd string, NULL on ENOMEM.
 */
char *s2r_slurm__image_to_oci(const char *s);

#ifdef __cplusplus
}
#endif
#endif /* S2R_SLURM_H */
