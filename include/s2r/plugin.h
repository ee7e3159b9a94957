/**
 * @file plugin.h
 * @brief s2r plugin SDK: the only header a third-party plugin needs.
 *        Installed as <s2r/plugin.h>; `pkg-config --cflags s2r-plugin` or
 *        `find_package(S2RPlugin)` give its include path.
 *
 * A plugin is a shared object named `s2r-<name>.so` exporting exactly one
 * symbol, `s2r_plugin_entry_v1` (S2R_PLUGIN_ENTRY_NAME), which returns a
 * pointer to a static s2r_plugin descriptor. Write it with
 * S2R_PLUGIN_DECLARE(my_descriptor). Everything else in the plugin should be
 * `static` or hidden. The plugin links neither the s2r core nor libcurl nor
 * OpenSSL: it reaches the core's services through the s2r_host table handed
 * to load() and create(). It links json-c dynamically (never statically), so
 * core and plugin share one json-c.
 *
 * Kinds (s2r_plugin.kind):
 *   - S2R_KIND_PROVIDER   turns a batch script into a workload (s2r_provider_ops)
 *   - S2R_KIND_RATELIMIT  admits or refuses a client request (s2r_ratelimit_ops)
 *   - S2R_KIND_AUTH       verifies (server) or signs (client) a request
 *                         (s2r_auth_ops)
 *
 * ABI rules
 *   - Every struct crossing the boundary starts with `uint32_t struct_size`
 *     (the descriptor with `abi` then `struct_size`). The side that fills it
 *     sets sizeof() as compiled; the reader reads only the members that fit.
 *   - A minor version only appends members at the end of structs and of the
 *     host table; a major version may change anything and the loader refuses
 *     a plugin whose major differs from the core's.
 *   - ABI 1.1 appended s2r_auth_request.now_ms (the server clock in
 *     milliseconds) and s2r_auth_ops.forget (a refused request's
 *     signature may be used again). The core reads an appended member of
 *     a plugin's struct only when its struct_size holds it, and a plugin
 *     reads one of the core's likewise.
 *   - Fixed-width integers only in structs; no enum-typed, bool, long,
 *     time_t or off_t fields. Constants are plain #defines. Lengths of
 *     in-memory buffers are size_t.
 *   - json-c's json_object is the one third-party type in the ABI.
 *     Arguments are borrowed; an object returned through an `_out`
 *     parameter transfers exactly one reference to the caller.
 *
 * Lifecycle (all on the core's main thread, never concurrently)
 *   1. entry(S2R_PLUGIN_ABI)  once per .so, returns the descriptor (or NULL
 *                             to decline loading into this host)
 *   2. load(host, err)        once per .so, optional
 *   3. create(&inst, host, ctx, config, err)  once per INI section
 *      `[<kind>.<id>]` that names the plugin (`plugin = <name>`)
 *   4. ops ...                any thread, see the thread-safety contract
 *   5. destroy(inst)          once per successful create
 *   6. unload()               once per .so, optional
 *   The core does not dlclose() plugins in production builds.
 *
 * Thread-safety contract
 *   - load, unload, create and destroy run on the main thread, never
 *     concurrently with each other nor with ops on the same instance.
 *   - With S2R_PLUGIN_F_THREADSAFE in s2r_plugin.flags, ops on one instance
 *     may be called concurrently from any thread. Without it, the core
 *     serializes calls per instance (ops on different instances may still
 *     run concurrently, so file-scope mutable state must be protected).
 *   - Every host function is thread-safe unless its comment says otherwise.
 *     The s2r_instance_ctx given to create() stays valid until destroy()
 *     returns; the bound config struct likewise.
 *   - Plugins must not call process-global initializers or cleanups
 *     (curl_global_*, OPENSSL_init_* / OPENSSL_cleanup, signal, setlocale,
 *     atexit) and must join every thread they start before destroy()
 *     returns. No thread-local "last error": errors travel in s2r_error.
 *
 * Errors
 *   Fallible calls return int: S2R_OK (0) or a negative s2r_status, and fill
 *   the caller-owned s2r_error (use host->error_set()). Messages never hold a
 *   secret: error_set() and log_msg() redact the instance's secret values.
 */
#ifndef S2R_PLUGIN_H
#define S2R_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#ifdef __cplusplus
#define S2R_BEGIN_DECLS extern "C" {
#define S2R_END_DECLS }
#else
#define S2R_BEGIN_DECLS
#define S2R_END_DECLS
#endif

