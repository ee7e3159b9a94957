/* cache.h: model answers cached in SQLite (core/llm; included by llm.h).
 *
 * A core service of the pipeline, for every model provider alike: before
 * calling a provider the pipeline looks the prompt up; after the guard
 * applied an answer (s2r_guard_apply_ex() == S2R_GUARD_APPLIED) it stores
 * it. Unusable answers (fallbacks) are never stored, so a failing model
 * is asked again next time. The guard runs on cached answers too.
 *
 * Key: lower-case hex SHA-256 of "s2r-llm-cache/1" NUL model NUL prompt.
 * The prompt holds the script, the facts and the rules result, so a
 * changed script, s2r version with different rules, or model gives a new
 * key.
 *
 * Configuration, per model provider section (the plugin declares the keys
 * in its option table; the core reads them from the INI):
 *     [provider.llm]
 *     cache = /var/cache/s2r/llm.sqlite   ; no key: no cache
 *     cache_max_age = 720h                 ; 0: answers never expire
 *     model = qwen2.5-coder:7b             ; part of the key
 *
 * Who opens it: the pipeline's caller (the request handler of `s2r serve`
 * and `s2r lambda`, the command line), once, from the INI it has already
 * read (s2r_llm_cache_from_ini()); the pipeline borrows it through
 * s2r_provider_ref.cache. Problems are diagnostics of that call; nothing
 * here reads the INI again or prints.
 *
 * Threads: one connection in SQLite's serialized mode; get/put are safe
 * from any thread. Several processes may share the file (WAL, a busy
 * timeout of 5 s).
 */
#ifndef S2R_LLM_CACHE_H
#define S2R_LLM_CACHE_H

#include <stdint.h>

#include <json-c/json.h>

#include <s2r/s2r.h>

#include "config/config.h"

typedef struct s2r_llm_cache s2r_llm_cache;

/** Hex key length including the NUL. */
#define S2R_LLM_CACHE_KEY_LEN 65

/**
 * Open (creating if needed) the cache file @p path.
 * @param max_age_ms answers older than this are misses; 0 = no expiry
 * @return S2R_OK (*@p out set), S2R_ERROR (cannot open or create: message
 *         in @p err), S2R_ENOMEM.
 */
int s2r_llm_cache_open(s2r_llm_cache **out, const char *path,
                       int64_t max_age_ms, s2r_error *err);
/** Close; NULL is fine. */
void s2r_llm_cache_close(s2r_llm_cache *c);

/** The key of (@p prompt, @p model) into @p out (64 hex digits + NUL).
 *  @p model may be NULL (same as ""). */
void s2r_llm_cache_key(const char *prompt, const char *model,
                       char out[S2R_LLM_CACHE_KEY_LEN]);

/**
 * Look @p key up. *@p answer_out receives one reference on S2R_OK.
 * @return S2R_OK (hit), S2R_ENOTFOUND (miss or expired), S2R_ERROR (the
 *         database failed: treat as a miss), S2R_ENOMEM.
 */
int s2r_llm_cache_get(s2r_llm_cache *c, const char *key,
                      json_object **answer_out);

/** Store @p answer under @p key (replacing an older one). @p model is
 *  kept for inspection. @return S2R_OK, S2R_ERROR, S2R_ENOMEM. */
int s2r_llm_cache_put(s2r_llm_cache *c, const char *key, const char *model,
                      json_object *answer);

/** Number of stored answers (tests, `s2r check-config`), or -1. */
int64_t s2r_llm_cache_count(s2r_llm_cache *c);

/**
 * Open the cache configured in [provider.<@p provider_id>] of @p ini
 * (keys cache, cache_max_age, model; see above). *@p out is NULL when the
 * section sets no cache. *@p model_out (may be NULL) points at the
 * section's model value (or NULL), valid as long as @p ini. A cache that
 * cannot be opened is a warning in @p diags and no cache, never an error:
 * conversions still work.
 * @return S2R_OK or S2R_ENOMEM.
 */
int s2r_llm_cache_from_ini(s2r_llm_cache **out, const char **model_out,
                           const s2r_ini *ini, const char *provider_id,
                           s2r_diags *diags);

#endif
