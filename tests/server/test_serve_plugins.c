/* test_serve_plugins.c: auth-hmac and ratelimit-sqlite, the real .so files
 * loaded through the registry from INI text, with the real host table.
 *
 * auth-hmac: sign/verify round trip, the original client's fractional
 * timestamps, forged and modified requests, the +/-300 s window, replays
 * (also racing from 16 threads), malformed headers, secrets from env: and
 * file:, a full replay cache, no secret in any message.
 * ratelimit-sqlite: N per key per UTC day, Retry-After to midnight, keys
 * and days apart, exactly N of 64 concurrent checks on one instance, on
 * two instances sharing the file, and in two processes; pruning; limit 0;
 * an unusable path refused at start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "plugin/host.h"
#include "plugin/registry.h"

#define SECRET "t0p-s3cret-value-for-tests"

extern const s2r_plugin s2r_rules_plugin __attribute__((weak));

static char tmpdir[256];

/* ------------------------------------------------------------------ */
/* fixtures                                                            */
/* ------------------------------------------------------------------ */

typedef struct fx {
    s2r_ini ini;
    s2r_registry *reg;
    s2r_diags diags;
} fx;

static int fx_open(fx *f, const char *text)
{
    memset(f, 0, sizeof(*f));
    int rc = s2r_ini_read_string(&f->ini, "test.ini", text, &f->diags);
    if (rc != S2R_OK)
        return rc;
    s2r_registry_options o = S2R_REGISTRY_OPTIONS_INIT;
    o.ini = &f->ini;
    rc = s2r_registry_open(&f->reg, &o, &f->diags);
    return rc;
}

static void fx_close(fx *f)
{
    s2r_registry_close(f->reg);
    s2r_ini_free(&f->ini);
    s2r_diags_clear(&f->diags);
}

static void print_diags(const fx *f)
{
    for (size_t i = 0; i < f->diags.n; i++)
        fprintf(stderr, "  %s\n", f->diags.v[i].message);
}

