/* test_handler_text.c: s2r_utf8_invalid_at() finds the byte a plain
 * decoder of RFC 3629's table of well-formed sequences stops at, for
 * every ill-formed or non-ASCII byte at every offset of runs longer than
 * its 32- and 8-byte ASCII steps, and for random strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server/handler_text.h"
#include "utf8_reference.h"


static void test_handler_text__every_byte_everywhere(void **state)
{
    (void)state;
    uint8_t s[80];
    for (int c = 0x80; c < 256; c++)
        for (size_t at = 0; at < 70; at++) {
            memset(s, 'a', sizeof(s));
            s[at] = (uint8_t)c;
            s[at + 1] = 0x80; /* a continuation after it, or not */
            for (size_t len = at; len <= sizeof(s); len += 9) {
                assert_int_equal(s2r_utf8_invalid_at(s, len),
                                 utf8_reference_invalid_at(s, len));
                s[at + 1] = 'a';
                assert_int_equal(s2r_utf8_invalid_at(s, len),
                                 utf8_reference_invalid_at(s, len));
                s[at + 1] = 0x80;
            }
        }
    assert_int_equal(s2r_utf8_invalid_at(s, 0), 0);
}

static void test_handler_text__random_strings(void **state)
{
    (void)state;
    uint64_t rng = 20261205u;
    uint8_t s[200];
    for (int i = 0; i < 20000; i++) {
        size_t len = utf8_reference_random_text(&rng, s);
        assert_int_equal(s2r_utf8_invalid_at(s, len),
                         utf8_reference_invalid_at(s, len));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handler_text__every_byte_everywhere),
        cmocka_unit_test(test_handler_text__random_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
