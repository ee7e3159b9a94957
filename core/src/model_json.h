/* model_json.h: s2r_job and s2r_workload as JSON (private).
 *
 * The job uses the corpus facts schema (../shared/corpus/README.md): the
 * keys job_name, nodes, tasks_per_node, gpus_per_node, gpu_type,
 * cpus_per_node, mem_per_node_mib ("all" for --mem=0), time_limit_s, array
 * {indices, max_parallel}, image, workdir, env, command_tokens,
 * distributed, plus "directives" [{name, value, line}] and the option
 * values the facts derive from, as sbatch(1) names them: nodes_max (upper
 * end of --nodes), ntasks, ntasks_per_node, cpus_per_task, cpus_per_gpu
 * (0 when not given), partitions (the --partition list, or null) and
 * account (--account, or null).
 * The workload uses s2r_workload's field names (kind "standard" | "pytorch"
 * | "mpi" | "workspace" | "inference", command and launcher_command as argv arrays, env as an object).
 * These are what provider plugins receive (s2r_provider_request.job/rules)
 * and what a {"workload": ...} answer must follow.
 */
#ifndef S2R_MODEL_JSON_H
#define S2R_MODEL_JSON_H

#include <json-c/json.h>

#include "s2r.h"

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

#endif