static int group_setup(void **state)
{
    (void)state;
    setenv("S2R_TEST_SECRET", SECRET, 1);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/serve-plugins-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Headers of one request, looked up case-insensitively. */
typedef struct hdrs {
    const char *name[4];
    const char *value[4];
    int n;
} hdrs;

static const char *hdr_lookup(void *payload, const char *name)
{
    hdrs *h = payload;
    for (int i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

static s2r_auth_request auth_req(hdrs *h, const char *body, int64_t now)
{
    s2r_auth_request r = {.struct_size = sizeof(r),
                          .method = "POST",
                          .path = "/",
                          .query = "",
                          .header = hdr_lookup,
                          .header_payload = h,
                          .body = (const uint8_t *)body,
                          .body_len = strlen(body),
                          .client_ip = "127.0.0.1",
                          .now_unix_s = now};
    return r;
}

/* The wire protocol's signature, computed here with the host's HMAC. */
static void py_sign(const char *secret, const char *ts, const char *body,
                    char hex[65])
{
    char msg[4096];
    int n = snprintf(msg, sizeof(msg), "%s:%s", ts, body);
    assert_true(n > 0 && (size_t)n < sizeof(msg));
    uint8_t mac[32];
    s2r_host_table()->hmac_sha256(secret, strlen(secret), msg, strlen(msg),
                                  mac);
    s2r_host_table()->hex_encode(mac, 32, hex);
}

/* "SECONDS" or, with @p frac, "SECONDS.FRAC" into @p ts (@p cap bytes),
 * and its signature of @p body (lower-case hex) into @p sig. */
static void sign_at(char *ts, size_t cap, char sig[65], const char *body,
                    int64_t sec, const char *frac)
{
    if (frac)
        snprintf(ts, cap, "%lld.%s", (long long)sec, frac);
    else
        snprintf(ts, cap, "%lld", (long long)sec);
    py_sign(SECRET, ts, body, sig);
}

static int verify(fx *f, const char *ts, const char *sig, const char *body,
                  int64_t now, s2r_error *err)
{
    hdrs h = {{"X-S2R-Timestamp", "X-S2R-Signature"}, {ts, sig}, 2};
    if (!ts)
        h.n = 0;
    else if (!sig)
        h.n = 1;
    s2r_auth_request r = auth_req(&h, body, now);
    s2r_auth_result out = {.struct_size = sizeof(out)};
    memset(err, 0, sizeof(*err));
    return s2r_registry_auth_verify(f->reg, "hmac", &r, &out, err);
}

#define AUTH_INI                                                         \
    "[auth.hmac]\nplugin = auth-hmac\nsecret = env:S2R_TEST_SECRET\n"

#define assert_has(hay, needle)                                          \
    do {                                                                 \
        if (!strstr((hay), (needle)))                                    \
            fail_msg("'%s' not found in: %s", (needle), (hay));          \
    } while (0)

/* ------------------------------------------------------------------ */
/* auth-hmac                                                           */
/* ------------------------------------------------------------------ */

static void test_auth_hmac__sign_then_verify(void **state)
{
    (void)state;
    fx f;
    if (fx_open(&f, AUTH_INI) != S2R_OK)
        print_diags(&f);
    assert_non_null(f.reg);
    const char *body = "#!/bin/bash\n#SBATCH -N 1\nhostname\n";
    int64_t now = time(NULL);
    s2r_auth_sign_request sr = {.struct_size = sizeof(sr),
                                .method = "POST",
                                .path = "/",
                                .body = (const uint8_t *)body,
                                .body_len = strlen(body),
                                .now_unix_s = now};
    s2r_header_out out[4];
    uint32_t n = 0;
    s2r_error err = {0};
    assert_int_equal(s2r_registry_auth_sign(f.reg, "hmac", &sr, out, 4, &n,
                                            &err),
                     S2R_OK);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].name, "X-S2R-Timestamp");
    assert_string_equal(out[1].name, "X-S2R-Signature");
    assert_int_equal(strlen(out[1].value), 64);
    /* the same signature as an independent computation */
    char hex[65];
    py_sign(SECRET, out[0].value, body, hex);
    assert_string_equal(hex, out[1].value);
    assert_int_equal(verify(&f, out[0].value, out[1].value, body, now, &err),
                     S2R_OK);
    /* two signatures of the same body in the same second differ */
    s2r_header_out again[2];
    assert_int_equal(s2r_registry_auth_sign(f.reg, "hmac", &sr, again, 2, &n,
                                            &err),
                     S2R_OK);
    assert_string_not_equal(again[1].value, out[1].value);
    assert_int_equal(verify(&f, again[0].value, again[1].value, body, now,
                            &err),
                     S2R_OK);
    /* room for one header only */
    assert_int_equal(s2r_registry_auth_sign(f.reg, "hmac", &sr, out, 1, &n,
                                            &err),
                     S2R_ETOOBIG);
    fx_close(&f);
}

static void test_auth_hmac__original_client_timestamps(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_open(&f, AUTH_INI), S2R_OK);
    const char *body = "echo hi\n";
    int64_t now = time(NULL);
    char ts[64], sig[65];
    s2r_error err;
    /* str(time.time()) of the original Python client */
    sign_at(ts, sizeof(ts), sig, body, now, "1234567");
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_OK);
    /* whole seconds */
    sign_at(ts, sizeof(ts), sig, body, now, NULL);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_OK);
    /* upper-case hex is the same signature */
    sign_at(ts, sizeof(ts), sig, body, now, "5");
    for (char *p = sig; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_OK);
    fx_close(&f);
}

static void test_auth_hmac__forged_and_modified(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_open(&f, AUTH_INI), S2R_OK);
    const char *body = "#!/bin/bash\nhostname\n";
    int64_t now = time(NULL);
    char ts[64], sig[65];
    s2r_error err;
    snprintf(ts, sizeof(ts), "%lld.000001", (long long)now);
    /* another secret */
    py_sign("not-the-secret", ts, body, sig);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_EAUTH);
    assert_has(err.message, "bad signature");
    /* one digit changed */
    py_sign(SECRET, ts, body, sig);
    sig[10] = sig[10] == '0' ? '1' : '0';
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_EAUTH);
    /* the body changed after signing */
    py_sign(SECRET, ts, body, sig);
    assert_int_equal(verify(&f, ts, sig, "#!/bin/bash\nrm -rf /\n", now,
                            &err),
                     S2R_EAUTH);
    /* the timestamp changed after signing */
    char ts2[64];
    snprintf(ts2, sizeof(ts2), "%lld.000002", (long long)now);
    assert_int_equal(verify(&f, ts2, sig, body, now, &err), S2R_EAUTH);
    assert_null(strstr(err.message, SECRET));
    fx_close(&f);
}

