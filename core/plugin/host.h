/* host.h: the host table handed to plugins and the per-instance context
 * (private). */
#ifndef S2R_HOST_H
#define S2R_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <s2r/plugin.h>

/** Where log lines go: @p line is complete (prefix, redacted), no newline. */
typedef void (*s2r_log_fn)(void *payload, int32_t level, const char *line);

/** The per-instance context (opaque to plugins). */
struct s2r_instance_ctx {
    const char *kind;     /**< "provider" | "ratelimit" | "auth" */
    char *id;             /**< section id ("bedrock-us") */
    char *prefix;         /**< "provider.bedrock-us" */
    const char *plugin;   /**< plugin name (descriptor-owned) */
    const char *const *secrets; /**< values to redact (binding-owned) */
    size_t n_secrets;
    s2r_log_fn log_fn;    /**< NULL: stderr */
    void *log_payload;
    int32_t log_level;    /**< S2R_LOG_*: lines above it are dropped */
};

/** The host table (static, const, valid for the process lifetime). */
const s2r_host *s2r_host_table(void);

/** One-time process init (libcurl global init; OpenSSL auto-inits).
 *  Idempotent and thread-safe; called by the registry. */
int s2r_host_global_init(void);

/** Write one line through @p ctx's sink (redacting its secrets). */
void s2r_host_logf(const s2r_instance_ctx *ctx, int32_t level,
                   const char *fmt, ...) S2R_PRINTF(3, 4);

/** Log level from a name (error, warn, info, debug); -1 when unknown. */
int32_t s2r_log_level_from_name(const char *name);

/** The host table slot hmac_sha256 (host_hmac.c): HMAC-SHA256 of @p len
 *  bytes at @p data with @p key_len bytes of @p key into @p out (32
 *  bytes; all zero if OpenSSL fails). Either pointer may be NULL for no
 *  bytes. Thread-safe; each thread keeps a context for its last key. */
void s2r_host__hmac_sha256(const void *key, size_t key_len, const void *data,
                           size_t len, uint8_t out[32]);

/**
 * The host table slot aws_sigv4_sign (host_sigv4.c): @p req signed with
 * AWS SigV4 (core/aws) for params->region and params->service; the keys
 * are the params' or, when params->access_key_id is empty, the AWS
 * default chain's. Same contract as s2r_host.aws_sigv4_sign in plugin.h:
 * X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token (temporary keys)
 * and Authorization into @p headers_out (@p max_headers slots, the count
 * in *@p n_out). @return S2R_OK, S2R_EINVAL, S2R_ENOTFOUND (no
 * credentials), S2R_ETOOBIG (too few slots), S2R_ENOMEM.
 */
int s2r_sigv4_sign(const s2r_instance_ctx *ctx, const s2r_sigv4_params *params,
                   const s2r_http_request *req, s2r_header_out *headers_out,
                   uint32_t max_headers, uint32_t *n_out, s2r_error *err);

#endif
