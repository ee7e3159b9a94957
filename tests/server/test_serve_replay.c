/* test_serve_replay.c: the replay cache of auth-hmac on its own
 * (plugins/auth-hmac/auth_hmac_replay.c): every signature stays found
 * while the table grows and shrinks, a resize hands the entries over a
 * few at a time (both tables are there for a while), and forgetting or
 * re-arming a signature works in either table, with worker threads
 * inserting at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth_hmac_replay.h"

#define NOW 1000000 /* a Unix second; entries expire 300 s later */

/* Signature number @p n: distinct and spread like HMAC output. */
static void sig_of(uint64_t n, uint8_t sig[32])
{
    uint64_t x = n * 0x9E3779B97F4A7C15u + 1;
    for (int k = 0; k < 4; k++) {
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9u;
        x ^= x >> 29;
        memcpy(sig + 8 * k, &x, 8);
    }
}

static int insert(auth_hmac_replay *r, uint64_t n, int64_t now)
{
    uint8_t sig[32];
    sig_of(n, sig);
    return auth_hmac_replay_insert(r, sig, now + 300, now);
}

static int forget(auth_hmac_replay *r, uint64_t n)
{
    uint8_t sig[32];
    sig_of(n, sig);
    return auth_hmac_replay_remove(r, sig);
}

/* Insert signatures from @p *n on until a resize starts (the bytes grow
 * past one table's); the count inserted. */
static uint64_t until_resize(auth_hmac_replay *r, uint64_t *n)
{
    size_t before = auth_hmac_replay_bytes(r);
    uint64_t k = 0;
    while (auth_hmac_replay_bytes(r) <= before) {
        assert_int_equal(insert(r, (*n)++, NOW), AUTH_HMAC_REPLAY_NEW);
        k++;
        assert_true(k < 10000000);
    }
    return k;
}

/* Each test: a cache with the default memory cap (256 MiB). */
static int setup(void **state)
{
    *state = auth_hmac_replay_new(256u << 20, 0);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    auth_hmac_replay_free(*state);
    return 0;
}

static void test_replay__growth_keeps_every_signature(void **state)
{
    auth_hmac_replay *r = *state;
    uint64_t n = 0;
    for (; n < 300000; n++) {
        assert_int_equal(insert(r, n, NOW), AUTH_HMAC_REPLAY_NEW);
        if ((n & 1023) == 0) /* a sample of the earlier ones, each time */
            for (uint64_t j = 0; j <= n; j += n / 7 + 1)
                assert_int_equal(insert(r, j, NOW), AUTH_HMAC_REPLAY_SEEN);
    }
    assert_int_equal(auth_hmac_replay_live(r, NOW), 300000);
    for (uint64_t j = 0; j < n; j++)
        assert_int_equal(insert(r, j, NOW), AUTH_HMAC_REPLAY_SEEN);
}

static void test_replay__resize_is_incremental(void **state)
{
    auth_hmac_replay *r = *state;
    uint64_t n = 0;
    until_resize(r, &n);
    until_resize(r, &n); /* 1,024 slots, then 2,048: now 4,096 */
    size_t both = auth_hmac_replay_bytes(r);
    assert_int_equal(both, (4096 + 2048) * AUTH_HMAC_REPLAY_SLOT_BYTES);
    /* the old table is handed over a few dozen slots per insertion: the
     * 2,048 slots are still there after one more, gone after 100 more
     * (long before the new table is 3/4 full: 1,500 more) */
    assert_int_equal(insert(r, n++, NOW), AUTH_HMAC_REPLAY_NEW);
    assert_int_equal(auth_hmac_replay_bytes(r), both);
    for (int i = 0; i < 100; i++)
        assert_int_equal(insert(r, n++, NOW), AUTH_HMAC_REPLAY_NEW);
    assert_int_equal(auth_hmac_replay_bytes(r),
                     4096 * AUTH_HMAC_REPLAY_SLOT_BYTES);
    assert_int_equal(auth_hmac_replay_live(r, NOW), n);
}

