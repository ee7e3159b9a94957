/* test_serve_limits.c: what the two server plugins hold under load, the
 * real .so files through the registry, real SQLite files.
 *
 * ratelimit-sqlite: the write-ahead log stays a few MB after 100,000
 * checks, one transaction each (it used to grow by a page per check, for
 * ever); reservations (a client with ample quota counted several
 * requests at a time): the exact count and X-RateLimit-Remaining in one
 * process, the unused requests given back when the instance closes,
 * exactly `limit` passing through two instances that share the file.
 * auth-hmac: the replay cache at its memory cap refuses new signatures
 * (503) and still refuses replays, and takes new ones again once old
 * ones expire; a window's worth of signatures at the default cap.
 *
 * No timing: sizes and counts only.
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
#include <sys/stat.h>
#include <time.h>

#include "config/config.h"
#include "plugin/host.h"
#include "plugin/registry.h"

#define SECRET "limits-s3cret-for-tests"

static char tmpdir[256];

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
    for (size_t i = 0; rc != S2R_OK && i < f->diags.n; i++)
        fprintf(stderr, "  %s\n", f->diags.v[i].message);
    return rc;
}

static void fx_close(fx *f)
{
    s2r_registry_close(f->reg);
    s2r_ini_free(&f->ini);
    s2r_diags_clear(&f->diags);
}

static int group_setup(void **state)
{
    (void)state;
    setenv("S2R_TEST_SECRET", SECRET, 1);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/serve-limits-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* ratelimit-sqlite                                                    */
/* ------------------------------------------------------------------ */

static void rl_text(char *buf, size_t cap, const char *db, long long limit,
                    const char *extra)
{
    snprintf(buf, cap,
             "[ratelimit.daily]\nplugin = ratelimit-sqlite\npath = %s/%s\n"
             "limit = %lld\nbusy_timeout = 10s\n%s",
             tmpdir, db, limit, extra ? extra : "");
}