#if defined(__GNUC__) || defined(__clang__)
#define S2R_PLUGIN_EXPORT __attribute__((visibility("default")))
#define S2R_PRINTF(fmt_idx, arg_idx) \
    __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define S2R_PLUGIN_EXPORT
#define S2R_PRINTF(fmt_idx, arg_idx)
#endif

S2R_BEGIN_DECLS

/* ================================================================== */
/* Versions                                                            */
/* ================================================================== */

/** ABI major: must be equal in plugin and core. */
#define S2R_PLUGIN_ABI_MAJOR 1
/** ABI minor: grows when members are appended; either side may be newer. */
#define S2R_PLUGIN_ABI_MINOR 1
/** The ABI word: major in the high 16 bits, minor in the low 16 bits. */
#define S2R_PLUGIN_ABI \
    ((uint32_t)((S2R_PLUGIN_ABI_MAJOR << 16) | S2R_PLUGIN_ABI_MINOR))
#define S2R_PLUGIN_ABI_MAJOR_OF(abi) ((uint32_t)(abi) >> 16)
#define S2R_PLUGIN_ABI_MINOR_OF(abi) ((uint32_t)(abi) & 0xffffu)
/** The one exported symbol of a plugin. Bumped only if the descriptor's
 *  first members ever change shape. */
#define S2R_PLUGIN_ENTRY_NAME "s2r_plugin_entry_v1"
/** Size of the caller-owned error message buffer (bytes, incl. NUL). */
#define S2R_ERROR_MSG_MAX 256

/* ================================================================== */
/* Status codes and errors                                             */
/* ================================================================== */

/** Status codes: 0 success, negative failure. Use as int return values;
 *  never as a struct member type (store int32_t). */
typedef enum s2r_status {
    S2R_OK = 0,
    S2R_ERROR = -1,        /**< generic failure, see the message */
    S2R_EINVAL = -2,       /**< bad input or configuration */
    S2R_ENOMEM = -3,       /**< out of memory */
    S2R_ENOTFOUND = -4,    /**< no such thing */
    S2R_EAUTH = -5,        /**< authentication refused (HTTP 401) */
    S2R_ELIMITED = -6,     /**< rate limited (HTTP 429) */
    S2R_EUPSTREAM = -7,    /**< upstream (model, server) failed (HTTP 502) */
    S2R_ETIMEOUT = -8,     /**< deadline passed */
    S2R_EUNSUPPORTED = -9, /**< feature or model not supported */
    S2R_EABI = -10,        /**< plugin ABI mismatch (loader only) */
    S2R_ETOOBIG = -11      /**< input larger than allowed (HTTP 413) */
} s2r_status;

/** Caller-owned error: no allocation, safe on every thread. Zero it (or
 *  let error_set() fill it) before use. */
typedef struct s2r_error {
    int32_t code;        /**< s2r_status */
    int32_t http_status; /**< upstream HTTP status when relevant, else 0 */
    char message[S2R_ERROR_MSG_MAX]; /**< NUL-terminated, never a secret */
} s2r_error;

/* ================================================================== */
/* Kinds, flags, log levels                                            */
/* ================================================================== */

/** s2r_plugin.kind; the INI section prefix is the kind's name. */
#define S2R_KIND_PROVIDER 1u  /**< [provider.<id>], s2r_provider_ops */
#define S2R_KIND_RATELIMIT 2u /**< [ratelimit.<id>], s2r_ratelimit_ops */
#define S2R_KIND_AUTH 3u      /**< [auth.<id>], s2r_auth_ops */

/** s2r_plugin.flags */
#define S2R_PLUGIN_F_THREADSAFE (1u << 0) /**< ops may run concurrently on
                                               one instance */

/** Log levels for host->log_msg(); lower is more severe. */
#define S2R_LOG_ERROR 0
#define S2R_LOG_WARN 1
#define S2R_LOG_INFO 2
#define S2R_LOG_DEBUG 3

/* ================================================================== */
/* Options: the plugin's INI keys                                      */
/* ================================================================== */

