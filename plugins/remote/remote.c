/* remote.c: the remote provider: the client of an s2r server (`s2r serve`,
 * `s2r lambda`, or the original s2r Lambda).
 *
 * convert() POSTs the raw script to the endpoint, the same wire protocol
 * as the original s2r client:
 *
 *     POST <endpoint>?format=<cli|yaml|json>&submit_dir=<dir>
 *          &user=<name>&uid=<n>&gid=<n>&groups=<n,n...>
 *                                          (the submit directory of the job
 *                                          and the local user, who owns the
 *                                          script: the server runs the pods
 *                                          as them unless its site file
 *                                          says otherwise)
 *     Content-Type: text/plain; charset=utf-8
 *     X-S2R-Timestamp: <Unix seconds>      } when a secret is configured:
 *     X-S2R-Signature: <hex HMAC-SHA256>   } HMAC(secret, ts ":" body)
 *     X-S2R-Model: <alias>                 (when the user chose a model)
 *     X-S2R-Filename: <base name>          (the default job name comes
 *                                           from the file name)
 *
 * and turns the answer {"runai_config": "...", "warnings": [...],
 * "format": "cli"} into provider answer shape 3 {"output": ..., "format":
 * ..., "warnings": [...]}, which the core prints as is. Refusals become
 * clear messages: 401 S2R_EAUTH (secret or clock), 413 S2R_ETOOBIG, 429
 * S2R_ELIMITED (with when to retry, from Retry-After), 400 S2R_EINVAL,
 * 5xx and unreachable servers S2R_EUPSTREAM, no answer in time
 * S2R_ETIMEOUT. HTTP and HMAC come from the host table.
 */
#include <s2r/plugin.h>

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

typedef struct remote_conf {
    const char *endpoint;
    const char *secret;          /* NULL: requests go unsigned */
    const char *ca_file;
    const char *proxy;
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    int64_t max_response;        /* bytes */
    int32_t insecure;
    int32_t pad;
} remote_conf;

static const s2r_option remote_options[] = {
    {"endpoint", S2R_OPT_STRING, S2R_OPT_F_REQUIRED, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(remote_conf, endpoint),
     "URL of the s2r server (http:// or https://), e.g. "
     "https://s2r.example.org/."},
    {"secret", S2R_OPT_STRING, S2R_OPT_F_SECRET, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(remote_conf, secret),
     "Shared secret for the X-S2R-Signature HMAC, as env:NAME or "
     "file:PATH; without it requests are not signed."},
    {"timeout", S2R_OPT_DURATION, 0, "90s", 100, 3600000, NULL,
     S2R_OPT_OFFSET(remote_conf, timeout_ms),
     "Longest wait for the whole answer."},
    {"connect_timeout", S2R_OPT_DURATION, 0, "10s", 100, 600000, NULL,
     S2R_OPT_OFFSET(remote_conf, connect_timeout_ms),
     "Longest wait for the connection to the server."},
    {"ca_file", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(remote_conf, ca_file),
     "PEM file of the CAs that sign the server's certificate (default: the "
     "system store)."},
    {"proxy", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(remote_conf, proxy),
     "Proxy URL; empty for none; unset follows https_proxy and friends."},
    {"max_response", S2R_OPT_SIZE, 0, "16M", 1024, INT64_C(1) << 30, NULL,
     S2R_OPT_OFFSET(remote_conf, max_response),
     "Largest answer accepted."},
    {"insecure", S2R_OPT_BOOL, 0, "false", 0, 0, NULL,
     S2R_OPT_OFFSET(remote_conf, insecure),
     "Skip TLS certificate checks (tests only)."},
    S2R_OPTION_END};

typedef struct remote {
    const s2r_host *host;
    const s2r_instance_ctx *ctx;
    const remote_conf *conf; /* bound config, valid until destroy */
    size_t secret_len;
} remote;

#define MAX_HEADERS 8

static int remote_create(void **out, const s2r_host *host,
                         const s2r_instance_ctx *ctx, const void *config,
                         s2r_error *err)
{
    const remote_conf *c = config;
    const char *e = c->endpoint;
    if (!e || (strncmp(e, "http://", 7) != 0 && strncmp(e, "https://", 8)))
        return host->error_set(ctx, err, S2R_EINVAL,
                               "endpoint: an http:// or https:// URL is "
                               "needed");
    for (const char *p = e; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return host->error_set(ctx, err, S2R_EINVAL,
                                   "endpoint: spaces and control "
                                   "characters are not allowed");
    if (strchr(e, '#'))
        return host->error_set(ctx, err, S2R_EINVAL,
                               "endpoint: no #fragment allowed");
    remote *r = host->alloc(sizeof(*r));
    if (!r)
        return host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
    memset(r, 0, sizeof(*r));
    r->host = host;
    r->ctx = ctx;
    r->conf = c;
    r->secret_len = c->secret ? strlen(c->secret) : 0;
    *out = r;
    return S2R_OK;
}

static void remote_destroy(void *instance)
{
    remote *r = instance;
    if (r)
        r->host->free(r);
}

/* ------------------------------------------------------------------ */
/* request                                                             */
/* ------------------------------------------------------------------ */

/* 1 when @p s is printable ASCII without separators that would need
 * quoting in a header. */
static int header_safe(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f ||
            n >= max)
            return 0;
    return n > 0;
}

