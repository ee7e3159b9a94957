/* host.c: the services plugins reach through s2r_host: logging with the
 * instance prefix, errors, memory, HTTP through libcurl, SHA-256/HMAC and
 * random bytes through OpenSSL, JSON through json-c, clocks, secrets. */
#include "host.h"
#include "base/base.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* one-time init: the only global state of the plugin framework        */
/* ------------------------------------------------------------------ */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc = S2R_OK;

static void global_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        global_rc = S2R_ERROR;
    OPENSSL_init_crypto(0, NULL);
}

int s2r_host_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    return global_rc;
}

/* ------------------------------------------------------------------ */
/* formatting with redaction                                           */
/* ------------------------------------------------------------------ */

/* Format, then redact the whole text, then truncate: a secret cut by the
 * truncation never leaks a prefix. Returns malloc'd text or NULL. */
static char *format_redacted(const s2r_instance_ctx *ctx, const char *fmt,
                             va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return NULL;
    char *raw = malloc((size_t)n + 1);
    if (!raw)
        return NULL;
    vsnprintf(raw, (size_t)n + 1, fmt, ap);
    if (!ctx || ctx->n_secrets == 0)
        return raw;
    size_t cap = (size_t)n * (strlen(S2R_REDACTED) + 1) + 1;
    char *red = malloc(cap);
    if (red)
        s2r_redact(red, cap, raw, ctx->secrets, ctx->n_secrets);
    s2r_secure_zero(raw, (size_t)n);
    free(raw);
    return red;
}

int32_t s2r_log_level_from_name(const char *name)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int32_t i = 0; i < 4; i++)
        if (name && strcasecmp(name, names[i]) == 0)
            return i;
    if (name && strcasecmp(name, "warning") == 0)
        return S2R_LOG_WARN;
    return -1;
}

static const char *level_name(int32_t level)
{
    switch (level) {
    case S2R_LOG_ERROR: return "error";
    case S2R_LOG_WARN: return "warning";
    case S2R_LOG_INFO: return "info";
    default: return "debug";
    }
}

static void vlog(const s2r_instance_ctx *ctx, int32_t level, const char *fmt,
                 va_list ap)
{
    int32_t max = ctx ? ctx->log_level : S2R_LOG_WARN;
    if (level > max)
        return;
    char *msg = format_redacted(ctx, fmt, ap);
    if (!msg)
        return;
    const char *prefix = ctx && ctx->prefix ? ctx->prefix : "s2r";
    size_t len = strlen(prefix) + strlen(msg) + 32;
    char *line = malloc(len);
    if (line) {
        snprintf(line, len, "%s: %s: %s", prefix, level_name(level), msg);
        if (ctx && ctx->log_fn)
            ctx->log_fn(ctx->log_payload, level, line);
        else
            fprintf(stderr, "%s\n", line);
        free(line);
    }
    free(msg);
}

void s2r_host_logf(const s2r_instance_ctx *ctx, int32_t level,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(ctx, level, fmt, ap);
    va_end(ap);
}

static void h_log(const s2r_instance_ctx *ctx, int32_t level,
                  const char *fmt, ...) S2R_PRINTF(3, 4);
static void h_log(const s2r_instance_ctx *ctx, int32_t level,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(ctx, level, fmt, ap);
    va_end(ap);
}

static int32_t h_log_enabled(const s2r_instance_ctx *ctx, int32_t level)
{
    return level <= (ctx ? ctx->log_level : S2R_LOG_WARN);
}

static int h_error_set(const s2r_instance_ctx *ctx, s2r_error *err, int code,
                       const char *fmt, ...) S2R_PRINTF(4, 5);
static int h_error_set(const s2r_instance_ctx *ctx, s2r_error *err, int code,
                       const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->http_status = 0;
    va_list ap;
    va_start(ap, fmt);
    char *msg = format_redacted(ctx, fmt, ap);
    va_end(ap);
    snprintf(err->message, sizeof(err->message), "%s",
             msg ? msg : "out of memory while formatting an error");
    free(msg);
    return code;
}

