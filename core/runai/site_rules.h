/* site_rules.h: the parts of the mapping rules (rules.c) that read the
 * site file (private to core/runai):
 *
 *   volumes.c    which [storage] entries every pod mounts, /dev/shm, HOME
 *   logs_rules.c which -o/-e/-i files the pods write and read
 *   identity.c   who the pods run as ([site] run_as, uid, gid, groups)
 *   site_maps.c  the project ([accounts]), the priority ([qos]) and the
 *                image of the loaded modules ([modules])
 *
 * Each takes the job, the workload filled so far and the configuration
 * (NULL: the built-in defaults), some the job's directives by slot, adds to the workload, and reports in
 * @p d what the workload cannot carry, with the INI line that would.
 * Each returns S2R_OK or S2R_ENOMEM.
 */
#ifndef S2R_RUNAI_SITE_RULES_H
#define S2R_RUNAI_SITE_RULES_H

#include <s2r/s2r.h>

#include <stdbool.h>

/** The directives the rules look at by name: their slots in an
 *  s2r_rules__asked. */
typedef enum s2r_rules__ask {
    S2R_ASK_NONE = 0, /* a directive looked at only in its turn */
    S2R_ASK_GRES,
    S2R_ASK_GPUS,
    S2R_ASK_GPUS_PER_NODE,
    S2R_ASK_GPUS_PER_SOCKET,
    S2R_ASK_GPUS_PER_TASK,
    S2R_ASK_SOCKETS_PER_NODE,
    S2R_ASK_EXTRA_NODE_INFO,
    S2R_ASK_TRES_PER_TASK,
    S2R_ASK_NODES,
    S2R_ASK_MEM,
    S2R_ASK_MEM_PER_CPU,
    S2R_ASK_MEM_PER_GPU,
    S2R_ASK_PARTITION,
    S2R_ASK_CONSTRAINT,
    S2R_ASK_ACCOUNT,
    S2R_ASK_QOS,
    S2R_ASK_OUTPUT,
    S2R_ASK_ERROR,
    S2R_ASK_INPUT,
    S2R_ASK_OPEN_MODE,
    S2R_ASK_CHDIR,
    S2R_ASK_COUNT
} s2r_rules__ask;

/** The job's directive of each s2r_rules__ask slot (NULL: none; the
 *  NONE slot stays NULL), found in the one pass over the job's
 *  directives that also finds each one's rule (rules.c). A name is
 *  there once, so the directive is the effective one. Views into the
 *  job. */
typedef struct s2r_rules__asked {
    const s2r_directive *dv[S2R_ASK_COUNT];
} s2r_rules__asked;

/** The value of slot @p k of @p a, or NULL (no such directive, or one
 *  without a value). */
static inline const char *s2r_rules__asked_value(const s2r_rules__asked *a,
                                                 s2r_rules__ask k)
{
    return a->dv[k] ? a->dv[k]->value : NULL;
}

/** The line of slot @p k of @p a, or 0 when the job has no such
 *  directive. */
static inline int s2r_rules__asked_line(const s2r_rules__asked *a,
                                        s2r_rules__ask k)
{
    return a->dv[k] ? a->dv[k]->line : 0;
}

/** True when the rules' table of options is in strcmp() order of names
 *  of 3 characters or more, as its lookup needs (for the tests). */
bool s2r_rules__table_in_order(void);

/** The working directory (--chdir or the submit directory), the -o/-e
 *  folders, the script's absolute paths and its home: the [storage]
 *  entries that cover them into wl->volumes, once each; warnings for
 *  used paths under no entry (with the [storage] line to add), for writes
 *  to a read-only entry and for a working directory on no storage (the
 *  relative files that will not be found); wl->large_shm for GPU pods
 *  and pods of several tasks; HOME when the script reads ~ or $HOME. */
int s2r_rules__storage(s2r_workload *wl, const s2r_job *job,
                       const s2r_rules__asked *a, const s2r_config *cfg,
                       s2r_diags *d);

/** -o, -e, -i and --open-mode into wl->stdout_file, stderr_file,
 *  stdin_file and log_append; without -o and -e, slurm-%j.out (an array:
 *  slurm-%A_%a.out) unless [site] slurm_log = false, as sbatch(1) --output
 *  says. Needs wl->workdir and the command already set. */
int s2r_rules__logs(s2r_workload *wl, const s2r_job *job,
                    const s2r_rules__asked *a, const s2r_config *cfg,
                    s2r_diags *d);

/** [site] run_as: the script owner's UID, GID and groups into
 *  wl->run_as_user, run_as_uid, run_as_gid and supplemental_groups, or
 *  the image's user; wl->user for %u. */
int s2r_rules__identity(s2r_workload *wl, const s2r_job *job,
                        const s2r_config *cfg, s2r_diags *d);

/** --account through [accounts] into wl->project, --qos through [qos]
 *  into wl->priority; named warnings with the INI line to add when
 *  unmapped. */
int s2r_rules__accounts(s2r_workload *wl, const s2r_job *job,
                        const s2r_rules__asked *a, const s2r_config *cfg,
                        s2r_diags *d);

/** The image the loaded modules resolve to through [modules]
 *  (NAME/VERSION, else NAME), for a script that names no container:
 *  malloc'd, or NULL (none, or a conflict, which is warned about); a
 *  malloc failure sets *@p oom. */
char *s2r_rules__module_image(const s2r_job *job, const s2r_config *cfg,
                              s2r_diags *d, bool *oom);

/** True when the job runs as the site's (or local) user: no numeric
 *  --uid, or the [site] uid itself (per sbatch(1) --uid, root submits
 *  for that user). Then [site] user names it (%u, the home folder). */
bool s2r_rules__site_user_runs(const s2r_job *job, const s2r_config *cfg);

/** Value of the effective directive @p name, or NULL. */
const char *s2r_rules__directive_value(const s2r_job *job, const char *name);
/** True when the pod's bash body names @p name (USER, TMPDIR): a
 *  variable a SLURM job has and a pod lacks is given to the scripts that
 *  read it. */
bool s2r_rules__body_names(const s2r_job *job, const char *name);

/** Warn of each of @p job's variables (job->env: exports lifted from the
 *  body and --export NAME=VALUE) whose name says it holds a secret (TOKEN,
 *  SECRET, PASSWORD, API_KEY, ...) and whose value is neither empty, a
 *  path nor a $reference: the workload would carry it in clear (per the
 *  Run:ai CLI, --env-secret keeps it in a Kubernetes secret). The value
 *  is never printed. Diagnostics go to @p d (may be NULL). */
void s2r_rules__warn_secrets(const s2r_job *job, s2r_diags *d);

#endif