static const char *base_name(const char *file)
{
    const char *slash = strrchr(file, '/');
    return slash ? slash + 1 : file;
}

/* The signature headers into @p h (2 entries). */
static void sign(remote *r, const s2r_provider_request *req,
                 s2r_header_out *h)
{
    const s2r_host *host = r->host;
    uint32_t rnd = 0;
    s2r_error ignore;
    host->random_bytes(&rnd, sizeof(rnd), &ignore);
    char ts[48];
    snprintf(ts, sizeof(ts), "%lld.%06u",
             (long long)(host->now_ms() / 1000), (unsigned)(rnd % 1000000u));
    size_t tl = strlen(ts);
    uint8_t *msg = host->alloc(tl + 1 + req->script_len);
    uint8_t mac[32];
    memset(h, 0, 2 * sizeof(*h));
    snprintf(h[0].name, sizeof(h[0].name), "X-S2R-Timestamp");
    snprintf(h[0].value, sizeof(h[0].value), "%s", ts);
    snprintf(h[1].name, sizeof(h[1].name), "X-S2R-Signature");
    if (!msg)
        return; /* an empty signature: the server answers 401 */
    memcpy(msg, ts, tl);
    msg[tl] = ':';
    if (req->script_len)
        memcpy(msg + tl + 1, req->script, req->script_len);
    host->hmac_sha256(r->conf->secret, r->secret_len, msg,
                      tl + 1 + req->script_len, mac);
    host->free(msg);
    host->hex_encode(mac, sizeof(mac), h[1].value);
    host->secure_zero(mac, sizeof(mac));
}

/* ------------------------------------------------------------------ */
/* answer                                                              */
/* ------------------------------------------------------------------ */