/* ------------------------------------------------------------------ */
/* memory                                                              */
/* ------------------------------------------------------------------ */

static void *h_alloc(size_t n)
{
    return malloc(n ? n : 1);
}

static void *h_realloc(void *p, size_t n)
{
    return realloc(p, n ? n : 1);
}

static void h_free(void *p)
{
    free(p);
}

static char *h_str_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

#define S2R_HTTP_DEFAULT_TIMEOUT_MS 30000u
#define S2R_HTTP_DEFAULT_CONNECT_MS 10000u
#define S2R_HTTP_DEFAULT_MAX ((uint64_t)16 << 20)

struct http_sink {
    char *body;
    size_t len, cap;
    uint64_t max;
    int too_big;
    s2r_header *headers;
    uint32_t n_headers, cap_headers;
    int oom;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    struct http_sink *s = user;
    size_t n = size * nmemb;
    if ((uint64_t)(s->len + n) > s->max) {
        s->too_big = 1;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *nb = realloc(s->body, cap);
        if (!nb) {
            s->oom = 1;
            return 0;
        }
        s->body = nb;
        s->cap = cap;
    }
    memcpy(s->body + s->len, data, n);
    s->len += n;
    s->body[s->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    struct http_sink *s = user;
    size_t n = size * nmemb;
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n; /* status line or the blank end line */
    if (strncmp(data, "HTTP/", 5) == 0)
        return n;
    size_t nl = (size_t)(colon - data);
    const char *v = colon + 1;
    size_t vl = n - nl - 1;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (s->n_headers == s->cap_headers) {
        uint32_t cap = s->cap_headers ? s->cap_headers * 2 : 16;
        s2r_header *nh = realloc(s->headers, cap * sizeof(*nh));
        if (!nh) {
            s->oom = 1;
            return 0;
        }
        s->headers = nh;
        s->cap_headers = cap;
    }
    char *name = strndup(data, nl);
    char *value = strndup(v, vl);
    if (!name || !value) {
        free(name);
        free(value);
        s->oom = 1;
        return 0;
    }
    s->headers[s->n_headers].name = name;
    s->headers[s->n_headers].value = value;
    s->n_headers++;
    return n;
}

static void free_headers(s2r_header *h, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        free((char *)h[i].name);
        free((char *)h[i].value);
    }
    free(h);
}

static void h_http_response_free(s2r_http_response *resp)
{
    if (!resp)
        return;
    free_headers(resp->headers, resp->n_headers);
    free(resp->body);
    resp->headers = NULL;
    resp->n_headers = 0;
    resp->body = NULL;
    resp->body_len = 0;
}

/* The request's headers as a libcurl list; "Name;" sends an empty
 * header ("Name:" would remove it). Each line is wiped after copying (it
 * may carry a signature). @return S2R_OK or S2R_ENOMEM (err set). */
static int header_list(const s2r_instance_ctx *ctx,
                       const s2r_http_request *req, struct curl_slist **out,
                       s2r_error *err)
{
    struct curl_slist *hl = NULL;
    for (uint32_t i = 0; i < req->n_headers && req->headers; i++) {
        const s2r_header *h = &req->headers[i];
        size_t len = strlen(h->name) + strlen(h->value) + 3;
        char *line = malloc(len);
        struct curl_slist *nl = NULL;
        if (line) {
            if (*h->value)
                snprintf(line, len, "%s: %s", h->name, h->value);
            else
                snprintf(line, len, "%s;", h->name);
            nl = curl_slist_append(hl, line);
            s2r_secure_zero(line, len);
            free(line);
        }
        if (!nl) {
            curl_slist_free_all(hl);
            return h_error_set(ctx, err, S2R_ENOMEM, "out of memory");
        }
        hl = nl;
    }
    *out = hl;
    return S2R_OK;
}

/* URL, timeouts, CA file, proxy, method and body, headers and the sink
 * of one transfer. */
