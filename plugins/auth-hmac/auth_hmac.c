/* auth_hmac.c: the auth-hmac plugin: the s2r wire protocol's shared-secret
 * signature, on both sides.
 *
 *   X-S2R-Timestamp: Unix seconds, optionally with a fraction
 *                    ("1718000000" or "1718000000.123456", as the original
 *                    Python client's str(time.time()))
 *   X-S2R-Signature: lower-case hex HMAC-SHA256(secret, timestamp ":" body)
 *
 * verify() (server): both headers present and well-formed, the timestamp
 * inside +/- window of the server clock (both in milliseconds), the
 * signature equal in constant
 * time, and not accepted before inside its window (replay cache shared by
 * all worker threads of the process). sign() (client): adds both headers;
 * the timestamp carries a random microsecond fraction so that signing the
 * same body twice in one second gives two signatures, which the replay
 * cache then both accepts. forget() (server): a request the server
 * refused with a retryable answer (the rate limiter's 429 or 503) leaves
 * the replay cache, so that its retry passes.
 *
 * Crypto, randomness and clocks come from the host table (OpenSSL in the
 * core); the plugin links json-c only.
 */
#include <s2r/plugin.h>
#include "auth_hmac_replay.h"

#include <stdio.h>
#include <string.h>

#define TS_HEADER "X-S2R-Timestamp"
#define SIG_HEADER "X-S2R-Signature"
#define TS_MAX 32 /* longest timestamp text accepted */

typedef struct auth_hmac_conf {
    const char *secret;       /* resolved from env:NAME or file:PATH */
    int64_t window_ms;        /* accepted clock difference */
    int64_t replay_cache_max; /* live signatures at most; 0: no count cap */
    int64_t replay_cache_memory; /* bytes of the cache's table at most */
    int32_t replay_check;     /* 1: refuse replays */
    int32_t pad;
} auth_hmac_conf;

static const s2r_option auth_hmac_options[] = {
    {"secret", S2R_OPT_STRING, S2R_OPT_F_REQUIRED | S2R_OPT_F_SECRET, NULL,
     0, 0, NULL, S2R_OPT_OFFSET(auth_hmac_conf, secret),
     "Shared secret of the HMAC-SHA256 signature, as env:NAME or file:PATH."},
    {"window", S2R_OPT_DURATION, 0, "300s", 1000, 86400000, NULL,
     S2R_OPT_OFFSET(auth_hmac_conf, window_ms),
     "Largest accepted difference between X-S2R-Timestamp and the server "
     "clock."},
    {"replay_check", S2R_OPT_BOOL, 0, "true", 0, 0, NULL,
     S2R_OPT_OFFSET(auth_hmac_conf, replay_check),
     "Refuse a signature already accepted inside its window (server side)."},
    {"replay_cache_memory", S2R_OPT_SIZE, 0, "256M", 64 * 1024,
     INT64_C(64) << 30, NULL,
     S2R_OPT_OFFSET(auth_hmac_conf, replay_cache_memory),
     "Memory the replay cache may use (20 bytes a signature, up to 2.7 "
     "times that with the table's free slots); at the cap new signatures "
     "are refused (HTTP 503) until old ones expire, never accepted "
     "unchecked. The default holds the window at about 20,000 signed "
     "requests per second."},
    {"replay_cache_max", S2R_OPT_INT, 0, "0", 0, INT64_C(1000000000), NULL,
     S2R_OPT_OFFSET(auth_hmac_conf, replay_cache_max),
     "Most unexpired signatures remembered at once, besides the memory "
     "cap; 0: no cap on the count. Over it, requests get HTTP 503."},
    S2R_OPTION_END};