static void test_auth_hmac__window(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_open(&f, AUTH_INI), S2R_OK);
    const char *body = "hostname\n";
    int64_t now = 1800000000;
    char ts[64], sig[65];
    s2r_error err;
    static const struct {
        int64_t delta;
        int ok;
    } cases[] = {{-301, 0}, {-300, 1}, {-299, 1}, {0, 1},
                 {299, 1},  {300, 1},  {301, 0},  {-86400, 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sign_at(ts, sizeof(ts), sig, body, now + cases[i].delta, NULL);
        int rc = verify(&f, ts, sig, body, now, &err);
        if (cases[i].ok)
            assert_int_equal(rc, S2R_OK);
        else {
            assert_int_equal(rc, S2R_EAUTH);
            assert_has(err.message, "expired timestamp");
        }
    }
    /* 300.5 s old is outside too */
    sign_at(ts, sizeof(ts), sig, body, now - 301, "5");
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_EAUTH);
    fx_close(&f);

    /* a narrower window from the INI */
    assert_int_equal(fx_open(&f, AUTH_INI "window = 10s\n"), S2R_OK);
    sign_at(ts, sizeof(ts), sig, body, now - 11, NULL);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_EAUTH);
    sign_at(ts, sizeof(ts), sig, body, now - 9, NULL);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_OK);
    fx_close(&f);
}

/* verify() at a server clock of @p now_ms milliseconds (ABI 1.1). */
static int verify_ms(fx *f, const char *ts, const char *body, int64_t now_ms,
                     s2r_error *err)
{
    char sig[65];
    py_sign(SECRET, ts, body, sig);
    hdrs h = {{"X-S2R-Timestamp", "X-S2R-Signature"}, {ts, sig}, 2};
    s2r_auth_request r = auth_req(&h, body, now_ms / 1000);
    r.now_ms = now_ms;
    s2r_auth_result out = {.struct_size = sizeof(out)};
    memset(err, 0, sizeof(*err));
    return s2r_registry_auth_verify(f->reg, "hmac", &r, &out, err);
}

/* The window is measured in milliseconds on both sides: a server clock
 * half a second into its second accepts exactly +/- 300.000 s around
 * it, where a whole-second clock moved the window by up to 1 s. */
static void test_auth_hmac__window_milliseconds(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_open(&f, AUTH_INI), S2R_OK);
    const char *body = "hostname\n";
    const int64_t now_ms = INT64_C(1800000000500);
    static const struct {
        const char *ts;
        int ok;
    } cases[] = {
        {"1799999700.499", 0}, /* 300.001 s old */
        {"1799999700.5", 1},   /* 300.000 s old */
        {"1799999700.500001", 1},
        {"1800000000", 1},
        {"1800000300.5", 1},   /* 300.000 s ahead */
        {"1800000300.501", 0}, /* 300.001 s ahead */
        {"1799999700", 0},     /* 300.5 s old: a whole-second clock
                                  let it in, and refused .5 s ahead */
    };
    s2r_error err;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = verify_ms(&f, cases[i].ts, body, now_ms, &err);
        if (cases[i].ok) {
            if (rc != S2R_OK)
                fail_msg("%s refused: %s", cases[i].ts, err.message);
        } else {
            assert_int_equal(rc, S2R_EAUTH);
            assert_has(err.message, "expired timestamp");
        }
    }
    /* the request of an ABI 1.0 core has no now_ms: its whole seconds
     * are the clock (whatever lies past its struct_size is not read) */
    char sig[65];
    const char *ts = "1800000300.5";
    py_sign(SECRET, ts, body, sig);
    hdrs h = {{"X-S2R-Timestamp", "X-S2R-Signature"}, {ts, sig}, 2};
    s2r_auth_request r = auth_req(&h, body, now_ms / 1000);
    r.struct_size = (uint32_t)offsetof(s2r_auth_request, now_ms);
    r.now_ms = now_ms;
    s2r_auth_result out = {.struct_size = sizeof(out)};
    assert_int_equal(s2r_registry_auth_verify(f.reg, "hmac", &r, &out, &err),
                     S2R_EAUTH);
    assert_has(err.message, "expired timestamp");
    fx_close(&f);
}

