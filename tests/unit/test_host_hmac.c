/* test_host_hmac.c: the host table's hmac_sha256 (core/plugin/host_hmac.c),
 * which keeps a keyed context per thread: RFC 4231's vectors, keys that
 * change from call to call, and threads, each against OpenSSL's one-shot
 * EVP_Q_mac. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "plugin/host.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void check_vector(const void *key, size_t key_len, const char *data,
                         const char *want)
{
    uint8_t mac[32];
    char got[65];
    s2r_host_table()->hmac_sha256(key, key_len, data, strlen(data), mac);
    hex(mac, 32, got);
    assert_string_equal(got, want);
}

/* RFC 4231, test cases 1, 2 and 6 (a key longer than a block), then 1
 * again: the thread's context is rekeyed each time the key changes */
static void test_host_hmac__rfc4231(void **state)
{
    (void)state;
    uint8_t k1[20], k6[131];
    memset(k1, 0x0b, sizeof(k1));
    memset(k6, 0xaa, sizeof(k6));
    const char *w1 =
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
    for (int round = 0; round < 2; round++) {
        check_vector(k1, sizeof(k1), "Hi There", w1);
        check_vector(k1, sizeof(k1), "Hi There", w1);
        check_vector("Jefe", 4, "what do ya want for nothing?",
                     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58"
                     "b964ec3843");
        check_vector(k6, sizeof(k6),
                     "Test Using Larger Than Block-Size Key - Hash Key First",
                     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c514054604"
                     "0f0ee37f54");
    }
}

/* keys of every length from 0 to 200 bytes, some differing in one last
 * byte only, data from 0 bytes up: as EVP_Q_mac computes them */
static int compare_many(uint64_t seed)
{
    uint8_t key[200], data[700], got[32], want[32];
    uint64_t x = seed;
    for (int i = 0; i < 3000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t kl = (size_t)(x % sizeof(key)), dl = (size_t)(x >> 20) % 700;
        for (size_t j = 0; j < kl; j++)
            key[j] = (uint8_t)(j * 7 + (i % 3 == 0 ? 1 : 0));
        for (size_t j = 0; j < dl; j++)
            data[j] = (uint8_t)(x >> (j % 56));
        size_t olen = 0;
        s2r_host_table()->hmac_sha256(kl ? key : NULL, kl, dl ? data : NULL,
                                      dl, got);
        if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, kl, data, dl,
                       want, 32, &olen) ||
            memcmp(got, want, 32) != 0)
            return 1;
    }
    return 0;
}

static void test_host_hmac__keys_change(void **state)
{
    (void)state;
    assert_int_equal(compare_many(0x9E3779B97F4A7C15u), 0);
}

static void *thread_main(void *arg)
{
    return (void *)(intptr_t)compare_many((uint64_t)(uintptr_t)arg);
}

/* four threads at once, each with its own keys */
static void test_host_hmac__threads(void **state)
{
    (void)state;
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_main,
                                        (void *)(i * 0x1234567u + 1)),
                         0);
    for (int i = 0; i < 4; i++) {
        void *rc = NULL;
        pthread_join(t[i], &rc);
        assert_int_equal((intptr_t)rc, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_hmac__rfc4231),
        cmocka_unit_test(test_host_hmac__keys_change),
        cmocka_unit_test(test_host_hmac__threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