/**
 * Option types (s2r_option.type) and the C type the core writes at
 * s2r_option.offset inside the plugin's config struct:
 *
 * | type             | INI text                       | bound C type         |
 * |------------------|--------------------------------|----------------------|
 * | S2R_OPT_STRING   | any text                       | const char *         |
 * | S2R_OPT_INT      | decimal integer                | int64_t              |
 * | S2R_OPT_BOOL     | true/false, yes/no, on/off, 1/0| int32_t (0 or 1)     |
 * | S2R_OPT_DOUBLE   | decimal number                 | double               |
 * | S2R_OPT_SIZE     | 512, 10K, 4M, 1G (x1024)       | int64_t bytes        |
 * | S2R_OPT_DURATION | 1500ms, 2s, 5m, 1h; bare = ms  | int64_t milliseconds |
 * | S2R_OPT_ENUM     | one of enum_values             | const char * (the    |
 * |                  |                                | enum_values entry)   |
 * | S2R_OPT_LIST     | comma-separated, trimmed       | const char *const *  |
 * |                  |                                | (NULL-terminated)    |
 *
 * Strings and lists are owned by the core and stay valid until destroy()
 * returns. An option with neither a value nor a default binds NULL / 0.
 */
#define S2R_OPT_STRING 1u
#define S2R_OPT_INT 2u
#define S2R_OPT_BOOL 3u
#define S2R_OPT_DOUBLE 4u
#define S2R_OPT_SIZE 5u
#define S2R_OPT_DURATION 6u
#define S2R_OPT_ENUM 7u
#define S2R_OPT_LIST 8u

/** s2r_option.flags */
#define S2R_OPT_F_REQUIRED (1u << 0) /**< the INI section must set it */
/** The INI value is a reference `env:NAME` (environment variable) or
 *  `file:PATH` (first line of the file, trailing newline removed). The core
 *  resolves it, binds the resolved value (a STRING), and shows it as
 *  "<redacted>" in logs, errors, help and check-config output. A literal
 *  value is accepted with a warning. Only valid with S2R_OPT_STRING. */
#define S2R_OPT_F_SECRET (1u << 1)
#define S2R_OPT_F_DEPRECATED (1u << 2) /**< accepted, with a warning */

/** s2r_option.offset value meaning "validate only, do not bind". */
#define S2R_OPT_NO_BIND UINT32_MAX

/** One INI key of a plugin. A table is an array terminated by
 *  S2R_OPTION_END (name == NULL). The key `plugin` is reserved. */
typedef struct s2r_option {
    const char *name;          /**< INI key, lower_snake_case, unique */
    uint32_t type;             /**< S2R_OPT_* */
    uint32_t flags;            /**< S2R_OPT_F_* */
    const char *default_value; /**< parsed like user input; NULL = none
                                    (must be NULL for REQUIRED and SECRET) */
    int64_t min;               /**< INT/SIZE/DURATION/DOUBLE bounds, in the */
    int64_t max;               /**< bound unit; min == max == 0: unbounded */
    const char *const *enum_values; /**< NULL-terminated, ENUM only */
    uint32_t offset;           /**< byte offset into the config struct of
                                    s2r_plugin.config_size, or NO_BIND */
    const char *description;   /**< one sentence, shown by `s2r help` */
} s2r_option;

/** Terminator of an option table. */
#define S2R_OPTION_END {NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL}
/** Offset of @p member in @p type, as the uint32_t s2r_option.offset. */
#define S2R_OPT_OFFSET(type, member) ((uint32_t)offsetof(type, member))

/* ================================================================== */
/* Host services                                                       */
/* ================================================================== */

/** Opaque per-instance context (kind, section id, plugin name, secrets to
 *  redact). Owned by the core; valid from create() until destroy()
 *  returns. Pass it to host functions that take one. */
typedef struct s2r_instance_ctx s2r_instance_ctx;

/** A borrowed header name/value pair (NUL-terminated strings). */
typedef struct s2r_header {
    const char *name;
    const char *value;
} s2r_header;

/** Sizes of s2r_header_out buffers (bytes, incl. NUL). */
#define S2R_HEADER_NAME_MAX 64
#define S2R_HEADER_VALUE_MAX 4096

/** A header produced into a caller-provided array (no allocation).
 *  Producers truncate nothing: a value that does not fit is an error. */
typedef struct s2r_header_out {
    char name[S2R_HEADER_NAME_MAX];
    char value[S2R_HEADER_VALUE_MAX];
} s2r_header_out;

/** An HTTP request performed by the core's libcurl. All pointers are
 *  borrowed for the duration of the call. */
