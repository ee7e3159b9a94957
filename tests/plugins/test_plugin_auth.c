/* test_plugin_auth.c: HMAC-SHA256 over "timestamp:body" through the host
 * table (the wire format of the s2r server), for the auth ops round trip. */
#include <s2r/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conf {
    const char *secret;
    int64_t window_ms;
};
struct inst {
    const s2r_host *h;
    const s2r_instance_ctx *ctx;
    const struct conf *c;
};

static const s2r_option opts[] = {
    {"secret", S2R_OPT_STRING, S2R_OPT_F_REQUIRED | S2R_OPT_F_SECRET, NULL, 0,
     0, NULL, S2R_OPT_OFFSET(struct conf, secret), "Shared secret."},
    {"window", S2R_OPT_DURATION, 0, "300s", 1000, 3600000, NULL,
     S2R_OPT_OFFSET(struct conf, window_ms), "Accepted clock skew."},
    S2R_OPTION_END};

static int create(void **o, const s2r_host *h, const s2r_instance_ctx *x,
                  const void *cfg, s2r_error *e)
{
    struct inst *i = h->alloc(sizeof(*i));
    if (!i)
        return h->error_set(x, e, S2R_ENOMEM, "out of memory");
    i->h = h;
    i->ctx = x;
    i->c = cfg;
    *o = i;
    return S2R_OK;
}
static void destroy(void *p)
{
    struct inst *i = p;
    i->h->free(i);
}

static void mac(const struct inst *i, const char *ts, const uint8_t *body,
                size_t len, char hex[65])
{
    size_t tl = strlen(ts);
    uint8_t *msg = i->h->alloc(tl + 1 + len);
    uint8_t out[32];
    memcpy(msg, ts, tl);
    msg[tl] = ':';
    if (len)
        memcpy(msg + tl + 1, body, len);
    i->h->hmac_sha256(i->c->secret, strlen(i->c->secret), msg, tl + 1 + len,
                      out);
    i->h->free(msg);
    i->h->hex_encode(out, 32, hex);
}

static int verify(void *p, const s2r_auth_request *r, s2r_auth_result *out,
                  s2r_error *e)
{
    struct inst *i = p;
    const char *ts = r->header(r->header_payload, "X-S2R-Timestamp");
    const char *sig = r->header(r->header_payload, "X-S2R-Signature");
    if (!ts || !sig)
        return i->h->error_set(i->ctx, e, S2R_EAUTH, "missing signature");
    long long t = atoll(ts);
    long long skew = (long long)r->now_unix_s - t;
    if (skew < 0)
        skew = -skew;
    if (skew * 1000 > i->c->window_ms)
        return i->h->error_set(i->ctx, e, S2R_EAUTH, "stale timestamp");
    char hex[65];
    mac(i, ts, r->body, r->body_len, hex);
    if (strlen(sig) != 64 || !i->h->ct_equal(hex, sig, 64))
        return i->h->error_set(i->ctx, e, S2R_EAUTH,
                               "bad signature (secret %s)", i->c->secret);
    if (out)
        snprintf(out->principal, sizeof(out->principal), "shared");
    return S2R_OK;
}

static int sign(void *p, const s2r_auth_sign_request *r, s2r_header_out *h,
                uint32_t max, uint32_t *n, s2r_error *e)
{
    struct inst *i = p;
    if (max < 2)
        return i->h->error_set(i->ctx, e, S2R_ETOOBIG, "need 2 headers");
    snprintf(h[0].name, sizeof(h[0].name), "X-S2R-Timestamp");
    snprintf(h[0].value, sizeof(h[0].value), "%lld",
             (long long)r->now_unix_s);
    snprintf(h[1].name, sizeof(h[1].name), "X-S2R-Signature");
    mac(i, h[0].value, r->body, r->body_len, h[1].value);
    *n = 2;
    return S2R_OK;
}

static const s2r_auth_ops ops = {
    .struct_size = sizeof(s2r_auth_ops), .verify = verify, .sign = sign};
static const s2r_plugin plugin = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_AUTH,
    .flags = S2R_PLUGIN_F_THREADSAFE,
    .name = "test-auth",
    .version = "1.0.0",
    .description = "Test HMAC auth.",
    .options = opts,
    .config_size = sizeof(struct conf),
    .create = create,
    .destroy = destroy,
    .ops = &ops};
S2R_PLUGIN_DECLARE(plugin)
