/* handler.h: core/server, layer 8: s2r as a service.
 * Owns: the request handler, the HTTP server (server.h), Lambda (lambda.h).
 * Uses: core/llm, core/plugin, core/config, core/base; libmicrohttpd.
 *
 * The s2r HTTP request handler, shared by the standalone server
 * (`s2r serve`, server.c) and the AWS Lambda runtime (`s2r lambda`).
 *
 * Transport-neutral: the transport hands over method, path, a query
 * parameter lookup, a header lookup, the body and the client address, and
 * gets back a status, a JSON body and a few extra headers. It does no I/O
 * besides one log line per request.
 *
 * Routes
 *   GET  /healthz  200 {"status": "ok"}
 *   POST /         the conversion (wire protocol of the original s2r):
 *       body        the raw batch script
 *       X-S2R-Timestamp, X-S2R-Signature   checked by the auth instance
 *       X-S2R-Model     optional model alias for model providers
 *       X-S2R-Filename  optional script file name (the default job name
 *                       comes from it; base name, printable, <= 255)
 *       ?format=cli|yaml|json   default: [core] format, else cli
 *       ?dry_run=1      answer the model prompt, call no model
 *   anything else   404, or 405 with Allow for a known path
 *
 * Order of the checks on POST /:
 *   body cut by the transport (more than max_body) -> 413
 *   auth -> 401 (503 when the auth store fails)
 *   size: body longer than max_body -> 413
 *   rate limit per principal, else per client IP -> 429 + Retry-After
 *       (503 when the store fails: fail closed); either refusal tells
 *       the auth plugin to forget the request's signature (forget(),
 *       ABI 1.1), so that the retry the answer asks for is not refused
 *       as a replay
 *   pipeline (parse -> rules -> provider -> guard -> emit)
 *       -> 200 {"runai_config": TEXT, "warnings": [...], "format": "cli"}
 *          200 {"prompt": TEXT, "warnings": [...], "format": ...} (dry run)
 *          400 {"error": FIRST, "errors": [...], "warnings": [...]}
 *          413 / 429 / 502 / 504 from the provider, 500 otherwise
 * Every error answer is {"error": "..."}. Warnings are the
 * "file:line: warning: message" lines the CLI would print.
 *
 * Logging: one JSON line per request (time, id, client_ip, method, path,
 * status, duration_ms, bytes_in, bytes_out, and error for refusals). Never
 * the secret, the signature, the script or its diagnostics.
 *
 * Threads: s2r_handler_handle() may run concurrently on any number of
 * threads; the handler is read-only after s2r_handler_new().
 */
#ifndef S2R_HANDLER_H
#define S2R_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include <s2r/s2r.h>
#include "config/config.h"
#include "plugin/registry.h"

/** Defaults. */
#define S2R_HANDLER_MAX_BODY_DEFAULT (50 * 1024)  /**< bytes */
#define S2R_HANDLER_TIMEOUT_DEFAULT_MS 60000      /**< per request */

/**
 * Settings common to every transport, read from its INI section ([server]
 * or [lambda]) by s2r_handler_settings_read(). Strings are owned by the
 * binding the reader returns.
 */
typedef struct s2r_handler_settings {
    const char *auth;      /**< [auth.<id>] that verifies; "none" for no
                                authentication; NULL: the only [auth.*]
                                section (an error when there is none) */
    const char *ratelimit; /**< [ratelimit.<id>]; "none"; NULL: the only
                                [ratelimit.*] section, else none */
    const char *provider;  /**< provider id; NULL: [core] provider */
    int64_t max_body;      /**< bytes; default 50 KiB */
    int64_t request_timeout_ms; /**< handed to the provider; default 60 s */
    int32_t log_requests;  /**< 1 (default): one JSON line per request */
    int32_t pad;
} s2r_handler_settings;

/** Settings with the defaults above (auth, ratelimit, provider NULL). */
void s2r_handler_settings_defaults(s2r_handler_settings *s);

/**
 * Validate section [@p section] of @p ini (may be absent) against the
 * handler's keys (auth, ratelimit, provider, max_body, request_timeout,
 * log_requests) and fill @p out. Keys named in @p transport_keys
 * (NULL-terminated, may be NULL) belong to the transport and are skipped.
 * *@p binding_out owns the strings: free it with s2r_binding_free() after
 * the handler. Problems go to @p diags with file and line.
 * @return S2R_OK; S2R_EINVAL (reported); S2R_ENOMEM.
 */