typedef struct s2r_http_request {
    uint32_t struct_size;       /**< sizeof(s2r_http_request) */
    uint32_t n_headers;         /**< entries in headers */
    const char *method;         /**< "GET", "POST", ...; NULL = GET, or
                                     POST when body is set */
    const char *url;            /**< http:// or https:// URL */
    const s2r_header *headers;  /**< extra request headers, may be NULL */
    const void *body;           /**< request body, may be NULL */
    size_t body_len;            /**< bytes in body */
    uint32_t timeout_ms;        /**< whole-transfer limit; 0 = 30000 */
    uint32_t connect_timeout_ms;/**< connect limit; 0 = 10000 */
    const char *ca_file;        /**< PEM CA bundle; NULL = system store */
    const char *proxy;          /**< proxy URL; NULL = curl's environment
                                     handling (http_proxy...); "" = none */
    uint64_t max_response_bytes;/**< larger answers fail S2R_ETOOBIG;
                                     0 = 16 MiB */
    uint32_t insecure;          /**< 1: skip TLS verification (tests only) */
    uint32_t reserved;          /**< 0 */
} s2r_http_request;

/** An HTTP response. Everything is owned by the core; release it with
 *  host->http_response_free(). */
typedef struct s2r_http_response {
    uint32_t struct_size; /**< set by the host */
    int32_t status;       /**< HTTP status code (200, 404, ...) */
    s2r_header *headers;  /**< response headers, names as received */
    uint32_t n_headers;
    uint32_t reserved;
    char *body;           /**< NUL-terminated (NUL not counted), not NULL */
    size_t body_len;      /**< bytes in body */
} s2r_http_response;

/** Parameters of an AWS Signature Version 4 signature. Borrowed. */
typedef struct s2r_sigv4_params {
    uint32_t struct_size;          /**< sizeof(s2r_sigv4_params) */
    uint32_t reserved;             /**< 0 */
    const char *region;            /**< "us-east-1" */
    const char *service;           /**< "bedrock", "dynamodb", ... */
    const char *access_key_id;     /**< AKIA...; NULL = the core's
                                        credential chain: AWS_ACCESS_KEY_ID /
                                        AWS_SECRET_ACCESS_KEY /
                                        AWS_SESSION_TOKEN, then the shared
                                        credentials file (AWS_PROFILE) */
    const char *secret_access_key; /**< never logged; NULL with the chain */
    const char *session_token;     /**< NULL when not temporary credentials */
    int64_t now_unix_s;            /**< signing time; 0 = host clock */
} s2r_sigv4_params;

/**
 * The host table handed to load() and create(). Owned by the core, valid
 * until unload() returns. Members are only appended (minor versions); test
 * a member newer than your minimum with S2R_HOST_HAS() before calling it.
 */
