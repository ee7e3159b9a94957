/* llm.h: core/llm, layer 7: a conversion through a provider.
 * Owns: the pipeline, the prompt, the guard, the answer cache (cache.h).
 * Uses: core/plugin, core/convert, core/runai, core/body (the launcher
 *       grammars), core/shell and below; SQLite.
 *
 * One conversion request through the chosen provider (used by the CLI,
 * the HTTP server and the Lambda runtime):
 *
 *   parse (sbatch semantics) -> rules workload -> [provider plugin ->
 *   guard] -> emit
 *
 * The rules result is always computed first: it is the answer when no
 * provider plugin is configured, the input a plugin receives, and the
 * fallback when a model fails.
 */
#ifndef S2R_LLM_H
#define S2R_LLM_H

#include <stdbool.h>
#include <stdint.h>

#include <s2r/plugin.h>
#include <s2r/s2r.h>

#include "cache.h"

/** A provider instance; ops == NULL means the built-in rules provider. */
typedef struct s2r_provider_ref {
    const char *id;               /**< section id for messages, e.g. "llm" */
    const s2r_provider_ops *ops;  /**< NULL: rules */
    void *instance;               /**< from the plugin's create() */
    s2r_llm_cache *cache;         /**< answer cache of this provider
                                       (borrowed; the caller opens it with
                                       s2r_llm_cache_from_ini()), or NULL */
    const char *cache_model;      /**< the section's model, part of the
                                       cache key (borrowed), or NULL */
} s2r_provider_ref;

typedef struct s2r_pipeline_request {
    const char *file;    /**< script name for messages ("-" = stdin) */
    const char *script;  /**< script bytes */
    size_t len;
    s2r_format format;
    const char *model;   /**< per-request model alias (X-S2R-Model) or NULL */
    bool prompt_only;    /**< answer the model prompt, call no model */
    const char *client_ip; /**< server mode, or NULL */
    uint32_t timeout_ms; /**< 0 = none */
} s2r_pipeline_request;

typedef struct s2r_pipeline_result {
    char *output;     /**< rendered workload, or the prompt; malloc'd */
    s2r_diags diags;  /**< errors, warnings and notes */
    s2r_error err;    /**< details when the provider failed */
    int http_status;  /**< 200, 400 (script refused), 401, 413, 429, 502... */
} s2r_pipeline_result;

/**
 * Run one request. @p prov may be NULL (rules).
 * @return 0 (res->output set); S2R_EINVAL (the script is refused: errors in
 * res->diags); S2R_EAUTH / S2R_ELIMITED / S2R_ETOOBIG from a remote
 * provider (no fallback: the user must act); S2R_ENOMEM. A model that
 * fails, times out or answers garbage is not an error: the rules result
 * is used and a warning says why.
 */
int s2r_pipeline_run(const s2r_config *cfg, const s2r_provider_ref *prov,
                     const s2r_pipeline_request *req, s2r_pipeline_result *res);
void s2r_pipeline_result_free(s2r_pipeline_result *res);

#endif