static int check(fx *f, const char *key, int64_t now,
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

static long long file_size(const char *db, const char *suffix)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s%s", tmpdir, db, suffix);
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* The count of @p key on @p day, read with a connection of our own. */
static long long db_count(const char *db, const char *key, int64_t day)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, db);
    sqlite3 *h;
    sqlite3_stmt *st;
    long long n = -1;
    if (sqlite3_open(path, &h) == SQLITE_OK &&
        sqlite3_prepare_v2(h,
                           "SELECT count FROM s2r_ratelimit WHERE client = ?1"
                           " AND day = ?2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, day);
        n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

typedef struct worker_arg {
    fx *f;
    int first, count;
    int64_t now;
    int failed;
    int refused;
    int done; /* atomic */
} worker_arg;

/* Checks for 2,000 clients in turn (50 each, under the limit of 100:
 * one transaction per check, no reservation). */
static void *many_clients(void *arg)
{
    worker_arg *w = arg;
    for (int i = w->first; i < w->first + w->count; i++) {
        char key[32];
        snprintf(key, sizeof(key), "10.%d.%d.%d", (i % 2000) / 250,
                 (i % 250), i % 7);
        s2r_ratelimit_result r;
        if (check(w->f, key, w->now, &r) != S2R_OK)
            w->failed++;
        else if (!r.allowed)
            w->refused++;
    }
    __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_ratelimit_sqlite__log_stays_small(void **state)
{
    (void)state;
    char text[600];
    rl_text(text, sizeof(text), "wal.db", 100, NULL);
    fx f;
    assert_int_equal(fx_open(&f, text), S2R_OK);
    /* 100,000 checks from 2 threads, as two server workers */
    worker_arg w[2] = {{&f, 0, 50000, 86400 * 40 + 7, 0, 0, 0},
                       {&f, 50000, 50000, 86400 * 40 + 7, 0, 0, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, many_clients, &w[i]), 0);
    /* the largest the log gets while they run, looked at now and then */
    long long largest = 0;
    while (__atomic_load_n(&w[0].done, __ATOMIC_SEQ_CST) +
               __atomic_load_n(&w[1].done, __ATOMIC_SEQ_CST) < 2) {
        long long n = file_size("wal.db", "-wal");
        largest = n > largest ? n : largest;
        struct timespec ts = {0, 2 * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(w[0].failed + w[1].failed, 0);
    assert_int_equal(w[0].refused + w[1].refused, 0);
    /* each check wrote a page (4 KiB): unfolded, the log would be
     * about 400 MB now */
    fprintf(stderr, "  log during 100,000 transactions: %lld bytes at most, "
                    "%lld at the end\n", largest,
            file_size("wal.db", "-wal"));
    assert_true(largest < 6 * 1024 * 1024);
    fx_close(&f);
}

static void test_ratelimit_sqlite__reservation_counts(void **state)
{
    (void)state;
    char text[600];
    rl_text(text, sizeof(text), "reserve.db", 1000000, NULL);
    fx f;
    assert_int_equal(fx_open(&f, text), S2R_OK);
    int64_t now = 86400 * 41 + 5, day = now / 86400;
    s2r_ratelimit_result r;
    for (int i = 1; i <= 1000; i++) {
        assert_int_equal(check(&f, "198.51.100.4", now, &r), S2R_OK);
        assert_int_equal(r.allowed, 1);
        assert_int_equal(r.remaining, 1000000 - i); /* exact, one process */
    }
    /* counted ahead in the file (several requests at a time) */
    assert_true(db_count("reserve.db", "198.51.100.4", day) > 1000);
    fx_close(&f);
    /* the instance gave the unused requests back */
    assert_int_equal(db_count("reserve.db", "198.51.100.4", day), 1000);
    /* reserve = 1: one transaction per request, the file always exact */
    rl_text(text, sizeof(text), "reserve1.db", 1000000, "reserve = 1\n");
    assert_int_equal(fx_open(&f, text), S2R_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(check(&f, "k", now, &r), S2R_OK);
    assert_int_equal(db_count("reserve1.db", "k", day), 10);
    fx_close(&f);
}

static void test_ratelimit_sqlite__reservations_two_instances(void **state)
{
    (void)state;
    char text[600];
    rl_text(text, sizeof(text), "share.db", 20000, NULL);
    fx f[2];
    assert_int_equal(fx_open(&f[0], text), S2R_OK);
    assert_int_equal(fx_open(&f[1], text), S2R_OK);
    int64_t now = 86400 * 42 + 9, day = now / 86400;
    int allowed = 0;
    for (int i = 0; i < 24000; i++) {
        s2r_ratelimit_result r;
        assert_int_equal(check(&f[i % 2], "203.0.113.9", now, &r), S2R_OK);
        allowed += r.allowed;
    }
    /* every reservation used up: exactly the limit, never more */
    assert_int_equal(allowed, 20000);
    fx_close(&f[0]);
    fx_close(&f[1]);
    assert_int_equal(db_count("share.db", "203.0.113.9", day), 20000);
}

/* ------------------------------------------------------------------ */
/* auth-hmac replay cache                                              */
/* ------------------------------------------------------------------ */

#define AUTH_TEXT                                                        \
    "[auth.hmac]\nplugin = auth-hmac\nsecret = env:S2R_TEST_SECRET\n"

typedef struct signed_req {
    char ts[48];
    char sig[65];
} signed_req;

static const char *lookup(void *payload, const char *name)
{
    signed_req *q = payload;
    if (strcasecmp(name, "X-S2R-Timestamp") == 0)
        return q->ts;
    if (strcasecmp(name, "X-S2R-Signature") == 0)
        return q->sig;
    return NULL;
}

/* Request number @p n signed at @p ts_s (empty body). */
static signed_req sign_n(long long n, int64_t ts_s)
{
    signed_req q;
    snprintf(q.ts, sizeof(q.ts), "%lld.%06lld", (long long)ts_s, n % 1000000);
    char msg[64];
    snprintf(msg, sizeof(msg), "%s:", q.ts);
    uint8_t mac[32];
    s2r_host_table()->hmac_sha256(SECRET, strlen(SECRET), msg, strlen(msg),
                                  mac);
    s2r_host_table()->hex_encode(mac, 32, q.sig);
    return q;
}

static int verify(fx *f, signed_req *q, int64_t now, s2r_error *err)
{
    s2r_auth_request r = {.struct_size = sizeof(r), .method = "POST",
                          .path = "/", .query = "", .header = lookup,
                          .header_payload = q,
                          .body = (const uint8_t *)"", .body_len = 0,
                          .client_ip = "127.0.0.1", .now_unix_s = now};
    s2r_auth_result out = {.struct_size = sizeof(out)};
    memset(err, 0, sizeof(*err));
    return s2r_registry_auth_verify(f->reg, "hmac", &r, &out, err);
}

static void test_auth_hmac__memory_cap(void **state)
{
    (void)state;
    fx f;
    /* 64 KiB: a table of 2,048 slots at most, filled up to 7/8 */
    assert_int_equal(fx_open(&f, AUTH_TEXT "replay_cache_memory = 64K\n"),
                     S2R_OK);
    int64_t now = time(NULL);
    s2r_error err;
    long long n = 0, accepted = 0;
    int rc;
    for (;;) {
        signed_req q = sign_n(n++, now);
        rc = verify(&f, &q, now, &err);
        if (rc != S2R_OK)
            break;
        accepted++;
        assert_true(accepted <= 2048);
    }
    /* full: 503 (S2R_EUPSTREAM), said so */
    assert_int_equal(rc, S2R_EUPSTREAM);
    assert_non_null(strstr(err.message, "replay cache full"));
    assert_int_equal(accepted, 2048 / 8 * 7);
    /* a full cache still refuses every replay */
    for (long long i = 0; i < accepted; i += 97) {
        signed_req q = sign_n(i, now);
        assert_int_equal(verify(&f, &q, now, &err), S2R_EAUTH);
        assert_non_null(strstr(err.message, "replayed"));
    }
    /* and new signatures again once the old ones are out of the window */
    signed_req later = sign_n(n++, now + 400);
    assert_int_equal(verify(&f, &later, now + 400, &err), S2R_OK);
    assert_int_equal(verify(&f, &later, now + 400, &err), S2R_EAUTH);
    fx_close(&f);
}

static void test_auth_hmac__window_at_default_cap(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_open(&f, AUTH_TEXT), S2R_OK);
    /* 1,100,000 signatures inside one 300 s window (5,000 a second), more
     * than the old cap of 1,000,000: all held, none accepted twice */
    int64_t t0 = time(NULL);
    s2r_error err;
    for (long long i = 0; i < 1100000; i++) {
        int64_t now = t0 + i / 5000;
        signed_req q = sign_n(i, now);
        if (verify(&f, &q, now, &err) != S2R_OK)
            fail_msg("signature %lld refused: %s", i, err.message);
        if (i % 99991 == 0) /* an early one, replayed now */
            for (long long j = 0; j < i; j += i / 3 + 1) {
                signed_req old = sign_n(j, t0 + j / 5000);
                assert_int_equal(verify(&f, &old, now, &err), S2R_EAUTH);
            }
    }
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit_sqlite__log_stays_small),
        cmocka_unit_test(test_ratelimit_sqlite__reservation_counts),
        cmocka_unit_test(test_ratelimit_sqlite__reservations_two_instances),
        cmocka_unit_test(test_auth_hmac__memory_cap),
        cmocka_unit_test(test_auth_hmac__window_at_default_cap),
    };
    return cmocka_run_group_tests_name("serve_limits", tests, group_setup,
                                       group_teardown);
}