typedef struct s2r_host {
    uint32_t abi;         /**< the core's S2R_PLUGIN_ABI */
    uint32_t struct_size; /**< sizeof(s2r_host) in the core */

    /* ---- logging and errors ---- */

    /** Log a line "<kind>.<id>: message" to the core's log (stderr by
     *  default). @p ctx may be NULL (e.g. in load()): the line then goes
     *  to stderr with the prefix "s2r". Secret values of the instance are
     *  redacted. */
    void (*log_msg)(const s2r_instance_ctx *ctx, int32_t level,
                    const char *fmt, ...) S2R_PRINTF(3, 4);
    /** 1 when @p level would be printed, else 0. */
    int32_t (*log_enabled)(const s2r_instance_ctx *ctx, int32_t level);
    /** Fill @p err (may be NULL): code, http_status 0, formatted message
     *  (truncated to S2R_ERROR_MSG_MAX-1, secrets of @p ctx redacted).
     *  @return @p code, so `return host->error_set(...)` works. */
    int (*error_set)(const s2r_instance_ctx *ctx, s2r_error *err, int code,
                     const char *fmt, ...) S2R_PRINTF(4, 5);

    /* ---- memory (everything the core frees comes from here) ---- */

    void *(*alloc)(size_t n);              /**< NULL on failure */
    void *(*realloc)(void *p, size_t n);   /**< NULL on failure, p kept */
    void (*free)(void *p);                 /**< NULL is fine */
    char *(*str_dup)(const char *s);       /**< NULL on failure */
    /** Overwrite @p n bytes at @p p with zeros (not optimized away). */
    void (*secure_zero)(void *p, size_t n);

    /* ---- HTTP through the core's libcurl ---- */

    /**
     * Perform @p req synchronously. @p resp is filled on S2R_OK, whatever
     * the HTTP status (a 500 is S2R_OK with resp->status 500).
     * @return S2R_OK; S2R_EINVAL (bad request struct or URL);
     *         S2R_ETIMEOUT; S2R_ETOOBIG (answer above max_response_bytes);
     *         S2R_EUPSTREAM (DNS, connect, TLS, transfer failure);
     *         S2R_ENOMEM. On failure @p resp needs no freeing.
     */
    int (*http_request)(const s2r_instance_ctx *ctx,
                        const s2r_http_request *req, s2r_http_response *resp,
                        s2r_error *err);
    /** Release what http_request() put in @p resp; NULL-safe. */
    void (*http_response_free)(s2r_http_response *resp);

    /* ---- crypto (OpenSSL in the core) ---- */

    /** SHA-256 of @p len bytes at @p data into @p out (32 bytes). */
    void (*sha256)(const void *data, size_t len, uint8_t out[32]);
    /** HMAC-SHA256 with @p key into @p out (32 bytes). */
    void (*hmac_sha256)(const void *key, size_t key_len, const void *data,
                        size_t len, uint8_t out[32]);
    /** Fill @p buf with @p len cryptographically random bytes.
     *  @return S2R_OK or S2R_ERROR. */
    int (*random_bytes)(void *buf, size_t len, s2r_error *err);
    /** Constant-time comparison: 1 when equal, else 0. */
    int32_t (*ct_equal)(const void *a, const void *b, size_t len);
    /** Lower-case hex of @p len bytes into @p out (2*len+1 bytes, NUL). */
    void (*hex_encode)(const void *data, size_t len, char *out);
    /**
     * AWS SigV4: compute the headers that sign @p req (Authorization,
     * X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token when a session
     * token is given) into @p headers_out (@p max_headers entries);
     * *@p n_out receives the count. The caller adds them to the request.
     * The signature covers req->method, url, headers and body.
     * @return S2R_OK; S2R_EINVAL; S2R_ETOOBIG (max_headers too small);
     *         S2R_EUNSUPPORTED while the host has no SigV4.
     */
    int (*aws_sigv4_sign)(const s2r_instance_ctx *ctx,
                          const s2r_sigv4_params *params,
                          const s2r_http_request *req,
                          s2r_header_out *headers_out, uint32_t max_headers,
                          uint32_t *n_out, s2r_error *err);

    /* ---- JSON (json-c) ---- */

    /** Parse @p len bytes of JSON text. *@p out receives one reference
     *  (release with json_object_put()). @return S2R_OK or S2R_EINVAL with
     *  the parser's message. */
    int (*json_parse)(const char *text, size_t len, json_object **out,
                      s2r_error *err);
    /** Serialize @p obj (plain, no spaces); NUL-terminated text from
     *  host->alloc, freed by the caller with host->free. NULL on ENOMEM. */
    char *(*json_to_string)(json_object *obj);

    /* ---- clocks ---- */

    /** Wall clock: milliseconds since the Unix epoch (UTC). */
    int64_t (*now_ms)(void);
    /** Monotonic clock in milliseconds, for timeouts and durations. */
    int64_t (*monotonic_ms)(void);

    /* ---- secrets ---- */

    /**
     * Resolve a secret reference `env:NAME` or `file:PATH` into @p buf
     * (@p buf_len bytes incl. NUL); *@p len_out (may be NULL) receives the
     * length. Wipe @p buf with secure_zero() after use. The value never
     * appears in @p err. @return S2R_OK; S2R_EINVAL (not a reference);
     * S2R_ENOTFOUND (unset variable, unreadable file); S2R_ETOOBIG.
     */
    int (*secret_get)(const s2r_instance_ctx *ctx, const char *ref,
                      char *buf, size_t buf_len, size_t *len_out,
                      s2r_error *err);

    /* ---- instance information ---- */

    /** The instance id (the part after the dot of `[provider.<id>]`);
     *  NULL ctx gives "". Valid as long as @p ctx. */
    const char *(*instance_id)(const s2r_instance_ctx *ctx);

    /* Minor versions append members here only. */
} s2r_host;

/** True when host @p h has member @p m and it is set. */
#define S2R_HOST_HAS(h, m)                                          \
    ((h) != NULL &&                                                 \
     (h)->struct_size >= offsetof(s2r_host, m) + sizeof((h)->m) && \
     (h)->m != NULL)

/** Logging shorthands for host->log_msg: S2R_LOG_W(host, ctx, "retrying in %d ms", n). */
#define S2R_LOG_E(host, ctx, ...) (host)->log_msg((ctx), S2R_LOG_ERROR, __VA_ARGS__)
#define S2R_LOG_W(host, ctx, ...) (host)->log_msg((ctx), S2R_LOG_WARN, __VA_ARGS__)
#define S2R_LOG_I(host, ctx, ...) (host)->log_msg((ctx), S2R_LOG_INFO, __VA_ARGS__)
#define S2R_LOG_D(host, ctx, ...) (host)->log_msg((ctx), S2R_LOG_DEBUG, __VA_ARGS__)

