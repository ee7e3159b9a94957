/* test_buf.c: s2r_buf and the number text written into it (core/base). */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/base.h"

/* s2r_i64_text writes what printf's "%" PRId64 writes */
static void check_i64(int64_t v)
{
    char want[32], got[S2R_I64_TEXT];
    int n = snprintf(want, sizeof(want), "%" PRId64, v);
    assert_int_equal(s2r_i64_text(got, v), (size_t)n);
    assert_string_equal(got, want);
}

static void test_buf__i64_text_as_printf(void **state)
{
    (void)state;
    const int64_t edges[] = {0, 1, -1, 9, 10, -10, 99, 100, 1000000,
                             INT64_MAX, INT64_MIN, INT64_MAX - 1,
                             INT64_MIN + 1, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
        check_i64(edges[i]);
    /* every length of both signs: a fixed seed */
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t v = (int64_t)(x >> (1 + x % 63)); /* below 2^63 */
        check_i64((x & 1) ? -v : v);
    }
}

static void test_buf__appends_and_finish(void **state)
{
    (void)state;
    s2r_buf b = {0};
    for (int i = 0; i < 1000; i++)
        s2r_buf_puts(&b, "0123456789");
    s2r_buf_printf(&b, "%d", 42);
    char *s = s2r_buf_finish(&b);
    assert_non_null(s);
    assert_int_equal(strlen(s), 10002);
    assert_string_equal(s + 10000, "42");
    free(s);
    /* after a failure every append is dropped and finish gives NULL */
    s2r_buf_puts(&b, "kept");
    s2r_buf_fail(&b);
    s2r_buf_puts(&b, "dropped");
    assert_null(s2r_buf_finish(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf__i64_text_as_printf),
        cmocka_unit_test(test_buf__appends_and_finish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
