/* runai.h: core/runai, layer 4: the Run:ai side of a conversion.
 * Owns: the workload model, mapping rules, model JSON, emitters, srun stand-in.
 * Uses: core/shell, core/config, core/base, include/s2r; json-c (the
 *       model JSON).
 *
 * The public entry points (s2r_rules_convert, s2r_emit,
 * s2r_format_from_name, s2r_workload_free) are in <s2r/s2r.h>; this header
 * adds what the core's upper layers and the tests use.
 *
 * ---- model JSON (model_json.c) ----
 * The job uses the corpus facts schema (../shared/corpus/README.md): the
 * keys job_name, nodes, tasks_per_node, gpus_per_node, gpu_type,
 * cpus_per_node, mem_per_node_mib ("all" for --mem=0), time_limit_s, array
 * {indices, max_parallel}, image, workdir, env, command_tokens,
 * distributed, plus "directives" [{name, value, line}] and the option
 * values the facts derive from, as sbatch(1) names them: nodes_max (upper
 * end of --nodes), ntasks, ntasks_per_node, cpus_per_task, cpus_per_gpu
 * (0 when not given), partitions (the --partition list, or null) and
 * account (--account, or null); and what the script uses: submit_dir,
 * paths [{path, line, written}], modules, conda_envs and venvs.
 * The workload uses s2r_workload's field names (kind "standard" | "pytorch"
 * | "mpi" | "workspace" | "inference", command and launcher_command as
 * argv arrays, env as an object, volumes [{kind "pvc" | "nfs" |
 * "hostpath" | "datasource", path, source, server, read_only}], large_shm,
 * run_as_user with run_as_uid and run_as_gid, supplemental_groups,
 * stdout_file, stderr_file, stdin_file, log_append, user, and
 * worker_command (MPI, when set) as an argv array).
 * These are what provider plugins receive (s2r_provider_request.job/rules)
 * and what a {"workload": ...} answer must follow.
 */
#ifndef S2R_RUNAI_H
#define S2R_RUNAI_H

#include <json-c/json.h>

#include <s2r/s2r.h>

/** "standard", "pytorch", "mpi", "workspace" or "inference". */
const char *s2r_workload_kind_name(s2r_workload_kind k);

/** New JSON object (one reference, caller puts) or NULL on ENOMEM. */
json_object *s2r_job_to_json(const s2r_job *job);
json_object *s2r_workload_to_json(const s2r_workload *wl);
/**
 * Read a workload from JSON into @p wl (zeroed first). Unknown keys are
 * ignored; a key of the wrong type is an error.
 * @return 0, S2R_EINVAL (with a message in @p why, 128 bytes), S2R_ENOMEM.
 */
int s2r_workload_from_json(s2r_workload *wl, json_object *o, char *why,
                           size_t why_len);
/** Deep copy. @return 0 or S2R_ENOMEM. */
int s2r_workload_copy(s2r_workload *dst, const s2r_workload *src);

/* ---- the workload model (workload.c) ---- */

/** DNS-1123 label (<= 63, [a-z0-9-], starts with a letter) from a job
 *  name, per Kubernetes object names: malloc'd, NULL on ENOMEM. */
char *s2r_dns_label(const char *name);
/** s2r_dns_label() of the first @p n bytes of @p name. */
char *s2r_dns_label_n(const char *name, size_t n);

/* ---- emitters (emit_cli.c, emit_yaml.c, emit_json.c; s2r_emit() picks
 * one) ---- */

/** A bash script calling `runai training|workspace|inference ... submit`
 *  (Run:ai CLI v2). Same contract as s2r_emit(). */
int s2r_emit_cli(char **out, const s2r_workload *wl, const s2r_config *cfg,
                 s2r_diags *diags);
/** Kubernetes YAML for `runai workload submit -f` (batch/v1 Job,
 *  PyTorchJob, MPIJob v2beta1 ...). Same contract as s2r_emit(). */
int s2r_emit_yaml(char **out, const s2r_workload *wl, const s2r_config *cfg,
                  s2r_diags *diags);
/** The body of POST /api/v1/workloads/... of the Run:ai REST API. Same
 *  contract as s2r_emit(). */
int s2r_emit_json(char **out, const s2r_workload *wl, const s2r_config *cfg,
                  s2r_diags *diags);

/** True when @p s (NUL-terminated) is well-formed UTF-8 (RFC 3629: no
 *  overlongs, surrogates or code points above U+10FFFF): what the YAML
 *  and JSON emitters can carry; they refuse a workload holding anything
 *  else (the CLI script carries any byte). */
bool s2r_emit_utf8_valid(const char *s);
/** True when @p job's nodes become one pod (rules.c): several nodes, but
 *  no launch Run:ai spreads over pods (no PyTorch or MPI distribution).
 *  When the script runs srun steps, that pod has the CPUs, memory and
 *  GPUs of all the nodes and the steps run all their tasks in it; else it
 *  has one node's, as the batch script ran on the first node alone. */
bool s2r_rules_one_pod_for_nodes(const s2r_job *job);

/* ---- the srun stand-in (srun_standin.c, srun_standin.sh) ---- */

/**
 * The srun stand-in of @p job's pod command: bash lines that write
 * srun(1)'s stand-in (srun_standin.sh, with the job's nodes, CPUs and GPUs
 * per node, tasks and --cpus-per-task in front) to a new folder under
 * $TMPDIR and put it first on PATH, so that every srun of the body starts
 * its tasks in the pod (per srun(1): -n, -N, --ntasks-per-node, -c, GPUs
 * per step and task, --exclusive, --label, -o/-e patterns,
 * --kill-on-bad-exit, --multi-prog). The lines go before the body, after
 * the SLURM environment.
 * @param out  receives the malloc'd text (caller frees), or NULL when the
 *             body runs no srun step (job->srun_standin is false)
 * @return S2R_OK or S2R_ENOMEM.
 */
int s2r_srun_standin(const s2r_job *job, char **out);

/* ---- MPIJob workers (mpi_workers.c) ---- */

/**
 * The argv of an MPIJob's worker pods into @p out (appended): `bash -c`
 * with job->worker_setup, then sshd in the foreground (-De), which the
 * mpi-operator v2 launcher reaches the ranks through (per mpi-operator
 * v0.6 newWorker: /usr/sbin/sshd -De); an image without sshd stops with a
 * message saying so. A set-up that reads SLURM_JOB_ID/SLURM_JOBID gets
 * them first, the workload's number (@p wl's name when it has no UUID).
 * @return S2R_OK or S2R_ENOMEM.
 */
int s2r_mpi_worker_command(const s2r_workload *wl, const s2r_job *job,
                           s2r_strv *out);

#endif