int s2r_handler_settings_read(s2r_handler_settings *out,
                              s2r_binding **binding_out, const s2r_ini *ini,
                              const char *section,
                              const char *const *transport_keys,
                              s2r_diags *diags);

/** The option table of those keys (for help and check-config). */
const s2r_option *s2r_handler_option_table(void);

/** Where request log lines go: @p line is one JSON object, no newline. */
typedef void (*s2r_handler_log_fn)(void *payload, const char *line,
                                   size_t len);

typedef struct s2r_handler_options {
    const char *section;     /**< "server" or "lambda" (messages); static */
    const s2r_config *cfg;   /**< borrowed; outlives the handler */
    s2r_registry *reg;       /**< borrowed; outlives the handler */
    s2r_handler_settings settings; /**< copied; strings borrowed */
    s2r_handler_log_fn log_fn;     /**< NULL: stderr */
    void *log_payload;
} s2r_handler_options;

typedef struct s2r_handler s2r_handler;

/**
 * Check the settings against the registry (the auth instance exists and
 * can verify, the rate limiter and provider exist) and build the handler.
 * @return S2R_OK (*@p out set); S2R_EINVAL (reported in @p diags);
 *         S2R_ENOMEM.
 */
int s2r_handler_new(s2r_handler **out, const s2r_handler_options *opts,
                    s2r_diags *diags);
void s2r_handler_free(s2r_handler *h);

/** What a transport builds from its INI (see s2r_handler_stack_open). */
typedef struct s2r_handler_stack {
    s2r_registry *reg;     /**< the plugin instances */
    s2r_binding *binding;  /**< owns the settings' strings */
    s2r_handler *handler;
} s2r_handler_stack;

/**
 * From an INI already read: apply the site configuration to @p cfg
 * (defaults already in it), read the handler settings of [@p section]
 * (skipping @p transport_keys), open the plugin registry (plugins from
 * @p plugin_dir first, may be NULL) and build the handler. @p cfg must
 * outlive the stack. On failure the stack is closed and @p diags says why.
 * @return S2R_OK; S2R_EINVAL (reported); S2R_ENOMEM.
 */
int s2r_handler_stack_open(s2r_handler_stack *out, s2r_config *cfg,
                           const s2r_ini *ini, const char *section,
                           const char *const *transport_keys,
                           const char *plugin_dir, s2r_diags *diags);
/** Free the handler, the registry and the settings, in that order. */
void s2r_handler_stack_close(s2r_handler_stack *st);

/** The ids in use, for the transport's start-up line ("none" when
 *  unset). Valid as long as the handler. */
const char *s2r_handler_auth_id(const s2r_handler *h);
const char *s2r_handler_ratelimit_id(const s2r_handler *h);
const char *s2r_handler_provider_id(const s2r_handler *h);
/** Largest body accepted (bytes): the transport stops reading past it. */
size_t s2r_handler_max_body(const s2r_handler *h);

/** One request as the transport saw it. Everything is borrowed. */
typedef struct s2r_handler_request {
    const char *method;   /**< "POST", "GET", ... */
    const char *path;     /**< "/" ; no query string */
    const char *query;    /**< raw query without '?', or NULL */
    s2r_header_lookup_fn param;  /**< decoded query parameter by name; may
                                      be NULL (no parameters) */
    void *param_payload;
    s2r_header_lookup_fn header; /**< header by name, case-insensitive */
    void *header_payload;
    const uint8_t *body;  /**< may be NULL when body_len is 0 */
    size_t body_len;
    int32_t body_truncated; /**< 1: the transport stopped reading: the
                                 body was longer than max_body */
    int32_t reserved;
    const char *client_ip;  /**< peer address, or NULL */
    const char *request_id; /**< the transport's id, or NULL: one is made */
} s2r_handler_request;

#define S2R_HANDLER_MAX_HEADERS 8
#define S2R_HANDLER_ID_MAX 64

typedef struct s2r_handler_header {
    char name[32];
    char value[96];
} s2r_handler_header;

/** The answer. Release with s2r_handler_response_free(). */
typedef struct s2r_handler_response {
    int32_t status;            /**< HTTP status */
    uint32_t n_headers;
    char *body;                /**< malloc'd JSON text, NUL-terminated */
    size_t body_len;           /**< bytes, without the NUL */
    const char *content_type;  /**< static: "application/json" */
    s2r_handler_header headers[S2R_HANDLER_MAX_HEADERS]; /**< extra:
                                  X-Request-Id, Retry-After, Allow,
                                  X-RateLimit-Limit, X-RateLimit-Remaining */
    char request_id[S2R_HANDLER_ID_MAX];
} s2r_handler_response;