static void test_auth_hmac__replay(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_open(&f, AUTH_INI), S2R_OK);
    const char *body = "hostname\n";
    int64_t now = time(NULL);
    char ts[64], sig[65];
    s2r_error err;
    sign_at(ts, sizeof(ts), sig, body, now, "424242");
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_OK);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_EAUTH);
    assert_has(err.message, "replayed");
    assert_int_equal(verify(&f, ts, sig, body, now + 200, &err), S2R_EAUTH);
    assert_has(err.message, "replayed");
    /* once the window is over, the timestamp refuses it */
    assert_int_equal(verify(&f, ts, sig, body, now + 400, &err), S2R_EAUTH);
    assert_has(err.message, "expired");
    /* a forged request is not remembered: the real one still passes */
    snprintf(ts, sizeof(ts), "%lld.777", (long long)now);
    py_sign("wrong", ts, body, sig);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_EAUTH);
    py_sign(SECRET, ts, body, sig);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_OK);
    fx_close(&f);

    /* replay_check = false accepts the same request twice */
    assert_int_equal(fx_open(&f, AUTH_INI "replay_check = false\n"), S2R_OK);
    sign_at(ts, sizeof(ts), sig, body, now, NULL);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_OK);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_OK);
    fx_close(&f);
}

/* forget() (ABI 1.1): a request refused with a retryable answer is new
 * again; what was not forgotten stays a replay. */
static void test_auth_hmac__forget(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_open(&f, AUTH_INI), S2R_OK);
    const char *body = "hostname\n";
    int64_t now = time(NULL);
    char ts[64], sig[65];
    s2r_error err;
    sign_at(ts, sizeof(ts), sig, body, now, "515151");
    hdrs h = {{"X-S2R-Timestamp", "X-S2R-Signature"}, {ts, sig}, 2};
    s2r_auth_request r = auth_req(&h, body, now);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_OK);
    s2r_registry_auth_forget(f.reg, "hmac", &r);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_OK);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_EAUTH);
    assert_has(err.message, "replayed");
    /* forgetting one signature leaves the others remembered */
    char ts2[64], sig2[65];
    sign_at(ts2, sizeof(ts2), sig2, body, now, "616161");
    assert_int_equal(verify(&f, ts2, sig2, body, now, &err), S2R_OK);
    s2r_registry_auth_forget(f.reg, "hmac", &r);
    assert_int_equal(verify(&f, ts2, sig2, body, now, &err), S2R_EAUTH);
    /* a header that is no signature, or none, is ignored */
    hdrs bad = {{"X-S2R-Signature"}, {"zz"}, 1};
    s2r_auth_request rb = auth_req(&bad, body, now);
    s2r_registry_auth_forget(f.reg, "hmac", &rb);
    hdrs none = {{NULL}, {NULL}, 0};
    s2r_auth_request rn = auth_req(&none, body, now);
    s2r_registry_auth_forget(f.reg, "hmac", &rn);
    s2r_registry_auth_forget(f.reg, "no-such-instance", &r);
    fx_close(&f);
}

/* An auth plugin built against ABI 1.0 has an ops struct without forget:
 * the core never reads past its struct_size. */
static int forgets_seen;
static int old_create(void **o, const s2r_host *h, const s2r_instance_ctx *x,
                      const void *cfg, s2r_error *e)
{
    (void)h, (void)x, (void)cfg, (void)e;
    *o = NULL;
    return S2R_OK;
}
static void old_destroy(void *p)
{
    (void)p;
}
static int old_verify(void *p, const s2r_auth_request *r, s2r_auth_result *out,
                      s2r_error *e)
{
    (void)p, (void)r, (void)out, (void)e;
    return S2R_OK;
}
static void old_forget(void *p, const s2r_auth_request *r)
{
    (void)p, (void)r;
    forgets_seen++;
}
static const s2r_auth_ops old_ops = {
    .struct_size = (uint32_t)offsetof(s2r_auth_ops, forget),
    .verify = old_verify,
    .forget = old_forget}; /* past struct_size: never called */