static void set_transfer(CURL *c, const s2r_http_request *req,
                         struct curl_slist *hl, struct http_sink *sink)
{
    const char *method = req->method ? req->method
                                     : (req->body ? "POST" : "GET");
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     (long)(req->timeout_ms ? req->timeout_ms
                                            : S2R_HTTP_DEFAULT_TIMEOUT_MS));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(req->connect_timeout_ms
                                ? req->connect_timeout_ms
                                : S2R_HTTP_DEFAULT_CONNECT_MS));
    /* a plugin's ca_file, else $SSL_CERT_FILE (set by the Lambda package,
     * whose system has no Debian CA path), else libcurl's built-in path */
    const char *ca = req->ca_file ? req->ca_file : getenv("SSL_CERT_FILE");
    if (ca && *ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    if (req->proxy)
        curl_easy_setopt(c, CURLOPT_PROXY, req->proxy);
    if (req->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (req->body || strcmp(method, "POST") == 0) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                             req->body ? (const char *)req->body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(req->body ? req->body_len : 0));
        }
    }
    if (hl)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, sink);
}

/* The outcome of a transfer: an error (out of memory, too big, timeout,
 * the network), or the status, headers and body handed to @p resp. */
static int take_response(const s2r_instance_ctx *ctx, CURL *c, CURLcode cc,
                         const s2r_http_request *req, struct http_sink *sink,
                         s2r_http_response *resp, s2r_error *err)
{
    if (sink->oom)
        return h_error_set(ctx, err, S2R_ENOMEM, "out of memory reading %s",
                           req->url);
    if (sink->too_big)
        return h_error_set(ctx, err, S2R_ETOOBIG,
                           "answer of %s larger than %llu bytes", req->url,
                           (unsigned long long)sink->max);
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return h_error_set(ctx, err, S2R_ETIMEOUT, "%s: %s", req->url,
                           curl_easy_strerror(cc));
    if (cc != CURLE_OK)
        return h_error_set(ctx, err, S2R_EUPSTREAM, "%s: %s", req->url,
                           curl_easy_strerror(cc));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (!sink->body) {
        sink->body = calloc(1, 1);
        if (!sink->body)
            return h_error_set(ctx, err, S2R_ENOMEM, "out of memory");
    }
    resp->struct_size = sizeof(*resp);
    resp->status = (int32_t)status;
    resp->headers = sink->headers;
    resp->n_headers = sink->n_headers;
    resp->body = sink->body;
    resp->body_len = sink->len;
    sink->headers = NULL;
    sink->n_headers = 0;
    sink->body = NULL;
    return S2R_OK;
}

static int h_http_request(const s2r_instance_ctx *ctx,
                          const s2r_http_request *req, s2r_http_response *resp,
                          s2r_error *err)
{
    if (!req || !resp || !req->url ||
        req->struct_size < offsetof(s2r_http_request, insecure))
        return h_error_set(ctx, err, S2R_EINVAL,
                           "http_request: missing request, response or URL");
    if (strncmp(req->url, "http://", 7) != 0 &&
        strncmp(req->url, "https://", 8) != 0)
        return h_error_set(ctx, err, S2R_EINVAL,
                           "http_request: only http:// and https:// URLs");
    if (s2r_host_global_init() != S2R_OK)
        return h_error_set(ctx, err, S2R_ERROR, "libcurl failed to initialize");
    memset(resp, 0, sizeof(*resp));
    CURL *c = curl_easy_init();
    if (!c)
        return h_error_set(ctx, err, S2R_ENOMEM, "curl_easy_init failed");
    struct http_sink sink = {0};
    sink.max = req->max_response_bytes ? req->max_response_bytes
                                        : S2R_HTTP_DEFAULT_MAX;
    struct curl_slist *hl = NULL;
    int rc = header_list(ctx, req, &hl, err);
    if (rc == S2R_OK) {
        set_transfer(c, req, hl, &sink);
        CURLcode cc = curl_easy_perform(c);
        rc = take_response(ctx, c, cc, req, &sink, resp, err);
    }
    free_headers(sink.headers, sink.n_headers);
    free(sink.body);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return rc;
}