/* ================================================================== */
/* Provider ops                                                        */
/* ================================================================== */

/** One conversion request. Everything is borrowed for the call. */
typedef struct s2r_provider_request {
    uint32_t struct_size; /**< sizeof(s2r_provider_request) in the core */
    uint32_t timeout_ms;  /**< time left for this request; 0 = none */
    const char *file;     /**< script name as given ("-" for stdin) */
    const char *script;   /**< the raw script bytes (NUL-terminated too) */
    size_t script_len;    /**< bytes in script */
    json_object *job;     /**< the parsed sbatch facts (borrowed) */
    json_object *rules;   /**< the rules provider's workload (borrowed);
                               NULL when the request is for rules itself */
    const char *prompt;   /**< prompt built by the core for model providers,
                               may be NULL */
    const char *format;   /**< requested output: "cli" | "yaml" | "json" */
    const char *model;    /**< per-request model alias, or NULL */
    const char *client_ip;/**< requesting client (server mode), or NULL */
} s2r_provider_request;

/**
 * Provider operations (s2r_plugin.ops for S2R_KIND_PROVIDER).
 *
 * convert() answers with a JSON object in one of three shapes:
 *  1. `{"workload": {...}}` — a complete workload, as the rules provider
 *     gives (same schema as req->rules); "warnings": ["..."] optional.
 *  2. `{"image": "...", "command": ["argv", ...] | "script": "bash body",
 *      "env": {"NAME": "value"}, "notes": ["..."]}` — a model's proposal;
 *     the core merges it into req->rules and its guard checks it against
 *     the job (resources can never change).
 *  3. `{"output": "rendered text", "format": "cli", "warnings": ["..."]}` —
 *     a remote s2r server's finished answer, printed as is.
 *
 * @param instance   from create()
 * @param req        the request (borrowed)
 * @param answer_out receives one reference on S2R_OK (caller puts it);
 *                   untouched on failure
 * @param err        filled on failure
 * @return S2R_OK; S2R_EUPSTREAM (model/server failed; set err->http_status
 *         when known); S2R_ETIMEOUT; S2R_EUNSUPPORTED (model or format);
 *         S2R_EINVAL (the upstream answer is unusable); S2R_ELIMITED;
 *         S2R_EAUTH; S2R_ENOMEM.
 */
typedef struct s2r_provider_ops {
    uint32_t struct_size; /**< sizeof(s2r_provider_ops) */
    uint32_t reserved;    /**< 0 */
    int (*convert)(void *instance, const s2r_provider_request *req,
                   json_object **answer_out, s2r_error *err); /**< required */
} s2r_provider_ops;

/* ================================================================== */
/* Rate-limit ops                                                      */
/* ================================================================== */

/** Decision of a rate limiter. */
typedef struct s2r_ratelimit_result {
    uint32_t struct_size;  /**< set by the core (caller) */
    int32_t allowed;       /**< 1 admitted, 0 refused */
    int64_t limit;         /**< requests per window (for X-RateLimit-Limit) */
    int64_t remaining;     /**< requests left in the window (>= 0) */
    int64_t retry_after_s; /**< seconds until a retry may pass; 0 if allowed */
} s2r_ratelimit_result;

/**
 * Rate-limit operations (s2r_plugin.ops for S2R_KIND_RATELIMIT).
 *
 * check(): count one request of @p client_key (client IP or principal,
 * NUL-terminated, never a secret) at @p now_unix_s (seconds since the
 * epoch) and decide. Refusal is not an error: return S2R_OK with
 * out->allowed = 0 and retry_after_s > 0. @return S2R_OK; S2R_EUPSTREAM
 * (backend store failed: the core refuses the request, fail closed);
 * S2R_ENOMEM.
 */
typedef struct s2r_ratelimit_ops {
    uint32_t struct_size; /**< sizeof(s2r_ratelimit_ops) */
    uint32_t reserved;    /**< 0 */
    int (*check)(void *instance, const char *client_key, int64_t now_unix_s,
                 s2r_ratelimit_result *out, s2r_error *err); /**< required */
} s2r_ratelimit_ops;

/* ================================================================== */
/* Auth ops                                                            */
/* ================================================================== */

/** Header lookup for verify(): the value of header @p name (matched
 *  case-insensitively), or NULL when absent. Valid during verify(). */