static const s2r_auth_ops new_ops = {.struct_size = sizeof(s2r_auth_ops),
                                     .verify = old_verify,
                                     .forget = old_forget};
static const s2r_plugin old_auth = {
    .abi = (uint32_t)(S2R_PLUGIN_ABI_MAJOR << 16),
    .struct_size = (uint32_t)S2R_PLUGIN_SIZE_V1_0,
    .kind = S2R_KIND_AUTH, .name = "test-auth-v1-0", .version = "1",
    .create = old_create, .destroy = old_destroy, .ops = &old_ops};
static const s2r_plugin new_auth = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_AUTH, .name = "test-auth-v1-1", .version = "1",
    .create = old_create, .destroy = old_destroy, .ops = &new_ops};

static void test_auth__forget_only_within_struct_size(void **state)
{
    (void)state;
    fx f;
    memset(&f, 0, sizeof(f));
    assert_int_equal(s2r_ini_read_string(&f.ini, "test.ini",
                                         "[auth.old]\nplugin = test-auth-v1-0\n"
                                         "[auth.new]\nplugin = test-auth-v1-1\n",
                                         &f.diags),
                     S2R_OK);
    const s2r_plugin *builtins[] = {&old_auth, &new_auth, NULL};
    s2r_registry_options o = S2R_REGISTRY_OPTIONS_INIT;
    o.ini = &f.ini;
    o.builtins = builtins;
    int rc = s2r_registry_open(&f.reg, &o, &f.diags);
    if (rc != S2R_OK)
        print_diags(&f);
    assert_int_equal(rc, S2R_OK);
    hdrs none = {{NULL}, {NULL}, 0};
    s2r_auth_request r = auth_req(&none, "", 1);
    forgets_seen = 0;
    s2r_registry_auth_forget(f.reg, "old", &r);
    assert_int_equal(forgets_seen, 0);
    s2r_registry_auth_forget(f.reg, "new", &r);
    assert_int_equal(forgets_seen, 1);
    fx_close(&f);
}

typedef struct race {
    fx *f;
    const char *ts, *sig, *body;
    int64_t now;
    int ok;
} race;

static void *race_verify(void *arg)
{
    race *r = arg;
    s2r_error err;
    r->ok = verify(r->f, r->ts, r->sig, r->body, r->now, &err) == S2R_OK;
    return NULL;
}