/* ------------------------------------------------------------------ */
/* crypto                                                              */
/* ------------------------------------------------------------------ */

static void h_sha256(const void *data, size_t len, uint8_t out[32])
{
    SHA256(data, len, out);
}

static int h_random_bytes(void *buf, size_t len, s2r_error *err)
{
    if (len > (size_t)0x7fffffff || RAND_bytes(buf, (int)len) != 1)
        return h_error_set(NULL, err, S2R_ERROR,
                           "no random bytes from OpenSSL");
    return S2R_OK;
}

static int32_t h_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

static void h_hex_encode(const void *data, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * len] = '\0';
}

/* ------------------------------------------------------------------ */
/* JSON, clocks, secrets, instance                                     */
/* ------------------------------------------------------------------ */

static int h_json_parse(const char *text, size_t len, json_object **out,
                        s2r_error *err)
{
    *out = NULL;
    if (!text || len > (size_t)0x7fffffff)
        return h_error_set(NULL, err, S2R_EINVAL, "json_parse: no text");
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return h_error_set(NULL, err, S2R_ENOMEM, "out of memory");
    json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    if (!obj || je != json_tokener_success) {
        int rc = h_error_set(NULL, err, S2R_EINVAL,
                             "invalid JSON at offset %zu: %s",
                             json_tokener_get_parse_end(tok),
                             json_tokener_error_desc(
                                 je == json_tokener_success
                                     ? json_tokener_continue
                                     : je));
        json_object_put(obj);
        json_tokener_free(tok);
        return rc;
    }
    json_tokener_free(tok);
    *out = obj;
    return S2R_OK;
}

static char *h_json_to_string(json_object *obj)
{
    const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
    return s ? strdup(s) : NULL;
}

static int64_t h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t h_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int h_secret_get(const s2r_instance_ctx *ctx, const char *ref,
                        char *buf, size_t buf_len, size_t *len_out,
                        s2r_error *err)
{
    char *v = NULL;
    int rc = s2r_secret_resolve(ref, &v, err);
    if (rc != S2R_OK)
        return rc;
    size_t len = strlen(v);
    if (!buf || len + 1 > buf_len) {
        s2r_secret_free(v);
        return h_error_set(ctx, err, S2R_ETOOBIG,
                           "secret %s needs a %zu-byte buffer", ref, len + 1);
    }
    memcpy(buf, v, len + 1);
    s2r_secret_free(v);
    if (len_out)
        *len_out = len;
    return S2R_OK;
}

static const char *h_instance_id(const s2r_instance_ctx *ctx)
{
    return ctx && ctx->id ? ctx->id : "";
}

static const s2r_host host_table = {
    .abi = S2R_PLUGIN_ABI,
    .struct_size = sizeof(s2r_host),
    .log_msg = h_log,
    .log_enabled = h_log_enabled,
    .error_set = h_error_set,
    .alloc = h_alloc,
    .realloc = h_realloc,
    .free = h_free,
    .str_dup = h_str_dup,
    .secure_zero = s2r_secure_zero,
    .http_request = h_http_request,
    .http_response_free = h_http_response_free,
    .sha256 = h_sha256,
    .hmac_sha256 = s2r_host__hmac_sha256,
    .random_bytes = h_random_bytes,
    .ct_equal = h_ct_equal,
    .hex_encode = h_hex_encode,
    .aws_sigv4_sign = s2r_sigv4_sign,
    .json_parse = h_json_parse,
    .json_to_string = h_json_to_string,
    .now_ms = h_now_ms,
    .monotonic_ms = h_monotonic_ms,
    .secret_get = h_secret_get,
    .instance_id = h_instance_id,
};

const s2r_host *s2r_host_table(void)
{
    return &host_table;
}