typedef const char *(*s2r_header_lookup_fn)(void *payload, const char *name);

/** An incoming request as the server saw it. Borrowed for the call. */
typedef struct s2r_auth_request {
    uint32_t struct_size;        /**< sizeof(s2r_auth_request) in the core */
    uint32_t reserved;           /**< 0 */
    const char *method;          /**< "POST" */
    const char *path;            /**< "/" (no query) */
    const char *query;           /**< raw query without '?', or "" */
    s2r_header_lookup_fn header; /**< header lookup, call with payload */
    void *header_payload;        /**< passed to header() */
    const uint8_t *body;         /**< request body (may hold NULs) */
    size_t body_len;             /**< bytes in body */
    const char *client_ip;       /**< peer address, or NULL */
    int64_t now_unix_s;          /**< server time, seconds since epoch */
    /* ABI 1.1 */
    int64_t now_ms;              /**< server time, milliseconds since the
                                      epoch, the clock a timestamp window
                                      is measured against; 0, or absent
                                      (struct_size of ABI 1.0): use
                                      now_unix_s * 1000 */
} s2r_auth_request;

/** Who verify() let in; written only on S2R_OK. */
#define S2R_PRINCIPAL_MAX 128
typedef struct s2r_auth_result {
    uint32_t struct_size;             /**< set by the core */
    uint32_t reserved;
    char principal[S2R_PRINCIPAL_MAX];/**< key id or user, never a secret;
                                           "" when unknown (the core then
                                           keys rate limits by client IP) */
} s2r_auth_result;

/** What a client is about to send. Borrowed for the call. */
typedef struct s2r_auth_sign_request {
    uint32_t struct_size;  /**< sizeof(s2r_auth_sign_request) */
    uint32_t reserved;     /**< 0 */
    const char *method;    /**< "POST" */
    const char *path;      /**< "/" */
    const uint8_t *body;   /**< body to be sent */
    size_t body_len;
    int64_t now_unix_s;    /**< seconds since epoch */
} s2r_auth_sign_request;

/**
 * Auth operations (s2r_plugin.ops for S2R_KIND_AUTH). At least one of
 * verify and sign must be set.
 *
 * verify() (server side): S2R_OK when the request is authentic, with
 * @p out (may be NULL) naming the principal; S2R_EAUTH with a message
 * that never holds the secret or the expected signature (e.g. "stale
 * timestamp", "bad signature", "replayed signature"); S2R_EUPSTREAM when a
 * backing store failed.
 *
 * sign() (client side): write the headers to add (e.g. X-S2R-Timestamp and
 * X-S2R-Signature) into @p headers_out, at most @p max_headers entries, and
 * their number into *@p n_out. @return S2R_OK; S2R_ETOOBIG (not enough
 * entries or a value longer than S2R_HEADER_VALUE_MAX-1); S2R_EINVAL.
 *
 * forget() (server side, ABI 1.1, optional): @p req, which verify()
 * accepted, was then refused with an answer that tells the client to
 * send it again (the rate limiter's 429 and 503, with Retry-After): undo
 * what verify() spent on it, such as its entry in a replay cache, so
 * that the same signed request passes verify() again when it is retried.
 * The core calls it at most once per accepted request, with the same
 * @p req, after verify() returned and before the answer is sent; never
 * for a request that was served or refused for a reason a retry would
 * not change. It must undo only that request's own mark: while the
 * request held it, a copy of it was refused as a replay, so at most one
 * copy is ever served. Cannot fail (at worst the retry is refused as a
 * replay). Same thread-safety as verify().
 */
typedef struct s2r_auth_ops {
    uint32_t struct_size; /**< sizeof(s2r_auth_ops) */
    uint32_t reserved;    /**< 0 */
    int (*verify)(void *instance, const s2r_auth_request *req,
                  s2r_auth_result *out, s2r_error *err);
    int (*sign)(void *instance, const s2r_auth_sign_request *req,
                s2r_header_out *headers_out, uint32_t max_headers,
                uint32_t *n_out, s2r_error *err);
    /* ABI 1.1 */
    void (*forget)(void *instance, const s2r_auth_request *req);
} s2r_auth_ops;

/* ================================================================== */
/* The descriptor                                                      */
/* ================================================================== */