static void test_auth_hmac__replay_race_across_threads(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_open(&f, AUTH_INI), S2R_OK);
    const char *body = "hostname\n";
    int64_t now = time(NULL);
    char ts[64], sig[65];
    sign_at(ts, sizeof(ts), sig, body, now, "5");
    enum { N = 16 };
    pthread_t t[N];
    race r[N];
    for (int i = 0; i < N; i++) {
        r[i] = (race){&f, ts, sig, body, now, 0};
        assert_int_equal(pthread_create(&t[i], NULL, race_verify, &r[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ok += r[i].ok;
    }
    assert_int_equal(ok, 1);
    fx_close(&f);
}

static void test_auth_hmac__malformed_headers(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_open(&f, AUTH_INI), S2R_OK);
    const char *body = "hostname\n";
    int64_t now = time(NULL);
    s2r_error err;
    char good[65];
    char nowts[32];
    sign_at(nowts, sizeof(nowts), good, body, now, NULL);
    assert_int_equal(verify(&f, NULL, NULL, body, now, &err), S2R_EAUTH);
    assert_has(err.message, "missing X-S2R-Timestamp");
    assert_int_equal(verify(&f, nowts, NULL, body, now, &err), S2R_EAUTH);
    assert_has(err.message, "missing X-S2R-Signature");
    static const char *const bad_ts[] = {"abc", "1e9", "-5", "123.",
                                         ".5", "12 34", "0x10",
                                         "1234567890123", "1.1234567890"};
    for (size_t i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++) {
        assert_int_equal(verify(&f, bad_ts[i], good, body, now, &err),
                         S2R_EAUTH);
        assert_has(err.message, "malformed X-S2R-Timestamp");
    }
    char shortsig[64];
    memcpy(shortsig, good, 63);
    shortsig[63] = '\0';
    assert_int_equal(verify(&f, nowts, shortsig, body, now, &err), S2R_EAUTH);
    assert_has(err.message, "malformed X-S2R-Signature");
    char nothex[65];
    memcpy(nothex, good, 65);
    nothex[5] = 'g';
    assert_int_equal(verify(&f, nowts, nothex, body, now, &err), S2R_EAUTH);
    assert_has(err.message, "malformed X-S2R-Signature");
    fx_close(&f);
}

static void test_auth_hmac__secret_sources(void **state)
{
    (void)state;
    char path[320], text[512];
    snprintf(path, sizeof(path), "%s/secret.txt", tmpdir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "%s\n", "from-a-file");
    fclose(fp);
    snprintf(text, sizeof(text),
             "[auth.hmac]\nplugin = auth-hmac\nsecret = file:%s\n", path);
    fx f;
    assert_int_equal(fx_open(&f, text), S2R_OK);
    const char *body = "x";
    int64_t now = time(NULL);
    char ts[32], sig[65];
    s2r_error err;
    snprintf(ts, sizeof(ts), "%lld", (long long)now);
    py_sign("from-a-file", ts, body, sig);
    assert_int_equal(verify(&f, ts, sig, body, now, &err), S2R_OK);
    fx_close(&f);

    /* an unset variable and a missing key are start-up errors */
    fx g;
    assert_int_not_equal(fx_open(&g, "[auth.hmac]\nplugin = auth-hmac\n"
                                      "secret = env:S2R_NOT_SET_ANYWHERE\n"),
                         S2R_OK);
    fx_close(&g);
    assert_int_not_equal(fx_open(&g, "[auth.hmac]\nplugin = auth-hmac\n"),
                         S2R_OK);
    fx_close(&g);
}

static void test_auth_hmac__replay_cache_full(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_open(&f, AUTH_INI "replay_cache_max = 3\n"), S2R_OK);
    const char *body = "x";
    int64_t now = time(NULL);
    s2r_error err;
    for (int i = 0; i < 4; i++) {
        char ts[48], sig[65];
        snprintf(ts, sizeof(ts), "%lld.%d", (long long)now, i + 1);
        py_sign(SECRET, ts, body, sig);
        int rc = verify(&f, ts, sig, body, now, &err);
        assert_int_equal(rc, i < 3 ? S2R_OK : S2R_EUPSTREAM);
    }
    assert_has(err.message, "replay cache full");
    /* once the first ones expire there is room again */
    char ts[48], sig[65];
    sign_at(ts, sizeof(ts), sig, body, now + 700, "9");
    assert_int_equal(verify(&f, ts, sig, body, now + 700, &err), S2R_OK);
    fx_close(&f);
}

/* ------------------------------------------------------------------ */
/* ratelimit-sqlite                                                    */
/* ------------------------------------------------------------------ */

static void rl_ini(char *buf, size_t cap, const char *db, int limit,
                   const char *extra)
{
    snprintf(buf, cap,
             "[ratelimit.daily]\nplugin = ratelimit-sqlite\npath = %s/%s\n"
             "limit = %d\nbusy_timeout = 10s\n%s",
             tmpdir, db, limit, extra ? extra : "");
}

static int rl_check(fx *f, const char *key, int64_t now,
                    s2r_ratelimit_result *out)
{
    s2r_error err = {0};
    memset(out, 0, sizeof(*out));
    out->struct_size = sizeof(*out);
    int rc = s2r_registry_ratelimit_check(f->reg, "daily", key, now, out,
                                          &err);
    if (rc != S2R_OK)
        fprintf(stderr, "check: %s\n", err.message);
    return rc;
}

