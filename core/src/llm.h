/* llm.h: the model side of the pipeline (private): the prompt every model
 * provider sends, and the guard that checks a provider's answer against
 * what sbatch made of the script. */
#ifndef S2R_LLM_H
#define S2R_LLM_H

#include <json-c/json.h>

#include "s2r.h"

/**
 * The prompt for a model provider: the script, the parsed sbatch facts
 * and the rules workload, and the JSON schema of the expected answer.
 * @return malloc'd text, NULL on ENOMEM.
 */
char *s2r_prompt_build(const s2r_job *job, json_object *job_json,
                       json_object *rules_json, const char *script,
                       size_t len);

/**
 * Apply a provider's answer (see s2r_provider_ops in plugin.h for its three
 * shapes) to the rules workload @p wl. Resources, nodes, array and time
 * always stay those of @p job; a disagreement is a warning naming both
 * values. An answer that cannot be used leaves @p wl as it is, with a
 * warning. A finished remote answer ({"output": ...}) is returned in
 * *@p output_out (malloc'd) instead.
 * @return 0 or S2R_ENOMEM.
 */
int s2r_guard_apply(s2r_workload *wl, const s2r_job *job, json_object *answer,
                    const char *provider_id, char **output_out,
                    s2r_diags *d);

#endif
