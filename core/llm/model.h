/* model.h: the model side of the pipeline (private to core/llm): the
 * prompt every model provider sends (prompt.c), and the guard that checks
 * a provider's answer against what sbatch made of the script (guard*.c).
 *
 * Contract for model providers (local-llm, bedrock, ...):
 *   input   s2r_provider_request: the script, the parsed job (req->job),
 *           the rules workload (req->rules) and the prompt built here
 *           (req->prompt; the same text `s2r --prompt` prints and
 *           `?dry_run=1` answers).
 *   output  one JSON object, a proposal for the parts rules cannot settle:
 *             {"image": "registry/repo:tag",
 *              "command": ["argv", ...]  |  "script": "bash body",
 *              "env": {"NAME": "value"},
 *              "notes": ["one sentence for the user"]}
 *           (shape 2 of s2r_provider_ops in plugin.h). A provider strips
 *           code fences and prose around the object and refuses an answer
 *           that is not one JSON object (S2R_EINVAL: the pipeline then
 *           falls back to the rules result with a warning).
 *
 * The guard (s2r_guard_apply) never lets an answer change resources,
 * nodes, array or time; it refuses malformed, empty and unsafe answers as
 * a whole (unsafe: a dangerous pattern, a program the script does not run
 * or a computed command name, a loader variable such as PATH set to a
 * value the script does not give it), and parts that contradict the
 * script one by one (a launcher process count, an env value), each time
 * with a warning that names both values.
 */
#ifndef S2R_LLM_MODEL_H
#define S2R_LLM_MODEL_H

#include <stddef.h>

#include <json-c/json.h>

#include <s2r/s2r.h>

/**
 * The prompt for a model provider: the script, the parsed sbatch facts
 * and the rules workload, and the JSON schema of the expected answer.
 * Compact on purpose (see docs/llm.md for sizes): facts and rules result
 * as one-line JSON, long array index lists and long rules bodies
 * summarised, the script verbatim (scripts above S2R_PROMPT_SCRIPT_MAX
 * bytes are cut, with a marker).
 * @param job       the parsed job (may be NULL: facts come from job_json)
 * @param job_json  s2r_job_to_json(job) (borrowed)
 * @param rules_json s2r_workload_to_json(rules workload) (borrowed)
 * @return malloc'd text, NULL on ENOMEM.
 */
char *s2r_prompt_build(const s2r_job *job, json_object *job_json,
                       json_object *rules_json, const char *script,
                       size_t len);

/** Script bytes the prompt carries at most. */
#define S2R_PROMPT_SCRIPT_MAX (48u * 1024u)

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

/** What s2r_guard_apply_ex() did with an answer. */
typedef enum s2r_guard_outcome {
    S2R_GUARD_FALLBACK = 0, /**< unusable (malformed, empty, unsafe): the
                                 rules result stands, a warning says why */
    S2R_GUARD_APPLIED = 1,  /**< a proposal or workload was merged (parts
                                 that contradict the script were refused,
                                 each with a warning) */
    S2R_GUARD_OUTPUT = 2    /**< a finished remote answer, in *output_out */
} s2r_guard_outcome;

/**
 * s2r_guard_apply() that also says what happened (for the answer cache:
 * only answers that were applied are worth keeping). @p outcome may be
 * NULL. @return 0 or S2R_ENOMEM.
 */
int s2r_guard_apply_ex(s2r_workload *wl, const s2r_job *job,
                       json_object *answer, const char *provider_id,
                       char **output_out, s2r_guard_outcome *outcome,
                       s2r_diags *d);

/**
 * Is @p text (a command line or bash body proposed by a model) unsafe?
 * Patterns (one line of defence: s2r_guard_apply also lexes a proposal and
 * refuses programs the script does not run, see docs/llm.md): deleting / or $HOME (rm -rf /), a download piped into an
 * interpreter (curl | sh), command or process substitution that fetches
 * code ($(curl ...), <(wget ...)), decoding into a shell, reverse shells
 * (/dev/tcp, nc -e), disk wiping (mkfs, dd of=/dev/sd*), fork bombs,
 * recursive chmod/chown of /, sudo/su, authorized_keys or /etc/passwd
 * writes, control characters. A pattern that also matches @p allowed (the
 * script's own commands, may be NULL) is the user's and not refused.
 * @return NULL when safe, else a static description ("pipes a download
 *         into an interpreter").
 */
const char *s2r_guard_unsafe(const char *text, const char *allowed);

/** 1 when @p ref looks like an OCI image reference
 *  ([host[:port]/]path[:tag][@algo:hex], at most 255 bytes), else 0. */
int s2r_guard_image_ok(const char *ref);

#endif