static void test_ratelimit_sqlite__limit_per_key_per_day(void **state)
{
    (void)state;
    char text[600];
    rl_ini(text, sizeof(text), "basic.db", 3, NULL);
    fx f;
    if (fx_open(&f, text) != S2R_OK)
        print_diags(&f);
    assert_non_null(f.reg);
    int64_t day = 20000, now = day * 86400 + 3600; /* 01:00 UTC */
    s2r_ratelimit_result r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rl_check(&f, "10.0.0.1", now + i, &r), S2R_OK);
        assert_int_equal(r.allowed, 1);
        assert_int_equal(r.limit, 3);
        assert_int_equal(r.remaining, 2 - i);
        assert_int_equal(r.retry_after_s, 0);
    }
    assert_int_equal(rl_check(&f, "10.0.0.1", now, &r), S2R_OK);
    assert_int_equal(r.allowed, 0);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after_s, 23 * 3600); /* to midnight UTC */
    /* another client is counted apart */
    assert_int_equal(rl_check(&f, "10.0.0.2", now, &r), S2R_OK);
    assert_int_equal(r.allowed, 1);
    /* the next UTC day starts again */
    assert_int_equal(rl_check(&f, "10.0.0.1", (day + 1) * 86400, &r), S2R_OK);
    assert_int_equal(r.allowed, 1);
    assert_int_equal(r.remaining, 2);
    /* refusals did not count: still 3 a day */
    fx_close(&f);

    /* a second instance over the same file sees the same counts */
    assert_int_equal(fx_open(&f, text), S2R_OK);
    assert_int_equal(rl_check(&f, "10.0.0.1", now, &r), S2R_OK);
    assert_int_equal(r.allowed, 0);
    fx_close(&f);
}

static void test_ratelimit_sqlite__limit_zero_refuses(void **state)
{
    (void)state;
    char text[600];
    rl_ini(text, sizeof(text), "zero.db", 0, NULL);
    fx f;
    assert_int_equal(fx_open(&f, text), S2R_OK);
    s2r_ratelimit_result r;
    assert_int_equal(rl_check(&f, "10.0.0.1", 86400 * 5, &r), S2R_OK);
    assert_int_equal(r.allowed, 0);
    assert_int_equal(r.retry_after_s, 86400);
    fx_close(&f);
}

static void test_ratelimit_sqlite__prunes_old_days(void **state)
{
    (void)state;
    char text[600], path[320];
    rl_ini(text, sizeof(text), "prune.db", 5, "keep_days = 2\n");
    snprintf(path, sizeof(path), "%s/prune.db", tmpdir);
    fx f;
    assert_int_equal(fx_open(&f, text), S2R_OK);
    s2r_ratelimit_result r;
    int64_t day = 20100;
    assert_int_equal(rl_check(&f, "a", (day - 5) * 86400, &r), S2R_OK);
    assert_int_equal(rl_check(&f, "b", (day - 1) * 86400, &r), S2R_OK);
    assert_int_equal(rl_check(&f, "c", day * 86400 + 10, &r), S2R_OK);
    fx_close(&f);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(client, '') FROM "
                                        "(SELECT client FROM s2r_ratelimit "
                                        "ORDER BY client)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    /* day-5 is gone, yesterday and today are kept */
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "bc");
    sqlite3_finalize(st);
    /* the journal is WAL */
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

typedef struct hammer {
    fx *f;
    int64_t now;
    int allowed;
    int failed;
} hammer;

static void *hammer_once(void *arg)
{
    hammer *h = arg;
    s2r_ratelimit_result r;
    if (rl_check(h->f, "192.0.2.7", h->now, &r) != S2R_OK)
        h->failed = 1;
    else
        h->allowed = r.allowed;
    return NULL;
}

/* 64 threads, each one check, over @p nf instances; returns admitted. */
static int hammer64(fx *fs, int nf, int64_t now)
{
    enum { N = 64 };
    pthread_t t[N];
    hammer h[N];
    for (int i = 0; i < N; i++) {
        h[i] = (hammer){&fs[i % nf], now, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, hammer_once, &h[i]), 0);
    }
    int allowed = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(h[i].failed, 0);
        allowed += h[i].allowed;
    }
    return allowed;
}

static void test_ratelimit_sqlite__exactly_n_of_64_threads(void **state)
{
    (void)state;
    char text[600];
    rl_ini(text, sizeof(text), "threads.db", 10, NULL);
    fx f;
    assert_int_equal(fx_open(&f, text), S2R_OK);
    assert_int_equal(hammer64(&f, 1, 86400 * 30 + 5), 10);
    fx_close(&f);
}

static void test_ratelimit_sqlite__exactly_n_two_instances(void **state)
{
    (void)state;
    char text[600];
    rl_ini(text, sizeof(text), "two.db", 17, "checkpoint_interval = 0\n");
    fx f[2];
    assert_int_equal(fx_open(&f[0], text), S2R_OK);
    assert_int_equal(fx_open(&f[1], text), S2R_OK);
    assert_int_equal(hammer64(f, 2, 86400 * 31 + 5), 17);
    fx_close(&f[0]);
    fx_close(&f[1]);
}