typedef struct auth_hmac {
    const s2r_host *host;
    const s2r_instance_ctx *ctx;
    const char *secret; /* borrowed from the bound config */
    size_t secret_len;
    int64_t window_ms;
    auth_hmac_replay *replay; /* NULL when replay_check is off */
} auth_hmac;

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* Parse "SECONDS[.FRACTION]" into milliseconds. Returns 0 or -1. */
static int parse_timestamp(const char *s, int64_t *ms_out)
{
    size_t i = 0;
    int64_t sec = 0, frac = 0;
    while (s[i] >= '0' && s[i] <= '9') {
        if (i >= 12)
            return -1;
        sec = sec * 10 + (s[i] - '0');
        i++;
    }
    if (i == 0)
        return -1;
    int digits = 0;
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9') {
            if (digits >= 9)
                return -1;
            if (digits < 3)
                frac = frac * 10 + (s[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0)
            return -1;
    }
    if (s[i] != '\0')
        return -1;
    for (int d = digits; d < 3; d++)
        frac *= 10;
    *ms_out = sec * 1000 + frac;
    return 0;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 64 hex digits into 32 bytes. Returns 0 or -1. */
static int parse_signature(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return -1;
    for (size_t i = 0; i < 32; i++) {
        int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* HMAC-SHA256(secret, ts ":" body) into @p mac. Returns S2R_OK or
 * S2R_ENOMEM. */
static int compute_mac(const auth_hmac *a, const char *ts,
                       const uint8_t *body, size_t body_len, uint8_t mac[32])
{
    size_t tl = strlen(ts);
    uint8_t *msg = a->host->alloc(tl + 1 + body_len);
    if (!msg)
        return S2R_ENOMEM;
    memcpy(msg, ts, tl);
    msg[tl] = ':';
    if (body_len)
        memcpy(msg + tl + 1, body, body_len);
    a->host->hmac_sha256(a->secret, a->secret_len, msg, tl + 1 + body_len,
                         mac);
    a->host->free(msg);
    return S2R_OK;
}

/* The server clock in milliseconds: the request's now_ms (ABI 1.1), or
 * its whole seconds from a core of ABI 1.0. */
static int64_t server_now_ms(const s2r_auth_request *req)
{
    if (req->struct_size >= offsetof(s2r_auth_request, now_ms) +
                                sizeof(req->now_ms) &&
        req->now_ms > 0)
        return req->now_ms;
    return req->now_unix_s * 1000;
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */
/* ------------------------------------------------------------------ */

static int auth_hmac_create(void **out, const s2r_host *host,
                            const s2r_instance_ctx *ctx, const void *config,
                            s2r_error *err)
{
    const auth_hmac_conf *c = config;
    if (!c || !c->secret || !*c->secret)
        return host->error_set(ctx, err, S2R_EINVAL,
                               "secret: empty shared secret");
    auth_hmac *a = host->alloc(sizeof(*a));
    if (!a)
        return host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
    memset(a, 0, sizeof(*a));
    a->host = host;
    a->ctx = ctx;
    a->secret = c->secret;
    a->secret_len = strlen(c->secret);
    a->window_ms = c->window_ms;
    if (c->replay_check) {
        a->replay = auth_hmac_replay_new((size_t)c->replay_cache_memory,
                                         (size_t)c->replay_cache_max);
        if (!a->replay) {
            host->free(a);
            return host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
        }
    }
    *out = a;
    return S2R_OK;
}

static void auth_hmac_destroy(void *instance)
{
    auth_hmac *a = instance;
    if (!a)
        return;
    auth_hmac_replay_free(a->replay);
    a->host->free(a);
}

/* ------------------------------------------------------------------ */
/* ops                                                                 */
/* ------------------------------------------------------------------ */

static int auth_hmac_verify(void *instance, const s2r_auth_request *req,
                            s2r_auth_result *out, s2r_error *err)
{
    auth_hmac *a = instance;
    const s2r_host *h = a->host;
    const char *ts = req->header ? req->header(req->header_payload, TS_HEADER)
                                 : NULL;
    const char *sig = req->header
                          ? req->header(req->header_payload, SIG_HEADER)
                          : NULL;
    if (!ts || !*ts)
        return h->error_set(a->ctx, err, S2R_EAUTH,
                            "missing " TS_HEADER " header");
    if (!sig || !*sig)
        return h->error_set(a->ctx, err, S2R_EAUTH,
                            "missing " SIG_HEADER " header");
    int64_t ts_ms;
    if (strlen(ts) > TS_MAX || parse_timestamp(ts, &ts_ms) != 0)
        return h->error_set(a->ctx, err, S2R_EAUTH,
                            "malformed " TS_HEADER " (Unix seconds expected)");
    int64_t now_ms = server_now_ms(req);
    int64_t skew = ts_ms > now_ms ? ts_ms - now_ms : now_ms - ts_ms;
    if (skew > a->window_ms)
        return h->error_set(a->ctx, err, S2R_EAUTH,
                            "expired timestamp: more than %lld s from the "
                            "server clock",
                            (long long)(a->window_ms / 1000));
    uint8_t given[32], expected[32];
    if (parse_signature(sig, given) != 0)
        return h->error_set(a->ctx, err, S2R_EAUTH,
                            "malformed " SIG_HEADER
                            " (64 hex digits expected)");
    if (compute_mac(a, ts, req->body, req->body_len, expected) != S2R_OK)
        return h->error_set(a->ctx, err, S2R_ENOMEM, "out of memory");
    int32_t same = h->ct_equal(given, expected, sizeof(expected));
    h->secure_zero(expected, sizeof(expected));
    if (!same)
        return h->error_set(a->ctx, err, S2R_EAUTH, "bad signature");
    if (a->replay) {
        /* forget it once its timestamp has left the window */
        int64_t expires = (ts_ms + a->window_ms) / 1000 + 1;
        switch (auth_hmac_replay_insert(a->replay, given, expires,
                                        now_ms / 1000)) {
        case AUTH_HMAC_REPLAY_NEW:
            break;
        case AUTH_HMAC_REPLAY_SEEN:
            return h->error_set(a->ctx, err, S2R_EAUTH,
                                "replayed signature: this request was "
                                "already accepted");
        case AUTH_HMAC_REPLAY_FULL:
            return h->error_set(a->ctx, err, S2R_EUPSTREAM,
                                "replay cache full: try again later");
        default:
            return h->error_set(a->ctx, err, S2R_ENOMEM, "out of memory");
        }
    }
    if (out && out->struct_size >= offsetof(s2r_auth_result, principal) +
                                       S2R_PRINCIPAL_MAX)
        out->principal[0] = '\0'; /* one shared secret: key by client IP */
    return S2R_OK;
}

/* The server refused an accepted request with a retryable answer: its
 * signature becomes new again. Only verify() put it in the cache, and
 * while it was there every copy was refused as a replay. */
static void auth_hmac_forget(void *instance, const s2r_auth_request *req)
{
    auth_hmac *a = instance;
    const char *sig = req->header
                          ? req->header(req->header_payload, SIG_HEADER)
                          : NULL;
    uint8_t given[32];
    if (a->replay && sig && parse_signature(sig, given) == 0)
        auth_hmac_replay_remove(a->replay, given);
}

static int auth_hmac_sign(void *instance, const s2r_auth_sign_request *req,
                          s2r_header_out *headers_out, uint32_t max_headers,
                          uint32_t *n_out, s2r_error *err)
{
    auth_hmac *a = instance;
    const s2r_host *h = a->host;
    if (max_headers < 2)
        return h->error_set(a->ctx, err, S2R_ETOOBIG,
                            "sign: room for 2 headers needed, %u given",
                            (unsigned)max_headers);
    uint32_t rnd = 0;
    if (h->random_bytes(&rnd, sizeof(rnd), err) != S2R_OK)
        return h->error_set(a->ctx, err, S2R_ERROR,
                            "sign: no random bytes");
    int64_t now = req->now_unix_s > 0 ? req->now_unix_s
                                       : h->now_ms() / 1000;
    char ts[TS_MAX + 1];
    snprintf(ts, sizeof(ts), "%lld.%06u", (long long)now,
             (unsigned)(rnd % 1000000u));
    uint8_t mac[32];
    if (compute_mac(a, ts, req->body, req->body_len, mac) != S2R_OK)
        return h->error_set(a->ctx, err, S2R_ENOMEM, "out of memory");
    memset(headers_out, 0, 2 * sizeof(*headers_out));
    snprintf(headers_out[0].name, sizeof(headers_out[0].name), "%s",
             TS_HEADER);
    snprintf(headers_out[0].value, sizeof(headers_out[0].value), "%s", ts);
    snprintf(headers_out[1].name, sizeof(headers_out[1].name), "%s",
             SIG_HEADER);
    h->hex_encode(mac, sizeof(mac), headers_out[1].value);
    h->secure_zero(mac, sizeof(mac));
    *n_out = 2;
    return S2R_OK;
}

static const s2r_auth_ops auth_hmac_ops = {
    .struct_size = sizeof(s2r_auth_ops),
    .verify = auth_hmac_verify,
    .sign = auth_hmac_sign,
    .forget = auth_hmac_forget,
};

static const s2r_plugin auth_hmac_plugin = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_AUTH,
    .flags = S2R_PLUGIN_F_THREADSAFE,
    .name = "auth-hmac",
    .version = "1.2.0",
    .description = "Shared-secret HMAC-SHA256 request signatures "
                   "(X-S2R-Timestamp, X-S2R-Signature) with a replay cache.",
    .options = auth_hmac_options,
    .config_size = sizeof(auth_hmac_conf),
    .create = auth_hmac_create,
    .destroy = auth_hmac_destroy,
    .ops = &auth_hmac_ops,
};

S2R_PLUGIN_DECLARE(auth_hmac_plugin)