/**
 * One per plugin, static, returned by the entry symbol. Fill it with
 * designated initializers starting with S2R_PLUGIN_HEADER:
 *
 *     static const s2r_provider_ops ops = {
 *         .struct_size = sizeof(s2r_provider_ops), .convert = my_convert};
 *     static const s2r_plugin my_plugin = {
 *         S2R_PLUGIN_HEADER,
 *         .kind = S2R_KIND_PROVIDER,
 *         .name = "echo", .version = "1.0.0",
 *         .description = "Returns the rules workload unchanged.",
 *         .options = my_options, .config_size = sizeof(struct my_conf),
 *         .create = my_create, .destroy = my_destroy, .ops = &ops};
 *     S2R_PLUGIN_DECLARE(my_plugin)
 *
 * The loader refuses (naming file, symbol and numbers found/expected): an
 * abi major other than the core's, struct_size below the 1.0 size, an
 * unknown kind, an empty name or one that differs from the file name
 * `s2r-<name>.so`, a name already loaded, a NULL create/destroy/ops or
 * required op, an ops struct_size below its 1.0 size, a malformed option
 * table (duplicate or empty names, unknown type, bad default, offset past
 * config_size, ENUM without values, SECRET that is not a STRING).
 */
typedef struct s2r_plugin {
    uint32_t abi;          /**< S2R_PLUGIN_ABI at build time */
    uint32_t struct_size;  /**< sizeof(s2r_plugin) at build time */
    uint32_t kind;         /**< S2R_KIND_* */
    uint32_t flags;        /**< S2R_PLUGIN_F_* */
    const char *name;      /**< lower-kebab-case; file is s2r-<name>.so */
    const char *version;   /**< the plugin's own version, "1.2.0" */
    const char *description; /**< one sentence for `s2r plugins` */
    const s2r_option *options; /**< terminated by S2R_OPTION_END; NULL =
                                    no options */
    uint32_t config_size;  /**< bytes of the bound config struct (0 if
                                nothing binds); the core zero-allocates it */
    uint32_t reserved;     /**< 0 */

    /** Once per .so after validation, before any create(). Optional.
     *  @p host stays valid until unload() returns. */
    int (*load)(const s2r_host *host, s2r_error *err);
    /** Once per .so after the last destroy(). Optional. */
    void (*unload)(void);
    /**
     * Create an instance for one INI section. Required.
     * @param instance_out receives the plugin's instance (may be NULL if the
     *                     plugin keeps no state); passed to ops and destroy
     * @param host         host table, valid until unload() returns
     * @param ctx          instance context, valid until destroy() returns
     * @param config       the bound config struct (config_size bytes, values
     *                     validated), valid until destroy() returns; NULL
     *                     when config_size is 0
     * @return S2R_OK or a status with @p err filled (the core reports the
     *         section); the core calls no destroy() after a failed create.
     */
    int (*create)(void **instance_out, const s2r_host *host,
                  const s2r_instance_ctx *ctx, const void *config,
                  s2r_error *err);
    /** Release the instance; joins the plugin's threads. Required. */
    void (*destroy)(void *instance);
    /** Kind-specific ops: const s2r_provider_ops *, s2r_ratelimit_ops * or
     *  s2r_auth_ops *. Required. */
    const void *ops;

    /* Minor versions append members here only. */
} s2r_plugin;

/** Minimal descriptor size the loader accepts (ABI 1.0). */
#define S2R_PLUGIN_SIZE_V1_0 \
    (offsetof(s2r_plugin, ops) + sizeof(const void *))

/** First members of every descriptor: `S2R_PLUGIN_HEADER, .kind = ...`. */
#define S2R_PLUGIN_HEADER \
    .abi = S2R_PLUGIN_ABI, .struct_size = (uint32_t)sizeof(s2r_plugin)

/** Type of the entry symbol. @p host_abi is the core's S2R_PLUGIN_ABI; a
 *  plugin may return NULL to decline (e.g. host minor too old). */
typedef const s2r_plugin *(*s2r_plugin_entry_fn)(uint32_t host_abi);

/** The entry symbol (defined by S2R_PLUGIN_DECLARE in the plugin). */
S2R_PLUGIN_EXPORT const s2r_plugin *s2r_plugin_entry_v1(uint32_t host_abi);

/** Define the entry symbol returning &@p descriptor. Use once per .so, at
 *  file scope, after the descriptor. */
#define S2R_PLUGIN_DECLARE(descriptor)                                   \
    S2R_PLUGIN_EXPORT const s2r_plugin *s2r_plugin_entry_v1(             \
        uint32_t host_abi)                                               \
    {                                                                    \
        (void)host_abi;                                                  \
        return &(descriptor);                                            \
    }

S2R_END_DECLS

#endif /* S2R_PLUGIN_H */