static void test_ratelimit_sqlite__exactly_n_two_processes(void **state)
{
    (void)state;
    char text[600];
    rl_ini(text, sizeof(text), "procs.db", 23, NULL);
    /* create the file first so both children find the schema */
    fx f;
    assert_int_equal(fx_open(&f, text), S2R_OK);
    fx_close(&f);
    int fds[2][2];
    pid_t pid[2];
    for (int p = 0; p < 2; p++) {
        assert_int_equal(pipe(fds[p]), 0);
        pid[p] = fork();
        assert_true(pid[p] >= 0);
        if (pid[p] == 0) {
            close(fds[p][0]);
            fx c;
            int allowed = -1;
            if (fx_open(&c, text) == S2R_OK) {
                /* 32 threads in each process */
                enum { N = 32 };
                pthread_t t[N];
                hammer h[N];
                for (int i = 0; i < N; i++) {
                    h[i] = (hammer){&c, 86400 * 32 + 5, 0, 0};
                    pthread_create(&t[i], NULL, hammer_once, &h[i]);
                }
                allowed = 0;
                for (int i = 0; i < N; i++) {
                    pthread_join(t[i], NULL);
                    allowed += h[i].failed ? 1000 : h[i].allowed;
                }
                fx_close(&c);
            }
            if (write(fds[p][1], &allowed, sizeof(allowed)) !=
                (ssize_t)sizeof(allowed))
                _exit(2);
            _exit(0);
        }
        close(fds[p][1]);
    }
    int total = 0;
    for (int p = 0; p < 2; p++) {
        int allowed = -1, status = 0;
        assert_int_equal(read(fds[p][0], &allowed, sizeof(allowed)),
                         (ssize_t)sizeof(allowed));
        close(fds[p][0]);
        assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_true(allowed >= 0 && allowed <= 32);
        total += allowed;
    }
    assert_int_equal(total, 23);
}

static void test_ratelimit_sqlite__unusable_path(void **state)
{
    (void)state;
    fx f;
    int rc = fx_open(&f, "[ratelimit.daily]\nplugin = ratelimit-sqlite\n"
                         "path = /nonexistent-dir/x/rl.db\n");
    assert_int_not_equal(rc, S2R_OK);
    int named = 0;
    for (size_t i = 0; i < f.diags.n; i++)
        named |= strstr(f.diags.v[i].message, "/nonexistent-dir") != NULL;
    assert_true(named);
    fx_close(&f);
    /* a missing path key */
    rc = fx_open(&f, "[ratelimit.daily]\nplugin = ratelimit-sqlite\n");
    assert_int_not_equal(rc, S2R_OK);
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_hmac__sign_then_verify),
        cmocka_unit_test(test_auth_hmac__original_client_timestamps),
        cmocka_unit_test(test_auth_hmac__forged_and_modified),
        cmocka_unit_test(test_auth_hmac__window),
        cmocka_unit_test(test_auth_hmac__window_milliseconds),
        cmocka_unit_test(test_auth_hmac__forget),
        cmocka_unit_test(test_auth__forget_only_within_struct_size),
        cmocka_unit_test(test_auth_hmac__replay),
        cmocka_unit_test(test_auth_hmac__replay_race_across_threads),
        cmocka_unit_test(test_auth_hmac__malformed_headers),
        cmocka_unit_test(test_auth_hmac__secret_sources),
        cmocka_unit_test(test_auth_hmac__replay_cache_full),
        cmocka_unit_test(test_ratelimit_sqlite__limit_per_key_per_day),
        cmocka_unit_test(test_ratelimit_sqlite__limit_zero_refuses),
        cmocka_unit_test(test_ratelimit_sqlite__prunes_old_days),
        cmocka_unit_test(test_ratelimit_sqlite__exactly_n_of_64_threads),
        cmocka_unit_test(test_ratelimit_sqlite__exactly_n_two_instances),
        cmocka_unit_test(test_ratelimit_sqlite__exactly_n_two_processes),
        cmocka_unit_test(test_ratelimit_sqlite__unusable_path),
    };
    return cmocka_run_group_tests_name("serve_plugins", tests, group_setup,
                                       group_teardown);
}