static const char *resp_header(const s2r_http_response *resp,
                               const char *name)
{
    for (uint32_t i = 0; i < resp->n_headers; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

/* The server's "error" text, or a short printable excerpt of the body. */
static void error_text(const s2r_http_response *resp, json_object *ans,
                       char *buf, size_t cap)
{
    json_object *v;
    if (ans && json_object_is_type(ans, json_type_object) &&
        json_object_object_get_ex(ans, "error", &v) &&
        json_object_is_type(v, json_type_string)) {
        snprintf(buf, cap, "%s", json_object_get_string(v));
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < resp->body_len && n + 1 < cap && n < 120; i++) {
        unsigned char c = (unsigned char)resp->body[i];
        buf[n++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
    }
    while (n && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
    if (n == 0)
        snprintf(buf, cap, "no details");
}

/* "retry after 3600 s (at 2026-11-30 00:00 UTC)" from Retry-After. */
static void retry_text(const remote *r, const s2r_http_response *resp,
                       char *buf, size_t cap)
{
    const char *ra = resp_header(resp, "Retry-After");
    if (!ra || !*ra) {
        snprintf(buf, cap, "retry later");
        return;
    }
    char *end = NULL;
    long long s = strtoll(ra, &end, 10);
    if (end == ra || *end != '\0' || s < 0) {
        snprintf(buf, cap, "retry after %.64s", ra); /* an HTTP date */
        return;
    }
    time_t at = (time_t)(r->host->now_ms() / 1000 + s);
    struct tm tm;
    char when[32] = "";
    if (gmtime_r(&at, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
    snprintf(buf, cap, "retry after %lld s (at %s)", s, when);
}

/* Shape 3 from a 200 answer. */
static int answer_ok(remote *r, json_object *ans, const char *want_format,
                     json_object **answer_out, s2r_error *err)
{
    const s2r_host *h = r->host;
    json_object *cfg, *w, *f;
    if (!ans || !json_object_is_type(ans, json_type_object) ||
        !json_object_object_get_ex(ans, "runai_config", &cfg) ||
        !json_object_is_type(cfg, json_type_string))
        return h->error_set(r->ctx, err, S2R_EINVAL,
                            "the server's answer has no \"runai_config\" "
                            "text");
    json_object *o = json_object_new_object();
    if (!o)
        return h->error_set(r->ctx, err, S2R_ENOMEM, "out of memory");
    json_object_object_add(o, "output", json_object_get(cfg));
    const char *fmt = want_format;
    if (json_object_object_get_ex(ans, "format", &f) &&
        json_object_is_type(f, json_type_string))
        fmt = json_object_get_string(f);
    json_object_object_add(o, "format", json_object_new_string(fmt));
    json_object *warnings = json_object_new_array();
    if (json_object_object_get_ex(ans, "warnings", &w) &&
        json_object_is_type(w, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(w); i++) {
            json_object *s = json_object_array_get_idx(w, i);
            if (json_object_is_type(s, json_type_string))
                json_object_array_add(warnings, json_object_get(s));
        }
    }
    if (want_format && strcmp(fmt, want_format) != 0) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "the server answered format '%.20s' instead of '%.20s' "
                 "(an older server?)", fmt, want_format);
        json_object_array_add(warnings, json_object_new_string(msg));
    }
    json_object_object_add(o, "warnings", warnings);
    *answer_out = o;
    return S2R_OK;
}

/* &NAME=VALUE, VALUE percent-encoded (RFC 3986 unreserved and '/' kept),
 * appended at @p o of @p url (room checked by the caller). */
static size_t put_param(char *url, size_t o, const char *name,
                        const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    o += (size_t)sprintf(url + o, "&%s=", name);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
            url[o++] = (char)*p;
        } else {
            url[o++] = '%';
            url[o++] = hex[*p >> 4];
            url[o++] = hex[*p & 15];
        }
    }
    url[o] = '\0';
    return o;
}

/* The job's submit directory (the parsed job's "submit_dir"), or NULL. */
static const char *submit_dir_of(const s2r_provider_request *req)
{
    json_object *v = NULL;
    if (req->job && json_object_object_get_ex(req->job, "submit_dir", &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

/* The local user, who submits: name, UID, GID and up to 64 supplementary
 * groups, as query parameters from @p o on. */
static size_t put_identity(char *url, size_t o)
{
    char buf[4096], num[24];
    struct passwd pw, *res = NULL;
    if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res &&
        res->pw_name && strlen(res->pw_name) <= 64)
        o = put_param(url, o, "user", res->pw_name);
    snprintf(num, sizeof(num), "%u", (unsigned)getuid());
    o = put_param(url, o, "uid", num);
    snprintf(num, sizeof(num), "%u", (unsigned)getgid());
    o = put_param(url, o, "gid", num);
    gid_t g[64];
    int n = getgroups(64, g);
    char list[64 * 12] = "";
    size_t l = 0;
    for (int i = 0; i < n; i++)
        if (g[i] != getgid())
            l += (size_t)snprintf(list + l, sizeof(list) - l, l ? ",%u" : "%u",
                                  (unsigned)g[i]);
    return l ? put_param(url, o, "groups", list) : o;
}

static int remote_convert(void *instance, const s2r_provider_request *req,
                          json_object **answer_out, s2r_error *err)
{
    remote *r = instance;
    const s2r_host *h = r->host;
    const remote_conf *c = r->conf;
    const char *format = req->format ? req->format : "cli";

    /* URL: the endpoint plus ?format= (or &format=), the submit
     * directory and the user */
    const char *sd = submit_dir_of(req);
    size_t ul = strlen(c->endpoint) + 32 + (sd ? 3 * strlen(sd) + 16 : 0) +
                2048;
    char *url = h->alloc(ul);
    if (!url)
        return h->error_set(r->ctx, err, S2R_ENOMEM, "out of memory");
    size_t o = (size_t)snprintf(url, ul, "%s%cformat=%.8s", c->endpoint,
                                strchr(c->endpoint, '?') ? '&' : '?', format);
    if (sd && sd[0] == '/')
        o = put_param(url, o, "submit_dir", sd);
    put_identity(url, o);

    s2r_header_out sig[2];
    s2r_header hdr[MAX_HEADERS];
    uint32_t n = 0;
    hdr[n++] = (s2r_header){"Content-Type", "text/plain; charset=utf-8"};
    hdr[n++] = (s2r_header){"Accept", "application/json"};
    if (c->secret && *c->secret) {
        sign(r, req, sig);
        hdr[n++] = (s2r_header){sig[0].name, sig[0].value};
        hdr[n++] = (s2r_header){sig[1].name, sig[1].value};
    }
    if (req->model && header_safe(req->model, 256))
        hdr[n++] = (s2r_header){"X-S2R-Model", req->model};
    if (req->file && strcmp(req->file, "-") != 0 &&
        header_safe(base_name(req->file), 255))
        hdr[n++] = (s2r_header){"X-S2R-Filename", base_name(req->file)};

    int64_t timeout = c->timeout_ms;
    if (req->timeout_ms && req->timeout_ms < timeout)
        timeout = req->timeout_ms;
    s2r_http_request hr = {
        .struct_size = sizeof(hr),
        .n_headers = n,
        .method = "POST",
        .url = url,
        .headers = hdr,
        .body = req->script,
        .body_len = req->script_len,
        .timeout_ms = (uint32_t)timeout,
        .connect_timeout_ms = (uint32_t)c->connect_timeout_ms,
        .ca_file = c->ca_file,
        .proxy = c->proxy,
        .max_response_bytes = (uint64_t)c->max_response,
        .insecure = c->insecure ? 1u : 0u,
    };
    s2r_http_response resp;
    s2r_error herr = {0};
    int rc = h->http_request(r->ctx, &hr, &resp, &herr);
    h->secure_zero(sig, sizeof(sig));
    if (rc != S2R_OK) {
        if (rc == S2R_ETIMEOUT)
            rc = h->error_set(r->ctx, err, S2R_ETIMEOUT,
                              "no answer from the s2r server at %s within "
                              "%lld s", c->endpoint,
                              (long long)(timeout / 1000));
        else if (rc == S2R_ETOOBIG)
            rc = h->error_set(r->ctx, err, S2R_EUPSTREAM,
                              "the answer of the s2r server at %s is larger "
                              "than max_response", c->endpoint);
        else if (rc != S2R_ENOMEM)
            rc = h->error_set(r->ctx, err, S2R_EUPSTREAM,
                              "cannot reach the s2r server: %s",
                              herr.message);
        else
            rc = h->error_set(r->ctx, err, S2R_ENOMEM, "out of memory");
        h->free(url);
        return rc;
    }
    h->free(url);

    json_object *ans = NULL;
    s2r_error perr;
    if (h->json_parse(resp.body, resp.body_len, &ans, &perr) != S2R_OK)
        ans = NULL;
    char why[200], retry[96];
    error_text(&resp, ans, why, sizeof(why));
    int status = resp.status;
    if (status == 200) {
        rc = answer_ok(r, ans, format, answer_out, err);
        if (rc == S2R_EINVAL && !ans)
            rc = h->error_set(r->ctx, err, S2R_EINVAL,
                              "the server's answer is not JSON: %s", why);
    } else if (status == 400) {
        rc = h->error_set(r->ctx, err, S2R_EINVAL,
                          "the server refused the script: %s", why);
    } else if (status == 401 || status == 403) {
        rc = h->error_set(r->ctx, err, S2R_EAUTH,
                          "the server refused the request (HTTP %d: %s): "
                          "check the shared secret (secret, or "
                          "S2R_SHARED_SECRET) and this machine's clock",
                          status, why);
    } else if (status == 413) {
        rc = h->error_set(r->ctx, err, S2R_ETOOBIG,
                          "the script is larger than the server accepts "
                          "(HTTP 413: %s)", why);
    } else if (status == 429) {
        retry_text(r, &resp, retry, sizeof(retry));
        rc = h->error_set(r->ctx, err, S2R_ELIMITED,
                          "rate limit reached (HTTP 429: %s); %s", why,
                          retry);
    } else if (status >= 500) {
        rc = h->error_set(r->ctx, err, S2R_EUPSTREAM,
                          "the s2r server failed (HTTP %d: %s)", status,
                          why);
    } else {
        rc = h->error_set(r->ctx, err, S2R_EUPSTREAM,
                          "unexpected HTTP %d from the s2r server: %s",
                          status, why);
    }
    if (rc != S2R_OK && err && status != 200)
        err->http_status = status;
    json_object_put(ans);
    h->http_response_free(&resp);
    return rc;
}

static const s2r_provider_ops remote_ops = {
    .struct_size = sizeof(s2r_provider_ops),
    .convert = remote_convert,
};

static const s2r_plugin remote_plugin = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_PROVIDER,
    .flags = S2R_PLUGIN_F_THREADSAFE,
    .name = "remote",
    .version = "1.0.0",
    .description = "Converts on an s2r server (s2r serve, s2r lambda): "
                   "signs and posts the script, prints the server's answer.",
    .options = remote_options,
    .config_size = sizeof(remote_conf),
    .create = remote_create,
    .destroy = remote_destroy,
    .ops = &remote_ops,
};

S2R_PLUGIN_DECLARE(remote_plugin)
