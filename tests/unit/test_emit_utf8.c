/* test_emit_utf8.c: s2r_emit_utf8_valid() agrees with a plain decoder of
 * RFC 3629's table of well-formed sequences, for every byte above ASCII
 * at every offset of runs longer than its 8-byte ASCII step, and for
 * random strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "runai/runai.h"
#include "utf8_reference.h"

/* the whole NUL-ended string is well-formed UTF-8 */
static bool reference(const unsigned char *s)
{
    size_t len = strlen((const char *)s);
    return utf8_reference_invalid_at(s, len) == len;
}

static void test_emit_utf8__every_byte_everywhere(void **state)
{
    (void)state;
    unsigned char s[81];
    for (int c = 0x80; c < 256; c++)
        for (size_t at = 0; at < 70; at++)
            for (size_t len = at + 1; len <= 80; len += 3) {
                memset(s, 'a', sizeof(s));
                s[len] = 0;
                s[at] = (unsigned char)c;
                for (int next = 0; next < 4; next++) {
                    /* after it: a continuation, two, ASCII or the end */
                    static const unsigned char after[] = {0x80, 0xA0,
                                                          'a', 0x90};
                    if (at + 1 < len)
                        s[at + 1] = after[next];
                    if (at + 2 < len)
                        s[at + 2] = next == 1 ? 0x80 : 'a';
                    assert_int_equal(s2r_emit_utf8_valid((const char *)s),
                                     reference(s));
                }
            }
    assert_true(s2r_emit_utf8_valid(""));
}

static void test_emit_utf8__random_strings(void **state)
{
    (void)state;
    uint64_t rng = 20261206u;
    unsigned char s[201];
    for (int i = 0; i < 20000; i++) {
        s[utf8_reference_random_text(&rng, s)] = 0;
        assert_int_equal(s2r_emit_utf8_valid((const char *)s), reference(s));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emit_utf8__every_byte_everywhere),
        cmocka_unit_test(test_emit_utf8__random_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