/**
 * Handle one request; fills @p resp in every case (an internal failure is
 * a 500 answer). Thread-safe.
 * @return S2R_OK; S2R_ENOMEM when not even the error answer could be
 *         built (resp->body is then NULL: send a bare 500).
 */
int s2r_handler_handle(s2r_handler *h, const s2r_handler_request *req,
                       s2r_handler_response *resp);
void s2r_handler_response_free(s2r_handler_response *resp);

/**
 * A new request id ("3f9c0a7e1b2d4c55-42", the kind s2r_handler_handle()
 * makes) into @p buf of @p cap bytes (S2R_HANDLER_ID_MAX is enough), for
 * an answer the transport makes itself. Thread-safe.
 */
void s2r_handler_request_id(s2r_handler *h, char *buf, size_t cap);

/** An answer the transport sent without s2r_handler_handle() (a request
 *  refused before the handler could see it): what its log line says.
 *  Strings are borrowed for the call; NULL ones are logged as "". */
typedef struct s2r_handler_answered {
    const char *method;    /**< as received, or NULL when not known */
    const char *path;      /**< as received, or NULL when not known */
    const char *client_ip; /**< peer address, or NULL */
    const char *format;    /**< logged only with status 200; NULL */
    const char *error;     /**< the refusal, for the log; never the
                                client's text beyond method and path */
    int32_t status;        /**< HTTP status sent */
    int32_t reserved;
    int64_t duration_us;   /**< time spent on the answer */
    size_t bytes_in;       /**< body bytes received */
    size_t bytes_out;      /**< answer body bytes */
} s2r_handler_answered;

/**
 * Write the request log line of @p a, answered with X-Request-Id
 * @p request_id: the same JSON line s2r_handler_handle() writes for its
 * answers (nothing when log_requests is off). Thread-safe.
 */
void s2r_handler_log_answered(s2r_handler *h, const char *request_id,
                              const s2r_handler_answered *a);

/**
 * An s2r_log_fn for the registry (plugin log lines) that writes one JSON
 * line {"time", "level", "event": "plugin", "message"} to stderr.
 * @p payload is unused.
 */
void s2r_handler_plugin_log(void *payload, int32_t level, const char *line);

/** One field of a log event: "name": a JSON string, or a JSON number
 *  (a count, a size, a status). */
typedef struct s2r_handler_log_field {
    const char *name; /**< NULL: the field is left out */
    const char *text; /**< the value as a string; NULL: @p number */
    int64_t number;   /**< the value, written in decimal, when @p text is
                           NULL */
} s2r_handler_log_field;

/** A string field of a log event. */
#define S2R_LOG_TEXT(name, value) {(name), (value), 0}
/** A number field of a log event. */
#define S2R_LOG_NUMBER(name, value) {(name), NULL, (int64_t)(value)}

/**
 * Write one JSON log line {"time", "level", "event", "message"} and the
 * @p n @p fields after them, strings as strings and numbers as numbers,
 * to stderr, as the request lines are written. @p message may be NULL
 * (no "message"). Names are plain ASCII names (JSON does not escape
 * them).
 */
void s2r_handler_log_fields(const char *level, const char *event,
                            const char *message,
                            const s2r_handler_log_field *fields, size_t n);

/**
 * s2r_handler_log_fields() with string fields only: @p n pairs of name,
 * value (a pair whose value is NULL is left out).
 */
void s2r_handler_log_event(const char *level, const char *event,
                           const char *message, const char *const *fields,
                           size_t n);

/**
 * Buffered log lines (s2r serve, where a write(2) per request costs as
 * much as a tenth of the request): with @p on, every log line of the
 * process (the handler's and s2r_handler_log_event()'s, in order) is
 * kept in memory and reaches stderr, whole lines in one write(2), at the
 * next s2r_handler_log_flush() or once 64 KiB are pending. Turning it
 * off flushes. Thread-safe. A process that dies loses the pending lines:
 * call s2r_handler_log_flush() a few times a second.
 */
void s2r_handler_log_buffer(int on);

/** Write the pending log lines now (see s2r_handler_log_buffer). */
void s2r_handler_log_flush(void);

#endif
