/* bedrock.h: shared parts of the bedrock provider (private to the plugin).
 *
 * AWS APIs used (service "bedrock", endpoint bedrock-runtime.<region>):
 *   InvokeModel  POST /model/{modelId}/invoke    Anthropic Messages body,
 *                anthropic_version "bedrock-2023-05-31"
 *   Converse     POST /model/{modelId}/converse  every other model
 * {modelId} is a model id ("anthropic.claude-3-5-sonnet-20240620-v1:0"),
 * an inference-profile id ("us.anthropic...") or an ARN, percent-encoded
 * as one path segment. Requests are signed with SigV4 by the host table.
 */
#ifndef S2R_BEDROCK_H
#define S2R_BEDROCK_H

#include <s2r/plugin.h>

#include <stddef.h>
#include <stdint.h>

/** The bound INI options of one [provider.<id>] section. */
typedef struct bedrock_conf {
    const char *region;
    const char *model;
    const char *const *models;   /* "alias=model-id" */
    const char *endpoint;
    const char *api;             /* "auto" | "invoke" | "converse" */
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
    const char *ca_file;
    const char *proxy;
    const char *system_prompt;
    int64_t max_tokens;
    double temperature;
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    int64_t retries;
    int64_t retry_backoff_ms;
    int64_t max_response;
} bedrock_conf;

/** One alias of the whitelist. */
typedef struct bedrock_alias {
    char *alias;
    char *model;
} bedrock_alias;

typedef struct bedrock {
    const s2r_host *host;
    const s2r_instance_ctx *ctx;
    const bedrock_conf *conf;
    char *region;            /* option, else AWS_REGION/AWS_DEFAULT_REGION */
    char *endpoint;          /* without a trailing '/' */
    char *default_model;
    bedrock_alias *aliases;
    size_t n_aliases;
} bedrock;

/** Which API a call used (for messages). */
#define BEDROCK_API_INVOKE 1
#define BEDROCK_API_CONVERSE 2

/**
 * Turn a Bedrock error answer into @p err: the error type (header
 * x-amzn-ErrorType, else the body's __type or code) and message become a
 * clear sentence; AccessDeniedException names the IAM permission
 * bedrock:InvokeModel and the resource ARN. @p attempts is how many
 * requests were sent (for throttling messages).
 * @return the s2r status put in @p err (S2R_EUPSTREAM, S2R_ETIMEOUT,
 *         S2R_EUNSUPPORTED), with err->http_status = the HTTP status.
 */
int bedrock_error(const bedrock *b, const s2r_http_response *resp,
                  const char *model_id, int api, int attempts,
                  s2r_error *err);

/** The error type of @p resp ("ThrottlingException"), into @p buf. */
void bedrock_error_type(const bedrock *b, const s2r_http_response *resp,
                        char *buf, size_t cap);

/** 1 when @p resp is worth retrying: HTTP 429 (ThrottlingException,
 *  ModelNotReadyException) or 503, or a ThrottlingException type. */
int bedrock_retryable(const bedrock *b, const s2r_http_response *resp);

#endif