static void test_replay__forget_and_rearm_mid_resize(void **state)
{
    auth_hmac_replay *r = *state;
    uint64_t n = 0;
    until_resize(r, &n); /* the first 768 are in the old table */
    uint64_t last = n - 1; /* in the new one */
    /* forgotten in either table: new again, then seen */
    assert_int_equal(forget(r, 700), 1);
    assert_int_equal(forget(r, last), 1);
    assert_int_equal(forget(r, last), 0);
    assert_int_equal(auth_hmac_replay_live(r, NOW), n - 2);
    assert_int_equal(insert(r, 700, NOW), AUTH_HMAC_REPLAY_NEW);
    assert_int_equal(insert(r, last, NOW), AUTH_HMAC_REPLAY_NEW);
    assert_int_equal(insert(r, 700, NOW), AUTH_HMAC_REPLAY_SEEN);
    /* one forgotten and not seen again is gone once the move is over */
    assert_int_equal(forget(r, 701), 1);
    for (int i = 0; i < 2048; i++)
        assert_int_equal(insert(r, n++, NOW), AUTH_HMAC_REPLAY_NEW);
    assert_int_equal(auth_hmac_replay_live(r, NOW), n - 1);
    assert_int_equal(insert(r, 701, NOW), AUTH_HMAC_REPLAY_NEW);
}

static void test_replay__expired_ones_come_back_new(void **state)
{
    auth_hmac_replay *r = *state;
    uint64_t n = 0;
    until_resize(r, &n);
    /* past the window: one still in the old table is re-armed there,
     * found again at the new time, and carried over with it */
    int64_t later = NOW + 301;
    assert_int_equal(insert(r, 5, later), AUTH_HMAC_REPLAY_NEW);
    assert_int_equal(insert(r, 5, later), AUTH_HMAC_REPLAY_SEEN);
    for (uint64_t i = 0; i < 4096; i++)
        assert_int_equal(insert(r, 1000000 + i, later),
                         AUTH_HMAC_REPLAY_NEW);
    assert_int_equal(insert(r, 5, later), AUTH_HMAC_REPLAY_SEEN);
    assert_int_equal(insert(r, 6, later), AUTH_HMAC_REPLAY_NEW);
    assert_int_equal(auth_hmac_replay_live(r, later), 4096 + 2);
}

static void test_replay__shrinks_when_emptied(void **state)
{
    auth_hmac_replay *r = *state;
    uint64_t n = 0;
    for (; n < 200000; n++)
        assert_int_equal(insert(r, n, NOW), AUTH_HMAC_REPLAY_NEW);
    size_t big = auth_hmac_replay_bytes(r);
    /* all expired: the sweep empties the table and it shrinks, by 8 at
     * most each time, while the new signatures stay found */
    int64_t later = NOW + 400;
    for (uint64_t i = 0; i < 400000; i++) {
        assert_int_equal(insert(r, n + (i & 1023), later),
                         i < 1024 ? AUTH_HMAC_REPLAY_NEW
                                  : AUTH_HMAC_REPLAY_SEEN);
    }
    assert_true(auth_hmac_replay_bytes(r) < big / 8);
    assert_int_equal(auth_hmac_replay_live(r, later), 1024);
}

/* One worker thread: signatures first..first+count-1, each new once,
 * every 97th followed by a look back at one of its own earlier ones. */
typedef struct worker {
    auth_hmac_replay *r;
    uint64_t first, count;
    uint64_t wrong; /* answers other than expected */
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (uint64_t i = 0; i < w->count; i++) {
        w->wrong += insert(w->r, w->first + i, NOW) != AUTH_HMAC_REPLAY_NEW;
        if (i % 97 == 0)
            w->wrong += insert(w->r, w->first + i / 2, NOW) !=
                        AUTH_HMAC_REPLAY_SEEN;
    }
    return NULL;
}

static void test_replay__threads_at_once(void **state)
{
    auth_hmac_replay *r = *state;
    enum { THREADS = 4, EACH = 100000 };
    worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){r, (uint64_t)i * EACH, EACH, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].wrong, 0);
    }
    assert_int_equal(auth_hmac_replay_live(r, NOW), THREADS * EACH);
    for (uint64_t j = 0; j < THREADS * EACH; j++)
        assert_int_equal(insert(r, j, NOW), AUTH_HMAC_REPLAY_SEEN);
}

/* a test with a fresh cache */
#define WITH_CACHE(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        WITH_CACHE(test_replay__growth_keeps_every_signature),
        WITH_CACHE(test_replay__resize_is_incremental),
        WITH_CACHE(test_replay__forget_and_rearm_mid_resize),
        WITH_CACHE(test_replay__expired_ones_come_back_new),
        WITH_CACHE(test_replay__shrinks_when_emptied),
        WITH_CACHE(test_replay__threads_at_once),
    };
    return cmocka_run_group_tests_name("serve_replay", tests, NULL, NULL);
}
